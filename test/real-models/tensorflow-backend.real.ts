/**
 * `npm run test:real`: the `tensorflow` backend for real, where the optional peer
 * @tensorflow/tfjs-node is installed and loads (skipped, saying why, where it does not;
 * it is not a dependency, so CI skips it). Every zoo model at full size, and a published
 * graph model, go through backend-tensorflow, graph-compile and op-fusion on tensorflow,
 * each validated against the cpu reference. `benchmark.minSpeedup` is near 0, so every
 * step is kept unless it does not validate: this suite checks that the kernels Kiln
 * traces, replays and fuses run on tfjs-node and compute what cpu does, not which is
 * faster (the bench and docs/tensorflow-backend.md say that).
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';

import { realModel, realModelInputs } from '../../bench/real-models.js';
import type { Decision } from '../../src/core/pipeline/report.js';
import { loadStockModelFromDisk } from '../../src/io/load-stock-model.js';
import { optimize } from '../../src/optimize.js';
import { listZoo, zooSampleInputs } from '../../src/zoo/index.js';
import { skipUnlessTfjsNodeLoads } from '../helpers/tfjs-node.js';
import { maxAbsDiff, outputValues, tolerance } from './compare.js';

/** Every step kept unless it fails validation; few timed runs (speed is not what is checked). */
const CONFIG = {
  backend: { preference: ['tensorflow'] },
  pipeline: [{ name: 'graph-compile' }, { name: 'op-fusion' }],
  validation: { samples: 2 },
  benchmark: { warmup: 1, iterations: 5, minSpeedup: 0.01, endToEnd: false },
};

const lines = (decisions: readonly Decision[]) => decisions.map((d) => `${d.plugin}: ${d.status} (${d.reason})`).join('\n');

/** Each step applied, on tensorflow, and the model Kiln returns computes what the original does on cpu. */
async function expectKeptOnTensorflow(
  run: (config: object) => ReturnType<typeof optimize>,
  reference: Float32Array[],
  predict: (model: Awaited<ReturnType<typeof optimize>>['model']) => tf.Tensor | tf.Tensor[],
): Promise<void> {
  const tensorsBefore = tf.memory().numTensors;
  const { model, report } = await run(CONFIG);
  try {
    const why = lines(report.decisions);
    for (const plugin of ['backend-tensorflow', 'graph-compile', 'op-fusion']) {
      expect(report.decisions.find((d) => d.plugin === plugin)?.status, `${plugin}\n${why}`).to.equal('applied');
    }
    expect(report.backend, why).to.equal('tensorflow');
    expect(model.backend).to.equal('tensorflow');
    const allowed = tolerance(reference);
    expect(
      maxAbsDiff(outputValues(predict(model)), reference),
      `optimised on tensorflow vs original on cpu (allowed ${allowed})`,
    ).to.be.at.most(allowed);
  } finally {
    model.dispose();
    await tf.setBackend('cpu');
  }
  expect(tf.memory().numTensors, 'tensors after the run and dispose').to.equal(tensorsBefore);
}

describe('the tensorflow backend (@tensorflow/tfjs-node) for real', function () {
  before(async function () {
    skipUnlessTfjsNodeLoads(this);
    await tf.setBackend('cpu');
  });

  for (const entry of listZoo()) {
    it(`zoo ${entry.name} (full size): backend-tensorflow, graph-compile and op-fusion validate on tensorflow`, async () => {
      const user = entry.build();
      const inputs = zooSampleInputs(entry, 1, 0);
      try {
        const reference = outputValues(user.predict(inputs[0]!));
        await expectKeptOnTensorflow(
          (config) => optimize(user, { sampleInputs: inputs, config }),
          reference,
          (model) => model.predict(inputs[0]!),
        );
      } finally {
        tf.dispose(inputs);
        user.dispose();
      }
    });
  }

  it('zoo depthwise-cnn in training mode: the gradients on tensorflow validate against cpu', async () => {
    const entry = listZoo().find((e) => e.name === 'depthwise-cnn')!;
    const user = entry.build();
    const inputs = zooSampleInputs(entry, 2, 0);
    try {
      const { model, report } = await optimize(user, { sampleInputs: inputs, config: { ...CONFIG, mode: 'training', pipeline: [] } });
      try {
        const tfNode = report.decisions.find((d) => d.plugin === 'backend-tensorflow')!;
        expect(tfNode.status, lines(report.decisions)).to.equal('applied');
        expect(tfNode.metrics.gradientMaxAbsDiff).to.be.a('number');
      } finally {
        model.dispose();
        await tf.setBackend('cpu');
      }
    } finally {
      tf.dispose(inputs);
      user.dispose();
    }
  });

  it('a published graph model (human-models liveness): GraphModel.execute, compiled and fused, validates on tensorflow', async () => {
    const real = realModel('liveness');
    const stock = await loadStockModelFromDisk(real.modelJson);
    const inputs = realModelInputs(real);
    try {
      const reference = outputValues(stock.format.wrap(stock.model, 'cpu', false).predict(inputs[0]!));
      await expectKeptOnTensorflow(
        (config) => optimize(stock.model, { sampleInputs: inputs, config }),
        reference,
        (model) => model.predict(inputs[0]!),
      );
    } finally {
      tf.dispose(inputs);
      stock.format.dispose(stock.model);
    }
  });
});
