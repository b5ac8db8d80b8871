import { NativeOrtSession } from './native-session.js';
import type { OrtNativeBinding, OrtSessionOptions, OrtTensor } from './ort-api.js';

/** The session options Kiln builds every session with (besides the thread count). */
export const SESSION_OPTIONS: OrtSessionOptions = { graphOptimizationLevel: 'all', executionMode: 'sequential', interOpNumThreads: 1 };

/** What the thread count measurement saw. */
export interface ThreadChoice {
  readonly threads: number;
  /** Median ms of one run with each count tried. */
  readonly medians: Readonly<Record<number, number>>;
  readonly runs: number;
}

/**
 * A session of `model` with the intra-op thread count that ran `feeds` fastest: one
 * session per count in `counts` (fewest first), a warm-up run each, then `runs` timed
 * runs taken in turn (1, 2, 1, 2, ...). More threads win only with a median at least
 * `margin` (10%) below the best of fewer threads: a second thread takes a core from
 * whatever else runs, and on a busy machine a few runs differ by more than that. The
 * sessions not chosen are released. Synchronous, as the sessions are.
 */
export function sessionWithFastestThreads(
  native: OrtNativeBinding,
  model: Uint8Array,
  feeds: Record<string, OrtTensor>,
  counts: readonly number[] = [1, 2],
  runs = 7,
  margin = 0.1,
): { session: NativeOrtSession; choice: ThreadChoice } {
  const sessions: NativeOrtSession[] = [];
  try {
    for (const n of counts) sessions.push(NativeOrtSession.create(native, model, { ...SESSION_OPTIONS, intraOpNumThreads: n }));
    for (const s of sessions) s.run(feeds);
    const times = sessions.map(() => [] as number[]);
    for (let r = 0; r < runs; r++) {
      for (let k = 0; k < sessions.length; k++) {
        const t0 = performance.now();
        sessions[k]!.run(feeds);
        times[k]!.push(performance.now() - t0);
      }
    }
    const medians = times.map(median);
    const best = medians.reduce((b, m, k) => (m < medians[b]! * (1 - margin) ? k : b), 0);
    const session = sessions[best]!;
    sessions.splice(best, 1);
    return { session, choice: { threads: counts[best]!, medians: Object.fromEntries(counts.map((n, k) => [n, medians[k]!])), runs } };
  } finally {
    for (const s of sessions) s.release();
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
