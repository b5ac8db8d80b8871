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
  /** Timed runs per setting. */
  readonly runs: number;
}

/** How the thread settings are timed against each other. */
export interface ThreadMeasurement {
  /** Rounds at most: each times every setting, the order reversed every other round. */
  readonly rounds: number;
  /** Timed runs of a setting in a round, after one untimed run. */
  readonly runsPerRound: number;
  /** Fewer rounds (1 at least) where `rounds` would take longer than this, as estimated from the warm-up. */
  readonly budgetMs: number;
  /** How far (0.1: 10%) a more demanding setting's median must be below the best so far to win. */
  readonly margin: number;
  /** The clock (ms). */
  readonly now: () => number;
}

/** Kiln's measurement: up to 5 rounds of 3 timed runs (15 per setting), within 1.5 s, a 10% margin. */
export const THREAD_MEASUREMENT: ThreadMeasurement = {
  rounds: 5,
  runsPerRound: 3,
  budgetMs: 1500,
  margin: 0.1,
  now: () => performance.now(),
};

/**
 * A session of `model` with the thread setting that ran `feeds` fastest: one session per
 * setting in `settings` (least demanding first), two warm-up runs each (the second timed,
 * to size the rounds), then rounds in which each setting runs once untimed and
 * `runsPerRound` times timed, in blocks (a setting's runs follow one another, as a
 * caller's calls do, instead of alternating with the other settings' runs and threads),
 * in an order reversed every other round. A more demanding setting wins only with a
 * median at least `margin` below the best so far: more threads take cores from whatever
 * else runs, and on a busy machine runs differ by that much. The sessions not chosen are
 * released. Synchronous, as the sessions are.
 */
export function sessionWithFastestThreads(
  native: OrtNativeBinding,
  model: Uint8Array,
  feeds: Record<string, OrtTensor>,
  settings: readonly ThreadSetting[] = THREAD_SETTINGS,
  measurement: ThreadMeasurement = THREAD_MEASUREMENT,
): { session: NativeOrtSession; choice: ThreadChoice } {
  const { now, runsPerRound, margin } = measurement;
  const sessions: NativeOrtSession[] = [];
  try {
    for (const setting of settings) sessions.push(NativeOrtSession.create(native, model, sessionOptions(setting)));
    let warmUpMs = 0;
    for (const s of sessions) {
      s.run(feeds);
      const t0 = now();
      s.run(feeds);
      warmUpMs += now() - t0;
    }
    // a warm-up of 0 ms (a stand-in clock) gives Infinity here, capped to `rounds`
    const affordable = Math.floor(measurement.budgetMs / (warmUpMs * (runsPerRound + 1)));
    const rounds = Math.max(1, Math.min(measurement.rounds, affordable));
    const times = sessions.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      const order = sessions.map((_, k) => (r % 2 ? sessions.length - 1 - k : k));
      for (const k of order) {
        sessions[k]!.run(feeds);
        for (let i = 0; i < runsPerRound; i++) {
          const t0 = now();
          sessions[k]!.run(feeds);
          times[k]!.push(now() - t0);
        }
      }
    }
    const medians = times.map(median);
    const best = medians.reduce((b, m, k) => (m < medians[b]! * (1 - margin) ? k : b), 0);
    const session = sessions[best]!;
    sessions.splice(best, 1);
    return {
      session,
      choice: {
        ...settings[best]!,
        medians: Object.fromEntries(settings.map((s, k) => [settingLabel(s), medians[k]!])),
        runs: rounds * runsPerRound,
      },
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
