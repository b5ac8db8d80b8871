/**
 * The direct checks when `apply` gave no new model: the `time-limit` check, and the
 * checks of an `apply` that overran, threw (or reported itself rejected), or returned its input.
 */
import { CandidateRejectedError, describeError } from '../core/errors.js';
import type { ApplyOutcome } from './apply-with-limit.js';
import { check, type ConformanceCheck } from './checks.js';
import type { MemoryCount } from './measure.js';
import { inputUntouchedByApply, type WeightChanges } from './weight-changes.js';
import { plural } from './wording.js';

export function timeLimitCheck(outcome: ApplyOutcome, limitMs: number): ConformanceCheck {
  return outcome.timedOut
    ? check(
        'time-limit',
        'failed',
        `apply took more than its time limit of ${limitMs} ms (${outcome.ms.toFixed(0)} ms when given up on). Check context.signal in long loops and return or throw when it is aborted.`,
      )
    : check('time-limit', 'passed', `apply took ${outcome.ms.toFixed(0)} ms (limit ${limitMs} ms)`);
}

/** `apply` overran: there is no result to check. */
export function overranChecks(timeLimit: ConformanceCheck, afterApply: WeightChanges): ConformanceCheck[] {
  const why = 'apply did not finish within its time limit';
  return [
    inputUntouchedByApply(afterApply, 'no weight changed while apply ran'),
    timeLimit,
    check('tolerance', 'failed', `${why}: there is no result to validate`),
    check('no-leak-per-call', 'skipped', why),
    check('dispose-frees', 'skipped', why),
    check('dispose-safe', 'skipped', why),
  ];
}

/** `apply` threw: rejected on purpose (`CandidateRejectedError`, with a reason), or failed; it must free what it allocated first. */
export function threwChecks(
  error: unknown,
  timeLimit: ConformanceCheck,
  afterApply: WeightChanges,
  before: MemoryCount,
  left: MemoryCount,
): ConformanceCheck[] {
  const rejected = error instanceof CandidateRejectedError;
  const what = rejected ? 'rejected' : 'threw';
  const leftTensors = left.tensors - before.tensors;
  const leftIds = left.dataIds - before.dataIds;
  return [
    inputUntouchedByApply(afterApply, 'no weight changed'),
    timeLimit,
    rejected
      ? error.message.trim()
        ? check('tolerance', 'passed', `reported itself rejected: ${error.message}`)
        : check('tolerance', 'failed', 'threw CandidateRejectedError without a message; say why no result was possible')
      : check(
          'tolerance',
          'failed',
          `apply threw: ${describeError(error)}. A plugin returns its input when there is nothing to change, and throws CandidateRejectedError when it finds no result within its constraints.`,
        ),
    check('no-leak-per-call', 'skipped', `apply ${what}: no model to call`),
    leftTensors > 0 || leftIds > 0
      ? check(
          'dispose-frees',
          'failed',
          `after apply ${what}, ${plural(leftTensors, 'tensor')} and ${plural(leftIds, 'backend buffer')} it allocated were still held; free them before throwing`,
        )
      : check('dispose-frees', 'passed', `apply ${what} and left nothing behind`),
    check('dispose-safe', 'skipped', `apply ${what}: no model to dispose`),
  ];
}

/** `apply` returned its input (nothing to change): it must leave nothing of its own behind. */
export function inputReturnedChecks(
  timeLimit: ConformanceCheck,
  afterApply: WeightChanges,
  before: MemoryCount,
  left: MemoryCount,
  notes: readonly string[],
): ConformanceCheck[] {
  const why = `returned its input: ${notes.at(-1) ?? 'nothing to change'}`;
  return [
    inputUntouchedByApply(afterApply, 'no weight changed'),
    timeLimit,
    check('tolerance', 'passed', why),
    check('no-leak-per-call', 'skipped', why),
    left.tensors !== before.tensors || left.dataIds !== before.dataIds
      ? check(
          'dispose-frees',
          'failed',
          `it returned its input but still holds ${plural(left.tensors - before.tensors, 'tensor')} and ${plural(left.dataIds - before.dataIds, 'backend buffer')} it allocated; free what it made before returning`,
        )
      : check('dispose-frees', 'passed', 'it returned its input and left nothing behind'),
    check('dispose-safe', 'skipped', why),
  ];
}
