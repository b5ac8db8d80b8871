/**
 * The checks of the conformance kit: their ids and titles, which run once per plugin
 * and which once per model, and the shape of one check's outcome.
 */

/** The checks, each an `it` of {@link describePluginConformance}. */
export const CONFORMANCE_CHECKS = Object.freeze({
  registered: 'is registered with complete @Plugin metadata and valid default options',
  available: 'answers isAvailable, with a reason when unavailable',
  'input-untouched': "never mutates its input (the input model's and the user's weights)",
  'time-limit': 'finishes apply within its time limit',
  tolerance: 'keeps its results within the tolerance it declares, or reports itself rejected',
  'no-leak-per-call': 'leaks no tensors or backend buffers per predict call',
  'dispose-frees': 'dispose() frees what apply allocated (tensors and backend buffers back where they were)',
  'dispose-safe': 'dispose() leaves its input usable and is safe to call twice',
  pipeline: "passes Kiln's pipeline: applied, skipped, rejected or unavailable with a reason, and leaves nothing behind",
} as const);

export type ConformanceCheckId = keyof typeof CONFORMANCE_CHECKS;

/** Checks made once per plugin, then once per model. */
export const PLUGIN_CHECK_IDS: readonly ConformanceCheckId[] = ['registered', 'available'];
export const MODEL_CHECK_IDS: readonly ConformanceCheckId[] = [
  'input-untouched',
  'time-limit',
  'tolerance',
  'no-leak-per-call',
  'dispose-frees',
  'dispose-safe',
  'pipeline',
];

/** The model checks made on the direct call of `apply` (all but the pipeline check). */
export const DIRECT_CHECK_IDS = [
  'input-untouched',
  'time-limit',
  'tolerance',
  'no-leak-per-call',
  'dispose-frees',
  'dispose-safe',
] as const satisfies readonly ConformanceCheckId[];

export interface ConformanceCheck {
  readonly id: ConformanceCheckId;
  readonly title: string;
  /** `skipped`: the check does not apply (the plugin is unavailable, or returned its input, ...); `message` says why. */
  readonly outcome: 'passed' | 'failed' | 'skipped';
  /** What was found, in words; for a failure, what is wrong and what to do. */
  readonly message: string;
}

/** One check's outcome, under its title. */
export function check(id: ConformanceCheckId, outcome: ConformanceCheck['outcome'], message: string): ConformanceCheck {
  return { id, title: CONFORMANCE_CHECKS[id], outcome, message };
}
