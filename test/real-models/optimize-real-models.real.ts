/**
 * `npm run test:real`: every real published model of bench/real-models.ts through
 * `optimize()` with the default config, at its natural input size and batch 1, as a user
 * would run it. For each: the result validates against the original, the files Kiln
 * would write load in stock tf.js and compute what was validated, the user's model is
 * untouched, and nothing leaks. Slow (the default pipeline benchmarks every backend), so
 * it is its own run, not part of `npm test`; `.ci/run` runs both.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { expect } from 'chai';

import { REAL_MODELS, realModelInputs, type RealModel } from '../../bench/real-models.js';
import type { StockModel } from '../../src/core/formats/model-format.js';
import { loadStockModelFromDisk } from '../../src/io/load-stock-model.js';
import { optimize } from '../../src/optimize.js';
import { maxAbsDiff, outputValues, stockReload, tolerance } from './compare.js';

describe('real published models through optimize() (default config, batch 1)', function () {
  before(async () => {
    await tf.setBackend('cpu');
  });

  for (const real of REAL_MODELS) {
    describe(`${real.name}: ${real.description}`, () => {
      let stock: StockModel;
      let inputs: tf.Tensor[];

      before(async () => {
        real.setup?.();
        stock = await loadStockModelFromDisk(real.modelJson);
        inputs = realModelInputs(real);
      });

      after(async () => {
        tf.dispose(inputs);
        stock?.format.dispose(stock.model);
        await tf.setBackend('cpu');
      });

      it('optimises: validated against the original, written files load in stock tf.js and agree, user model untouched, no leak', async () => {
        await checkRealModel(real, stock, inputs);
      });
    });
  }
});

async function checkRealModel(real: RealModel, stock: StockModel, inputs: tf.Tensor[]): Promise<void> {
  const original = stock.format.wrap(stock.model, 'cpu', false);
  const reference = outputValues(original.predict(inputs.length === 1 ? inputs[0]! : inputs));
  const weightsBefore = stock.format.weights(stock.model).map((w) => Array.from(w.value.dataSync()));
  const tensorsBefore = tf.memory().numTensors;

  const { model, report } = await optimize(stock.model, { sampleInputs: inputs });
  try {
    expect(report.model.format).to.equal(real.format);
    const lines = report.decisions.map((d) => `${d.plugin}: ${d.status} (${d.reason})`).join('\n');
    const e2e = report.endToEnd
      ? `end to end: ${report.endToEnd.speedup.toFixed(2)}x vs ${report.endToEnd.baseline} (${report.endToEnd.baselineMedianMs.toFixed(2)} -> ${report.endToEnd.optimizedMedianMs.toFixed(2)} ms)`
      : 'end to end: nothing kept';
    process.stdout.write(`      ${real.name}: ${report.backend}: ${report.final}\n${lines.replace(/^/gm, '        ')}\n        ${e2e}\n`);

    // onnxruntime, first in the default preference, runs it, or says why not: unavailable (not
    // installed), skipped naming the kernel ONNX cannot get, or rejected/failed with its figures.
    const ort = report.decisions.find((d) => d.plugin === 'backend-onnxruntime');
    expect(ort, 'a decision for backend-onnxruntime').to.not.equal(undefined);
    if (ort!.status === 'applied') expect(report.backend).to.equal('onnxruntime');
    else expect(ort!.reason, `backend-onnxruntime ${ort!.status}`).to.match(/\S{8,}/);
    if (ort!.status === 'skipped') expect(ort!.reason).to.match(/kernel|ONNX/);

    // The model Kiln returns computes what the original does, within the validated tolerance.
    const optimized = outputValues(model.predict(inputs.length === 1 ? inputs[0]! : inputs));
    const allowed = tolerance(reference);
    expect(maxAbsDiff(optimized, reference), `optimised vs original (allowed ${allowed})`).to.be.at.most(allowed);
    if (report.validation.final) expect(report.validation.final.maxAbsDiff).to.be.at.most(allowed);

    // The files Kiln writes for it (the CLI's --out), loaded by plain tf.js on cpu.
    const files = model.artifacts ?? (await (model.stock ?? stock).format.save((model.stock ?? stock).model));
    const reloaded = await stockReload(real.format, files);
    try {
      const written = outputValues(reloaded.run(inputs.length === 1 ? inputs[0]! : inputs));
      expect(maxAbsDiff(written, reference), 'stock tf.js on the written files vs original').to.be.at.most(allowed);
    } finally {
      reloaded.dispose();
    }
  } finally {
    model.dispose();
    await tf.setBackend('cpu');
  }
  expect(tf.memory().numTensors, 'tensors after the run and dispose').to.equal(tensorsBefore);
  const weightsAfter = stock.format.weights(stock.model).map((w) => Array.from(w.value.dataSync()));
  expect(weightsAfter, "the user's weights").to.deep.equal(weightsBefore);
}
