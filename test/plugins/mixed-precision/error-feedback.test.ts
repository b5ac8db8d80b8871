import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { calibrate, calibrationRows, MAX_CALIBRATION_ROWS } from '../../../src/plugins/mixed-precision/calibration.js';
import {
  choleskyLower,
  errorFeedbackCodes,
  inverseFromCholesky,
  nearestCode,
  type AffineGrid,
} from '../../../src/plugins/mixed-precision/error-feedback.js';
import { affineGrid, quantizeAffine } from '../../../src/plugins/mixed-precision/quantize.js';
import { optimize } from '../../../src/optimize.js';
import { weightRows } from './helpers.js';

/** A seeded [rows, cols] matrix of standard normal values. */
const normal = (rows: number, cols: number, seed: number) =>
  tf.tidy(() => tf.randomNormal([rows, cols], 0, 1, 'float32', seed).dataSync() as Float32Array);

/** X^T X of a [n, k] row-major matrix, in double precision. */
function gram(x: Float32Array, n: number, k: number): Float64Array {
  const h = new Float64Array(k * k);
  for (let r = 0; r < n; r++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) h[i * k + j] += x[r * k + i]! * x[r * k + j]!;
  return h;
}

/** ||X (W - decode(codes))||^2: the layer output error of the codes on inputs X. */
function outputError(
  x: Float32Array,
  n: number,
  w: Float32Array,
  codes: ArrayLike<number>,
  k: number,
  c: number,
  grid: AffineGrid,
): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < c; o++) {
      let e = 0;
      for (let i = 0; i < k; i++) e += x[r * k + i]! * (w[i * c + o]! - (codes[i * c + o]! * grid.scale + grid.min));
      total += e * e;
    }
  }
  return total;
}

async function withSaved(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts!: tf.io.ModelArtifacts;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return artifacts;
}

describe('mixed-precision: error-feedback rounding (GPTQ)', () => {
  it('Cholesky factor and inverse of a symmetric positive definite matrix are exact to 1e-10', () => {
    const n = 6;
    const a = gram(normal(20, n, 3), 20, n);
    const l = choleskyLower(a, n);
    const inv = inverseFromCholesky(l, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let llt = 0;
        let product = 0;
        for (let k = 0; k < n; k++) {
          llt += l[i * n + k]! * l[j * n + k]!;
          product += a[i * n + k]! * inv[k * n + j]!;
        }
        expect(llt, `(L L^T)[${i},${j}]`).to.be.closeTo(a[i * n + j]!, 1e-10);
        expect(product, `(A A^-1)[${i},${j}]`).to.be.closeTo(i === j ? 1 : 0, 1e-10);
      }
    }
    expect(() => choleskyLower(new Float64Array([1, 2, 2, 1]), 2)).to.throw(/not positive definite \(pivot 1/);
  });

  it('with uncorrelated inputs (diagonal H) there is nothing to feed back: the codes are the nearest ones', () => {
    const [k, c] = [12, 5];
    const w = normal(k, c, 4);
    const h = new Float64Array(k * k);
    for (let i = 0; i < k; i++) h[i * k + i] = 1 + i;
    const grid = affineGrid(w, 'uint8');
    expect([...errorFeedbackCodes(w, h, k, c, grid)]).to.deep.equal([...quantizeAffine(w, 'uint8').codes]);
  });

  it('with correlated inputs the codes stay on the same grid and the layer output error falls well below round-to-nearest', () => {
    const [n, k, c] = [200, 24, 8];
    // Correlated inputs: 6 latent factors mixed into 24 inputs, plus a little noise.
    const x = tf.tidy(
      () =>
        tf
          .matMul(tf.randomNormal([n, 6], 0, 1, 'float32', 5), tf.randomNormal([6, k], 0, 1, 'float32', 6))
          .add(tf.randomNormal([n, k], 0, 0.1, 'float32', 7))
          .dataSync() as Float32Array,
    );
    const w = normal(k, c, 8);
    const grid = affineGrid(w, 'uint8');
    const codes = errorFeedbackCodes(w, gram(x, n, k), k, c, grid);
    expect(codes).to.be.instanceOf(Uint8Array);
    const nearest = Uint8Array.from(w, (v) => nearestCode(v, grid));
    const feedback = outputError(x, n, w, codes, k, c, grid);
    const rounded = outputError(x, n, w, nearest, k, c, grid);
    expect(feedback).to.be.below(rounded / 3);
    expect([...codes].filter((q, i) => q !== nearest[i]).length, 'codes that differ from nearest').to.be.greaterThan(0);
  });

  it('an input that is always zero (a dead channel) gets nearest codes and no feedback, never an error', () => {
    const [n, k, c] = [50, 4, 3];
    const x = normal(n, k, 9);
    for (let r = 0; r < n; r++) x[r * k + 2] = 0;
    const w = normal(k, c, 10);
    const grid = affineGrid(w, 'uint8');
    const codes = errorFeedbackCodes(w, gram(x, n, k), k, c, grid);
    for (let o = 0; o < c; o++) expect(codes[2 * c + o], `dead input, output ${o}`).to.equal(nearestCode(w[2 * c + o]!, grid));
    expect(() => errorFeedbackCodes(w, new Float64Array(k * k), k, c, grid)).to.throw(/all zero on the samples/);
  });
});

describe('mixed-precision: calibration (layer input moments)', () => {
  function convModel(padding: 'same' | 'valid', strides: number): tf.LayersModel {
    const input = tf.input({ shape: [7, 6, 3] });
    const conv = tf.layers.conv2d({
      filters: 4,
      kernelSize: 3,
      strides,
      padding,
      useBias: false,
      kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
      name: 'conv',
    });
    const flat = tf.layers
      .flatten()
      .apply(tf.layers.activation({ activation: 'relu' }).apply(conv.apply(input) as tf.SymbolicTensor)) as tf.SymbolicTensor;
    const dense = tf.layers
      .dense({ units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }), name: 'fc' })
      .apply(flat) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: dense });
  }

  for (const [padding, strides] of [
    ['same', 1],
    ['same', 2],
    ['valid', 1],
    ['valid', 2],
  ] as const) {
    it(`Conv2D (${padding}, stride ${strides}) and Dense: w^T H w equals the squared layer output, per output channel`, async () => {
      const model = convModel(padding, strides);
      const x = tf.randomNormal([2, 7, 6, 3], 0, 1, 'float32', 11);
      const before = tf.memory().numTensors;
      const { moments, skipped } = await calibrate(await withSaved(model), [x], tf.getBackend(), ['conv/kernel', 'fc/kernel', 'fc/bias']);
      expect(tf.memory().numTensors, 'no tensor left behind').to.equal(before);
      expect(skipped.get('fc/bias')).to.equal('not the kernel of fc (Dense)');
      for (const [name, layer] of [
        ['conv/kernel', 'conv'],
        ['fc/kernel', 'fc'],
      ] as const) {
        const m = moments.get(name)!;
        const kernel = model.getLayer(layer).getWeights()[0]!;
        expect(m.rows * m.cols).to.equal(kernel.size);
        const w = kernel.dataSync();
        // the layer's output before bias and activation, from tf.js itself
        const outputs = tf.tidy(() => {
          const input = tf
            .model({ inputs: model.inputs, outputs: model.getLayer(layer).input as tf.SymbolicTensor })
            .predict(x) as tf.Tensor;
          const y =
            layer === 'conv'
              ? tf.conv2d(input as tf.Tensor4D, kernel as tf.Tensor4D, strides, padding)
              : tf.matMul(input as tf.Tensor2D, kernel as tf.Tensor2D);
          return y.reshape([-1, m.cols]).square().sum(0).dataSync();
        });
        for (let o = 0; o < m.cols; o++) {
          let quadratic = 0;
          for (let i = 0; i < m.rows; i++)
            for (let j = 0; j < m.rows; j++) quadratic += w[i * m.cols + o]! * m.hessian[i * m.rows + j]! * w[j * m.cols + o]!;
          expect(quadratic, `${name} output channel ${o}`).to.be.closeTo(outputs[o]!, 1e-3 * Math.max(1, outputs[o]!));
        }
      }
      tf.dispose([x]);
      model.dispose();
    });
  }

  it(`past ${MAX_CALIBRATION_ROWS} output positions uses a fixed pseudo-random subset of them, so the patch matrix stays bounded`, async () => {
    const input = tf.input({ shape: [64, 64, 2] });
    const conv = tf.layers.conv2d({
      filters: 3,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
      kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }),
      name: 'conv',
    });
    const model = tf.model({ inputs: input, outputs: conv.apply(input) as tf.SymbolicTensor });
    const x = tf.randomNormal([5, 64, 64, 2], 0, 1, 'float32', 13); // 20480 positions
    const chosen = calibrationRows(20480);
    expect(chosen.length).to.be.within(MAX_CALIBRATION_ROWS * 0.98, MAX_CALIBRATION_ROWS * 1.02);
    // both even and odd columns are kept (a stride of 2 would keep only even ones)
    expect(new Set([...chosen].map((p) => p % 2)).size).to.equal(2);
    const { moments } = await calibrate(await withSaved(model), [x], tf.getBackend(), ['conv/kernel']);
    const m = moments.get('conv/kernel')!;
    expect(m.inputRows).to.equal(chosen.length);
    const w = model.getLayer('conv').getWeights()[0]!.dataSync();
    const outputs = tf.tidy(() => {
      const y = (model.predict(x) as tf.Tensor).reshape([-1, 3]);
      return tf.gather(y, tf.tensor1d(chosen, 'int32')).square().sum(0).dataSync();
    });
    for (let o = 0; o < 3; o++) {
      let quadratic = 0;
      for (let i = 0; i < m.rows; i++)
        for (let j = 0; j < m.rows; j++) quadratic += w[i * 3 + o]! * m.hessian[i * m.rows + j]! * w[j * 3 + o]!;
      expect(quadratic, `output channel ${o}`).to.be.closeTo(outputs[o]!, 1e-3 * outputs[o]!);
    }
    x.dispose();
    model.dispose();
  });

  it('two kernels reading the same tensor (branches) share one probe output; a shared layer is skipped and leaks nothing', async () => {
    const input = tf.input({ shape: [6] });
    const trunk = tf.layers.dense({ units: 5, activation: 'relu', name: 'trunk' }).apply(input) as tf.SymbolicTensor;
    const a = tf.layers.dense({ units: 4, name: 'a' }).apply(trunk) as tf.SymbolicTensor;
    const b = tf.layers.dense({ units: 4, name: 'b' }).apply(trunk) as tf.SymbolicTensor;
    const shared = tf.layers.dense({ units: 4, name: 'shared' });
    const twice = shared.apply(shared.apply(tf.layers.add().apply([a, b]) as tf.SymbolicTensor)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: twice });
    const x = tf.randomNormal([3, 6], 0, 1, 'float32', 14);
    const before = tf.memory().numTensors;
    const { moments, skipped } = await calibrate(await withSaved(model), [x], tf.getBackend(), ['a/kernel', 'b/kernel', 'shared/kernel']);
    expect(tf.memory().numTensors, 'no tensor left behind').to.equal(before);
    expect([...moments.keys()]).to.deep.equal(['a/kernel', 'b/kernel']);
    expect([...moments.get('a/kernel')!.hessian]).to.deep.equal([...moments.get('b/kernel')!.hessian]);
    expect(skipped.get('shared/kernel')).to.equal('shared is shared (called 2 times)');
    x.dispose();
    model.dispose();
  });

  it('leaves other layers to round-to-nearest, with the reason', async () => {
    const input = tf.input({ shape: [6, 6, 2] });
    const dw = tf.layers.depthwiseConv2d({ kernelSize: 3, name: 'dw' }).apply(input) as tf.SymbolicTensor;
    const dilated = tf.layers.conv2d({ filters: 2, kernelSize: 2, dilationRate: 2, name: 'dilated' }).apply(dw) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: dilated });
    const x = tf.randomNormal([1, 6, 6, 2], 0, 1, 'float32', 12);
    const { moments, skipped } = await calibrate(await withSaved(model), [x], tf.getBackend(), ['dw/depthwise_kernel', 'dilated/kernel']);
    expect(moments.size).to.equal(0);
    expect(Object.fromEntries(skipped)).to.deep.equal({
      'dw/depthwise_kernel': 'a DepthwiseConv2D weight (error feedback covers Conv2D and Dense kernels)',
      'dilated/kernel': 'dilated is dilated',
    });
    x.dispose();
    model.dispose();
  });
});

describe('mixed-precision: rounding through the plugin', function () {
  it('a model with branches and a depthwise conv: error feedback where calibration covers the kernel, nearest with the reason elsewhere', async () => {
    const input = tf.input({ shape: [8, 8, 8] }); // every kernel >= 1024 elements (minElements)
    const he = (seed: number) => tf.initializers.heNormal({ seed });
    const trunk = tf.layers
      .conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: he(1), name: 'trunk' })
      .apply(input) as tf.SymbolicTensor;
    const left = tf.layers
      .conv2d({ filters: 16, kernelSize: 3, padding: 'same', kernelInitializer: he(2), name: 'left' })
      .apply(trunk) as tf.SymbolicTensor;
    const right = tf.layers
      .conv2d({ filters: 16, kernelSize: 3, padding: 'same', kernelInitializer: he(3), name: 'right' })
      .apply(trunk) as tf.SymbolicTensor;
    const merged = tf.layers.add().apply([left, right]) as tf.SymbolicTensor;
    const dw = tf.layers
      .depthwiseConv2d({ kernelSize: 3, depthMultiplier: 8, padding: 'same', depthwiseInitializer: he(4), name: 'dw' })
      .apply(merged) as tf.SymbolicTensor;
    const out = tf.layers.globalAveragePooling2d({}).apply(dw) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const x = tf.randomNormal([8, 8, 8, 8], 0, 1, 'float32', 15);
    const before = tf.memory().numTensors;
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      config: {
        backend: { preference: ['wasm'] },
        benchmark: { warmup: 1, iterations: 3, endToEnd: false },
        pipeline: [{ name: 'mixed-precision', options: { policy: 'uint8', budgets: { '*': { atol: 1 } } } }],
      },
    });
    try {
      const d = report.decisions.find((x) => x.plugin === 'mixed-precision')!;
      expect(d.status, d.reason).to.equal('applied');
      const rows = new Map(weightRows(d).map((r) => [r.weight, r]));
      for (const name of ['trunk/kernel', 'left/kernel', 'right/kernel'])
        expect(rows.get(name), name).to.deep.include({ precision: 'uint8', rounding: 'error-feedback' });
      expect(rows.get('dw/depthwise_kernel')).to.deep.include({
        precision: 'uint8',
        rounding: 'nearest',
        roundingNote: 'a DepthwiseConv2D weight (error feedback covers Conv2D and Dense kernels)',
      });
      expect(d.metrics.errorFeedbackKernels).to.equal(3);
    } finally {
      optimized.dispose();
      await tf.setBackend('cpu');
    }
    expect(tf.memory().numTensors, 'no tensor left once the optimised model is disposed').to.equal(before);
    x.dispose();
    model.dispose();
  });
});
