import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { LayersKilnModel } from '../../src/formats/layers-model/layers-model-format.js';
import { Validator, type ValidationSettings } from '../../src/core/validation/validator.js';
import { buildValidationInputs, checkSampleInputs, syntheticSampleInputs } from '../../src/core/validation/validation-inputs.js';
import { cloneLayersModel } from '../../src/formats/layers-model/clone-layers-model.js';
import { WrappedModel } from '../helpers/broken-plugins.js';
import { tinyConvModel, tinyDenseModel } from '../helpers/tiny-models.js';

const SETTINGS: ValidationSettings = { atol: 1e-5, rtol: 1e-4, samples: 2, seed: 0, largeMagnitude: 10, gradients: true };

describe('validation', () => {
  let model: tf.LayersModel;
  let x: tf.Tensor;
  beforeEach(() => {
    model = tinyConvModel(9);
    x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 5);
  });
  afterEach(() => {
    model.dispose();
    x.dispose();
  });

  it('builds samples, seeded perturbations, large-magnitude inputs and a second batch size', () => {
    const spec = new LayersKilnModel(model, 'cpu', false).inputs;
    const sets = buildValidationInputs([x], spec, SETTINGS);
    expect(sets.map((s) => s.label)).to.deep.equal(['sample', 'perturbed #1', 'perturbed #2', 'large magnitude x10', 'batch 4']);
    expect(sets[4]!.inputs[0]!.shape).to.deep.equal([4, 5, 5, 3]);
    const again = buildValidationInputs([x], spec, SETTINGS);
    expect(Array.from(again[1]!.inputs[0]!.dataSync())).to.deep.equal(Array.from(sets[1]!.inputs[0]!.dataSync()));
    expect(Array.from(sets[1]!.inputs[0]!.dataSync())).to.not.deep.equal(Array.from(x.dataSync()));
    for (const s of [...sets, ...again]) tf.dispose(s.inputs);
  });

  it('passes an exact copy of the model on another backend within the fp32 tolerance', async () => {
    const copy = await cloneLayersModel(model, 'cpu');
    const session = new Validator().prepare(new LayersKilnModel(model, 'cpu', false), [x], SETTINGS, 'inference');
    const result = session.check(new LayersKilnModel(copy, 'cpu', true));
    expect(result.passed).to.equal(true);
    expect(result.maxAbsDiff).to.equal(0);
    expect(result.inputSets).to.have.length(5);
    session.dispose();
    copy.dispose();
  });

  it('names the output, input set, element, expected and actual values of a mismatch', () => {
    const reference = new LayersKilnModel(model, 'cpu', false);
    const session = new Validator().prepare(reference, [x], SETTINGS, 'inference');
    const drifted = new WrappedModel(reference, (inputs) => {
      const [a, b] = reference.predict(inputs) as tf.Tensor[];
      const shifted = tf.tidy(() => tf.add(b!, tf.scalar(1e-3)));
      b!.dispose();
      return [a!, shifted];
    });
    const result = session.check(drifted);
    expect(result.passed).to.equal(false);
    expect(result.worst!.output).to.equal(model.outputNames[1]);
    expect(result.worst!.inputSet).to.equal('sample');
    expect(result.reason).to.match(
      new RegExp(
        `^output "${model.outputNames[1]}" differs by 1\\.00e-3 \\(allowed .*\\) at \\[\\d,0\\] on input set "sample": expected -?[\\d.e-]+, got -?[\\d.e-]+$`,
      ),
    );
    session.dispose();
  });

  it('fails a candidate that throws or returns the wrong number of outputs, with the reason', () => {
    const reference = new LayersKilnModel(model, 'cpu', false);
    const session = new Validator().prepare(reference, [x], SETTINGS, 'inference');
    expect(
      session.check(
        new WrappedModel(reference, () => {
          throw new Error('bad kernel');
        }),
      ).reason,
    ).to.equal('threw on input set "sample": bad kernel');
    expect(session.check(new WrappedModel(reference, (i) => (reference.predict(i) as tf.Tensor[]).slice(0, 1))).reason).to.equal(
      'returned 1 output(s), the original returns 2',
    );
    session.dispose();
  });

  it('in training mode compares the gradients with respect to the trainable variables', () => {
    const dense = tinyDenseModel(4);
    const input = tf.randomNormal([3, 8], 0, 1, 'float32', 1);
    const reference = new LayersKilnModel(dense, 'cpu', false);
    const session = new Validator().prepare(reference, [input], SETTINGS, 'training');
    const same = session.check(reference);
    expect(same.passed).to.equal(true);
    expect(same.gradients!.variables).to.equal(4);
    // Identical outputs, but every gradient flowing back through them is doubled.
    const doubleGrad = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const v = args[0] as tf.Tensor;
      return { value: v.clone(), gradFunc: (dy: tf.Tensor) => dy.mul(2) };
    });
    const scaledGrads = new WrappedModel(reference, (i) => {
      const out = reference.predict(i) as tf.Tensor;
      const y = doubleGrad(out);
      out.dispose();
      return y;
    });
    const result = session.check(scaledGrads);
    expect(result.passed).to.equal(false);
    expect(result.reason).to.match(/^gradient of "dense_\w+\/(kernel|bias)" differs by/);
    session.dispose();
    dense.dispose();
    input.dispose();
  });

  it('makes seeded synthetic samples and refuses samples that do not fit the model', () => {
    const spec = new LayersKilnModel(model, 'cpu', false).inputs;
    const [a] = syntheticSampleInputs(spec, 3);
    const [b] = syntheticSampleInputs(spec, 3);
    expect(a!.shape).to.deep.equal([1, 5, 5, 3]);
    expect(Array.from(a!.dataSync())).to.deep.equal(Array.from(b!.dataSync()));
    tf.dispose([a!, b!]);
    const wrong = tf.zeros([1, 4, 4, 3]);
    expect(() => checkSampleInputs([wrong], spec)).to.throw(
      /Sample input 0 has shape \[1, 4, 4, 3\] but model input "input\d*" expects \[null, 5, 5, 3\]/,
    );
    expect(() => checkSampleInputs([], spec)).to.throw(/The model has 1 input\(s\) \(input\d*\) but 0 sample input\(s\) were given/);
    wrong.dispose();
  });
});
