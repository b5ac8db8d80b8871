import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { container } from 'tsyringe';
import { optimize } from '../../src/optimize.js';
import { Plugin } from '../../src/core/plugin-decorator.js';
import { AVAILABLE, type OptimizationPlugin, type PluginContext } from '../../src/core/plugin.js';
import type { KilnModel } from '../../src/core/kiln-model.js';
import { InputError } from '../../src/core/errors.js';
import { ShapeDispatchModel } from '../../src/core/pipeline/shape-dispatch-model.js';
import { samplesAtBatch } from '../../src/core/pipeline/shape-profile.js';
import { WrappedModel } from '../helpers/broken-plugins.js';
import { expectRejects } from '../helpers/expect-rejects.js';
import { FAST_CONFIG, tinyConvModel, tinyDenseModel } from '../helpers/tiny-models.js';

/** A stand-in variant that records the batch of every call and answers a constant. */
function recorder(batch: number, calls: string[]): KilnModel {
  return {
    backend: 'cpu',
    description: `kept at ${batch}`,
    inputs: [{ name: 'x', shape: [null, 2], dtype: 'float32' }],
    outputNames: ['y'],
    predict(x) {
      const t = Array.isArray(x) ? x[0]! : x;
      calls.push(`${t.shape[0]}->${batch}`);
      return tf.fill([t.shape[0]!, 1], batch);
    },
    trainableVariables: () => [],
    dispose: () => calls.push(`disposed ${batch}`),
  };
}

describe('shape profiles: one optimised model per batch size, dispatched on the batch of each call', () => {
  it('routes each call to the variant of its batch, and another batch to the nearest by ratio (the larger on a tie)', () => {
    const calls: string[] = [];
    const model = new ShapeDispatchModel([
      { batch: 32, model: recorder(32, calls) },
      { batch: 1, model: recorder(1, calls) },
      { batch: 16, model: recorder(16, calls) },
    ]);
    expect(model.batches).to.deep.equal([1, 16, 32]);
    for (const rows of [1, 16, 32, 7, 3, 4, 23, 64, 2]) tf.dispose(model.predict(tf.zeros([rows, 2])));
    // 4: |log 4| = |log(4/16)| -> the larger, 16; 23 is nearer 32 than 16 by ratio; 2 -> 1 (ratio 2 vs 8)
    expect(calls).to.deep.equal(['1->1', '16->16', '32->32', '7->16', '3->1', '4->16', '23->32', '64->32', '2->1']);
    expect(model.description).to.equal('per batch size: 1 -> kept at 1; 16 -> kept at 16; 32 -> kept at 32');
    model.dispose();
    expect(calls.slice(-3)).to.deep.equal(['disposed 1', 'disposed 16', 'disposed 32']);
  });

  describe('optimize() with shapes: [1, 32]', () => {
    const child = container.createChildContainer();
    /** Kept only where the samples have 16 rows or more (a fusion that pays off at large batches), counting its calls. */
    const largeBatchCalls: number[] = [];
    @Plugin(
      { name: 'large-batch-only', kind: 'test', objective: 'latency', description: 'applies at batch >= 16 only' },
      { container: child },
    )
    class LargeBatchOnly implements OptimizationPlugin {
      isAvailable() {
        return AVAILABLE;
      }
      async apply(target: KilnModel, context: PluginContext) {
        const rows = context.sampleInputs[0]!.shape[0]!;
        if (rows < 16) return target;
        return new WrappedModel(
          target,
          (x) => {
            largeBatchCalls.push((Array.isArray(x) ? x[0]! : x).shape[0]!);
            return target.predict(x);
          },
          `large-batch path of ${target.description}`,
        );
      }
    }
    void LargeBatchOnly;
    const config = {
      ...FAST_CONFIG,
      shapes: [1, 32],
      benchmark: { ...FAST_CONFIG.benchmark, minSpeedup: 0.0001 },
      pipeline: [{ name: 'large-batch-only' }],
    };

    it('runs the pipeline at each batch, keeps what each kept, and answers like the original at 1, 32 and 7', async () => {
      const model = tinyConvModel(21);
      const tensorsBefore = tf.memory().numTensors;
      const { model: optimized, report } = await optimize(model, { container: child, config });
      try {
        expect(report.profile!.batches).to.deep.equal([1, 32]);
        const [at1, at32] = report.profile!.entries;
        expect(at1!.batch).to.equal(1);
        expect(at1!.report.decisions.find((d) => d.plugin === 'large-batch-only')!.status).to.equal('skipped');
        expect(at32!.report.decisions.find((d) => d.plugin === 'large-batch-only')!.status).to.equal('applied');
        // each batch was validated at its own size: the large one on subsets of rows beside one full batch
        expect(at1!.report.validation.inputSets).to.include('batch 2');
        expect(at32!.report.validation.inputSets).to.include('perturbed #1 (rows 1-4 of 32 compared)');
        expect(report.final).to.match(/^per batch size: 1 -> .*; 32 -> large-batch path of /);
        expect(report.profile!.rule).to.match(/nearest profile batch by ratio/);

        largeBatchCalls.length = 0;
        for (const rows of [1, 32, 7]) {
          const x = tf.randomNormal([rows, 5, 5, 3], 0, 1, 'float32', rows);
          const expected = model.predict(x) as tf.Tensor[];
          const actual = optimized.predict(x) as tf.Tensor[];
          for (const [i, e] of expected.entries()) {
            const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(actual[i]!, e))).dataSync()[0]!);
            expect(diff, `batch ${rows}, output ${i}`).to.be.below(1e-4);
          }
          tf.dispose([x, ...expected, ...actual]);
        }
        // batch 7 is nearer 32 than 1 by ratio (32/7 < 7): it runs the large-batch variant
        expect(largeBatchCalls).to.deep.equal([32, 7]);
      } finally {
        optimized.dispose();
      }
      expect(tf.memory().numTensors).to.equal(tensorsBefore);
      model.dispose();
    });

    it("repeats the rows of given sample inputs to each batch size and leaves the caller's tensors alone", async () => {
      const model = tinyDenseModel(4);
      const x = tf.randomNormal([2, 8], 0, 1, 'float32', 9);
      const before = tf.memory().numTensors;
      const { model: optimized, report } = await optimize(model, { container: child, config, sampleInputs: [x] });
      optimized.dispose();
      expect(x.isDisposed).to.equal(false);
      expect(tf.memory().numTensors).to.equal(before);
      expect(report.profile!.entries.map((e) => e.report.validation.inputSets.at(-1))).to.deep.equal(['batch 2', 'batch 3']);
      const rows = samplesAtBatch([x], [{ name: 'x', shape: [null, 8], dtype: 'float32' }], 5)[0]!;
      expect(rows.shape).to.deep.equal([5, 8]);
      expect(Array.from(rows.slice(4, 1).dataSync())).to.deep.equal(Array.from(x.slice(0, 1).dataSync()));
      rows.dispose();
      x.dispose();
      model.dispose();
    });

    it('refuses a profile for a model whose batch axis is fixed, and in training mode, saying what to do', async () => {
      const fixed = tf.sequential({ layers: [tf.layers.dense({ batchInputShape: [4, 3], units: 2 })] });
      await expectRejects(optimize(fixed, { container: child, config }), /the model fixes it .*Leave `shapes` out/, InputError);
      fixed.dispose();
      const model = tinyDenseModel(5);
      await expectRejects(
        optimize(model, { container: child, config: { ...config, mode: 'training' } }),
        /In training mode give one batch size \(shapes: \[32\]\)/,
        InputError,
      );
      model.dispose();
    });
  });
});
