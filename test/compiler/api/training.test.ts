import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { compile } from '../../../src/compiler/api/compile.js';
import { allclose } from '../../../src/core/validation/allclose.js';
import { ZOO, zooSampleInputs, type ZooName } from '../../../src/zoo/index.js';
import { asList, expectTensorsClose } from './compile-helpers.js';
import { expectSamePredictions } from '../../helpers/predictions.js';

/** A loss that does not vanish through softmax: a weighted sum of every output with fixed, seeded weights. */
function weightedSumLoss(seed: number) {
  const weights = new Map<string, tf.Tensor>();
  const loss = (out: tf.Tensor | tf.Tensor[]): tf.Scalar =>
    tf.tidy(() => {
      const terms = asList(out).map((o, i) => {
        const key = `${i}:${o.shape.join('x')}`;
        if (!weights.has(key)) weights.set(key, tf.keep(tf.randomNormal(o.shape, 0, 1, 'float32', seed + 10 * i + 1)));
        return tf.sum(tf.mul(o, weights.get(key)!));
      });
      return tf.addN(terms) as tf.Scalar;
    });
  return { loss, dispose: () => tf.dispose([...weights.values()]) };
}

/** Categorical cross-entropy of softmax probabilities against fixed one-hot labels. */
function crossEntropy(labels: tf.Tensor) {
  return (probabilities: tf.Tensor | tf.Tensor[]): tf.Scalar =>
    tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.log(tf.add(asList(probabilities)[0]!, 1e-7))), -1))) as tf.Scalar);
}

function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

function expectGradientsClose(actual: tf.NamedTensorMap, expected: tf.NamedTensorMap, what: string): void {
  expect(Object.keys(actual).sort(), `${what}: variables with gradients`).to.deep.equal(Object.keys(expected).sort());
  expect(Object.keys(expected).length).to.be.greaterThan(0);
  let nonZero = 0;
  for (const [name, g] of Object.entries(expected)) {
    const got = actual[name]!;
    expect(got.shape, `${what}: ${name} shape`).to.deep.equal(g.shape);
    const c = allclose(g.dataSync(), got.dataSync(), 1e-5, 1e-4);
    expect(c.ok, `${what}: gradient of ${name} differs by ${c.maxAbsDiff}`).to.equal(true);
    if (tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]!) > 1e-6) nonZero++;
  }
  // the loss reaches the weights: most gradients are not zero
  expect(nonZero, `${what}: non-zero gradients`).to.be.greaterThan(Object.keys(expected).length / 2);
}

describe('compile: training mode', () => {
  for (const name of ['mlp', 'depthwise-cnn', 'shogi-resnet'] as ZooName[]) {
    it(`${name} (small): gradients through the compiled forward equal eager gradients`, () => {
      const entry = ZOO[name];
      const model = entry.build({ small: true });
      const compiled = compile(model, { mode: 'training' });
      const { loss, dispose } = weightedSumLoss(3);
      const [x] = zooSampleInputs(entry, 3, 5) as [tf.Tensor];
      const vars = trainableVariables(model);
      tf.tidy(() => loss(model.predict(x))); // makes the loss's fixed weights
      const before = tf.memory().numTensors;
      try {
        const eager = tf.variableGrads(() => loss(model.predict(x)), vars);
        // first call compiles under the tape (the traced call itself is differentiated) ...
        const first = tf.variableGrads(() => loss(compiled.predict(x)), vars);
        // ... later calls replay the graph through runKernel under the tape
        const replayed = tf.variableGrads(() => loss(compiled.predict(x)), vars);
        try {
          expect(Math.abs(first.value.dataSync()[0]! - eager.value.dataSync()[0]!)).to.be.at.most(
            1e-4 * Math.max(1, Math.abs(eager.value.dataSync()[0]!)),
          );
          expect(Math.abs(replayed.value.dataSync()[0]! - eager.value.dataSync()[0]!)).to.be.at.most(
            1e-4 * Math.max(1, Math.abs(eager.value.dataSync()[0]!)),
          );
          expectGradientsClose(first.grads, eager.grads, `${name} (compiling call)`);
          expectGradientsClose(replayed.grads, eager.grads, `${name} (replayed call)`);
          const stats = compiled.stats();
          expect(stats.eager).to.deep.equal([]);
          expect(stats.compiled).to.have.length(1);
          expect(stats.compiled[0]!.signature).to.match(/^cpu\|training\|/);
          expect(stats.compiled[0]!.executor).to.equal('replay');
          expect(stats.compiledCalls).to.equal(2);
        } finally {
          for (const r of [eager, first, replayed]) tf.dispose([r.value, ...Object.values(r.grads)]);
        }
        // once the compiled graphs are freed, the taped calls have left nothing behind
        compiled.dispose();
        expect(tf.memory().numTensors).to.equal(before);
      } finally {
        compiled.dispose();
        dispose();
        x.dispose();
        model.dispose();
      }
    });
  }

  it('compiled forward outside a tape in training mode is the replay, and matches predict', () => {
    const model = ZOO['shogi-resnet'].build({ small: true });
    const compiled = compile(model, { mode: 'training' });
    const [x] = zooSampleInputs(ZOO['shogi-resnet'], 2, 9) as [tf.Tensor];
    try {
      for (let i = 0; i < 2; i++) {
        expectSamePredictions(compiled, model, x);
      }
      expect(compiled.stats().compiled[0]!.executorReason).to.match(/training mode/);
    } finally {
      compiled.dispose();
      x.dispose();
      model.dispose();
    }
  });

  it('20 SGD steps over a compiled forward track 20 eager steps on an identical model; the live variables are updated', () => {
    const entry = ZOO.mlp;
    const model1 = entry.build({ small: true });
    const model2 = entry.build({ small: true });
    const [x] = zooSampleInputs(entry, 8, 21) as [tf.Tensor];
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10);
    const loss = crossEntropy(labels);
    const forward = compile((input: tf.Tensor) => model2.predict(input) as tf.Tensor, { mode: 'training' });
    const vars1 = trainableVariables(model1);
    const vars2 = trainableVariables(model2);
    const initial2 = vars2.map((v) => v.dataSync().slice());
    vars1.forEach((v, i) => expect(Array.from(v.dataSync())).to.deep.equal(Array.from(initial2[i]!)));
    const opt1 = tf.train.sgd(0.05);
    const opt2 = tf.train.sgd(0.05);
    try {
      const losses1: number[] = [];
      const losses2: number[] = [];
      for (let step = 0; step < 20; step++) {
        const l1 = opt1.minimize(() => loss(model1.predict(x)), true, vars1)!;
        const l2 = opt2.minimize(() => loss(forward(x)), true, vars2)!;
        losses1.push(l1.dataSync()[0]!);
        losses2.push(l2.dataSync()[0]!);
        tf.dispose([l1, l2]);
      }
      losses1.forEach((l, step) => {
        expect(Math.abs(losses2[step]! - l), `step ${step}: ${losses2[step]} vs ${l}`).to.be.at.most(1e-4 * Math.abs(l));
      });
      // training did something: the loss went down
      expect(losses2[19]!).to.be.lessThan(losses2[0]! * 0.95);
      // the compiled model's weights changed, and match the eager model's
      vars2.forEach((v, i) => {
        const now = v.dataSync();
        expect(allclose(initial2[i]!, now, 1e-7, 0).ok, `${v.name} changed`).to.equal(false);
        expect(allclose(vars1[i]!.dataSync(), now, 1e-5, 1e-4).ok, `${v.name} tracks the eager model`).to.equal(true);
      });
      // the compiled call reads the live variables: its outputs follow the updated weights
      const got = forward(x);
      const expected = model2.predict(x) as tf.Tensor;
      expectTensorsClose(got, expected);
      tf.dispose([got, expected]);
      const stats = forward.stats();
      expect(stats.compiled).to.have.length(1);
      expect(stats.eager).to.deep.equal([]);
      expect(stats.compiledCalls).to.equal(21);
    } finally {
      forward.dispose();
      opt1.dispose();
      opt2.dispose();
      tf.dispose([x, labels]);
      model1.dispose();
      model2.dispose();
    }
  });

  it('a CompiledModel in training mode trains the shogi ResNet (two outputs) like eager', () => {
    const entry = ZOO['shogi-resnet'];
    const model1 = entry.build({ small: true });
    const model2 = entry.build({ small: true });
    const compiled = compile(model2, { mode: 'training' });
    const [x] = zooSampleInputs(entry, 2, 4) as [tf.Tensor];
    const { loss, dispose } = weightedSumLoss(8);
    const vars1 = trainableVariables(model1);
    const vars2 = trainableVariables(model2);
    const opt1 = tf.train.sgd(0.01);
    const opt2 = tf.train.sgd(0.01);
    try {
      for (let step = 0; step < 3; step++) {
        const l1 = opt1.minimize(() => loss(model1.predict(x)), true, vars1)!;
        const l2 = opt2.minimize(() => loss(compiled.predict(x)), true, vars2)!;
        const a = l1.dataSync()[0]!;
        const b = l2.dataSync()[0]!;
        expect(Math.abs(a - b), `step ${step}: ${b} vs ${a}`).to.be.at.most(1e-4 * Math.max(1, Math.abs(a)));
        tf.dispose([l1, l2]);
      }
      const got = compiled.predict(x);
      const expected = model2.predict(x);
      const stale = model1.predict(x);
      expectTensorsClose(got, expected);
      expectTensorsClose(got, stale, 1e-4, 1e-3);
      tf.dispose([...asList(got), ...asList(expected), ...asList(stale)]);
    } finally {
      compiled.dispose();
      opt1.dispose();
      opt2.dispose();
      dispose();
      x.dispose();
      model1.dispose();
      model2.dispose();
    }
  });
});
