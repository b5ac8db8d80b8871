import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { Benchmarker } from '../../src/core/benchmark/benchmarker.js';
import { LayersKilnModel } from '../../src/formats/layers-model/layers-model-format.js';
import { WrappedModel } from '../helpers/broken-plugins.js';
import { tinyDenseModel } from '../helpers/tiny-models.js';

describe('benchmarker', () => {
  const settings = { warmup: 2, iterations: 12, outlierSigma: 2 };

  it('times every subject on every round, interleaved, and leaves no tensors behind', () => {
    const model = tinyDenseModel(1);
    const x = tf.randomNormal([4, 8], 0, 1, 'float32', 1);
    const order: string[] = [];
    const base = new LayersKilnModel(model, 'cpu', false);
    const a = new WrappedModel(base, (i) => {
      order.push('a');
      return base.predict(i);
    });
    const b = new WrappedModel(base, (i) => {
      order.push('b');
      return base.predict(i);
    });
    const n = tf.memory().numTensors;
    const result = new Benchmarker().compare(
      [
        { name: 'a', model: a },
        { name: 'b', model: b },
      ],
      [x],
      settings,
    );
    expect(tf.memory().numTensors).to.equal(n);
    expect(result.variants.map((v) => v.name)).to.deep.equal(['a', 'b']);
    for (const v of result.variants) {
      expect(v.timing.samples + v.timing.outliersDropped).to.equal(12);
      expect(v.timing.p10Ms).to.be.at.most(v.timing.medianMs);
      expect(v.timing.medianMs).to.be.at.most(v.timing.p90Ms);
      expect(v.leakedTensorsPerCall).to.equal(0);
    }
    // Warm-up (a b a b), then rounds alternate their order: a b, b a, a b, ...
    expect(order.slice(0, 4).join('')).to.equal('abab');
    expect(order.slice(4, 10).join('')).to.equal('abbaab');
    expect(result.memoryAfter.numTensors).to.equal(result.memoryBefore.numTensors);
    x.dispose();
    model.dispose();
  });

  it('counts the tensors a leaky model leaves per call, and reclaims them', () => {
    const model = tinyDenseModel(1);
    const x = tf.randomNormal([1, 8], 0, 1, 'float32', 1);
    const base = new LayersKilnModel(model, 'cpu', false);
    const leaky = new WrappedModel(base, (i) => {
      tf.ones([3]);
      tf.zeros([2]);
      return base.predict(i);
    });
    const n = tf.memory().numTensors;
    const result = new Benchmarker().compare(
      [
        { name: 'clean', model: base },
        { name: 'leaky', model: leaky },
      ],
      [x],
      settings,
    );
    expect(result.variants[0]!.leakedTensorsPerCall).to.equal(0);
    expect(result.variants[1]!.leakedTensorsPerCall).to.equal(2);
    expect(result.variants[1]!.leakedDataIdsPerCall).to.equal(2);
    expect(tf.memory().numTensors).to.equal(n);
    x.dispose();
    model.dispose();
  });
});
