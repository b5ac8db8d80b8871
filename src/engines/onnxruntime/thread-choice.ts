import { NativeOrtSession } from './native-session.js';
import type { OrtNativeBinding, OrtSessionOptions, OrtTensor } from './ort-api.js';

/** The session options Kiln builds every session with (besides the threads). */
export const SESSION_OPTIONS: OrtSessionOptions = { graphOptimizationLevel: 'all', executionMode: 'sequential', interOpNumThreads: 1 };

/** One way of running the intra-op work that the measurement tries. */
export interface ThreadSetting {
  readonly threads: number;
  /** Whether idle intra-op threads spin waiting for work (`session.intra_op.allow_spinning`); moot with 1 thread. */
  readonly spinning: boolean;
}

/**
 * What is tried, least demanding first: one thread; two that sleep between runs; two that
 * spin. Spinning cuts a run's latency, but the spinning thread holds a core after the run,
 * which whatever the caller does between calls (tf.js pre- and post-processing, another
 * model) then lacks; it wins only where it is measurably faster.
 */
export const THREAD_SETTINGS: readonly ThreadSetting[] = [
  { threads: 1, spinning: false },
  { threads: 2, spinning: false },
  { threads: 2, spinning: true },
];

/** `1`, `2`, `2 spinning`. */
export function settingLabel(s: ThreadSetting): string {
  return s.threads > 1 && s.spinning ? `${s.threads} spinning` : String(s.threads);
}

/** The session options of a setting. */
export function sessionOptions(s: ThreadSetting): OrtSessionOptions {
  return {
    ...SESSION_OPTIONS,
    intraOpNumThreads: s.threads,
    extra: { session: { intra_op: { allow_spinning: s.spinning ? '1' : '0' } } },
  };
}

/** What the thread measurement saw. */
export interface ThreadChoice extends ThreadSetting {
  /** Median ms of one run with each setting tried, by its label. */
  readonly medians: Readonly<Record<string, number>>;
  readonly runs: number;
}

/**
 * A session of `model` with the thread setting that ran `feeds` fastest: one session per
 * setting in `settings` (least demanding first), a warm-up run each, then `runs` timed
 * runs taken in turn. A more demanding setting wins only with a median at least `margin`
 * (10%) below the best so far: more threads take cores from whatever else runs, and on a
 * busy machine a few runs differ by more than that. The sessions not chosen are
 * released. Synchronous, as the sessions are.
 */
export function sessionWithFastestThreads(
  native: OrtNativeBinding,
  model: Uint8Array,
  feeds: Record<string, OrtTensor>,
  settings: readonly ThreadSetting[] = THREAD_SETTINGS,
  runs = 7,
  margin = 0.1,
): { session: NativeOrtSession; choice: ThreadChoice } {
  const sessions: NativeOrtSession[] = [];
  try {
    for (const setting of settings) sessions.push(NativeOrtSession.create(native, model, sessionOptions(setting)));
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
    return {
      session,
      choice: { ...settings[best]!, medians: Object.fromEntries(settings.map((s, k) => [settingLabel(s), medians[k]!])), runs },
    };
  } finally {
    for (const s of sessions) s.release();
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
