import * as tf from '@tensorflow/tfjs';
import { injectable } from 'tsyringe';
import { outputsAsArray, runsSynchronously, type KilnModel } from '../kiln-model.js';
import { backendDataIds } from './backend-data-ids.js';
import { decidedAgainst, pairedRatioInterval, type RatioInterval } from './ratio-interval.js';
import { summariseTimings, type TimingStats } from './timing-stats.js';

export interface BenchmarkSettings {
  /** Untimed rounds first (at most; the warm-up stops early once it has used a fifth of `budgetMs`, after one round). */
  readonly warmup: number;
  /** Timed rounds, at most. */
  readonly iterations: number;
  readonly outlierSigma: number;
  /**
   * Wall-clock budget of the whole comparison, warm-up included, in ms: no new round
   * starts once it is spent and `minIterations` rounds are done. Absent: no budget.
   */
  readonly budgetMs?: number;
  /** Rounds always timed (at most `iterations`), whatever the budget or the stopping rule. Default 5. */
  readonly minIterations?: number;
  /**
   * The speed-up (first subject's time / second's) the comparison decides on: timing
   * stops once the 95% interval of that ratio lies wholly above or below it (after
   * `minIterations` rounds). Absent: every round is timed (within the budget).
   */
  readonly decideAt?: number;
  /** The clock every time is read from, in ms (default `performance.now`); tests feed synthetic timing streams through it. */
  readonly clock?: () => number;
}

/** Why timing stopped: every round ran, the verdict was clear, or the time budget was spent. */
export type BenchmarkStop = 'iterations' | 'decided' | 'budget';

/** One model's figures in a comparison. */
export interface VariantFigures {
  readonly name: string;
  readonly backend: string;
  readonly timing: TimingStats;
  /** Tensors left behind per call, on average (outputs are disposed): 0 for a clean model. */
  readonly leakedTensorsPerCall: number;
  /** Backend data buffers left behind per call (catches direct kernel calls that bypass tf.memory()). */
  readonly leakedDataIdsPerCall: number;
}

/** The result of timing two or more models interleaved on the same inputs. */
export interface BenchmarkResult {
  readonly variants: readonly VariantFigures[];
  /** Warm-up rounds run. */
  readonly warmup: number;
  /** Timed rounds run. */
  readonly iterations: number;
  readonly stoppedBy: BenchmarkStop;
  /** With two subjects: the first's time over the second's (the candidate's speed-up), with its 95% interval. */
  readonly ratio?: RatioInterval;
  readonly memoryBefore: { readonly numTensors: number; readonly numBytes: number };
  readonly memoryAfter: { readonly numTensors: number; readonly numBytes: number };
}

export interface BenchmarkSubject {
  readonly name: string;
  readonly model: KilnModel;
}

/**
 * Times models on the same inputs, interleaved (A B A B ...) so machine noise lands
 * on all of them; each call includes reading the outputs back (dataSync), so async
 * backends are timed to completion. Counts tensors and backend buffers around every
 * call to catch leaks. `compareAsync` does the same where a model runs only through
 * `predictAsync` (an asynchronous engine): one schedule, awaited call by call.
 */
@injectable()
export class Benchmarker {
  compare(
    subjects: readonly BenchmarkSubject[],
    inputs: readonly tf.Tensor[],
    settings: BenchmarkSettings,
    onProgress?: (done: number, total: number) => void,
  ): BenchmarkResult {
    const feed = inputs.length === 1 ? inputs[0]! : [...inputs];
    const now = settings.clock ?? (() => performance.now());
    const calls = schedule(subjects, settings, now, onProgress);
    let step = calls.next();
    while (!step.done) step = calls.next(runOnce(subjects[step.value]!.model, feed, now));
    return step.value;
  }

  /** `compare` for subjects any of which runs only asynchronously (each call awaited in turn; synchronous ones run as in `compare`). */
  async compareAsync(
    subjects: readonly BenchmarkSubject[],
    inputs: readonly tf.Tensor[],
    settings: BenchmarkSettings,
    onProgress?: (done: number, total: number) => void,
  ): Promise<BenchmarkResult> {
    const feed = inputs.length === 1 ? inputs[0]! : [...inputs];
    const now = settings.clock ?? (() => performance.now());
    const calls = schedule(subjects, settings, now, onProgress);
    let step = calls.next();
    while (!step.done) step = calls.next(await runEither(subjects[step.value]!.model, feed, now));
    return step.value;
  }

  /** Time of one call, in ms, outputs read back and disposed: the cold (first-call) time when called first. */
  timeOneCall(model: KilnModel, inputs: readonly tf.Tensor[]): number {
    return runOnce(model, inputs.length === 1 ? inputs[0]! : [...inputs]).ms;
  }

  /** `timeOneCall` for a model that may run only asynchronously. */
  async timeOneCallAsync(model: KilnModel, inputs: readonly tf.Tensor[]): Promise<number> {
    return (await runEither(model, inputs.length === 1 ? inputs[0]! : [...inputs])).ms;
  }
}

/**
 * The comparison's schedule: yields the index of the subject to call next (warm-up
 * rounds, then timed rounds in alternating order, until the iterations, the stopping
 * rule or the budget end it), is handed that call's figures, and returns the result.
 */
function* schedule(
  subjects: readonly BenchmarkSubject[],
  settings: BenchmarkSettings,
  now: () => number,
  onProgress?: (done: number, total: number) => void,
): Generator<number, BenchmarkResult, CallFigures> {
  const started = now();
  const elapsed = () => now() - started;
  const budget = settings.budgetMs ?? Infinity;
  const minRounds = Math.min(settings.iterations, settings.minIterations ?? 5);
  const memoryBefore = snapshotMemory();
  let warmup = 0;
  while (warmup < settings.warmup && (warmup === 0 || elapsed() < budget / 5)) {
    for (let k = 0; k < subjects.length; k++) yield k;
    warmup++;
  }
  const timings = subjects.map(() => [] as number[]);
  const leakedTensors = subjects.map(() => 0);
  const leakedIds = subjects.map(() => 0);
  let rounds = 0;
  let stoppedBy: BenchmarkStop = 'iterations';
  const ratioNow = () => (subjects.length === 2 ? pairedRatioInterval(timings[0]!, timings[1]!) : undefined);
  while (rounds < settings.iterations) {
    if (rounds >= minRounds) {
      if (settings.decideAt !== undefined && decidedAgainst(ratioNow(), settings.decideAt)) {
        stoppedBy = 'decided';
        break;
      }
      if (elapsed() >= budget) {
        stoppedBy = 'budget';
        break;
      }
    }
    // Alternate the order each round so neither side always runs right after the other.
    const order = rounds % 2 === 0 ? subjects.map((_, k) => k) : subjects.map((_, k) => subjects.length - 1 - k);
    for (const k of order) {
      const call = yield k;
      timings[k]!.push(call.ms);
      leakedTensors[k]! += call.leakedTensors;
      leakedIds[k]! += call.leakedDataIds;
    }
    rounds++;
    onProgress?.(rounds, settings.iterations);
  }
  const ratio = ratioNow();
  return {
    variants: subjects.map((s, k) => ({
      name: s.name,
      backend: s.model.backend,
      timing: summariseTimings(timings[k]!, settings.outlierSigma),
      leakedTensorsPerCall: leakedTensors[k]! / Math.max(1, rounds),
      leakedDataIdsPerCall: leakedIds[k]! / Math.max(1, rounds),
    })),
    warmup,
    iterations: rounds,
    stoppedBy,
    ...(ratio ? { ratio } : {}),
    memoryBefore,
    memoryAfter: snapshotMemory(),
  };
}

interface CallFigures {
  readonly ms: number;
  /** Tensors the call left behind once its outputs were disposed (then reclaimed). */
  readonly leakedTensors: number;
  readonly leakedDataIds: number;
}

/**
 * One timed call inside a tf.js scope: the outputs are read back and disposed, what
 * the call left behind is counted, and the scope's end reclaims it, so a leaky
 * candidate is caught without leaking into the user's process.
 */
function runOnce(model: KilnModel, feed: tf.Tensor | tf.Tensor[], now: () => number = () => performance.now()): CallFigures {
  let figures: CallFigures | undefined;
  tf.tidy(() => {
    const tensorsBefore = tf.memory().numTensors;
    const idsBefore = backendDataIds();
    const start = now();
    const outputs = outputsAsArray(model.predict(feed));
    for (const o of outputs) o.dataSync();
    const ms = now() - start;
    tf.dispose(outputs);
    figures = { ms, leakedTensors: tf.memory().numTensors - tensorsBefore, leakedDataIds: backendDataIds() - idsBefore };
  });
  return figures!;
}

/**
 * One timed call by whichever predict the model runs: `runOnce` for a synchronous model;
 * for one that runs only through `predictAsync`, the call awaited outside any tf.js scope
 * (a scope cannot span an await): its outputs read back and disposed, and what it left
 * behind counted (not reclaimed).
 */
async function runEither(
  model: KilnModel,
  feed: tf.Tensor | tf.Tensor[],
  now: () => number = () => performance.now(),
): Promise<CallFigures> {
  if (runsSynchronously(model) || !model.predictAsync) return runOnce(model, feed, now);
  const tensorsBefore = tf.memory().numTensors;
  const idsBefore = backendDataIds();
  const start = now();
  const outputs = outputsAsArray(await model.predictAsync(feed));
  for (const o of outputs) o.dataSync();
  const ms = now() - start;
  tf.dispose(outputs);
  return { ms, leakedTensors: tf.memory().numTensors - tensorsBefore, leakedDataIds: backendDataIds() - idsBefore };
}

function snapshotMemory(): { numTensors: number; numBytes: number } {
  const m = tf.memory();
  return { numTensors: m.numTensors, numBytes: m.numBytes };
}
