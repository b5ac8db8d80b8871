import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { KilnError } from '../../src/core/errors.js';
import { optimize } from '../../src/optimize.js';
import { FAST_CONFIG, tinyConvModel } from '../helpers/tiny-models.js';

/**
 * The contract of what optimize() returns when the user's model changes its weights
 * afterwards (setWeights, an optimizer step): the optimised model follows them where it
 * computes from the user's own variables, and where it runs a copy of them, predict
 * refuses (SOURCE_CHANGED) instead of answering with stale values. Never a silent stale result.
 */
type Mode = 'follows' | 'refuses';

const KEEP_ANYTHING = { ...FAST_CONFIG.benchmark, minSpeedup: 0.0001, minSizeGain: 1.0001 };

const CASES: { readonly name: string; readonly config: object; readonly mode: Mode; readonly kept: string }[] = [
  { name: 'nothing kept (the user model itself)', config: { ...FAST_CONFIG, pipeline: [] }, mode: 'follows', kept: 'backend-cpu' },
  {
    name: 'backend-wasm (a copy on wasm)',
    config: { ...FAST_CONFIG, backend: { preference: ['wasm', 'cpu'] }, benchmark: KEEP_ANYTHING, pipeline: [] },
    mode: 'refuses',
    kept: 'backend-wasm',
  },
  {
    name: 'graph-compile on cpu (live variables)',
    config: { ...FAST_CONFIG, benchmark: KEEP_ANYTHING, pipeline: [{ name: 'graph-compile' }] },
    mode: 'follows',
    kept: 'graph-compile',
  },
  {
    name: 'op-fusion, layer rewrite (folded weights)',
    config: { ...FAST_CONFIG, benchmark: KEEP_ANYTHING, pipeline: [{ name: 'op-fusion' }] },
    mode: 'refuses',
    kept: 'op-fusion',
  },
  {
    name: 'op-fusion, kernel graph only (folds read the live variables)',
    config: { ...FAST_CONFIG, benchmark: KEEP_ANYTHING, pipeline: [{ name: 'op-fusion', options: { level: 'graph' } }] },
    mode: 'follows',
    kept: 'op-fusion',
  },
  {
    name: 'mixed-precision float16 (quantised copy)',
    config: {
      ...FAST_CONFIG,
      benchmark: KEEP_ANYTHING,
      pipeline: [{ name: 'mixed-precision', options: { policy: 'float16', minElements: 1, budgets: { '*': { atol: 1e-2 } } } }],
    },
    mode: 'refuses',
    kept: 'mixed-precision',
  },
  {
    name: 'graph-compile in training mode',
    config: { ...FAST_CONFIG, mode: 'training', benchmark: KEEP_ANYTHING, pipeline: [{ name: 'graph-compile' }] },
    mode: 'follows',
    kept: 'graph-compile',
  },
];

describe('optimize(): when the source model changes its weights afterwards', () => {
  for (const c of CASES) {
    it(`${c.name}: ${c.mode === 'follows' ? 'follows the new weights' : 'refuses to answer (SOURCE_CHANGED), naming the weights'}`, async () => {
      const model = tinyConvModel(9);
      const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 21);
      const { model: fast, report } = await optimize(model, { sampleInputs: [x], config: c.config });
      try {
        expect(
          report.decisions.find((d) => d.plugin === c.kept)?.status,
          JSON.stringify(report.decisions.map((d) => [d.plugin, d.status, d.reason])),
        ).to.be.oneOf(c.kept === 'backend-cpu' ? ['skipped'] : ['applied']);
        tf.dispose(fast.predict(x)); // answers before the change
        model.setWeights(model.getWeights().map((w) => tf.tidy(() => w.add(0.5))));
        if (c.mode === 'follows') {
          const diff = tf.tidy(() => {
            const expected = model.predict(x) as tf.Tensor[];
            const actual = fast.predict(x) as tf.Tensor[];
            return Math.max(...expected.map((e, i) => tf.max(tf.abs(tf.sub(actual[i]!, e))).dataSync()[0]!));
          });
          expect(diff).to.be.below(1e-4);
        } else {
          let error: unknown;
          try {
            tf.dispose(fast.predict(x));
          } catch (e) {
            error = e;
          }
          expect(error, 'predict after the change').to.be.instanceOf(KilnError);
          expect((error as KilnError).code).to.equal('SOURCE_CHANGED');
          expect((error as Error).message).to.match(
            /^The model optimize\(\) was given has changed its weights since \(conv2d\w*\/kernel, /,
          );
        }
      } finally {
        fast.dispose();
        model.dispose();
        x.dispose();
      }
    });
  }
});
