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
});
