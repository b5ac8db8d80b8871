import * as tf from '@tensorflow/tfjs';
import { withBackend, withBackendAsync } from '../../core/backend-scope.js';
import type { ModelFormat } from '../../core/formats/model-format.js';
import type { KilnModel } from '../../core/kiln-model.js';
import type { PluginValidation } from '../../core/plugin.js';
import type { BudgetOutcome, ValidationBudget } from '../../core/validation/budget.js';
import type { ValidationResult } from '../../core/validation/validator.js';
import { decodeWithTfjs, PRECISION_BYTES, unsupportedReason, type EncodedWeight, type StoredPrecision } from './quantize.js';
import type { WeightEncoder } from './weight-encoder.js';

/** One weight of the model, as the search sees it. */
export interface WeightEntry {
  /** Its name in the weights manifest (e.g. `block0_conv1/kernel`). */
  readonly name: string;
  readonly spec: tf.io.WeightsManifestEntry;
  readonly elements: number;
  /** Its float32 values, as tf.js decodes them from the model's files (absent for other dtypes). */
  readonly values?: Float32Array;
  /** How the model's files store it (float32, or the precision they ship it at); undefined for other dtypes. */
  readonly stored?: StoredPrecision;
  /** Why it stays float32 whatever the policy; undefined when it may be quantised. */
  readonly keep?: string;
}

/** A validation check reduced to what the search ranks and decides by. */
export interface Measurement {
  readonly passed: boolean;
  /** The largest share of any budget term used (1 = at the limit, above 1 = broken). */
  readonly usage: number;
  readonly maxAbsDiff: number;
  /** Why it failed, in the validator's words; "" when it passed. */
  readonly reason: string;
  readonly outcomes: readonly BudgetOutcome[];
}

/**
 * A working copy of the model whose weights are switched between precisions in
 * place, each time to the values tf.js decodes from the stored bytes, and checked
 * under the budget by the pipeline's validation. Never the user's model.
 */
export class WorkingModel {
  private readonly current = new Map<string, StoredPrecision>();
  private readonly kiln: KilnModel;
  /** How many budget checks were run. */
  checks = 0;

  private constructor(
    private readonly format: ModelFormat & Required<Pick<ModelFormat, 'overwriteWeight'>>,
    private readonly model: object,
    readonly backend: string,
    private readonly weights: ReadonlyMap<string, WeightEntry>,
    private readonly encoder: WeightEncoder,
    private readonly validation: PluginValidation,
    private readonly budget: ValidationBudget,
    private readonly signal: AbortSignal,
  ) {
    this.kiln = format.wrap(model, backend, false, `mixed-precision search copy on ${backend}`);
  }

  /**
   * Loads the model's files onto `backend` with its format's loader (every weight
   * starts at its values in the files).
   */
  static async create(
    format: ModelFormat,
    source: tf.io.ModelArtifacts,
    backend: string,
    weights: ReadonlyMap<string, WeightEntry>,
    encoder: WeightEncoder,
    validation: PluginValidation,
    budget: ValidationBudget,
    signal: AbortSignal,
  ): Promise<WorkingModel> {
    if (!format.overwriteWeight) throw new Error(`the ${format.displayName} format cannot overwrite weights, which the search needs`);
    const writable = format as ModelFormat & Required<Pick<ModelFormat, 'overwriteWeight'>>;
    const model = await withBackendAsync(backend, () => format.load(copyArtifacts(source)));
    return new WorkingModel(writable, model, backend, weights, encoder, validation, budget, signal);
  }

  /** The stored bytes of a weight at a precision (computed once, by the shared encoder). */
  encoded(name: string, precision: StoredPrecision): EncodedWeight {
    return this.encoder.encoded(name, precision);
  }

  precisionOf(name: string): StoredPrecision {
    return this.current.get(name) ?? 'float32';
  }

  /** Gives one weight the values tf.js decodes from its bytes at `precision`. */
  set(name: string, precision: StoredPrecision): void {
    if (this.precisionOf(name) === precision) return;
    withBackend(this.backend, () => {
      const values = decodeWithTfjs(this.encoded(name, precision));
      try {
        this.format.overwriteWeight(this.model, name, values);
      } finally {
        values.dispose();
      }
    });
    this.current.set(name, precision);
  }

  /** Puts every weight at its precision in `state` (float32 where it has none). */
  apply(state: ReadonlyMap<string, StoredPrecision>): void {
    for (const name of new Set([...this.current.keys(), ...state.keys()])) this.set(name, state.get(name) ?? 'float32');
  }

  /** Checks the working copy, as it stands, under the budget. */
  measure(): Measurement {
    if (this.signal.aborted) throw new Error('stopped: the time limit passed during the precision search');
    this.checks++;
    const result = this.validation.check(this.kiln, this.budget);
    if (result.error) throw new Error(`the working copy could not run: ${result.reason}`);
    return measurement(result);
  }

  /**
   * Of float16 and uint16 (both 2 bytes a value), the one whose decoded values are
   * closer to the float32 ones (mean squared error); float16 only within its range.
   */
  bestTwoByte(name: string): StoredPrecision {
    const w = this.weights.get(name)!;
    if (unsupportedReason(w.values!, 'float16')) return 'uint16';
    return squaredError(w.values!, this.encoded(name, 'uint16')) < squaredError(w.values!, this.encoded(name, 'float16'))
      ? 'uint16'
      : 'float16';
  }

  dispose(): void {
    this.kiln.dispose();
    this.format.dispose(this.model);
  }
}

/** The verdict of one check, for the search. */
export function measurement(result: ValidationResult): Measurement {
  const outcomes = result.budget ?? [];
  let usage = outcomes.reduce((u, o) => Math.max(u, o.usage), 0);
  if (!result.passed && usage <= 1) usage = Infinity; // failed outside the budget terms (e.g. NaN)
  return { passed: result.passed, usage, maxAbsDiff: result.maxAbsDiff, reason: result.reason, outcomes };
}

/** A change of one weight's precision, and what it buys for what it costs. */
interface Move {
  readonly name: string;
  readonly to: StoredPrecision;
  /** Bytes saved. */
  readonly benefit: number;
  /** Budget usage it adds, measured alone. */
  readonly cost: number;
}

export interface SearchResult {
  /** The precision of every weight not left at float32. */
  readonly state: Map<string, StoredPrecision>;
  /** The check of `state`. */
  readonly final: Measurement;
  /** Each weight measured alone at each precision tried. */
  readonly alone: Map<string, Map<StoredPrecision, Measurement>>;
  /** The first change that broke the budget in combination, when one did. */
  readonly broke?: { readonly name: string; readonly to: StoredPrecision; readonly reason: string };
}

/** Measures each weight alone at each precision in `precisionsOf(weight)` (the rest float32). */
export function measureAlone(
  work: WorkingModel,
  weights: readonly WeightEntry[],
  precisionsOf: (w: WeightEntry) => StoredPrecision[],
): Map<string, Map<StoredPrecision, Measurement>> {
  const alone = new Map<string, Map<StoredPrecision, Measurement>>();
  work.apply(new Map());
  for (const w of weights) {
    const byPrecision = new Map<StoredPrecision, Measurement>();
    for (const p of precisionsOf(w)) {
      work.set(w.name, p);
      byPrecision.set(p, work.measure());
    }
    work.set(w.name, 'float32');
    alone.set(w.name, byPrecision);
  }
  return alone;
}

/**
 * `auto`: each weight is measured alone at its best 2-byte precision and at uint8;
 * the changes are ranked by bytes saved per unit of budget used; all of them are
 * tried together, and when that breaks the budget, the longest prefix of the
 * ranking that holds is found by bisection; then each remaining change is tried
 * once on top of it, kept if the budget still holds.
 */
export function autoSearch(work: WorkingModel, eligible: readonly WeightEntry[], baseline: Measurement): SearchResult {
  // A weight the files already store in 2 bytes (float16, uint16) can only go on to uint8.
  const twoByte = new Map(eligible.filter((w) => (w.stored ?? 'float32') === 'float32').map((w) => [w.name, work.bestTwoByte(w.name)]));
  const alone = measureAlone(work, eligible, (w) => [
    ...(twoByte.has(w.name) ? [twoByte.get(w.name)!] : []),
    ...(unsupportedReason(w.values!, 'uint8') ? [] : ['uint8' as const]),
  ]);

  const moves: Move[] = [];
  for (const w of eligible) {
    const two = twoByte.get(w.name);
    const m2 = two && alone.get(w.name)!.get(two);
    const m1 = alone.get(w.name)!.get('uint8');
    const bytes = (p: StoredPrecision) => w.elements * PRECISION_BYTES[p];
    const from = w.stored ?? 'float32';
    if (two && m2?.passed) {
      moves.push({ name: w.name, to: two, benefit: bytes(from) - bytes(two), cost: m2.usage });
      if (m1?.passed)
        moves.push({ name: w.name, to: 'uint8', benefit: bytes(two) - bytes('uint8'), cost: Math.max(0, m1.usage - m2.usage) });
    } else if (m1?.passed) {
      moves.push({ name: w.name, to: 'uint8', benefit: bytes(from) - bytes('uint8'), cost: m1.usage });
    }
  }
  const ranked = rank(moves, twoByte);

  const stateOf = (k: number, base = new Map<string, StoredPrecision>()) => {
    const state = new Map(base);
    for (const m of ranked.slice(0, k)) state.set(m.name, m.to);
    return state;
  };
  if (ranked.length === 0) return { state: new Map(), final: baseline, alone };

  work.apply(stateOf(ranked.length));
  const all = work.measure();
  if (all.passed) return { state: stateOf(ranked.length), final: all, alone };

  let lo = 0;
  let hi = ranked.length;
  let best = baseline;
  let breaking = all;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    work.apply(stateOf(mid));
    const m = work.measure();
    if (m.passed) {
      lo = mid;
      best = m;
    } else {
      hi = mid;
      breaking = m;
    }
  }
  const brokeAt = ranked[lo]!;
  const state = stateOf(lo);
  for (const move of ranked.slice(lo + 1)) {
    const hasTwoByteStep = ranked.some((m) => m.name === move.name && m.to !== 'uint8');
    if (move.to === 'uint8' && hasTwoByteStep && state.get(move.name) !== twoByte.get(move.name)) continue; // its 2-byte step was not kept
    const trial = new Map(state).set(move.name, move.to);
    work.apply(trial);
    const m = work.measure();
    if (m.passed) {
      state.set(move.name, move.to);
      best = m;
    }
  }
  work.apply(state);
  return { state, final: best, alone, broke: { name: brokeAt.name, to: brokeAt.to, reason: breaking.reason } };
}

/** Bytes saved per unit of budget used, best first; a weight's uint8 step never before its 2-byte step. */
function rank(moves: readonly Move[], twoByte: ReadonlyMap<string, StoredPrecision>): Move[] {
  const value = (m: Move) => m.benefit / Math.max(m.cost, 1e-12);
  const sorted = [...moves].sort((a, b) => value(b) - value(a) || b.benefit - a.benefit || a.name.localeCompare(b.name));
  const placed = new Set<string>();
  const deferred = new Map<string, Move>();
  const out: Move[] = [];
  const needsFirst = (m: Move) =>
    m.to === 'uint8' && moves.some((x) => x.name === m.name && x.to === twoByte.get(m.name) && x.to !== 'uint8');
  for (const m of sorted) {
    if (needsFirst(m) && !placed.has(m.name)) {
      deferred.set(m.name, m);
      continue;
    }
    out.push(m);
    placed.add(m.name);
    const later = deferred.get(m.name);
    if (later) {
      out.push(later);
      deferred.delete(m.name);
    }
  }
  return out;
}

function squaredError(values: Float32Array, encoded: EncodedWeight): number {
  const decoded = decodeWithTfjs(encoded);
  try {
    const d = decoded.dataSync();
    let sum = 0;
    for (let i = 0; i < values.length; i++) sum += (d[i]! - values[i]!) ** 2;
    return sum;
  } finally {
    decoded.dispose();
  }
}

/** A copy whose weight bytes are not shared (tf.js may keep what it is given). */
export function copyArtifacts(a: tf.io.ModelArtifacts): tf.io.ModelArtifacts {
  const data =
    a.weightData === undefined ? undefined : Array.isArray(a.weightData) ? a.weightData.map((b) => b.slice(0)) : a.weightData.slice(0);
  return { ...a, weightSpecs: a.weightSpecs?.map((s) => ({ ...s })), weightData: data };
}
