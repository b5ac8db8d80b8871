import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { WeightGuard } from '../../src/core/weight-guard.js';
import { layersModelFormat } from '../../src/formats/index.js';
import { tinyDenseModel } from '../helpers/tiny-models.js';

describe('weight guard', () => {
  it('names the weights a plugin changed and restores their values', () => {
    const model = tinyDenseModel(2);
    const before = model.weights.map((w) => Array.from(w.read().dataSync()));
    const guard = WeightGuard.capture(layersModelFormat.weights(model));
    expect(guard.changed()).to.deep.equal([]);
    const kernel = model.weights[2]!.read() as tf.Variable;
    tf.tidy(() => kernel.assign(kernel.add(1e-7)));
    expect(guard.changed()).to.deep.equal([model.weights[2]!.originalName]);
    expect(guard.restore()).to.deep.equal([]);
    expect(guard.changed()).to.deep.equal([]);
    expect(model.weights.map((w) => Array.from(w.read().dataSync()))).to.deep.equal(before);
    guard.dispose();
    model.dispose();
  });

  it('frees its snapshots on dispose', () => {
    const model = tinyDenseModel(2);
    const n = tf.memory().numTensors;
    WeightGuard.capture(layersModelFormat.weights(model)).dispose();
    expect(tf.memory().numTensors).to.equal(n);
    model.dispose();
  });

  it('captures and restores weights on wasm while the wasm heap grows under it (tfjs#4150: no detached-ArrayBuffer crash)', async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
    const weights: tf.Variable[] = [];
    try {
      // Weights made on wasm, then read on cpu (tf.js moves them there): capturing them on wasm
      // used to clone through a wasm kernel, which grows the heap and reads through a stale view.
      const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
      const count = Math.ceil((2 * heap) / (4 * 4096 * 1024)) + 1;
      for (let k = 0; k < count; k++) weights.push(tf.variable(tf.randomNormal([4096, 1024], 0, 1, 'float32', k + 1)));
      await tf.setBackend('cpu');
      for (const w of weights) tf.tidy(() => w.add(1).dataSync());
      await tf.setBackend('wasm');
      const guard = WeightGuard.capture(weights.map((w, k) => ({ name: `w${k}`, value: w, assign: (v: tf.Tensor) => w.assign(v) })));
      try {
        expect(guard.changed()).to.deep.equal([]);
        tf.tidy(() => weights[0]!.assign(weights[0]!.mul(2)));
        expect(guard.changed()).to.deep.equal(['w0']);
        expect(guard.restore()).to.deep.equal([]);
        expect(guard.changed()).to.deep.equal([]);
      } finally {
        guard.dispose();
      }
    } finally {
      tf.dispose(weights);
      await tf.setBackend('cpu');
    }
  });
});
