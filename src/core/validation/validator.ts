import * as tf from '@tensorflow/tfjs';
import { injectable } from 'tsyringe';
import { withBackend } from '../backend-scope.js';
import { describeError } from '../errors.js';
import { outputsAsArray, runsSynchronously, type KilnModel } from '../kiln-model.js';
import type { KilnMode } from '../plugin.js';
import { reclaimAbandonedTape } from '../tape-state.js';
import { allclose, unravelIndex } from './allclose.js';
import { budgetFor, evaluateOutputBudget, type BudgetOutcome, type ValidationBudget } from './budget.js';
import { defaultTerms, STRESS_FACTOR, type ToleranceSettings } from './tolerance.js';
import { buildValidationInputs, type ValidationInputSet } from './validation-inputs.js';

/**
 * How candidates are checked. The tolerance keys are as the user set them (see
 * `defaultTerms`): neither atol nor rtol set means the scale-aware `tolerance`
 * (default DEFAULT_TOLERANCE); atol or rtol set means element-wise, as before.
 */
export interface ValidationSettings extends ToleranceSettings {
  /** Seeded perturbations of the samples to check besides the samples themselves. */
  readonly samples: number;
  readonly seed: number;
  readonly largeMagnitude: number;
  /** Compare gradients too (training mode only). */
  readonly gradients: boolean;
  /** Loss whose gradients are compared; default `seededWeightedSum`. */
  readonly loss?: LossFunction;
}

/** The worst element of a failed (or the closest element of a passed) check. */
export interface Mismatch {
  /** Output name, or `gradient of <variable>` in training mode. */
  readonly output: string;
  readonly inputSet: string;
  readonly index: number[];
  readonly expected: number;
  readonly actual: number;
  readonly absDiff: number;
}

export interface ValidationResult {
  readonly passed: boolean;
  /** Set when the candidate could not be run at all (it threw), as opposed to running and drifting. */
  readonly error?: boolean;
  /** Why it failed, in words naming the output, input set and element; "" when passed. */
  readonly reason: string;
  /** Largest |candidate - reference| over every output and input set. */
  readonly maxAbsDiff: number;
  readonly inputSets: readonly string[];
  readonly worst?: Mismatch;
  /** In training mode: gradients compared and the largest difference among them. */
  readonly gradients?: { readonly variables: number; readonly maxAbsDiff: number };
  /** When checked under a budget: every term of every output, with the value achieved. */
  readonly budget?: readonly BudgetOutcome[];
  /**
   * Every term of every output, with the value achieved: under a budget (the same as
   * `budget`) or the scale-aware default. Absent for the element-wise-only check and
   * for a candidate whose outputs could not be compared.
   */
  readonly outcomes?: readonly BudgetOutcome[];
}

interface ReferenceOutputs {
  readonly set: ValidationInputSet;
  readonly outputs: { readonly shape: number[]; readonly values: Float32Array | Int32Array | Uint8Array }[];
}

interface ReferenceGradients {
  readonly set: ValidationInputSet;
  readonly grads: { readonly name: string; readonly shape: number[]; readonly values: Float32Array }[];
}

/**
 * Checks a candidate against the reference: the original model on the cpu backend in
 * float32. The reference is computed once per session and kept as plain arrays.
 */
@injectable()
export class Validator {
  /**
   * Runs the reference on every validation input set and keeps its outputs. On a large
   * batch, the sets after the samples are compared on their first rows only (see
   * `buildValidationInputs`), so the reference runs on those rows alone; that holds only
   * where the model's rows are independent, which is checked first: the reference on the
   * samples' first rows must give the rows of the whole batch. Where it does not (or an
   * output has no batch axis), every set is compared in full, and `rowsNote` says why.
   */
  prepare(reference: KilnModel, samples: readonly tf.Tensor[], settings: ValidationSettings, mode: KilnMode): ValidationSession {
    let sets = buildValidationInputs(samples, reference.inputs, settings);
    try {
      const onCpu = (set: ValidationInputSet) => withBackend('cpu', () => readOutputs(reference, set.inputs, set.referenceRows));
      const first = onCpu(sets[0]!);
      const rows = sets.find((set) => set.referenceRows)?.referenceRows;
      let rowsNote: string | undefined;
      if (rows !== undefined) {
        const batch = sets[0]!.inputs[0]!.shape[0]!;
        const problem = rowsProblem(
          first,
          withBackend('cpu', () => readOutputs(reference, sets[0]!.inputs, rows)),
          batch,
          reference.outputNames,
        );
        if (problem) sets = sets.map(comparedInFull);
        rowsNote = problem
          ? `batch ${batch}: every input set compared in full, because ${problem}`
          : `batch ${batch}: the samples compared in full; the other sets on their first ${rows} rows (the candidate runs the whole batch, the cpu reference those rows)`;
      }
      const outputs = sets.map((set, k) => ({ set, outputs: k === 0 ? first : onCpu(set) }));
      const gradients =
        mode === 'training' && settings.gradients
          ? withBackend('cpu', () => readGradients(reference, sets[0]!, settings.loss ?? seededWeightedSum))
          : undefined;
      return new ValidationSession(reference.outputNames, outputs, gradients, settings, sets, rowsNote);
    } catch (error) {
      disposeSets(sets);
      throw error;
    }
  }
}

/** A reference computed once, against which any number of candidates are checked. */
export class ValidationSession {
  constructor(
    private readonly outputNames: readonly string[],
    private readonly reference: readonly ReferenceOutputs[],
    private readonly referenceGradients: ReferenceGradients | undefined,
    private readonly settings: ValidationSettings,
    private readonly sets: ValidationInputSet[],
    /** How the rows of a large batch are compared, and why (absent: every set in full, batch too small to subset). */
    readonly rowsNote?: string,
  ) {}

  /** The first input set (the user's samples), for cold-call timing and benchmarks. */
  get sampleInputs(): tf.Tensor[] {
    return this.sets[0]!.inputs;
  }

  /** Labels of the input sets every candidate is checked on. */
  get inputSetLabels(): string[] {
    return this.sets.map((s) => s.label);
  }

  /**
   * Runs the candidate on every input set and compares its outputs with the
   * reference's: each output's max |diff| within validation.tolerance of its scale,
   * or element-wise within validation.atol/rtol when those are set; given a `budget`,
   * under that budget instead (per output; outputs it does not cover keep the
   * default terms). NaN or Inf where the reference is finite fails either way.
   */
  check(candidate: KilnModel, budget?: ValidationBudget): ValidationResult {
    return this.judge(candidate, this.runEverySet(candidate), budget);
  }

  /**
   * `check` for a candidate that may run only through `predictAsync` (an asynchronous engine): the
   * same comparison of the outputs, gathered call by call. Such a model has no tf.js
   * variables, so a session that checks gradients (training mode) fails it, saying so.
   */
  async checkAsync(candidate: KilnModel, budget?: ValidationBudget): Promise<ValidationResult> {
    if (runsSynchronously(candidate)) return this.check(candidate, budget);
    if (this.referenceGradients) {
      const labels = this.reference.map((r) => r.set.label);
      return {
        ...fail('gradients could not be computed: the model runs only asynchronously, outside tf.js (inference only)', Infinity, labels),
        error: true,
      };
    }
    return this.judge(candidate, await this.runEverySetAsync(candidate), budget);
  }

  /** The comparison of a candidate's outputs (or the failure of gathering them) with the reference. */
  private judge(
    candidate: KilnModel,
    actual: ReferenceOutputs['outputs'][] | ValidationResult,
    budget?: ValidationBudget,
  ): ValidationResult {
    if (!Array.isArray(actual)) return actual;
    if (budget) return this.checkBudget(candidate, actual, budget, true);
    const terms = defaultTerms(this.settings);
    if (terms.tolerance !== undefined) return this.checkBudget(candidate, actual, {}, false);
    return this.checkElementwise(candidate, actual, terms.atol!, terms.rtol!);
  }

  /** The element-wise check of every output on each input set in turn (validation.atol/rtol set, no tolerance). */
  private checkElementwise(candidate: KilnModel, run: ReferenceOutputs['outputs'][], atol: number, rtol: number): ValidationResult {
    const labels = this.reference.map((r) => r.set.label);
    let maxAbsDiff = 0;
    let closest: Mismatch | undefined;
    for (let s = 0; s < this.reference.length; s++) {
      const ref = this.reference[s]!;
      const outputs = run[s]!;
      for (let o = 0; o < outputs.length; o++) {
        const name = this.outputNames[o] ?? `output ${o}`;
        const expected = ref.outputs[o]!;
        const actual = outputs[o]!;
        const c = allclose(expected.values, actual.values, atol, rtol);
        maxAbsDiff = Math.max(maxAbsDiff, c.maxAbsDiff);
        const at = c.nonFinite ?? c.worst;
        const mismatch = at && {
          output: name,
          inputSet: ref.set.label,
          index: unravelIndex(at.index, expected.shape),
          expected: at.expected,
          actual: at.actual,
          absDiff: at.absDiff,
        };
        if (!c.ok && mismatch) {
          const what = c.nonFinite
            ? `produced ${mismatch.actual} where the original gives ${mismatch.expected}`
            : `differs by ${fmt(mismatch.absDiff)} (allowed ${fmt(atol + rtol * Math.abs(mismatch.expected))}: atol ${atol} + rtol ${rtol} x |expected|)`;
          return {
            passed: false,
            reason: `output "${name}" ${what} at [${mismatch.index}] on input set "${mismatch.inputSet}": expected ${mismatch.expected}, got ${mismatch.actual}`,
            maxAbsDiff,
            inputSets: labels,
            worst: mismatch,
          };
        }
        if (mismatch && (!closest || mismatch.absDiff > closest.absDiff)) closest = mismatch;
      }
    }
    if (!this.referenceGradients) return { passed: true, reason: '', maxAbsDiff, inputSets: labels, worst: closest };
    return this.checkGradients(candidate, maxAbsDiff, labels, closest);
  }

  /**
   * `check` under a budget (`underBudget`) or the scale-aware default (an empty budget):
   * each output's terms are evaluated over the rows of every input set together.
   */
  private checkBudget(
    candidate: KilnModel,
    actual: ReferenceOutputs['outputs'][],
    budget: ValidationBudget,
    underBudget: boolean,
  ): ValidationResult {
    const fallback = defaultTerms(this.settings);
    const labels = this.reference.map((r) => r.set.label);
    // Under the scale-aware default, the stress set (inputs scaled far beyond the samples) is
    // its own group, held to STRESS_FACTOR x the tolerance: float32 rounding is amplified
    // there on models fed far outside their range; the check still catches overflow, NaN
    // and gross error. A budget, or element-wise atol/rtol, covers every set alike.
    const all = this.reference.map((_, s) => s);
    const stress = underBudget || fallback.tolerance === undefined ? [] : all.filter((s) => this.reference[s]!.set.stress);
    const groups = stress.length ? [all.filter((s) => !stress.includes(s)), stress] : [all];
    let maxAbsDiff = 0;
    const outcomes: BudgetOutcome[] = [];
    let failed: { reason: string; worst?: Mismatch } | undefined;
    const outputCount = this.reference[0]?.outputs.length ?? 0;
    for (const [g, sets] of groups.entries()) {
      if (sets.length === 0) continue;
      const isStress = g === 1;
      const terms = isStress ? { ...fallback, tolerance: fallback.tolerance! * STRESS_FACTOR } : fallback;
      for (let o = 0; o < outputCount; o++) {
        const name = this.outputNames[o] ?? `output ${o}`;
        const parts = sets.map((s) => this.reference[s]!.outputs[o]!);
        const shape = pooledShape(parts.map((p) => p.shape));
        const result = evaluateOutputBudget(
          isStress ? `${name}" on the stress set "${this.reference[sets[0]!]!.set.label}` : name,
          pool(parts.map((p) => p.values)),
          pool(sets.map((s) => actual[s]![o]!.values)),
          shape,
          isStress ? terms : budgetFor(budget, name, terms),
        );
        maxAbsDiff = Math.max(maxAbsDiff, result.maxAbsDiff);
        if (!isStress) outcomes.push(...result.outcomes);
        if (result.failure && !failed) {
          const worst = result.worstIndex === undefined ? undefined : this.locate(name, o, result.worstIndex, actual, sets);
          const where = worst
            ? ` at [${worst.index}] on input set "${worst.inputSet}": expected ${worst.expected}, got ${worst.actual}`
            : '';
          failed = { reason: `${result.failure}${where}`, worst };
        }
      }
    }
    const terms = { outcomes, ...(underBudget ? { budget: outcomes } : {}) };
    if (failed) return { passed: false, reason: failed.reason, maxAbsDiff, inputSets: labels, worst: failed.worst, ...terms };
    if (!this.referenceGradients) return { passed: true, reason: '', maxAbsDiff, inputSets: labels, ...terms };
    return { ...this.checkGradients(candidate, maxAbsDiff, labels, undefined), ...terms };
  }

  /**
   * The candidate's outputs on every input set, in order; or the failed result when it
   * throws, returns another number of outputs, or an output of another shape.
   */
  private runEverySet(candidate: KilnModel): ReferenceOutputs['outputs'][] | ValidationResult {
    const labels = this.reference.map((r) => r.set.label);
    const all: ReferenceOutputs['outputs'][] = [];
    for (const ref of this.reference) {
      let outputs;
      try {
        outputs = firstRows(readOutputs(candidate, ref.set.inputs), ref.set.referenceRows, ref.set.inputs[0]?.shape[0]);
      } catch (error) {
        return { ...fail(`threw on input set "${ref.set.label}": ${describeError(error)}`, Infinity, labels), error: true };
      }
      const wrong = this.wrongOutputs(ref, outputs, labels);
      if (wrong) return wrong;
      all.push(outputs);
    }
    return all;
  }

  /** `runEverySet` through `predictAsync`, one input set after the other. */
  private async runEverySetAsync(candidate: KilnModel): Promise<ReferenceOutputs['outputs'][] | ValidationResult> {
    const labels = this.reference.map((r) => r.set.label);
    const all: ReferenceOutputs['outputs'][] = [];
    for (const ref of this.reference) {
      let outputs;
      try {
        outputs = firstRows(await readOutputsAsync(candidate, ref.set.inputs), ref.set.referenceRows, ref.set.inputs[0]?.shape[0]);
      } catch (error) {
        return { ...fail(`threw on input set "${ref.set.label}": ${describeError(error)}`, Infinity, labels), error: true };
      }
      const wrong = this.wrongOutputs(ref, outputs, labels);
      if (wrong) return wrong;
      all.push(outputs);
    }
    return all;
  }

  /** The failed result when a candidate returned another number of outputs than the reference, or an output of another shape. */
  private wrongOutputs(ref: ReferenceOutputs, outputs: ReferenceOutputs['outputs'], labels: string[]): ValidationResult | undefined {
    if (outputs.length !== ref.outputs.length) {
      return fail(`returned ${outputs.length} output(s), the original returns ${ref.outputs.length}`, Infinity, labels);
    }
    for (let o = 0; o < outputs.length; o++) {
      const expected = ref.outputs[o]!;
      if (expected.shape.join(',') !== outputs[o]!.shape.join(',')) {
        return fail(
          `output "${this.outputNames[o] ?? `output ${o}`}" on input set "${ref.set.label}" has shape [${outputs[o]!.shape}], expected [${expected.shape}]`,
          Infinity,
          labels,
        );
      }
    }
    return undefined;
  }

  /** The input set, index and values of a flat index into an output pooled over the input sets `sets` (default: every one). */
  private locate(
    output: string,
    o: number,
    flat: number,
    actual: ReferenceOutputs['outputs'][],
    sets: readonly number[] = this.reference.map((_, s) => s),
  ): Mismatch | undefined {
    let offset = 0;
    for (const s of sets) {
      const expected = this.reference[s]!.outputs[o]!;
      if (flat < offset + expected.values.length) {
        const i = flat - offset;
        const e = expected.values[i]!;
        const a = actual[s]![o]!.values[i]!;
        return {
          output,
          inputSet: this.reference[s]!.set.label,
          index: unravelIndex(i, expected.shape),
          expected: e,
          actual: a,
          absDiff: Math.abs(a - e),
        };
      }
      offset += expected.values.length;
    }
    return undefined;
  }

  /** The gradients against the reference's, each variable held to the default terms (its own scale for `tolerance`). */
  private checkGradients(candidate: KilnModel, outputsMaxDiff: number, labels: string[], closest: Mismatch | undefined): ValidationResult {
    const ref = this.referenceGradients!;
    const terms = defaultTerms(this.settings);
    let grads;
    try {
      grads = readGradients(candidate, ref.set, this.settings.loss ?? seededWeightedSum).grads;
    } catch (error) {
      return { ...fail(`gradients could not be computed: ${describeError(error)}`, outputsMaxDiff, labels), error: true };
    }
    if (grads.length !== ref.grads.length) {
      return fail(`has ${grads.length} trainable variable(s), the original has ${ref.grads.length}`, outputsMaxDiff, labels);
    }
    let gradMax = 0;
    for (let i = 0; i < grads.length; i++) {
      const expected = ref.grads[i]!;
      const actual = grads[i]!.values;
      const result = evaluateOutputBudget(expected.name, expected.values, actual, expected.shape, terms, 'gradient of');
      gradMax = Math.max(gradMax, result.maxAbsDiff);
      if (result.failure) {
        const at = result.worstIndex;
        const index = at === undefined ? undefined : unravelIndex(at, expected.shape);
        const worst =
          at === undefined
            ? undefined
            : {
                output: `gradient of ${expected.name}`,
                inputSet: ref.set.label,
                index: index!,
                expected: expected.values[at]!,
                actual: actual[at]!,
                absDiff: Math.abs(actual[at]! - expected.values[at]!),
              };
        return {
          passed: false,
          reason: `${result.failure}${worst ? ` at [${worst.index}]: expected ${worst.expected}, got ${worst.actual}` : ''}`,
          maxAbsDiff: outputsMaxDiff,
          inputSets: labels,
          worst,
          gradients: { variables: grads.length, maxAbsDiff: gradMax },
        };
      }
    }
    return {
      passed: true,
      reason: '',
      maxAbsDiff: outputsMaxDiff,
      inputSets: labels,
      worst: closest,
      gradients: { variables: grads.length, maxAbsDiff: gradMax },
    };
  }

  dispose(): void {
    disposeSets(this.sets);
  }
}

/**
 * Runs the model in a tf.js scope (reclaiming anything it leaves behind) and reads its
 * outputs back; given `rows`, on the first `rows` rows (axis 0) of every input.
 */
function readOutputs(model: KilnModel, all: tf.Tensor[], rows?: number): ReferenceOutputs['outputs'] {
  let read: ReferenceOutputs['outputs'] = [];
  tf.tidy(() => {
    const inputs = rows === undefined ? all : all.map((t) => tf.slice(t, 0, rows));
    const outputs = outputsAsArray(model.predict(inputs.length === 1 ? inputs[0]! : inputs));
    read = outputs.map((t) => ({ shape: [...t.shape], values: t.dataSync() as Float32Array | Int32Array | Uint8Array }));
  });
  return read;
}

/** `readOutputs` for a model that runs only through `predictAsync`: no tf.js scope can span the await, so the outputs are disposed once read. */
async function readOutputsAsync(model: KilnModel, inputs: tf.Tensor[]): Promise<ReferenceOutputs['outputs']> {
  const outputs = outputsAsArray(await model.predictAsync!(inputs.length === 1 ? inputs[0]! : inputs));
  try {
    return outputs.map((t) => ({ shape: [...t.shape], values: t.dataSync() as Float32Array | Int32Array | Uint8Array }));
  } finally {
    tf.dispose(outputs);
  }
}

/**
 * The first `rows` rows of outputs computed on a batch of `batch` rows (every output unchanged
 * without `rows`). An output whose axis 0 is not that batch is returned whole, so that the
 * shape check names it.
 */
function firstRows(outputs: ReferenceOutputs['outputs'], rows: number | undefined, batch: number | undefined): ReferenceOutputs['outputs'] {
  if (rows === undefined) return outputs;
  return outputs.map((o) => {
    if (o.shape.length === 0 || o.shape[0] !== batch) return o;
    const size = o.values.length / o.shape[0]!;
    return { shape: [rows, ...o.shape.slice(1)], values: o.values.slice(0, rows * size) };
  });
}

/**
 * Why the first rows of a batch cannot stand for it, or undefined where they can: every
 * output must have the batch on axis 0, and the reference on the first rows alone must
 * give those rows of the whole batch (within 1e-6 of the output's scale; the cpu backend
 * computes each row alike whatever the batch). A model that mixes rows (statistics over
 * the batch) fails the second.
 */
function rowsProblem(
  whole: ReferenceOutputs['outputs'],
  head: ReferenceOutputs['outputs'],
  batch: number,
  names: readonly string[],
): string | undefined {
  for (let o = 0; o < whole.length; o++) {
    const name = names[o] ?? `output ${o}`;
    const full = whole[o]!;
    if (full.shape.length === 0 || full.shape[0] !== batch)
      return `output "${name}" (shape [${full.shape}]) has no batch axis of ${batch} rows`;
    const part = head[o]!;
    let scale = 1e-6;
    for (const v of full.values) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < part.values.length; i++) {
      const diff = Math.abs(part.values[i]! - full.values[i]!);
      if (!(diff <= 1e-6 * scale)) {
        return `the rows of output "${name}" depend on the other rows of the batch (computed on ${part.shape[0]} rows alone, element ${i} differs by ${diff.toExponential(2)})`;
      }
    }
  }
  return undefined;
}

/** The set compared in full: its label without the rows note. */
function comparedInFull(set: ValidationInputSet): ValidationInputSet {
  if (set.referenceRows === undefined) return set;
  const { referenceRows: _rows, ...rest } = set;
  return { ...rest, label: set.label.replace(/ \(rows 1-\d+ of \d+ compared\)$/, '') };
}

/** A scalar loss of a model's outputs, for the gradient check in training mode. */
export type LossFunction = (outputs: tf.Tensor[]) => tf.Scalar;

/**
 * The default loss: every output weighted element-wise by fixed seeded values, then
 * summed. A plain sum would do for most outputs, but the sum of a softmax is always
 * 1, so its gradient is zero and would hide any error behind the softmax.
 */
export function seededWeightedSum(outputs: tf.Tensor[]): tf.Scalar {
  return tf.addN(
    outputs.map((o, i) => tf.sum(tf.mul(tf.cast(o, 'float32'), tf.randomUniform(o.shape, 0.5, 1.5, 'float32', 7919 + i)))),
  ) as tf.Scalar;
}

/** Gradients of the loss with respect to the trainable variables, in order. */
function readGradients(model: KilnModel, set: ValidationInputSet, loss: LossFunction): ReferenceGradients {
  const variables = model.trainableVariables();
  let read: ReferenceGradients['grads'] = [];
  // In a scope, so that a backward pass that throws half-way leaves nothing behind.
  try {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const outs = outputsAsArray(model.predict(set.inputs.length === 1 ? set.inputs[0]! : set.inputs));
        return loss(outs);
      }, variables);
      read = variables.map((v) => {
        const g = grads[v.name]!;
        return { name: v.name, shape: [...g.shape], values: g.dataSync() as Float32Array };
      });
    });
  } catch (error) {
    reclaimAbandonedTape();
    throw error;
  }
  return { set, grads: read };
}

/** The values of every input set, one after the other (the batch axis grows). */
export function pool(parts: readonly ArrayLike<number>[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Shape of outputs concatenated along the batch axis (a scalar output becomes one value per set). */
function pooledShape(shapes: readonly number[][]): number[] {
  if (shapes[0]!.length === 0) return [shapes.length];
  return [shapes.reduce((n, s) => n + s[0]!, 0), ...shapes[0]!.slice(1)];
}

function fail(reason: string, maxAbsDiff: number, inputSets: string[]): ValidationResult {
  return { passed: false, reason, maxAbsDiff, inputSets };
}

function disposeSets(sets: ValidationInputSet[]): void {
  for (const set of sets) tf.dispose(set.inputs);
}

function fmt(x: number): string {
  return x.toExponential(2);
}
