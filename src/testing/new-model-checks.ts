/**
 * The direct checks of a new model from `apply`: it is called (counting what each
 * call leaves behind), validated against the reference, disposed twice, and its
 * input run again; then every finding is judged.
 */
import type * as tf from '@tensorflow/tfjs';
import type { KilnConfig } from '../config/kiln-config.js';
import { describeError } from '../core/errors.js';
import type { KilnModel } from '../core/kiln-model.js';
import type { ValidationSession } from '../core/validation/validator.js';
import { defaultTerms, describeTerms } from '../core/validation/tolerance.js';
import { check, type ConformanceCheck } from './checks.js';
import { memory, runOnceEither, type MemoryCount } from './measure.js';
import type { WeightChanges } from './weight-changes.js';
import { describeChanged, plural } from './wording.js';

/** What a new model is checked against: the input `apply` was given, the samples, the validation session and the weights' guards. */
export interface ResultContext {
  readonly input: KilnModel;
  readonly samples: readonly tf.Tensor[];
  readonly validation: ValidationSession;
  readonly config: KilnConfig;
  /** The weights changed since `apply` was called. */
  changed(): WeightChanges;
}

/** What was found while the new model was used and disposed, before any of it is judged. */
interface ResultFindings {
  /** What its predict threw, or what each call left behind on average. */
  readonly use: { readonly error: string } | { readonly perCall: MemoryCount };
  readonly tolerance: ConformanceCheck;
  readonly drift?: string;
  /** Weights changed once the result had run. */
  readonly afterUse: WeightChanges;
  /** Held with the result alive, and once it was disposed. */
  readonly held: MemoryCount;
  readonly afterDispose: MemoryCount;
  readonly disposeError?: string;
  readonly secondDisposeError?: string;
  /** What the input threw when run after the result was disposed. */
  readonly inputError?: string;
  /** Weights changed once the result was disposed and its input run again. */
  readonly inputAfter: WeightChanges;
}

/** Uses, validates and disposes `result`, then judges it; `drift` says how it left the tolerance, if it did. */
export async function checkNewModel(
  result: KilnModel,
  context: ResultContext,
  timeLimit: ConformanceCheck,
  afterApply: WeightChanges,
  before: MemoryCount,
): Promise<{ checks: ConformanceCheck[]; drift?: string }> {
  const findings = await exercise(result, context);
  const mutated = {
    user: [...new Set([...afterApply.user, ...findings.afterUse.user])],
    input: [...new Set([...afterApply.input, ...findings.afterUse.input])],
  };
  const checks = [
    mutated.user.length + mutated.input.length
      ? check(
          'input-untouched',
          'failed',
          `weights changed (during apply or while its result ran) in ${describeChanged(mutated.user, mutated.input)}. Never write into the input's weights: copy them.`,
        )
      : check('input-untouched', 'passed', 'no weight of the input or the user model changed during apply or while its result ran'),
    timeLimit,
    findings.tolerance,
    noLeakPerCallCheck(findings.use),
    disposeFreesCheck(findings, before),
    disposeSafeCheck(findings, mutated),
  ];
  return { checks, ...(findings.drift ? { drift: findings.drift } : {}) };
}

/** Models that run only through `predictAsync` (onnxruntime's) are called and validated through it. */
async function exercise(result: KilnModel, context: ResultContext): Promise<ResultFindings> {
  const use = await perCallLeak(result, context.samples);
  const { tolerance, drift } = await validate(result, context);
  const afterUse = context.changed();
  const held = memory();
  const disposeError = attempt(() => result.dispose());
  const afterDispose = memory();
  const secondDisposeError = attempt(() => result.dispose());
  const inputError = await attemptAsync(() => runOnceEither(context.input, context.samples));
  const inputAfter = context.changed();
  return {
    use,
    tolerance,
    ...(drift ? { drift } : {}),
    afterUse,
    held,
    afterDispose,
    disposeError,
    secondDisposeError,
    inputError,
    inputAfter,
  };
}

/** Runs `work`; what it threw, in words, or undefined. */
function attempt(work: () => void): string | undefined {
  try {
    work();
    return undefined;
  } catch (error) {
    return describeError(error);
  }
}

/** `attempt` of work that may be asynchronous. */
async function attemptAsync(work: () => Promise<void>): Promise<string | undefined> {
  try {
    await work();
    return undefined;
  } catch (error) {
    return describeError(error);
  }
}

/** One call to warm up, then the average of what three more calls leave behind. */
async function perCallLeak(result: KilnModel, samples: readonly tf.Tensor[]): Promise<ResultFindings['use']> {
  try {
    await runOnceEither(result, samples);
    const start = memory();
    const calls = 3;
    for (let i = 0; i < calls; i++) await runOnceEither(result, samples);
    const end = memory();
    return { perCall: { tensors: (end.tensors - start.tensors) / calls, dataIds: (end.dataIds - start.dataIds) / calls } };
  } catch (error) {
    return { error: describeError(error) };
  }
}

/** The `tolerance` check: the result validated against the reference on cpu, within its accuracy budget or the config's default check. */
async function validate(
  result: KilnModel,
  { validation, config }: ResultContext,
): Promise<{ tolerance: ConformanceCheck; drift?: string }> {
  try {
    const budget = result.validationBudget;
    const v = await validation.checkAsync(result, budget);
    const declared = budget ? `its accuracy budget` : describeTerms(defaultTerms(config.validation));
    if (v.passed)
      return {
        tolerance: check(
          'tolerance',
          'passed',
          `within ${declared} on ${v.inputSets.length} input sets (max |diff| ${v.maxAbsDiff.toExponential(2)})`,
        ),
      };
    const drift = `its result is not within ${declared}: ${v.reason}`;
    return {
      tolerance: check(
        'tolerance',
        'failed',
        `${drift}. Check your result with context.validation.check and throw CandidateRejectedError when it does not hold.`,
      ),
      drift,
    };
  } catch (error) {
    return { tolerance: check('tolerance', 'failed', `validation could not run its result: ${describeError(error)}`) };
  }
}

function noLeakPerCallCheck(use: ResultFindings['use']): ConformanceCheck {
  if ('error' in use) return check('no-leak-per-call', 'failed', `its result threw when called: ${use.error}`);
  const { perCall } = use;
  return perCall.tensors > 0 || perCall.dataIds > 0
    ? check(
        'no-leak-per-call',
        'failed',
        `each predict call leaves ${perCall.tensors} tensor(s) and ${perCall.dataIds} backend buffer(s) behind (tf.memory().numTensors grows on every call); wrap the call in tf.tidy or dispose intermediates`,
      )
    : check('no-leak-per-call', 'passed', 'no tensor or backend buffer left behind per call');
}

/** `dispose-frees`: once disposed, the tensors and buffers are back where they were before `apply`. */
function disposeFreesCheck(findings: ResultFindings, before: MemoryCount): ConformanceCheck {
  const { held, afterDispose, disposeError } = findings;
  if (disposeError !== undefined) return check('dispose-frees', 'failed', `dispose() threw: ${disposeError}`);
  const leftTensors = afterDispose.tensors - before.tensors;
  const leftIds = afterDispose.dataIds - before.dataIds;
  if (leftTensors !== 0 || leftIds !== 0) {
    return check(
      'dispose-frees',
      'failed',
      `after dispose() ${plural(leftTensors, 'tensor')} and ${plural(leftIds, 'backend buffer')} are still held of the ${plural(held.tensors - before.tensors, 'tensor')} its model held; dispose() must free everything apply allocated${leftTensors < 0 ? ' (a negative count: it freed tensors that were not its own)' : ''}`,
    );
  }
  return check(
    'dispose-frees',
    'passed',
    held.tensors > before.tensors
      ? `dispose() freed all ${plural(held.tensors - before.tensors, 'tensor')} its model held`
      : 'its model held no tensors of its own, and none were left after dispose()',
  );
}

/** `dispose-safe`: a second dispose() is harmless, the input still runs, and dispose() changed none of the input's weights. */
function disposeSafeCheck(findings: ResultFindings, mutated: WeightChanges): ConformanceCheck {
  const unsafe: string[] = [];
  if (findings.secondDisposeError !== undefined) unsafe.push(`a second dispose() threw: ${findings.secondDisposeError}`);
  if (findings.inputError !== undefined) unsafe.push(`its input no longer runs after dispose(): ${findings.inputError}`);
  const disposedInput = [...findings.inputAfter.user, ...findings.inputAfter.input].filter(
    (n) => !mutated.user.includes(n) && !mutated.input.includes(n),
  );
  if (disposedInput.length)
    unsafe.push(`dispose() touched the input's weights (${disposedInput.slice(0, 5).join(', ')}); it must free only what apply made`);
  return unsafe.length
    ? check('dispose-safe', 'failed', unsafe.join('; '))
    : check('dispose-safe', 'passed', 'the input still runs, and dispose() twice is harmless');
}
