import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { BUILT_IN_FUSION_PATTERNS } from '../../../../src/plugins/op-fusion/kernel-fusion/index.js';
import { countKernels } from '../../../../src/compiler/ir.js';
import { allclose } from '../../../../src/core/validation/allclose.js';
import { asList } from '../../../compiler/api/compile-helpers.js';
import {
  ATOL,
  BACKENDS,
  compileFunction,
  compileModel,
  kernelsOf,
  onBackend,
  onlyNode,
  RTOL,
  seedBatchNorms,
  seededVariable,
} from './fusion-helpers.js';

/** A weighted sum of the outputs with fixed seeded weights: a loss whose gradients reach every weight. */
function weightedSum(shape: number[], seed: number) {
  const weights = tf.randomNormal(shape, 0, 1, 'float32', seed);
  return { loss: (y: tf.Tensor | tf.Tensor[]) => tf.sum(tf.mul(asList(y)[0]!, weights)) as tf.Scalar, dispose: () => weights.dispose() };
}

function expectGradsClose(actual: tf.NamedTensorMap, expected: tf.NamedTensorMap): void {
  expect(Object.keys(actual).sort()).to.deep.equal(Object.keys(expected).sort());
  let nonZero = 0;
  for (const [name, g] of Object.entries(expected)) {
    const c = allclose(g.dataSync(), actual[name]!.dataSync(), ATOL, RTOL);
    expect(c.ok, `gradient of ${name} differs by ${c.maxAbsDiff}`).to.equal(true);
    if (Math.max(...Array.from(g.dataSync(), Math.abs)) > 1e-6) nonZero++;
  }
  expect(nonZero, 'the loss reaches the weights').to.equal(Object.keys(expected).length);
}

for (const backend of BACKENDS) {
  describe(`graph fusion in training mode: matmul (${backend})`, () => {
    onBackend(backend);

    it('bias-add and fused-activation apply to a matmul + bias + relu; gradients through the fused forward equal eager', () => {
      const w = seededVariable([1, 5, 4], 131);
      const b = seededVariable([4], 132);
      const w2 = seededVariable([1, 4, 3], 133);
      const x = tf.randomNormal([1, 6, 5], 0, 1, 'float32', 134);
      const fn = (t: tf.Tensor) => tf.matMul(tf.relu(tf.add(tf.matMul(t, w), b)), w2);
      const { loss, dispose } = weightedSum([1, 6, 3], 135);
      const before = tf.memory().numTensors;
      const training = compileFunction(fn, x, BUILT_IN_FUSION_PATTERNS, backend, 'training');
      try {
        expect(training.tally.applied).to.deep.equal({ 'bias-add': 1, 'fused-activation': 1 });
        expect(kernelsOf(training.plan.graph)).to.deep.equal(['_FusedMatMul', 'BatchMatMul']);
        expect(training.plan.graph.nodes[0]!.attrs.activation).to.equal('relu');
        const eager = tf.variableGrads(() => loss(fn(x)), [w, b, w2]);
        const compiled = tf.variableGrads(() => loss(training.fn.call([x])), [w, b, w2]);
        try {
          expect(training.fn.stats().compiledCalls).to.equal(2);
          const [e, c] = [eager.value.dataSync()[0]!, compiled.value.dataSync()[0]!];
          expect(Math.abs(e - c)).to.be.at.most(ATOL + RTOL * Math.abs(e));
          expectGradsClose(compiled.grads, eager.grads);
        } finally {
          for (const r of [eager, compiled]) tf.dispose([r.value, ...Object.values(r.grads)]);
        }
      } finally {
        training.fn.dispose();
      }
      expect(tf.memory().numTensors).to.equal(before);
      dispose();
      tf.dispose([w, b, w2, x]);
    });
  });
}

// tfjs-backend-wasm has no conv gradient kernels (Conv2DBackpropFilter), so the conv cases run on cpu only
describe('graph fusion in training mode: conv and BatchNorm (cpu)', () => {
  const backend = 'cpu';
  onBackend(backend);

  it('skips fold-batchnorm (not training-safe) but fuses bias and activation; gradients through the fused forward equal eager', () => {
    const f1 = seededVariable([3, 3, 3, 4], 101);
    const b1 = seededVariable([4], 102);
    const mean = tf.tidy(() => tf.variable(tf.randomUniform([4], -0.5, 0.5, 'float32', 103)));
    const variance = tf.tidy(() => tf.variable(tf.randomUniform([4], 0.3, 2, 'float32', 104)));
    const offset = tf.tidy(() => tf.variable(tf.randomUniform([4], -0.5, 0.5, 'float32', 105)));
    const scale = tf.tidy(() => tf.variable(tf.randomUniform([4], -1.5, 1.5, 'float32', 106)));
    const f2 = seededVariable([3, 3, 4, 2], 107);
    const b2 = seededVariable([2], 108);
    const vars = [f1, b1, mean, variance, offset, scale, f2, b2];
    const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 109);
    const fn = (t: tf.Tensor) => {
      const h = tf.relu(
        tf.batchNorm(tf.add(tf.conv2d(t as tf.Tensor4D, f1 as tf.Tensor4D, 1, 'same'), b1), mean, variance, offset, scale, 1e-3),
      );
      return tf.relu(tf.add(tf.conv2d(h as tf.Tensor4D, f2 as tf.Tensor4D, 1, 'same'), b2));
    };
    const { loss, dispose } = weightedSum([2, 6, 6, 2], 110);
    try {
      // inference mode folds the BatchNorm ...
      const inference = compileFunction(fn, x, BUILT_IN_FUSION_PATTERNS, backend, 'inference');
      expect(inference.tally.applied['fold-batchnorm']).to.equal(1);
      expect(countKernels(inference.plan.graph).FusedBatchNorm).to.equal(undefined);
      inference.fn.dispose();

      // ... training mode does not even look for it
      const before = tf.memory().numTensors;
      const training = compileFunction(fn, x, BUILT_IN_FUSION_PATTERNS, backend, 'training');
      try {
        expect(training.tally.matched['fold-batchnorm']).to.equal(undefined);
        expect(training.tally.applied).to.deep.equal({ 'bias-add': 2, 'fused-activation': 1 });
        expect(kernelsOf(training.plan.graph)).to.deep.equal(['FusedConv2D', 'FusedBatchNorm', 'Relu', 'FusedConv2D']);
        const last = training.plan.graph.nodes.at(-1)!;
        expect(last.attrs.activation).to.equal('relu');
        expect(training.plan.stats.executor).to.equal('replay');

        const eager = tf.variableGrads(() => loss(fn(x)), vars);
        const compiled = tf.variableGrads(() => loss(training.fn.call([x])), vars);
        try {
          expect(training.fn.stats().compiledCalls, 'the taped call ran the plan').to.equal(2);
          const [e, c] = [eager.value.dataSync()[0]!, compiled.value.dataSync()[0]!];
          expect(Math.abs(e - c)).to.be.at.most(ATOL + RTOL * Math.abs(e));
          expect(Math.abs(e), 'a non-degenerate loss').to.be.greaterThan(1e-3);
          expectGradsClose(compiled.grads, eager.grads);
        } finally {
          for (const r of [eager, compiled]) tf.dispose([r.value, ...Object.values(r.grads)]);
        }
      } finally {
        training.fn.dispose();
      }
      expect(tf.memory().numTensors, 'no tensor left by the taped compiled calls').to.equal(before);
    } finally {
      dispose();
      tf.dispose([...vars, x]);
    }
  });

  it('a layers conv + BN + relu + dense model: BatchNorm stays, gradients of every trainable weight equal eager', () => {
    const input = tf.input({ shape: [6, 6, 3] });
    let h = tf.layers
      .conv2d({
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: tf.initializers.heNormal({ seed: 121 }),
        name: 'conv',
      })
      .apply(input) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization({ name: 'bn' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.activation({ activation: 'relu', name: 'relu' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers
      .conv2d({
        filters: 2,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: 122 }),
        biasInitializer: tf.initializers.randomNormal({ seed: 123 }),
        name: 'conv2',
      })
      .apply(h) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 124 }), name: 'dense' })
      .apply(tf.layers.flatten().apply(h)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    seedBatchNorms(model, 125);
    const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 126);
    const { loss, dispose } = weightedSum([2, 3], 127);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const before = tf.memory().numTensors;
    const fused = compileModel(model, x, BUILT_IN_FUSION_PATTERNS, backend, 'training');
    try {
      expect(fused.tally.matched['fold-batchnorm']).to.equal(undefined);
      expect(countKernels(fused.plan.graph).FusedBatchNorm).to.equal(1);
      expect(onlyNode(fused.plan.graph, 'FusedBatchNorm').layer).to.equal('bn');
      const eager = tf.variableGrads(() => loss(model.predict(x)), vars);
      const compiled = tf.variableGrads(() => loss(fused.compiled.predict(x)), vars);
      try {
        expect(fused.compiled.stats().compiled).to.have.length(1);
        expectGradsClose(compiled.grads, eager.grads);
      } finally {
        for (const r of [eager, compiled]) tf.dispose([r.value, ...Object.values(r.grads)]);
      }
    } finally {
      fused.compiled.dispose();
      dispose();
    }
    expect(tf.memory().numTensors).to.equal(before - 1);
    model.dispose();
    x.dispose();
  });
});
