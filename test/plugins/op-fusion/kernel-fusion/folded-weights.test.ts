import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { foldBatchNormKernels, fusedActivation } from '../../../../src/plugins/op-fusion/kernel-fusion/index.js';
import type { FoldedValue } from '../../../../src/compiler/ir.js';
import { allclose } from '../../../../src/core/validation/allclose.js';
import { BACKENDS, compileModel, expectPlanMatchesEager, onBackend, onlyNode, seedBatchNorms, variableOf } from './fusion-helpers.js';

function convBnRelu(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 3] });
  let h = tf.layers
    .conv2d({
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
      kernelInitializer: tf.initializers.heNormal({ seed: 11 }),
      name: 'conv',
    })
    .apply(input) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ name: 'bn' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: 'relu', name: 'relu' }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: h });
  seedBatchNorms(model, 13);
  return model;
}

/** Largest |a - b| between two predictions (no tensors left). */
function maxDiff(a: Float32Array, b: Float32Array): number {
  return allclose(a, b, 0, 0).maxAbsDiff;
}

for (const backend of BACKENDS) {
  describe(`folded weights follow their variables (${backend})`, () => {
    onBackend(backend);

    it('assigning the BatchNorm moving mean, then the conv kernel: the compiled model matches eager again, without a recompile or a leak', () => {
      const model = convBnRelu();
      const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 12);
      const fused = compileModel(model, x, [foldBatchNormKernels, fusedActivation], backend);
      const { compiled, plan } = fused;
      try {
        const conv = onlyNode(plan.graph, 'FusedConv2D');
        const folded = [conv.inputs.filter!, conv.inputs.bias!].map((id) => plan.graph.values.get(id)!.folded as FoldedValue);
        expect(
          folded.every((f) => f !== undefined),
          'filter and bias are folded values',
        ).to.equal(true);
        expect(
          folded.map((f) => f.computations),
          'computed once, however many calls',
        ).to.deep.equal([1, 1]);
        expectPlanMatchesEager(
          plan,
          () => compiled.predict(x),
          () => model.predict(x),
          x,
        );
        expect(folded.map((f) => f.computations)).to.deep.equal([1, 1]);

        const eagerValues = () => tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
        const steps: [string, tf.Variable, (v: tf.Variable) => tf.Tensor][] = [
          ['bn moving_mean', variableOf(model, 'bn', 'moving_mean'), (v) => tf.randomUniform(v.shape, -1, 1, 'float32', 91)],
          ['conv kernel', variableOf(model, 'conv', 'kernel'), (v) => tf.randomNormal(v.shape, 0, 0.5, 'float32', 92)],
        ];
        steps.forEach(([what, variable, make], k) => {
          const before = tf.memory().numTensors;
          const old = eagerValues();
          const value = make(variable);
          variable.assign(value);
          value.dispose();
          expect(maxDiff(old, eagerValues()), `assigning the ${what} changes the model's outputs`).to.be.greaterThan(1e-2);
          expectPlanMatchesEager(
            plan,
            () => compiled.predict(x),
            () => model.predict(x),
            x,
          );
          expect(
            folded.map((f) => f.computations),
            `recomputed once after assigning the ${what}`,
          ).to.deep.equal([k + 2, k + 2]);
          const stats = compiled.stats();
          expect(stats.compiled, 'no recompile').to.have.length(1);
          expect(stats.eager).to.deep.equal([]);
          expect(tf.memory().numTensors, `no tensor leaked by assigning the ${what} and recomputing`).to.equal(before);
        });
        // calls without an assign reuse the folded tensors
        tf.dispose(compiled.predict(x));
        expect(folded.map((f) => f.computations)).to.deep.equal([3, 3]);
      } finally {
        compiled.dispose();
        model.dispose();
        x.dispose();
      }
    });
  });
}
