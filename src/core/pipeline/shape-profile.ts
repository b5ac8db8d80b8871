import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';
import type { TensorSpec } from '../kiln-model.js';
import { describeInputs } from '../validation/input-samples.js';
import { OptimizedModel } from './optimized-model.js';
import type { KilnReport, ProfileEntry } from './report.js';
import { DISPATCH_RULE, ShapeDispatchModel } from './shape-dispatch-model.js';

/** What one pipeline run at one batch size gives. */
interface RunResult {
  readonly model: OptimizedModel;
  readonly report: KilnReport;
}

/**
 * Optimises for a shape profile (config `shapes:`): one pipeline run per batch size,
 * each validated and benchmarked at its own batch (`runAt`), then one model that
 * dispatches every call on its batch size ({@link ShapeDispatchModel}). The report is
 * the first batch's, with `final` the dispatch and `profile` every batch's report. A run
 * that throws frees the models of the batches before it.
 */
export async function runShapeProfile(
  batches: readonly number[],
  specs: readonly TensorSpec[],
  mode: string,
  runAt: (batch: number) => Promise<RunResult>,
): Promise<RunResult> {
  checkProfile(batches, specs, mode);
  const startedAt = Date.now();
  const done: { batch: number; result: RunResult }[] = [];
  try {
    for (const batch of batches) done.push({ batch, result: await runAt(batch) });
  } catch (error) {
    for (const d of done) d.result.model.dispose();
    throw error;
  }
  const dispatch = new ShapeDispatchModel(done.map((d) => ({ batch: d.batch, model: d.result.model })));
  const entries: ProfileEntry[] = done.map((d) => ({ batch: d.batch, report: d.result.report }));
  const first = done[0]!.result.report;
  const report: KilnReport = {
    ...first,
    durationMs: Date.now() - startedAt,
    final: dispatch.description,
    profile: { batches: [...batches], rule: DISPATCH_RULE, entries },
  };
  return { model: new OptimizedModel(dispatch, [dispatch], first.backend), report };
}

/** A profile needs a free batch axis on every input, and inference mode. */
function checkProfile(batches: readonly number[], specs: readonly TensorSpec[], mode: string): void {
  const fixed = specs.filter((s) => s.shape[0] != null);
  if (fixed.length) {
    throw new InputError(
      `shapes [${batches.join(', ')}]: a shape profile sets the batch size (axis 0) of every input, but the model fixes it (${describeInputs(fixed)}). Leave \`shapes\` out (and give --batch one size at most).`,
    );
  }
  if (mode === 'training') {
    throw new InputError(
      `shapes [${batches.join(', ')}]: a profile of several batch sizes keeps one model per size, each with its own copy of the weights, which training would update apart. In training mode give one batch size (shapes: [${batches.at(-1)}]).`,
    );
  }
}

/**
 * The sample inputs at `batch` rows: inputs whose axis 0 is free have their rows repeated
 * (or cut) to `batch`; the others are copied. The caller disposes them.
 */
export function samplesAtBatch(samples: readonly tf.Tensor[], specs: readonly TensorSpec[], batch: number): tf.Tensor[] {
  return samples.map((t, i) =>
    tf.tidy(() => {
      const free = specs[i]?.shape[0] == null;
      const rows = t.shape[0] ?? 1;
      if (!free || t.rank === 0 || rows === batch) return tf.clone(t);
      return tf.gather(
        t,
        Array.from({ length: batch }, (_, r) => r % rows),
      );
    }),
  );
}
