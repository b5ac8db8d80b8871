/** The weights a plugin changed, in the user's model and in the input model, and the `input-untouched` check of `apply` alone. */
import { check, type ConformanceCheck } from './checks.js';
import { describeChanged } from './wording.js';

/** Names of the weights changed since they were captured: of the user's model, and of the input model when it is a copy. */
export interface WeightChanges {
  readonly user: string[];
  readonly input: string[];
}

export function anyChanged(changes: WeightChanges): boolean {
  return changes.user.length + changes.input.length > 0;
}

/** `input-untouched` when only `apply` ran (no result was used): failed for any change, else passed with `unchanged`. */
export function inputUntouchedByApply(changes: WeightChanges, unchanged: string): ConformanceCheck {
  return anyChanged(changes)
    ? check('input-untouched', 'failed', `apply changed weights of ${describeChanged(changes.user, changes.input)}`)
    : check('input-untouched', 'passed', unchanged);
}
