import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { compile, type CompiledFunction } from '../../../../src/compiler/api/compile.js';
import {
  biasAdd,
  collapseReshape,
  collapseTranspose,
  foldBatchNormKernels,
  fusedActivation,
} from '../../../../src/plugins/op-fusion/kernel-fusion/index.js';
import { countKernels } from '../../../../src/compiler/ir.js';
import { expectTensorsClose } from '../../../compiler/api/compile-helpers.js';
import {
  ATOL,
  BACKENDS,
  compileFunction,
  compileModel,
  expectPlanMatchesEager,
  fusionExtraPasses,
  kernelsOf,
  onBackend,
  onlyNode,
  RTOL,
  seedBatchNorms,
  seededVariable,
  valueKind,
} from './fusion-helpers.js';

const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor) => layer.apply(x) as tf.SymbolicTensor;
const he = (seed: number) => tf.initializers.heNormal({ seed });

/** conv (no bias) + BN + relu, seeded. */
function convBnRelu(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 3] });
  let h = apply(
    tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: he(1), name: 'conv' }),
    input,
  );
  h = apply(tf.layers.batchNormalization({ name: 'bn' }), h);
  h = apply(tf.layers.activation({ activation: 'relu', name: 'relu' }), h);
  const model = tf.model({ inputs: input, outputs: h });
  seedBatchNorms(model, 3);
  return model;
}

/** conv (with bias) + BN, then depthwise (no bias) + BN: two folds, one with a conv bias. */
function twoFolds(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 3] });
  let h = apply(
    tf.layers.conv2d({
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      useBias: true,
      kernelInitializer: he(2),
      biasInitializer: tf.initializers.randomNormal({ seed: 9 }),
      name: 'conv',
    }),
    input,
  );
  h = apply(tf.layers.batchNormalization({ name: 'bn1' }), h);
  h = apply(
    tf.layers.depthwiseConv2d({
      kernelSize: 3,
      padding: 'same',
      depthMultiplier: 2,
      useBias: false,
      depthwiseInitializer: he(3),
      name: 'dw',
    }),
    h,
  );
  h = apply(tf.layers.batchNormalization({ name: 'bn2' }), h);
  const model = tf.model({ inputs: input, outputs: h });
  seedBatchNorms(model, 5);
  return model;
}

/** Depthwise (bias or not) + BN + relu6 (tf.layers' relu6 runs Relu then Minimum 6). */
function depthwiseBnRelu6(useBias: boolean): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 3] });
  let h = apply(
    tf.layers.depthwiseConv2d({
      kernelSize: 3,
      padding: 'same',
      useBias,
      depthwiseInitializer: he(4),
      biasInitializer: tf.initializers.randomNormal({ seed: 8 }),
      name: 'dw',
    }),
    input,
  );
  h = apply(tf.layers.batchNormalization({ name: 'bn' }), h);
  h = apply(tf.layers.activation({ activation: 'relu6', name: 'relu6' }), h);
  const model = tf.model({ inputs: input, outputs: h });
  seedBatchNorms(model, 7);
  return model;
}

/** Depthwise with a bias (tf.layers adds it through a Reshape to [1, 1, 1, C]) + relu. */
function depthwiseBiasRelu(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 3] });
  let h = apply(
    tf.layers.depthwiseConv2d({
      kernelSize: 3,
      padding: 'same',
      useBias: true,
      depthwiseInitializer: he(5),
      biasInitializer: tf.initializers.randomNormal({ seed: 6 }),
      name: 'dw',
    }),
    input,
  );
  h = apply(tf.layers.activation({ activation: 'relu', name: 'relu' }), h);
  return tf.model({ inputs: input, outputs: h });
}

for (const backend of BACKENDS) {
  describe(`graph fusion patterns, each on its own (${backend})`, () => {
    onBackend(backend);
    let x: tf.Tensor;
    before(() => {
      x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 21);
    });
    after(() => x.dispose());

    /** Builds the model, compiles it with `patterns`, runs `check`, then checks the compiled outputs and that nothing leaked. */
    const withModel = (
      build: () => tf.LayersModel,
      patterns: Parameters<typeof compileModel>[2],
      check: (fused: ReturnType<typeof compileModel>, model: tf.LayersModel) => void,
      signatures = 1,
    ) => {
      const model = build();
      const before = tf.memory().numTensors;
      const fused = compileModel(model, x, patterns, backend);
      try {
        check(fused, model);
        expectPlanMatchesEager(
          fused.plan,
          () => fused.compiled.predict(x),
          () => model.predict(x),
          x,
        );
        expect(fused.compiled.stats().compiled).to.have.length(signatures);
      } finally {
        fused.compiled.dispose();
      }
      expect(tf.memory().numTensors, 'no tensor left once the compiled model is disposed').to.equal(before);
      model.dispose();
    };

    it('fold-batchnorm: conv + BN becomes one FusedConv2D with a folded filter and bias (and nothing else changes)', () => {
      withModel(convBnRelu, [foldBatchNormKernels], ({ plan, tally }) => {
        expect(kernelsOf(plan.traced)).to.include('FusedBatchNorm');
        expect(kernelsOf(plan.graph)).to.deep.equal(['FusedConv2D', 'Relu']);
        const conv = onlyNode(plan.graph, 'FusedConv2D');
        expect(valueKind(plan.graph, conv.inputs.filter)).to.equal('folded');
        expect(valueKind(plan.graph, conv.inputs.bias)).to.equal('folded');
        expect(conv.attrs.activation).to.equal('linear');
        expect(conv.layer).to.equal('conv');
        expect(tally.applied).to.deep.equal({ 'fold-batchnorm': 1 });
        expect(tally.matched).to.deep.equal({ 'fold-batchnorm': 1 });
        expect(tally.sites.map((s) => s.layers)).to.deep.equal([['conv', 'bn']]);
      });
    });

    it('a second signature (another batch size) compiles with the same fusion, and the tally counts each site once', () => {
      withModel(
        convBnRelu,
        [foldBatchNormKernels, fusedActivation],
        ({ compiled, tally }, model) => {
          const x3 = tf.randomNormal([3, 6, 6, 3], 0, 1, 'float32', 22);
          try {
            tf.dispose(compiled.predict(x3)); // compiles (traced call)
            const got = compiled.predict(x3);
            const want = model.predict(x3);
            expectTensorsClose(got, want, ATOL, RTOL);
            tf.dispose([got, want]);
            const stats = compiled.stats();
            expect(stats.compiled).to.have.length(2);
            expect(stats.compiled.map((s) => s.kernelsAfterPasses)).to.deep.equal([1, 1]);
            expect(tally.applied).to.deep.equal({ 'fold-batchnorm': 1, 'fused-activation': 1 });
            expect(tally.matched).to.deep.equal({ 'fold-batchnorm': 1, 'fused-activation': 1 });
            expect(tally.sites).to.have.length(2);
          } finally {
            x3.dispose();
          }
        },
        2,
      );
    });

    it('fold-batchnorm: a conv with its own bias and a depthwise conv (depth multiplier 2) both fold', () => {
      withModel(twoFolds, [foldBatchNormKernels], ({ plan, tally, compiled }) => {
        expect(countKernels(plan.traced).FusedBatchNorm).to.equal(2);
        expect(kernelsOf(plan.graph)).to.deep.equal(['FusedConv2D', 'FusedDepthwiseConv2D']);
        for (const kernel of ['FusedConv2D', 'FusedDepthwiseConv2D']) {
          const node = onlyNode(plan.graph, kernel);
          expect(valueKind(plan.graph, node.inputs.bias), `${kernel} bias`).to.equal('folded');
          expect(valueKind(plan.graph, node.inputs.filter), `${kernel} filter`).to.equal('folded');
        }
        expect(tally.applied).to.deep.equal({ 'fold-batchnorm': 2 });
        const stats = compiled.stats().compiled[0]!;
        expect(stats.kernelsAfterPasses).to.equal(2);
        expect(stats.passes.find((p) => p.pass === 'fusion')!.detail).to.equal('fold-batchnorm x2');
      });
    });

    it('fused-activation: the Relu after a folded conv + BN goes into the activation attribute', () => {
      withModel(convBnRelu, [foldBatchNormKernels, fusedActivation], ({ plan, tally }) => {
        expect(kernelsOf(plan.graph)).to.deep.equal(['FusedConv2D']);
        expect(onlyNode(plan.graph, 'FusedConv2D').attrs.activation).to.equal('relu');
        expect(tally.applied).to.deep.equal({ 'fold-batchnorm': 1, 'fused-activation': 1 });
      });
    });

    it("fused-activation: tf.layers' relu6 (Relu then Minimum 6) after depthwise + BN becomes relu6", () => {
      withModel(
        () => depthwiseBnRelu6(false),
        [foldBatchNormKernels, fusedActivation],
        ({ plan, tally }) => {
          const traced = kernelsOf(plan.traced);
          expect(traced).to.include.members(['DepthwiseConv2dNative', 'FusedBatchNorm', 'Relu', 'Minimum']);
          expect(kernelsOf(plan.graph)).to.deep.equal(['FusedDepthwiseConv2D']);
          const dw = onlyNode(plan.graph, 'FusedDepthwiseConv2D');
          expect(dw.attrs.activation).to.equal('relu6');
          expect(dw.attrs.dilations, 'layers record dilations: null; the fused kernel gets [1, 1]').to.deep.equal([1, 1]);
          // relu first, then relu + Minimum(6) -> relu6
          expect(tally.applied).to.deep.equal({ 'fold-batchnorm': 1, 'fused-activation': 2 });
        },
      );
    });

    it('fused-activation: the ReLU layer with maxValue 6 (Relu then ClipByValue 0..6, what the layer rewrite makes of relu6) after depthwise + BN becomes relu6', () => {
      const build = () => {
        const input = tf.input({ shape: [6, 6, 3] });
        let h = apply(
          tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: he(4), name: 'dw' }),
          input,
        );
        h = apply(tf.layers.batchNormalization({ name: 'bn' }), h);
        h = apply(tf.layers.reLU({ maxValue: 6, name: 'relu6' }), h);
        const model = tf.model({ inputs: input, outputs: h });
        seedBatchNorms(model, 7);
        return model;
      };
      withModel(build, [foldBatchNormKernels, fusedActivation], ({ plan, tally }) => {
        expect(kernelsOf(plan.traced)).to.include.members(['DepthwiseConv2dNative', 'FusedBatchNorm', 'Relu', 'ClipByValue']);
        expect(kernelsOf(plan.graph)).to.deep.equal(['FusedDepthwiseConv2D']);
        expect(onlyNode(plan.graph, 'FusedDepthwiseConv2D').attrs.activation).to.equal('relu6');
        expect(tally.applied).to.deep.equal({ 'fold-batchnorm': 1, 'fused-activation': 2 });
      });
    });

    it('bias-add: a tf.layers depthwise bias (Reshape of the bias + Add) moves into FusedDepthwiseConv2D, and relu follows', () => {
      withModel(depthwiseBiasRelu, [biasAdd, fusedActivation], ({ plan, tally }) => {
        expect(kernelsOf(plan.traced)).to.include.members(['DepthwiseConv2dNative', 'Reshape', 'Add', 'Relu']);
        expect(kernelsOf(plan.graph)).to.deep.equal(['FusedDepthwiseConv2D']);
        const dw = onlyNode(plan.graph, 'FusedDepthwiseConv2D');
        expect(valueKind(plan.graph, dw.inputs.bias), 'the bias variable itself').to.equal('variable');
        expect(plan.graph.values.get(dw.inputs.bias!)!.shape).to.deep.equal([3]);
        expect(dw.attrs.activation).to.equal('relu');
        expect(tally.applied).to.deep.equal({ 'bias-add': 1, 'fused-activation': 1 });
      });
    });

    it('all three on depthwise (with bias) + BN + relu6: the bias move lets the BatchNorm fold, then relu6 merges', () => {
      withModel(
        () => depthwiseBnRelu6(true),
        [foldBatchNormKernels, biasAdd, fusedActivation],
        ({ plan, tally }) => {
          expect(kernelsOf(plan.graph)).to.deep.equal(['FusedDepthwiseConv2D']);
          const dw = onlyNode(plan.graph, 'FusedDepthwiseConv2D');
          expect(dw.attrs.activation).to.equal('relu6');
          expect(valueKind(plan.graph, dw.inputs.bias)).to.equal('folded');
          expect(tally.applied).to.deep.equal({ 'fold-batchnorm': 1, 'bias-add': 1, 'fused-activation': 2 });
        },
      );
    });

    /** Compiles `fn` with `patterns`, runs `check`, compares with eager, checks for leaks. */
    const withFunction = (
      fn: (t: tf.Tensor) => tf.Tensor,
      input: tf.Tensor,
      patterns: Parameters<typeof compileFunction>[2],
      check: (fused: ReturnType<typeof compileFunction>) => void,
    ) => {
      const before = tf.memory().numTensors;
      const fused = compileFunction(fn, input, patterns, backend);
      try {
        check(fused);
        expectPlanMatchesEager(
          fused.plan,
          () => fused.fn.call([input]),
          () => tf.tidy(() => fn(input)),
          input,
        );
      } finally {
        fused.fn.dispose();
      }
      expect(tf.memory().numTensors, 'no tensor left once the compiled function is disposed').to.equal(before);
    };

    it('bias-add + fused-activation: DepthwiseConv2dNative + Add(bias) + Relu becomes one FusedDepthwiseConv2D', () => {
      const filter = seededVariable([3, 3, 3, 1], 31);
      const bias = seededVariable([3], 32);
      try {
        const fn = (t: tf.Tensor) => tf.relu(tf.add(tf.depthwiseConv2d(t as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'), bias));
        withFunction(fn, x, [biasAdd, fusedActivation], ({ plan, tally }) => {
          expect(kernelsOf(plan.traced)).to.deep.equal(['DepthwiseConv2dNative', 'Add', 'Relu']);
          expect(kernelsOf(plan.graph)).to.deep.equal(['FusedDepthwiseConv2D']);
          const dw = onlyNode(plan.graph, 'FusedDepthwiseConv2D');
          expect(plan.graph.values.get(dw.inputs.bias!)!.variable).to.equal(bias);
          expect(plan.graph.values.get(dw.inputs.filter!)!.variable).to.equal(filter);
          expect(dw.attrs.activation).to.equal('relu');
          expect(tally.applied).to.deep.equal({ 'bias-add': 1, 'fused-activation': 1 });
        });
      } finally {
        tf.dispose([filter, bias]);
      }
    });

    it('fused-activation: ClipByValue(0, 6) right after a conv becomes relu6; ClipByValue(0, 5) and ClipByValue(-1, 6) on a linear conv stay', () => {
      const filter = seededVariable([3, 3, 3, 4], 33);
      try {
        const conv = (t: tf.Tensor) => tf.conv2d(t as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same');
        withFunction(
          (t) => tf.clipByValue(conv(t).mul(4), 0, 6),
          x,
          [fusedActivation],
          ({ plan }) => {
            // Mul is not a fused kernel: nothing to absorb into
            expect(kernelsOf(plan.graph)).to.deep.equal(['Conv2D', 'Multiply', 'ClipByValue']);
          },
        );
        withFunction(
          (t) => tf.clipByValue(tf.fused.conv2d({ x: t as tf.Tensor4D, filter: filter as tf.Tensor4D, strides: 1, pad: 'same' }), 0, 6),
          x,
          [fusedActivation],
          ({ plan, tally }) => {
            expect(kernelsOf(plan.graph)).to.deep.equal(['FusedConv2D']);
            expect(onlyNode(plan.graph, 'FusedConv2D').attrs.activation).to.equal('relu6');
            expect(tally.applied).to.deep.equal({ 'fused-activation': 1 });
          },
        );
        for (const [min, max] of [
          [0, 5],
          [-1, 6],
        ] as const) {
          withFunction(
            (t) =>
              tf.clipByValue(tf.fused.conv2d({ x: t as tf.Tensor4D, filter: filter as tf.Tensor4D, strides: 1, pad: 'same' }), min, max),
            x,
            [fusedActivation],
            ({ plan, tally }) => {
              expect(kernelsOf(plan.graph), `clip(${min}, ${max})`).to.deep.equal(['FusedConv2D', 'ClipByValue']);
              expect(tally.applied).to.deep.equal({});
            },
          );
        }
      } finally {
        filter.dispose();
      }
    });

    it('bias-add: a 2-D BatchMatMul + Add(bias) through compile() fuses where the kernel takes 2-D inputs (cpu), not on wasm', () => {
      const w = seededVariable([5, 4], 41);
      const b = seededVariable([4], 43);
      const m = tf.randomNormal([3, 5], 0, 1, 'float32', 44);
      try {
        const before = tf.memory().numTensors;
        const { tally, extraPasses } = fusionExtraPasses([biasAdd], backend);
        // in a tidy: compiling traces a real call of the function, whose intermediate is the caller's to free
        let compiled!: CompiledFunction<(t: tf.Tensor) => tf.Tensor>;
        tf.tidy(() => {
          compiled = compile((t: tf.Tensor) => tf.matMul(t, w).add(b), { sampleInputs: [m], extraPasses });
        });
        const stats = compiled.stats().compiled[0]!;
        expect(compiled.stats().eager).to.deep.equal([]);
        expect(stats.kernelsTraced).to.equal(2);
        // wasm's _FusedMatMul reads its inputs as rank 3 (what tf.fused.matMul passes): a 2-D one would read out of bounds
        const fuses = backend === 'cpu';
        expect(stats.kernelsAfterPasses).to.equal(fuses ? 1 : 2);
        expect(stats.passes.find((p) => p.pass === 'fusion')!.detail).to.equal(fuses ? 'bias-add x1' : 'no pattern applied');
        expect(tally.applied).to.deep.equal(fuses ? { 'bias-add': 1 } : {});
        for (let call = 0; call < 2; call++) {
          const got = compiled(m);
          const want = tf.tidy(() => tf.matMul(m, w).add(b));
          expectTensorsClose(got, want, ATOL, RTOL);
          tf.dispose([got, want]);
        }
        compiled.dispose();
        expect(tf.memory().numTensors).to.equal(before);
      } finally {
        tf.dispose([w, b, m]);
      }
    });

    it('bias-add + fused-activation: a rank-3 BatchMatMul + Add(bias) + Relu becomes _FusedMatMul where the backend computes it exactly', () => {
      const w1 = seededVariable([1, 5, 4], 46);
      const wT = seededVariable([2, 4, 5], 42);
      const b = seededVariable([4], 43);
      const m1 = tf.randomNormal([1, 3, 5], 0, 1, 'float32', 47);
      const m2 = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 45);
      try {
        // batch 1, no transposition (what tf.fused.matMul passes for a Dense): fused everywhere
        withFunction(
          (t) => tf.relu(tf.add(tf.matMul(t, w1), b)),
          m1,
          [biasAdd, fusedActivation],
          ({ plan, tally }) => {
            expect(kernelsOf(plan.traced)).to.deep.equal(['BatchMatMul', 'Add', 'Relu']);
            expect(kernelsOf(plan.graph)).to.deep.equal(['_FusedMatMul']);
            const mm = onlyNode(plan.graph, '_FusedMatMul');
            expect(plan.graph.values.get(mm.inputs.bias!)!.variable).to.equal(b);
            expect(mm.attrs).to.include({ transposeA: false, transposeB: false, activation: 'relu' });
            expect(tally.applied).to.deep.equal({ 'bias-add': 1, 'fused-activation': 1 });
          },
        );
        // batch 2 and a transposed operand: wasm's fused kernel adds the bias wrongly there, so only cpu fuses
        withFunction(
          (t) => tf.relu(tf.add(tf.matMul(t, wT, false, true), b)),
          m2,
          [biasAdd, fusedActivation],
          ({ plan, tally }) => {
            if (backend === 'cpu') {
              expect(kernelsOf(plan.graph)).to.deep.equal(['_FusedMatMul']);
              expect(onlyNode(plan.graph, '_FusedMatMul').attrs).to.include({ transposeA: false, transposeB: true, activation: 'relu' });
              expect(tally.applied).to.deep.equal({ 'bias-add': 1, 'fused-activation': 1 });
            } else {
              expect(kernelsOf(plan.graph)).to.deep.equal(['BatchMatMul', 'Add', 'Relu']);
              expect(tally.matched).to.deep.equal({});
            }
          },
        );
      } finally {
        tf.dispose([w1, wT, b, m1, m2]);
      }
    });

    it('bias-add leaves an Add of a non-weight, or of a bias that is not per channel, alone', () => {
      const w = seededVariable([5, 4], 51);
      const notPerChannel = seededVariable([3, 4], 52);
      const m = tf.randomNormal([3, 5], 0, 1, 'float32', 53);
      try {
        withFunction(
          (t) => tf.add(tf.matMul(t, w), notPerChannel),
          m,
          [biasAdd],
          ({ plan, tally }) => {
            expect(kernelsOf(plan.graph)).to.deep.equal(['BatchMatMul', 'Add']);
            expect(tally.applied).to.deep.equal({});
          },
        );
        withFunction(
          (t) => {
            const y = tf.matMul(t, w);
            return tf.add(y, tf.relu(y));
          },
          m,
          [biasAdd],
          ({ plan, tally }) => {
            expect(countKernels(plan.graph).BatchMatMul).to.equal(1);
            expect(tally.matched).to.deep.equal({});
          },
        );
      } finally {
        tf.dispose([w, notPerChannel, m]);
      }
    });

    it('collapse-reshape: a chain of three Reshapes becomes one Reshape to the final shape', () => {
      const m = tf.randomNormal([3, 5], 0, 1, 'float32', 61);
      try {
        withFunction(
          (t) => t.reshape([15]).reshape([5, 3]).reshape([1, 15]).add(1),
          m,
          [collapseReshape],
          ({ plan, tally }) => {
            expect(kernelsOf(plan.traced)).to.deep.equal(['Reshape', 'Reshape', 'Reshape', 'Add']);
            expect(kernelsOf(plan.graph)).to.deep.equal(['Reshape', 'Add']);
            expect(onlyNode(plan.graph, 'Reshape').attrs.shape).to.deep.equal([1, 15]);
            expect(tally.applied).to.deep.equal({ 'collapse-reshape': 2 });
          },
        );
        // an inner Reshape used twice stays
        withFunction(
          (t) => {
            const flat = t.reshape([15]);
            return tf.add(flat.reshape([5, 3]).reshape([1, 15]), flat);
          },
          m,
          [collapseReshape],
          ({ plan, tally }) => {
            expect(countKernels(plan.graph).Reshape).to.equal(2);
            expect(tally.applied).to.deep.equal({ 'collapse-reshape': 1 });
          },
        );
      } finally {
        m.dispose();
      }
    });

    it('collapse-transpose: a pair becomes one Transpose with the composed permutation; a chain of three too', () => {
      const t3 = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 71);
      try {
        withFunction(
          (t) => t.transpose([1, 0, 2]).transpose([0, 2, 1]).mul(2),
          t3,
          [collapseTranspose],
          ({ plan, tally }) => {
            expect(kernelsOf(plan.graph)).to.deep.equal(['Transpose', 'Multiply']);
            expect(onlyNode(plan.graph, 'Transpose').attrs.perm).to.deep.equal([1, 2, 0]);
            expect(tally.applied).to.deep.equal({ 'collapse-transpose': 1 });
          },
        );
        withFunction(
          (t) => t.transpose([1, 0, 2]).transpose([0, 2, 1]).transpose([2, 1, 0]).mul(2),
          t3,
          [collapseTranspose],
          ({ plan, tally }) => {
            expect(kernelsOf(plan.graph)).to.deep.equal(['Transpose', 'Multiply']);
            const [a, b, c] = [
              [1, 0, 2],
              [0, 2, 1],
              [2, 1, 0],
            ];
            const composed = c.map((i) => b.map((j) => a[j]!)[i]!);
            expect(onlyNode(plan.graph, 'Transpose').attrs.perm).to.deep.equal(composed);
            expect(tally.applied).to.deep.equal({ 'collapse-transpose': 2 });
          },
        );
      } finally {
        t3.dispose();
      }
    });

    it('collapse-transpose: a cancelling pair is removed altogether', () => {
      const m = tf.randomNormal([3, 5], 0, 1, 'float32', 81);
      try {
        withFunction(
          (t) => t.transpose([1, 0]).transpose([1, 0]).add(1),
          m,
          [collapseTranspose],
          ({ plan, tally }) => {
            expect(kernelsOf(plan.traced)).to.deep.equal(['Transpose', 'Transpose', 'Add']);
            expect(kernelsOf(plan.graph)).to.deep.equal(['Add']);
            expect(tally.applied).to.deep.equal({ 'collapse-transpose': 1 });
            const passes = plan.stats.passes.map((p) => p.pass);
            expect(passes.lastIndexOf('noop-removal')).to.be.greaterThan(passes.indexOf('fusion'));
          },
        );
      } finally {
        m.dispose();
      }
    });
  });
}
