import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { container } from 'tsyringe';
import { CandidateRejectedError } from '../../src/core/errors.js';
import type { KilnModel } from '../../src/core/kiln-model.js';
import { LayersKilnModel } from '../../src/formats/layers-model/layers-model-format.js';
import { modelBytes } from '../../src/core/pipeline/model-bytes.js';
import { Plugin } from '../../src/core/plugin-decorator.js';
import { AVAILABLE, type OptimizationPlugin, type PluginContext } from '../../src/core/plugin.js';
import { argmaxAgreement, evaluateOutputBudget, meanKlDivergence, type ValidationBudget } from '../../src/core/validation/budget.js';
import { Validator, type ValidationSettings } from '../../src/core/validation/validator.js';
import { optimize } from '../../src/optimize.js';
import { WrappedModel } from '../helpers/broken-plugins.js';
import { FAST_CONFIG, tinyConvModel } from '../helpers/tiny-models.js';

const SETTINGS: ValidationSettings = { atol: 1e-5, rtol: 1e-4, samples: 2, seed: 0, largeMagnitude: 10, gradients: true };

/** A model whose outputs are the target's plus `offset`, optionally declaring the budget it was made under. */
class ShiftedModel extends WrappedModel {
  constructor(
    inner: KilnModel,
    offset: number,
    readonly validationBudget?: ValidationBudget,
    readonly artifactBytes?: number,
  ) {
    super(
      inner,
      (x) => {
        const out = inner.predict(x);
        const outs = Array.isArray(out) ? out : [out];
        const shifted = outs.map((o) => tf.tidy(() => tf.add(o, offset)));
        tf.dispose(outs);
        return Array.isArray(out) ? shifted : shifted[0]!;
      },
      `shifted by ${offset}`,
    );
  }
}

describe('accuracy budgets (per-output validation for lossy plugins)', () => {
  describe('budget terms', () => {
    const shape = [4, 3];
    const reference = Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.34, 0.33, 0.33, 0.2, 0.2, 0.6]);

    it('argmax agreement: the share of rows whose top-1 is unchanged, and how much of the deciding margin is used', () => {
      const oneFlip = Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.32, 0.35, 0.33, 0.2, 0.2, 0.6]);
      const strict = argmaxAgreement(reference, oneFlip, shape, 1) as Exclude<ReturnType<typeof argmaxAgreement>, string>;
      expect(strict).to.include({ rows: 4, agreeing: 3, agreement: 0.75, passed: false });
      expect(strict.usage).to.be.above(1);
      const lenient = argmaxAgreement(reference, oneFlip, shape, 0.75) as Exclude<ReturnType<typeof argmaxAgreement>, string>;
      expect(lenient.passed).to.equal(true);
      expect(lenient.usage).to.be.at.most(1);
      const unchanged = argmaxAgreement(reference, reference, shape, 1) as Exclude<ReturnType<typeof argmaxAgreement>, string>;
      expect(unchanged).to.include({ agreement: 1, passed: true, usage: 0 });
      expect(argmaxAgreement(reference, reference, [12], 1)).to.match(/needs an output with a class axis/);
    });

    it('KL divergence: mean KL(reference || candidate) per row, refused for outputs that are not distributions', () => {
      expect(meanKlDivergence(reference, reference, shape)).to.equal(0);
      const other = Float32Array.from([0.6, 0.3, 0.1, 0.1, 0.8, 0.1, 0.34, 0.33, 0.33, 0.2, 0.2, 0.6]);
      const expected = (0.7 * Math.log(0.7 / 0.6) + 0.2 * Math.log(0.2 / 0.3)) / 4;
      expect(meanKlDivergence(reference, other, shape)).to.be.closeTo(expected, 1e-7);
      expect(meanKlDivergence(Float32Array.from([0.5, 0.1, 0.1]), Float32Array.from([0.5, 0.1, 0.1]), [1, 3])).to.match(
        /row 0 sums to 0\.7/,
      );
    });

    it('every term of an output is evaluated; the first failure is named; NaN fails whatever the budget', () => {
      const candidate = reference.map((v) => v + 0.01);
      const metric = {
        name: 'meanShift',
        compute: (r: Float32Array, c: Float32Array) => c.reduce((s, v, i) => s + v - r[i]!, 0) / c.length,
        max: 0.005,
      };
      const result = evaluateOutputBudget('policy', reference, candidate, shape, { atol: 0.02, argmaxAgreement: 1, metric });
      expect(result.outcomes.map((o) => [o.term, o.passed])).to.deep.equal([
        ['maxAbsDiff', true],
        ['argmaxAgreement', true],
        ['meanShift', false],
      ]);
      expect(result.failure).to.match(/output "policy" has meanShift 1\.00e-2 \(budget <= 0\.005\)/);
      const nan = candidate.slice();
      nan[5] = NaN;
      expect(evaluateOutputBudget('policy', reference, nan, shape, { argmaxAgreement: 0.5 }).failure).to.match(
        /produced NaN where the original gives 0\.1/,
      );
    });

    it('names each failing term in words, and a term that cannot be evaluated fails at infinite usage', () => {
      const candidate = reference.map((v) => v + 0.01);
      const short = evaluateOutputBudget('policy', reference, candidate.subarray(1), shape, { atol: 1 });
      expect(short).to.deep.equal({ outcomes: [], failure: 'output "policy" has 11 values, the original 12', maxAbsDiff: Infinity });

      const tight = evaluateOutputBudget('policy', reference, candidate, shape, { atol: 0.001 });
      expect(tight.failure).to.match(/^output "policy" differs by 1\.00e-2 \(allowed 1\.00e-3: atol 0\.001 \+ rtol 0 x \|expected\|\)$/);
      expect(tight.worstIndex).to.be.a('number');
      expect(tight.maxAbsDiff).to.be.closeTo(0.01, 1e-6);
      expect(tight.outcomes[0]).to.include({ term: 'maxAbsDiff', limit: '<= 0.001 + 0 x |expected|', passed: false });

      const oneFlip = Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.32, 0.35, 0.33, 0.2, 0.2, 0.6]);
      const flipped = evaluateOutputBudget('policy', reference, oneFlip, shape, { argmaxAgreement: 1, klDivergence: 1e-9 });
      expect(flipped.failure).to.equal('output "policy" keeps its top-1 on 3 of 4 rows (argmax agreement 0.7500, budget >= 1)');
      expect(flipped.outcomes.map((o) => [o.term, o.passed, o.limit])).to.deep.equal([
        ['argmaxAgreement', false, '>= 1'],
        ['klDivergence', false, '<= 1e-9'],
      ]);
      expect(evaluateOutputBudget('policy', reference, oneFlip, shape, { klDivergence: 1e-9 }).failure).to.match(
        /^output "policy" has mean KL divergence \d\.\d\de-\d nats per row \(budget <= 1e-9\)$/,
      );

      const flat = evaluateOutputBudget('v', reference, reference, [12], { argmaxAgreement: 1, klDivergence: 1 });
      expect(flat.failure).to.match(/^output "v": argmax agreement needs an output with a class axis/);
      expect(flat.outcomes.map((o) => [o.term, o.passed, o.usage, Number.isNaN(o.achieved)])).to.deep.equal([
        ['argmaxAgreement', false, Infinity, true],
        ['klDivergence', false, Infinity, true],
      ]);

      const throws = {
        name: 'boom',
        compute: (): number => {
          throw new Error('no rows');
        },
        min: 0,
        max: 1,
      };
      const thrown = evaluateOutputBudget('policy', reference, candidate, shape, { metric: throws });
      expect(thrown.failure).to.equal('output "policy": metric "boom" threw: no rows');
      expect(thrown.outcomes).to.have.length(1);
      expect(thrown.outcomes[0]).to.include({ term: 'boom', limit: '>= 0 and <= 1', passed: false, usage: Infinity });
      const infinite = evaluateOutputBudget('policy', reference, candidate, shape, {
        metric: { name: 'inf', compute: () => Infinity, max: 1 },
      });
      expect(infinite.failure).to.equal('output "policy": metric "inf" returned Infinity, not a finite number');
      const higher = evaluateOutputBudget('policy', reference, candidate, shape, {
        metric: { name: 'score', compute: () => 0.5, min: 0.9 },
      });
      expect(higher.failure).to.equal('output "policy" has score 5.00e-1 (budget >= 0.9)');
      expect(higher.outcomes[0]!.usage).to.be.closeTo(1.8, 1e-9);
    });
  });

  describe('Validator under a budget', () => {
    let model: tf.LayersModel;
    let x: tf.Tensor;
    beforeEach(() => {
      model = tinyConvModel(5);
      x = tf.randomNormal([4, 5, 5, 3], 0, 1, 'float32', 3);
    });
    afterEach(() => {
      model.dispose();
      x.dispose();
    });

    it('judges each output by its own budget, "*" by default, validation.atol/rtol where none applies', () => {
      const base = new LayersKilnModel(model, 'cpu', false);
      const [probs, value] = base.outputNames as [string, string];
      const session = new Validator().prepare(base, [x], SETTINGS, 'inference');
      const shifted = new ShiftedModel(base, 1e-3);
      try {
        expect(session.check(shifted).passed).to.equal(false);
        const loose = session.check(shifted, { '*': { atol: 2e-3 } });
        expect(loose.passed, loose.reason).to.equal(true);
        expect(loose.budget!.map((o) => `${o.output}:${o.term}`)).to.deep.equal([`${probs}:maxAbsDiff`, `${value}:maxAbsDiff`]);
        expect(loose.budget![0]!.achieved).to.be.closeTo(1e-3, 1e-6);
        // The probabilities keep every row's top-1; the value output is not covered, so it keeps atol/rtol and fails.
        const partial = session.check(shifted, { [probs]: { argmaxAgreement: 1 } });
        expect(partial.passed).to.equal(false);
        expect(partial.reason).to.match(
          new RegExp(
            `output "${value}" differs by 1\\.\\d+e-3 \\(allowed .*atol 0\\.00001.*\\) at \\[\\d+,0\\] on input set "[^"]+": expected`,
          ),
        );
        expect(session.check(shifted, { [probs]: { argmaxAgreement: 1, klDivergence: 0.01 }, [value]: { atol: 1e-2 } }).passed).to.equal(
          true,
        );
      } finally {
        session.dispose();
      }
    });
  });

  describe('the pipeline keeps a lossy candidate only within the budget it declares, and holds later candidates to it', () => {
    const child = container.createChildContainer();
    const meta = (name: string) => ({ name, kind: 'test', objective: 'size' as const, description: name });

    @Plugin(meta('shift-with-budget'), { container: child })
    class ShiftWithBudget implements OptimizationPlugin {
      isAvailable() {
        return AVAILABLE;
      }
      async apply(target: KilnModel, context: PluginContext) {
        const candidate = new ShiftedModel(target, 1e-3, { '*': { atol: 1e-2 } }, (await modelBytes(target)) / 2);
        // The pipeline's own check is open to the plugin, with or without a budget.
        const own = context.validation!.check(candidate, candidate.validationBudget);
        context.metric('pluginSaw', own.passed);
        context.table!('rows', [
          { name: 'a', bytes: 1 },
          { name: 'b', bytes: 2 },
        ]);
        return candidate;
      }
    }

    @Plugin(meta('shift-without-budget'), { container: child })
    class ShiftWithoutBudget implements OptimizationPlugin {
      isAvailable() {
        return AVAILABLE;
      }
      async apply(target: KilnModel) {
        return new ShiftedModel(target, 1e-3, undefined, (await modelBytes(target)) / 2);
      }
    }

    @Plugin(meta('smaller-again'), { container: child })
    class SmallerAgain implements OptimizationPlugin {
      isAvailable() {
        return AVAILABLE;
      }
      async apply(target: KilnModel) {
        return new ShiftedModel(target, 0, undefined, (await modelBytes(target)) / 2);
      }
    }

    @Plugin(meta('finds-nothing'), { container: child })
    class FindsNothing implements OptimizationPlugin {
      isAvailable() {
        return AVAILABLE;
      }
      async apply(): Promise<KilnModel> {
        throw new CandidateRejectedError('no change fits the budget');
      }
    }

    void [ShiftWithBudget, ShiftWithoutBudget, SmallerAgain, FindsNothing];

    it('applies the budgeted candidate, rejects the same drift without a budget, and carries the budget on', async () => {
      const model = tinyConvModel(6);
      const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 4);
      const tensorsBefore = tf.memory().numTensors;
      const { model: optimized, report } = await optimize(model, {
        sampleInputs: [x],
        container: child,
        config: {
          ...FAST_CONFIG,
          pipeline: [{ name: 'shift-without-budget' }, { name: 'finds-nothing' }, { name: 'shift-with-budget' }, { name: 'smaller-again' }],
        },
      });
      const byName = Object.fromEntries(report.decisions.map((d) => [d.plugin, d]));
      expect(byName['shift-without-budget']!.status).to.equal('rejected');
      expect(byName['shift-without-budget']!.reason).to.match(/^numerical mismatch: output "\w+" differs by 1\.\d+e-3/);
      expect(byName['finds-nothing']).to.include({ status: 'rejected', reason: 'no change fits the budget' });
      const budgeted = byName['shift-with-budget']!;
      expect(budgeted.status, budgeted.reason).to.equal('applied');
      expect(budgeted.reason).to.match(/2\.00x smaller .* within budget: \w+ maxAbsDiff 0\.001 \(<= 0\.01 \+ 0 x \|expected\|\)/);
      expect(budgeted.metrics.pluginSaw).to.equal(true);
      const budgetMetrics = Object.keys(budgeted.metrics).filter((k) => k.startsWith('budget.'));
      expect(budgetMetrics).to.have.lengthOf(2);
      expect(budgeted.tables).to.deep.equal({
        rows: [
          { name: 'a', bytes: 1 },
          { name: 'b', bytes: 2 },
        ],
      });
      // Later candidates build on the shifted model: without the inherited budget they could never validate.
      expect(byName['smaller-again']!.status, byName['smaller-again']!.reason).to.equal('applied');
      expect(report.validation.budget).to.deep.equal({ '*': { atol: 1e-2 } });
      expect(byName['shift-without-budget']!.tables).to.equal(undefined);
      optimized.dispose();
      expect(tf.memory().numTensors).to.equal(tensorsBefore);
      model.dispose();
      x.dispose();
    });
  });
});
