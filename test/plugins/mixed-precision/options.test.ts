import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { loadConfig } from '../../../src/core/config-loading/load-config.js';
import { resolvePipeline } from '../../../src/core/config-loading/resolve-pipeline.js';
import { PluginRegistry } from '../../../src/core/plugin-registry.js';
import { optimize } from '../../../src/optimize.js';
import { MixedPrecisionOptions, OutputBudgetOptions } from '../../../src/plugins/mixed-precision/index.js';
import { expectRejects } from '../../helpers/expect-rejects.js';
import { FAST_CONFIG, tinyConvModel } from '../../helpers/tiny-models.js';

const options = (o: object) => ({ pipeline: [{ name: 'mixed-precision', options: o }] });

describe('mixed-precision options', () => {
  it('defaults: policy auto, minElements 1024, error-feedback rounding, every output within 1e-3 of its scale', async () => {
    const config = await loadConfig(options({}));
    const [slot] = resolvePipeline(config, new PluginRegistry());
    const o = slot!.candidates[0]!.options as MixedPrecisionOptions;
    expect(o).to.be.instanceOf(MixedPrecisionOptions);
    expect(o.policy).to.equal('auto');
    expect(o.minElements).to.equal(1024);
    expect(o.rounding).to.equal('error-feedback');
    expect([...o.budgets.entries()]).to.deep.equal([['*', Object.assign(new OutputBudgetOptions(), { tolerance: 1e-3 })]]);
  });

  it('names every bad option by its key path', async () => {
    const error = await expectRejects(
      loadConfig(
        options({
          policy: 'int4',
          minElements: 0,
          rounding: 'stochastic',
          budgets: { policy: { argmaxAgreement: 1.5, argmax: 1 }, value: {}, '*': { metric: 'mse' }, other: 3 },
        }),
      ),
      /options/,
    );
    const lines = error.message.split('\n');
    const expected = [
      /^config object: pipeline\[0\]\.options\.policy: invalid value \(got "int4"\); allowed: one of: auto, float16, uint16, uint8, int8$/,
      /^config object: pipeline\[0\]\.options\.minElements: out of range \(got 0\); allowed: an integer >= 1$/,
      /^config object: pipeline\[0\]\.options\.rounding: invalid value \(got "stochastic"\); allowed: one of: error-feedback, nearest$/,
      /^config object: pipeline\[0\]\.options\.budgets\.policy\.argmaxAgreement: out of range \(got 1\.5\); allowed: a number from 0 to 1$/,
      /^config object: pipeline\[0\]\.options\.budgets\.policy\.argmax: unknown key "argmax" \(got 1\); allowed: tolerance, atol, rtol, argmaxAgreement, klDivergence, metric$/,
      /^config object: pipeline\[0\]\.options\.budgets\.value: sets no budget term \(got \{\}\); allowed: at least one of: tolerance, atol, rtol, argmaxAgreement, klDivergence, metric$/,
      /^config object: pipeline\[0\]\.options\.budgets\["\*"\]\.metric: wrong type \(got "mse"\); allowed: \{ name, compute\(reference, candidate, shape\) => number, max\?, min\? \} with max or min, passed from code \(not YAML\)$/,
      /^config object: pipeline\[0\]\.options\.budgets\.other: wrong type \(got 3\)/,
    ];
    for (const pattern of expected)
      expect(
        lines.some((l) => pattern.test(l)),
        `${pattern}\nin:\n${error.message}`,
      ).to.equal(true);
    expect(lines).to.have.lengthOf(expected.length);
  });

  it('takes a metric function from code (never from YAML) and keeps it as given', async () => {
    const compute = (r: Float32Array, c: Float32Array) => Math.abs(c[0]! - r[0]!);
    const config = await loadConfig(options({ budgets: { '*': { metric: { name: 'firstValue', compute, max: 0.1 } } } }));
    const o = resolvePipeline(config, new PluginRegistry())[0]!.candidates[0]!.options as MixedPrecisionOptions;
    expect(o.budgets.get('*')!.metric!.compute).to.equal(compute);
    await expectRejects(
      loadConfig(options({ budgets: { '*': { metric: { name: 'firstValue', compute: 'abs', max: 0.1 } } } })),
      /budgets\["\*"\]\.metric: needs compute, a function \(metrics can only be given from code, not YAML\)/,
    );
  });

  it('in training mode the plugin is unavailable, with the reason', async () => {
    const model = tinyConvModel(2);
    const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 1);
    try {
      const { model: optimized, report } = await optimize(model, {
        sampleInputs: [x],
        config: { ...FAST_CONFIG, mode: 'training', pipeline: [{ name: 'mixed-precision' }] },
      });
      optimized.dispose();
      const d = report.decisions.find((x) => x.plugin === 'mixed-precision')!;
      expect(d.status).to.equal('unavailable');
      expect(d.reason).to.equal(
        'training mode: the weights are being updated, so storing them at reduced precision belongs at export (run Kiln in inference mode on the trained model)',
      );
    } finally {
      model.dispose();
      x.dispose();
    }
  });

  it('a budget naming an output the model lacks fails the candidate, naming the outputs it has', async () => {
    const model = tinyConvModel(2);
    const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 1);
    try {
      const { model: optimized, report } = await optimize(model, {
        sampleInputs: [x],
        config: { ...FAST_CONFIG, ...options({ minElements: 8, budgets: { polcy: { argmaxAgreement: 1 } } }) },
      });
      optimized.dispose();
      const d = report.decisions.find((x) => x.plugin === 'mixed-precision')!;
      expect(d.status).to.equal('failed');
      expect(d.reason).to.match(
        /budgets name output\(s\) "polcy" that the model does not have; its outputs are: \w+, \w+ \(or "\*" for all\)/,
      );
    } finally {
      model.dispose();
      x.dispose();
    }
  });
});
