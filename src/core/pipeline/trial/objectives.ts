import type { PluginObjective } from '../../plugin.js';
import type { KilnModel } from '../../kiln-model.js';
import type { BenchmarkResult } from '../../benchmark/benchmarker.js';
import { modelBytes } from '../model-bytes.js';
import type { RunContext } from '../run-context.js';
import { describeRuns, formatRatio } from './format-ratio.js';
import { round, type TrialRecord } from './trial-record.js';

/** What a candidate that validated and benchmarked is judged on. */
export interface ObjectiveEvidence {
  readonly current: KilnModel;
  readonly candidate: KilnModel;
  readonly bench: BenchmarkResult;
  readonly run: RunContext;
  readonly record: TrialRecord;
  /** `max |diff| ...; within budget ...`, for the reason. */
  readonly accuracy: string;
}

/** Whether the objective is met, and the reason in the decision. */
export interface ObjectiveVerdict {
  readonly met: boolean;
  readonly reason: string;
}

export type ObjectiveJudge = (evidence: ObjectiveEvidence) => ObjectiveVerdict | Promise<ObjectiveVerdict>;

/** latency: the candidate's median call is at least `minSpeedup` times faster than the current model's. */
function judgeLatency({ bench, run, accuracy }: ObjectiveEvidence): ObjectiveVerdict {
  const [base, cand] = bench.variants as [(typeof bench.variants)[0], (typeof bench.variants)[0]];
  const speedup = base.timing.medianMs / cand.timing.medianMs;
  if (!(speedup >= run.minSpeedup)) {
    return {
      met: false,
      reason: `not faster: ${formatRatio(speedup, run.minSpeedup)}x, below the required ${run.minSpeedup}x (median ${base.timing.medianMs.toFixed(3)} ms before, ${cand.timing.medianMs.toFixed(3)} ms after; ${describeRuns(bench, run.minSpeedup)})`,
    };
  }
  return {
    met: true,
    reason: `${formatRatio(speedup, run.minSpeedup)}x faster (median ${base.timing.medianMs.toFixed(3)} -> ${cand.timing.medianMs.toFixed(3)} ms; ${describeRuns(bench, run.minSpeedup)}), ${accuracy}`,
  };
}

/** size: the candidate's weights take at least `minSizeGain` times fewer bytes than the current model's (as their files store them). */
async function judgeSize({ current, candidate, run, record, accuracy }: ObjectiveEvidence): Promise<ObjectiveVerdict> {
  const before = await modelBytes(current);
  const after = await modelBytes(candidate);
  const gain = before / after;
  Object.assign(record.metrics, { bytesBefore: before, bytesAfter: after, sizeGain: round(gain, 3) });
  if (!(gain >= run.minSizeGain)) {
    return {
      met: false,
      reason: `not smaller: ${formatRatio(gain, run.minSizeGain)}x (${before} -> ${after} bytes), below the required ${run.minSizeGain}x`,
    };
  }
  return { met: true, reason: `${formatRatio(gain, run.minSizeGain)}x smaller (${before} -> ${after} bytes), ${accuracy}` };
}

/** memory: Kiln does not measure peak memory, so it cannot say the objective is met; never judged as size. */
function judgeMemory(): ObjectiveVerdict {
  return {
    met: false,
    reason:
      'objective "memory" cannot be judged: Kiln does not measure peak memory during predict, so it keeps no candidate for it (use objective "latency" or "size")',
  };
}

/** How each objective is judged: one entry per `PluginObjective`. */
export const OBJECTIVE_JUDGES: Readonly<Record<PluginObjective, ObjectiveJudge>> = {
  latency: judgeLatency,
  size: judgeSize,
  memory: judgeMemory,
};
