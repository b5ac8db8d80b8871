import { allclose, type Closeness } from './allclose.js';
import { outputScale, SCALE_FLOOR } from './tolerance.js';

/**
 * An accuracy budget for one output: how far a candidate may drift from the
 * reference. Every term given must hold; a term left out is not checked. The
 * element-wise check (atol/rtol) runs when either is given (the other is then 0).
 */
export interface OutputBudget {
  /**
   * Scale-aware: the largest |candidate - reference| over every validation row must be
   * at most `tolerance` x the output's scale, its largest |reference| over those rows
   * (at least SCALE_FLOOR).
   */
  readonly tolerance?: number;
  /** Element-wise: |candidate - reference| <= atol + rtol * |reference|. */
  readonly atol?: number;
  readonly rtol?: number;
  /**
   * Share of rows (every index but the last axis) whose top-1 index is unchanged,
   * from 0 to 1: e.g. the move a policy head picks. Needs an output of rank >= 2.
   */
  readonly argmaxAgreement?: number;
  /**
   * Largest mean KL(reference || candidate) per row, in nats, for outputs whose rows
   * are probability distributions (non-negative, summing to 1).
   */
  readonly klDivergence?: number;
  /** A metric of your own (from code only; YAML cannot carry a function). */
  readonly metric?: BudgetMetric;
}

/** A user-supplied budget metric: a number computed from the reference and candidate outputs. */
export interface BudgetMetric {
  /** Names the metric in reports and messages. */
  readonly name: string;
  /**
   * Computes the metric over every validation row at once: both arrays hold the
   * output of every input set, concatenated along the batch axis, of shape `shape`.
   */
  readonly compute: (reference: Float32Array, candidate: Float32Array, shape: readonly number[]) => number;
  /** The metric must be <= max (lower is better). */
  readonly max?: number;
  /** The metric must be >= min (higher is better). */
  readonly min?: number;
}

/**
 * Budgets per output name; the key `*` covers every output not named. An output
 * neither named nor covered by `*` is held to the fallback (validation.tolerance, or
 * atol/rtol when set).
 */
export type ValidationBudget = Readonly<Record<string, OutputBudget>>;

/** The key of a budget entry that covers every output not named. */
export const ANY_OUTPUT = '*';

/** How one budget term came out on one output. */
export interface BudgetOutcome {
  readonly output: string;
  /**
   * `scaledMaxAbsDiff` (the tolerance check), `maxAbsDiff` (the atol/rtol check),
   * `argmaxAgreement`, `klDivergence`, or the user metric's name.
   */
  readonly term: string;
  /**
   * The value measured: max |diff| / the output scale, max |diff|, the share of agreeing
   * rows, the mean KL, the metric.
   */
  readonly achieved: number;
  /** The bound, in words: "<= 0.0001 x the output scale 277", "<= 0.01 + 0 x |expected|", ">= 0.99". */
  readonly limit: string;
  /** The tolerance check only: the largest |diff|, the scale it was divided by, and the tolerance. */
  readonly maxAbsDiff?: number;
  readonly scale?: number;
  readonly tolerance?: number;
  readonly passed: boolean;
  /**
   * How much of the budget this uses: 0 untouched, 1 at the limit, above 1 broken.
   * Continuous even where the term is discrete (argmax agreement uses how much of
   * each row's top-1 margin is consumed), so that changes can be ranked by it.
   */
  readonly usage: number;
}

/** The budget that applies to `output`: its own entry, else `*`, else the fallback terms (see `defaultTerms`). */
export function budgetFor(budget: ValidationBudget, output: string, fallback: OutputBudget): OutputBudget {
  if (Object.prototype.hasOwnProperty.call(budget, output)) return budget[output]!;
  if (Object.prototype.hasOwnProperty.call(budget, ANY_OUTPUT)) return budget[ANY_OUTPUT]!;
  return fallback;
}

/** The outcome of every term of one output's budget, and the first failure in words. */
export interface OutputBudgetResult {
  readonly outcomes: BudgetOutcome[];
  /** Why it failed (naming the output and the term), or undefined when every term holds. */
  readonly failure?: string;
  /** Flat index of the worst element of the element-wise (else the tolerance) check (for messages). */
  readonly worstIndex?: number;
  readonly maxAbsDiff: number;
}

/**
 * Evaluates one output's budget over every validation row: `reference` and
 * `candidate` are the output of every input set, concatenated along the batch axis,
 * of shape `shape`. A non-finite value where the reference is finite (or the reverse)
 * always fails, whatever the budget says. Messages name `output` after `subject`
 * (`output "probs" differs by ...`; the validator's gradient check passes `gradient of`).
 */
export function evaluateOutputBudget(
  output: string,
  reference: Float32Array,
  candidate: Float32Array,
  shape: readonly number[],
  budget: OutputBudget,
  subject = 'output',
): OutputBudgetResult {
  const finite = allclose(reference, candidate, Infinity, 0);
  const incomparable = incomparableOutputs(output, reference, candidate, finite, subject);
  if (incomparable) return incomparable;

  const outcomes: BudgetOutcome[] = [];
  let failure: string | undefined;
  const record = (term: TermResult) => {
    outcomes.push(term.outcome);
    failure ??= term.failure;
  };

  let maxAbsDiff = finite.maxAbsDiff;
  let worstIndex: number | undefined;
  if (budget.tolerance !== undefined) {
    const scaled = checkTolerance(output, reference, candidate, budget.tolerance, subject);
    record(scaled);
    worstIndex = scaled.worstIndex;
  }
  if (budget.atol !== undefined || budget.rtol !== undefined) {
    const elementwise = checkElementwise(output, reference, candidate, budget.atol ?? 0, budget.rtol ?? 0, subject);
    record(elementwise);
    maxAbsDiff = elementwise.maxAbsDiff;
    worstIndex = elementwise.worstIndex;
  }
  const named = `${subject} "${output}"`;
  if (budget.argmaxAgreement !== undefined)
    record(checkArgmaxAgreement(output, named, reference, candidate, shape, budget.argmaxAgreement));
  if (budget.klDivergence !== undefined) record(checkKlDivergence(output, named, reference, candidate, shape, budget.klDivergence));
  if (budget.metric) record(checkMetric(output, named, reference, candidate, shape, budget.metric));
  return { outcomes, failure, worstIndex, maxAbsDiff };
}

/** How one budget term came out, and why it fails (undefined when it holds). */
interface TermResult {
  readonly outcome: BudgetOutcome;
  readonly failure?: string;
}

/**
 * The result that fails an output before any term is checked: its length differs
 * from the reference's, or it is non-finite where the reference is finite (or the
 * reverse). Undefined when the outputs can be compared; `finite` is their allclose
 * with an infinite tolerance.
 */
function incomparableOutputs(
  output: string,
  reference: Float32Array,
  candidate: Float32Array,
  finite: Closeness,
  subject: string,
): OutputBudgetResult | undefined {
  if (finite.mismatchedLength) {
    return {
      outcomes: [],
      failure: `${subject} "${output}" has ${candidate.length} values, the original ${reference.length}`,
      maxAbsDiff: Infinity,
    };
  }
  if (finite.nonFinite) {
    const at = finite.nonFinite;
    return {
      outcomes: [],
      failure: `${subject} "${output}" produced ${at.actual} where the original gives ${at.expected}`,
      worstIndex: at.index,
      maxAbsDiff: Infinity,
    };
  }
  return undefined;
}

/**
 * The tolerance term: max |diff| over every row <= tolerance x the output's scale (its
 * largest |reference|, at least SCALE_FLOOR), with where the largest |diff| is.
 */
function checkTolerance(
  output: string,
  reference: Float32Array,
  candidate: Float32Array,
  tolerance: number,
  subject: string,
): TermResult & { readonly worstIndex?: number } {
  const scale = outputScale(reference);
  let maxAbsDiff = 0;
  let worstIndex: number | undefined;
  for (let i = 0; i < reference.length; i++) {
    const diff = Math.abs(candidate[i]! - reference[i]!);
    // non-finite pairs were compared before (the same NaN or infinity on both sides)
    if (diff > maxAbsDiff) {
      maxAbsDiff = diff;
      worstIndex = i;
    }
  }
  const achieved = maxAbsDiff / scale;
  const passed = achieved <= tolerance;
  const whose = subject === 'output' ? 'the output' : 'its';
  const scaleWords = `${whose} scale ${sig(scale)}${scale === SCALE_FLOOR ? ' (max |expected| below 1e-6, floored)' : ''}`;
  const outcome: BudgetOutcome = {
    output,
    term: 'scaledMaxAbsDiff',
    achieved,
    limit: `<= ${tolerance} x ${scaleWords}`,
    passed,
    usage: ratio(achieved, tolerance),
    maxAbsDiff,
    scale,
    tolerance,
  };
  const failure = passed
    ? undefined
    : `${subject} "${output}" differs by ${fmt(maxAbsDiff)} = ${fmt(achieved)} of ${scaleWords} (allowed ${tolerance} of scale: ${fmt(tolerance * scale)})`;
  return { outcome, failure, worstIndex };
}

/** The element-wise term (atol/rtol), with the largest |diff| and where the worst element is. */
function checkElementwise(
  output: string,
  reference: Float32Array,
  candidate: Float32Array,
  atol: number,
  rtol: number,
  subject: string,
): TermResult & { readonly maxAbsDiff: number; readonly worstIndex?: number } {
  const c = allclose(reference, candidate, atol, rtol);
  const usage = c.worst ? ratio(c.worst.absDiff, atol + rtol * Math.abs(c.worst.expected)) : 0;
  const outcome: BudgetOutcome = {
    output,
    term: 'maxAbsDiff',
    achieved: c.maxAbsDiff,
    limit: `<= ${atol} + ${rtol} x |expected|`,
    passed: c.ok,
    usage,
  };
  const failure =
    !c.ok && c.worst
      ? `${subject} "${output}" differs by ${fmt(c.worst.absDiff)} (allowed ${fmt(atol + rtol * Math.abs(c.worst.expected))}: atol ${atol} + rtol ${rtol} x |expected|)`
      : undefined;
  return { outcome, failure, maxAbsDiff: c.maxAbsDiff, worstIndex: c.worst?.index };
}

/** The argmax-agreement term: the share of rows whose top-1 index is unchanged must be >= `threshold`. */
function checkArgmaxAgreement(
  output: string,
  named: string,
  reference: Float32Array,
  candidate: Float32Array,
  shape: readonly number[],
  threshold: number,
): TermResult {
  const result = argmaxAgreement(reference, candidate, shape, threshold);
  if (typeof result === 'string') {
    return {
      outcome: { output, term: 'argmaxAgreement', achieved: NaN, limit: `>= ${threshold}`, passed: false, usage: Infinity },
      failure: `${named}: ${result}`,
    };
  }
  const outcome: BudgetOutcome = {
    output,
    term: 'argmaxAgreement',
    achieved: result.agreement,
    limit: `>= ${threshold}`,
    passed: result.passed,
    usage: result.usage,
  };
  if (result.passed) return { outcome };
  return {
    outcome,
    failure: `${named} keeps its top-1 on ${result.agreeing} of ${result.rows} rows (argmax agreement ${result.agreement.toFixed(4)}, budget >= ${threshold})`,
  };
}

/** The KL-divergence term: the mean KL(reference || candidate) per row must be <= `max` nats. */
function checkKlDivergence(
  output: string,
  named: string,
  reference: Float32Array,
  candidate: Float32Array,
  shape: readonly number[],
  max: number,
): TermResult {
  const kl = meanKlDivergence(reference, candidate, shape);
  if (typeof kl === 'string') {
    return {
      outcome: { output, term: 'klDivergence', achieved: NaN, limit: `<= ${max}`, passed: false, usage: Infinity },
      failure: `${named}: ${kl}`,
    };
  }
  const passed = kl <= max;
  const outcome: BudgetOutcome = { output, term: 'klDivergence', achieved: kl, limit: `<= ${max}`, passed, usage: ratio(kl, max) };
  if (passed) return { outcome };
  return { outcome, failure: `${named} has mean KL divergence ${fmt(kl)} nats per row (budget <= ${max})` };
}

/** The user metric's term: it must compute a finite number within its bounds (a metric that throws fails). */
function checkMetric(
  output: string,
  named: string,
  reference: Float32Array,
  candidate: Float32Array,
  shape: readonly number[],
  m: BudgetMetric,
): TermResult {
  const limit = [m.min !== undefined ? `>= ${m.min}` : '', m.max !== undefined ? `<= ${m.max}` : ''].filter(Boolean).join(' and ');
  let value: number;
  let threw: string | undefined;
  try {
    value = m.compute(reference, candidate, shape);
  } catch (error) {
    value = NaN;
    threw = `${named}: metric "${m.name}" threw: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return {
      outcome: { output, term: m.name, achieved: NaN, limit, passed: false, usage: Infinity },
      failure: threw ?? `${named}: metric "${m.name}" returned ${String(value)}, not a finite number`,
    };
  }
  const passed = (m.max === undefined || value <= m.max) && (m.min === undefined || value >= m.min);
  const outcome: BudgetOutcome = { output, term: m.name, achieved: value, limit, passed, usage: metricUsage(value, m, passed) };
  if (passed) return { outcome };
  return { outcome, failure: `${named} has ${m.name} ${fmt(value)} (budget ${limit})` };
}

interface Agreement {
  readonly rows: number;
  readonly agreeing: number;
  readonly agreement: number;
  readonly passed: boolean;
  readonly usage: number;
}

/**
 * Share of rows whose top-1 index (first maximum) is unchanged. Its usage is how much
 * of the reference's top-1 margin the candidate consumes in the row that decides the
 * budget (the (k+1)-th worst, where k flips are allowed): 1 means that row flips.
 */
export function argmaxAgreement(
  reference: Float32Array,
  candidate: Float32Array,
  shape: readonly number[],
  threshold: number,
): Agreement | string {
  if (shape.length < 2) return `argmax agreement needs an output with a class axis (rank >= 2), got shape [${shape.join(', ')}]`;
  const classes = shape[shape.length - 1]!;
  const rows = classes > 0 ? reference.length / classes : 0;
  if (rows === 0 || classes === 0) return `argmax agreement needs a non-empty output, got shape [${shape.join(', ')}]`;
  const consumed: number[] = [];
  let agreeing = 0;
  for (let r = 0; r < rows; r++) {
    const off = r * classes;
    const k = argmaxAt(reference, off, classes);
    const kc = argmaxAt(candidate, off, classes);
    if (k === kc) agreeing++;
    const margin = reference[off + k]! - runnerUp(reference, off, classes, k);
    const kept = candidate[off + k]! - runnerUp(candidate, off, classes, k);
    if (k !== kc) consumed.push(Math.max(1.000001, margin > 0 ? (margin - kept) / margin : Infinity));
    else consumed.push(margin > 0 ? Math.min(1, Math.max(0, (margin - kept) / margin)) : 0);
  }
  const agreement = agreeing / rows;
  const passed = agreement >= threshold;
  const allowedFlips = Math.floor((1 - threshold) * rows + 1e-9);
  consumed.sort((a, b) => b - a);
  let usage = allowedFlips < rows ? consumed[allowedFlips]! : 0;
  if (!passed) usage = Math.max(usage, 1.000001);
  else usage = Math.min(usage, 1);
  return { rows, agreeing, agreement, passed, usage };
}

/** Mean over rows of KL(reference || candidate), or why the output is not a distribution. */
export function meanKlDivergence(reference: Float32Array, candidate: Float32Array, shape: readonly number[]): number | string {
  if (shape.length < 2) return `KL divergence needs rows of probabilities (rank >= 2), got shape [${shape.join(', ')}]`;
  const classes = shape[shape.length - 1]!;
  const rows = classes > 0 ? reference.length / classes : 0;
  if (rows === 0) return `KL divergence needs a non-empty output, got shape [${shape.join(', ')}]`;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const off = r * classes;
    let sum = 0;
    let kl = 0;
    for (let j = 0; j < classes; j++) {
      const p = reference[off + j]!;
      const q = Math.max(candidate[off + j]!, 1e-30);
      if (p < -1e-6) return `KL divergence applies to probability outputs; row ${r} has a negative value ${p}`;
      sum += p;
      if (p > 0) kl += p * (Math.log(p) - Math.log(q));
    }
    if (Math.abs(sum - 1) > 1e-3)
      return `KL divergence applies to probability outputs (rows summing to 1); row ${r} sums to ${sum.toPrecision(4)}`;
    total += Math.max(0, kl);
  }
  return total / rows;
}

function argmaxAt(values: Float32Array, offset: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (values[offset + j]! > values[offset + best]!) best = j;
  return best;
}

function runnerUp(values: Float32Array, offset: number, n: number, except: number): number {
  let best = -Infinity;
  for (let j = 0; j < n; j++) if (j !== except && values[offset + j]! > best) best = values[offset + j]!;
  return n > 1 ? best : -Infinity;
}

/** Usage of a user metric's bounds: value / max (lower is better), min / value (higher is better). */
function metricUsage(value: number, m: BudgetMetric, passed: boolean): number {
  let usage = 0;
  if (m.max !== undefined) usage = Math.max(usage, m.max > 0 ? Math.max(0, value / m.max) : value <= m.max ? 0 : Infinity);
  if (m.min !== undefined) usage = Math.max(usage, m.min > 0 && value > 0 ? m.min / value : value >= m.min ? 0 : Infinity);
  return passed ? Math.min(usage, 1) : Math.max(usage, 1.000001);
}

/** a / b, where 0 / 0 is 0 (nothing used of nothing allowed) and x / 0 is Infinity. */
function ratio(a: number, b: number): number {
  if (a === 0) return 0;
  return b > 0 ? a / b : Infinity;
}

/** A budget as plain JSON for reports: the metric function becomes its name and bounds. */
export function describeBudget(budget: ValidationBudget): Record<string, Record<string, number | string>> {
  const out: Record<string, Record<string, number | string>> = {};
  for (const [name, b] of Object.entries(budget)) {
    const entry: Record<string, number | string> = {};
    if (b.tolerance !== undefined) entry.tolerance = b.tolerance;
    if (b.atol !== undefined) entry.atol = b.atol;
    if (b.rtol !== undefined) entry.rtol = b.rtol;
    if (b.argmaxAgreement !== undefined) entry.argmaxAgreement = b.argmaxAgreement;
    if (b.klDivergence !== undefined) entry.klDivergence = b.klDivergence;
    if (b.metric)
      entry.metric = [
        b.metric.name,
        b.metric.min !== undefined ? `>= ${b.metric.min}` : '',
        b.metric.max !== undefined ? `<= ${b.metric.max}` : '',
      ]
        .filter(Boolean)
        .join(' ');
    out[name] = entry;
  }
  return out;
}

/**
 * The achieved budget values in a few words: `policy argmaxAgreement 1 (>= 0.99), value
 * maxAbsDiff 3.1e-3 (<= 0.01 + 0 x |expected|)`; the tolerance term reads `SR max |diff|
 * 4.4e-5 = 1.6e-7 of the output scale 277 (allowed 0.0001 of scale)`.
 */
export function summariseOutcomes(outcomes: readonly BudgetOutcome[]): string {
  // Every output under the same tolerance (the default check): the allowance once, at the end.
  const shared = outcomes[0]?.tolerance;
  if (shared !== undefined && outcomes.every((o) => o.term === 'scaledMaxAbsDiff' && o.tolerance === shared))
    return `${outcomes.map(describeScaled).join(', ')} (allowed ${shared} of scale)`;
  return outcomes
    .map((o) => (o.term === 'scaledMaxAbsDiff' ? `${describeScaled(o)} (allowed ${o.tolerance} of scale)` : describeOutcome(o)))
    .join(', ');
}

/** `SR max |diff| 4.4e-5 = 1.6e-7 of the output scale 277`. */
function describeScaled(o: BudgetOutcome): string {
  return `${o.output} max |diff| ${short(o.maxAbsDiff ?? NaN)} = ${short(o.achieved)} of the output scale ${sig(o.scale ?? NaN)}`;
}

function describeOutcome(o: BudgetOutcome): string {
  return `${o.output} ${o.term} ${formatAchieved(o)} (${o.limit})`;
}

function formatAchieved(o: BudgetOutcome): string {
  if (o.term === 'argmaxAgreement') return Number(o.achieved.toFixed(4)).toString();
  return Number.isFinite(o.achieved) ? Number(o.achieved.toPrecision(3)).toString() : String(o.achieved);
}

function fmt(x: number): string {
  return x.toExponential(2);
}

/** Two significant digits in exponent form, `4.4e-5`; 0 as `0`. */
function short(x: number): string {
  return x === 0 ? '0' : Number.isFinite(x) ? x.toExponential(1) : String(x);
}

/** Three significant digits, as JavaScript writes them: `277`, `0.957`, `3460`, `1e-6`. */
function sig(x: number): string {
  return Number(x.toPrecision(3)).toString();
}
