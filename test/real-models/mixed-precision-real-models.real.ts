/**
 * `npm run test:real`: mixed precision float16 on every real published model (issue 13),
 * on wasm at batch 1 under the default budget. Models shipped float32 are stored float16;
 * models shipped float16 are kept as shipped (nothing smaller at float16) and say so.
 * Either way the files Kiln writes are at most 0.51x the float32 weight bytes, load in
 * stock tf.js, and reproduce the model Kiln returns; nothing leaks, the user's weights are
 * untouched. Then uint8 on top of a float16-shipped graph model, under a loose budget.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { expect } from 'chai';

import { REAL_MODELS, realModel, realModelInputs } from '../../bench/real-models.js';
import type { StockModel } from '../../src/core/formats/model-format.js';
import { loadStockModelFromDisk } from '../../src/io/load-stock-model.js';
import { optimize } from '../../src/optimize.js';
import { maxAbsDiff, outputValues, stockReload } from './compare.js';

const weightBytes = (a: tf.io.ModelArtifacts) =>
  (Array.isArray(a.weightData) ? a.weightData : [a.weightData!]).reduce((n, b) => n + b.byteLength, 0);
const float32Bytes = (a: tf.io.ModelArtifacts) =>
  (a.weightSpecs ?? []).reduce((n, s) => n + s.shape.reduce((e, d) => e * d, 1) * (s.dtype === 'bool' ? 1 : 4), 0);

async function mixedPrecision(name: string, options: object): Promise<void> {
  const real = realModel(name);
  real.setup?.();
  await tf.setBackend('wasm');
  await tf.setBackend('cpu');
  const stock: StockModel = await loadStockModelFromDisk(real.modelJson);
  const inputs = realModelInputs(real);
  const x = inputs.length === 1 ? inputs[0]! : inputs;
  try {
    const shipped = await stock.format.save(stock.model);
    const weightsBefore = stock.format.weights(stock.model).map((w) => Array.from(w.value.dataSync()));
    const tensors = tf.memory().numTensors;
    const { model, report } = await optimize(stock.model, {
      sampleInputs: inputs,
      config: { backend: { preference: ['wasm'] }, pipeline: [{ name: 'mixed-precision', options }] },
    });
    try {
      const d = report.decisions.find((r) => r.plugin === 'mixed-precision')!;
      const files = model.artifacts ?? (await (model.stock ?? stock).format.save((model.stock ?? stock).model));
      const ratio = weightBytes(files) / float32Bytes(shipped);
      process.stdout.write(
        `      ${name}: ${d.status} (${d.reason.slice(0, 140)}); written ${weightBytes(files)} B = ${ratio.toFixed(3)}x of float32 ${float32Bytes(shipped)} B, shipped ${weightBytes(shipped)} B\n`,
      );
      const shippedQuantized = (shipped.weightSpecs ?? []).some((s) => s.quantization);
      if (shippedQuantized && (options as { policy?: string }).policy === 'float16') {
        expect(d.status, d.reason).to.equal('skipped');
        expect(d.notes.join('\n')).to.match(/already stored below float32 in the model's files \(kept as stored\)/);
        expect(weightBytes(files)).to.equal(weightBytes(shipped));
      } else {
        expect(d.status, d.reason).to.equal('applied');
        expect(weightBytes(files)).to.be.below(weightBytes(shipped));
      }
      if ((options as { policy?: string }).policy === 'float16') expect(ratio).to.be.at.most(0.51);
      // Stock tf.js on the written files, on the backend Kiln ran, computes what Kiln returned.
      await tf.setBackend(model.backend);
      const reloaded = await stockReload(real.format, files);
      try {
        const kiln = outputValues(model.predict(x));
        expect(maxAbsDiff(outputValues(reloaded.run(x)), kiln), 'stock loader vs Kiln model').to.be.at.most(
          1e-6 * Math.max(1, ...kiln.map((v) => Math.max(...v.map(Math.abs)))),
        );
      } finally {
        reloaded.dispose();
      }
    } finally {
      model.dispose();
      await tf.setBackend('cpu');
    }
    expect(tf.memory().numTensors, 'tensors after the run').to.equal(tensors);
    expect(
      stock.format.weights(stock.model).map((w) => Array.from(w.value.dataSync())),
      "the user's weights",
    ).to.deep.equal(weightsBefore);
  } finally {
    tf.dispose(inputs);
    stock.format.dispose(stock.model);
  }
}

describe('mixed precision on real published models (wasm, batch 1)', function () {
  for (const real of REAL_MODELS) {
    it(`${real.name}: float16 under the default budget, written <= 0.51x the float32 bytes, reproduced by stock tf.js`, async () => {
      await mixedPrecision(real.name, { policy: 'float16' });
    });
  }
  it('facemesh-detection-short (shipped float16): uint8 on top under a loose budget (0.5 of the output scale) writes a smaller stock graph model', async () => {
    await mixedPrecision('facemesh-detection-short', { policy: 'uint8', budgets: { '*': { tolerance: 0.5 } } });
  });
});
