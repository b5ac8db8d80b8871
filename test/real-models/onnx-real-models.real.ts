/**
 * `npm run test:real`: every real published model of bench/real-models.ts lowered to
 * ONNX at its natural input size and batch 1 and run in onnxruntime-node, against tf.js
 * on cpu. Skipped, with the reason, where onnxruntime-node does not load.
 *
 * The check is the validator's default (1e-4 of each output's scale) for every model. The
 * MediaPipe selfie segmentation's sigmoid output is all below 4e-6 on these inputs; it
 * passes since the lowering writes a sigmoid as 1 / (1 + exp(-x)) (onnxruntime's own
 * Sigmoid, an approximation good to ~1e-7 absolute, was off by 1.4% of that scale).
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { REAL_MODELS, realModelInputs } from '../../bench/real-models.js';
import { outputsAsArray } from '../../src/core/kiln-model.js';
import { DEFAULT_TOLERANCE } from '../../src/core/validation/tolerance.js';
import type { OrtModule } from '../../src/engines/onnxruntime/ort-api.js';
import '../../src/formats/index.js';
import { loadStockModelFromDisk } from '../../src/io/load-stock-model.js';
import { lowerModel } from '../../src/lowering/index.js';
import { onnxRuntimeOrSkip, relativeToScale, runOnnx } from '../helpers/onnxruntime.js';

describe('real published models lowered to ONNX and run in onnxruntime-node (batch 1)', function () {
  let ort: OrtModule;

  before(async function () {
    ort = await onnxRuntimeOrSkip(this);
    await tf.setBackend('cpu');
  });

  for (const real of REAL_MODELS) {
    it(`${real.name}: lowers, and the ONNX outputs agree with tf.js cpu`, async () => {
      real.setup?.();
      const stock = await loadStockModelFromDisk(real.modelJson);
      const inputs = realModelInputs(real);
      try {
        const model = stock.format.wrap(stock.model, 'cpu', false);
        const lowered = lowerModel(model, inputs);
        const got = await runOnnx(ort, lowered.bytes, Object.fromEntries(inputs.map((t, i) => [lowered.inputNames[i]!, t])));
        const expected = outputsAsArray(model.predict(inputs.length === 1 ? inputs[0]! : inputs));
        expected.forEach((e, i) => {
          const name = lowered.outputNames[i]!;
          const values = e.dataSync();
          expect(relativeToScale(values, got[name]!), name).to.be.at.most(DEFAULT_TOLERANCE);
        });
        tf.dispose(expected);
      } finally {
        tf.dispose(inputs);
        stock.format.dispose(stock.model);
      }
    });
  }
});
