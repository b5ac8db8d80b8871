import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { container } from 'tsyringe';
import { OptimizationFailedError } from '../../src/core/errors.js';
import { optimize } from '../../src/optimize.js';
import { registerBrokenPlugins } from '../helpers/broken-plugins.js';
import { expectRejects } from '../helpers/expect-rejects.js';
import { comparePredictions } from '../helpers/predictions.js';
import { FAST_CONFIG, tinyConvModel } from '../helpers/tiny-models.js';

function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.weights.map((w) => (w.read().dataSync() as Float32Array).slice());
}

describe('pipeline: validated fallback over deliberately broken plugins', () => {
  const child = container.createChildContainer();
  registerBrokenPlugins(child);
  let model: tf.LayersModel;
  let x: tf.Tensor;

  beforeEach(() => {
    model = tinyConvModel(3);
    x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 11);
  });
  afterEach(() => {
    model.dispose();
    x.dispose();
  });

  const oneOf = (...names: string[]) => ({
    ...FAST_CONFIG,
    pipeline: [{ oneOf: names.map((name) => ({ name, ...(name === 'hangs' ? { timeLimitMs: 300 } : {}) })) }],
  });

  it('rolls back each broken candidate with its reason and keeps the first good one', async () => {
    const before = weightsOf(model);
    const tensorsBefore = tf.memory().numTensors;
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      container: child,
      config: oneOf('unavailable', 'throws', 'nan', 'slower', 'mutates', 'hangs', 'leaks', 'faster', 'throws'),
    });
    const byName = (name: string) => report.decisions.filter((d) => d.plugin === name);
    const status = Object.fromEntries(report.decisions.filter((d) => d.slot === 1).map((d) => [d.plugin, d.status]));
    expect(byName('unavailable')[0]!.status).to.equal('unavailable');
    expect(byName('unavailable')[0]!.reason).to.equal('needs hardware this machine lacks');
    expect(byName('throws')[0]!.status).to.equal('failed');
    expect(byName('throws')[0]!.reason).to.match(/apply threw: kaboom in apply/);
    expect(byName('nan')[0]!.status).to.equal('rejected');
    expect(byName('nan')[0]!.reason).to.match(/numerical mismatch: output "dense_\w+" produced NaN where the original gives -?\d/);
    expect(byName('slower')[0]!.status).to.equal('rejected');
    expect(byName('slower')[0]!.reason).to.match(/not faster: 0\.\d\dx, below the required 1.05x/);
    expect(byName('slower')[0]!.metrics.speedup).to.be.a('number').below(1);
    expect(byName('mutates')[0]!.status).to.equal('failed');
    expect(byName('mutates')[0]!.reason).to.match(/mutated the user's weights \(conv2d\w*\/kernel\); their values were restored/);
    expect(byName('hangs')[0]!.status).to.equal('failed');
    expect(byName('hangs')[0]!.reason).to.match(/hangs\.apply did not finish within its time limit of 300 ms/);
    expect(byName('leaks')[0]!.status).to.equal('failed');
    expect(byName('leaks')[0]!.reason).to.match(/leaks 1 tensor\(s\) per call/);
    expect(byName('faster')[0]!.status).to.equal('applied');
    expect(byName('throws')[1]!.status).to.equal('skipped');
    expect(byName('throws')[1]!.reason).to.match(/already uses faster/);
    expect(status).to.have.property('faster', 'applied');

    // The user's weights are what they were, byte for byte.
    const after = weightsOf(model);
    after.forEach((w, i) => expect(Array.from(w)).to.deep.equal(Array.from(before[i]!)));
    // The optimised model predicts like the original.
    comparePredictions<tf.Tensor[]>(model, optimized, x, (want, got) =>
      want.forEach((w, i) => expect(Array.from(got[i]!.dataSync())).to.deep.equal(Array.from(w.dataSync()))),
    );
    optimized.dispose();
    expect(tf.memory().numTensors).to.equal(tensorsBefore);
  });

  for (const broken of ['throws', 'nan', 'slower', 'mutates', 'hangs', 'leaks']) {
    it(`with fallback: false, "${broken}" raises an error that carries the report`, async () => {
      const tensorsBefore = tf.memory().numTensors;
      const error = await expectRejects(
        optimize(model, { sampleInputs: [x], container: child, config: { ...oneOf(broken, 'faster'), fallback: false } }),
        new RegExp(`^${broken} (failed|rejected): .*fallback is off`),
      );
      expect(error).to.be.instanceOf(OptimizationFailedError);
      const report = (error as OptimizationFailedError).report;
      expect(report.decisions.map((d) => d.plugin)).to.deep.equal(['backend-cpu', broken]);
      expect(report.decisions.at(-1)!.status).to.be.oneOf(['failed', 'rejected']);
      expect(tf.memory().numTensors).to.equal(tensorsBefore);
    });
  }

  it('reports the backend that ran and an end-to-end comparison', async () => {
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      container: child,
      config: { ...FAST_CONFIG, benchmark: { ...FAST_CONFIG.benchmark, endToEnd: true }, pipeline: [{ name: 'faster' }] },
    });
    expect(report.backend).to.equal('cpu');
    expect(report.endToEnd!.speedup).to.be.a('number').above(0);
    expect(report.endToEnd!.baseline).to.match(/plain tf\.js: LayersModel\.predict on cpu/);
    expect(report.validation.inputSets).to.deep.equal(['sample', 'perturbed #1', 'perturbed #2', 'large magnitude x10', 'batch 4']);
    optimized.dispose();
  });

  it('an unknown plugin in the pipeline names the registered ones', async () => {
    await expectRejects(
      optimize(model, { sampleInputs: [x], container: child, config: { ...FAST_CONFIG, pipeline: [{ name: 'no-such-plugin' }] } }),
      /Unknown plugin "no-such-plugin"\. Registered plugins: .*backend-wasm.*faster/,
    );
  });
});
