import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';

import { main } from '../../examples/01-quickstart/quickstart.js';
import { onnxRuntimeLoads } from '../helpers/onnxruntime.js';
import { probeTfjsNode } from '../helpers/tfjs-node.js';

describe('examples/01-quickstart (smoke)', () => {
  // The optimised model's first predict makes its backend the active one, and Kiln leaves it so (see README).
  let backend: string;
  before(() => {
    backend = tf.getBackend();
  });
  after(async () => {
    await tf.setBackend(backend);
  });

  it('optimises the demo network and returns the report, leaving no tensors behind', async () => {
    const before = tf.memory().numTensors;
    const report = await main({ small: true, print: false });
    expect(tf.memory().numTensors).to.equal(before);
    const plugins = report.decisions.map((d) => d.plugin);
    expect(plugins).to.include.members(['backend-wasm', 'backend-cpu', 'graph-compile', 'op-fusion']);
    expect(
      report.decisions.filter((d) => d.status === 'failed'),
      'no candidate failed',
    ).to.deep.equal([]);
    // onnxruntime comes first in the default preference where onnxruntime-node loads (and beats
    // tf.js on the demo network several times over); tensorflow next where @tensorflow/tfjs-node loads
    if (await onnxRuntimeLoads()) {
      expect(report.backend).to.equal('onnxruntime');
      expect(report.endToEnd?.baseline, 'headline against plain tf.js on a tf.js backend').to.match(/ on (wasm|tensorflow)$/);
    } else {
      expect(report.backend).to.be.oneOf([...(probeTfjsNode().loads ? ['tensorflow'] : []), 'wasm-threads', 'wasm', 'cpu']);
      expect(tf.getBackend()).to.equal(report.backend); // the optimised model ran there
    }
  });
});
