import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { buildShogiResNet, SHOGI_POLICY_SIZE } from '../../src/zoo/shogi-resnet.js';

describe('zoo: shogi ResNet', () => {
  it('has a 9x9x46 input, a 2187-way softmax policy and a tanh value, with seeded weights', () => {
    const a = buildShogiResNet({ blocks: 1, channels: 8 });
    const b = buildShogiResNet({ blocks: 1, channels: 8 });
    const x = tf.randomNormal([2, 9, 9, 46], 0, 1, 'float32', 1);
    const [policy, value] = a.predict(x) as tf.Tensor[];
    expect(policy!.shape).to.deep.equal([2, SHOGI_POLICY_SIZE]);
    expect(value!.shape).to.deep.equal([2, 1]);
    const rowSums = Array.from(policy!.sum(1).dataSync());
    rowSums.forEach((s) => expect(s).to.be.closeTo(1, 1e-5));
    Array.from(value!.dataSync()).forEach((v) => expect(Math.abs(v)).to.be.below(1));
    a.weights.forEach((w, i) => expect(Array.from(w.read().dataSync())).to.deep.equal(Array.from(b.weights[i]!.read().dataSync())));
    const bn = a.getLayer('stem_bn').getWeights();
    expect(Array.from(bn[2]!.dataSync()).some((m) => m !== 0)).to.equal(true);
    tf.dispose([x, policy!, value!]);
    a.dispose();
    b.dispose();
  });
});
