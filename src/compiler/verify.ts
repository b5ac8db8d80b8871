import * as tf from '@tensorflow/tfjs';
import { allclose } from '../core/validation/allclose.js';

/** Which replayed calls of a plan also run the function eagerly, to compare (see `CompileOptions.verify`). */
export type VerifyPolicy = 'first-n' | 'every-n' | 'always' | 'off';

export const VERIFY_POLICIES: readonly VerifyPolicy[] = ['first-n', 'every-n', 'always', 'off'];

export interface VerifySettings {
  readonly policy: VerifyPolicy;
  /** `first-n`: replayed calls verified per plan. */
  readonly first: number;
  /** `every-n`: the period, in replayed calls (the 1st, the (every+1)th, ...). */
  readonly every: number;
  readonly atol: number;
  readonly rtol: number;
}

/** The first replayed call of each plan, within float rounding of the executors and passes. */
export const DEFAULT_VERIFY = { policy: 'first-n', first: 1, every: 100, atol: 1e-4, rtol: 1e-3 } as const satisfies VerifySettings;

/** What the compiler cannot see, in the words `explain` and the warnings use. */
export const CLOSURE_LIMIT =
  'a trace freezes the JavaScript state the function closes over (numbers, flags, tensors rebound after the trace), which no guard can see';

/** Whether the `replay`-th replayed call of a plan (1 for the first) is verified. */
export function isVerifiedCall(v: VerifySettings, replay: number): boolean {
  switch (v.policy) {
    case 'first-n':
      return replay <= v.first;
    case 'every-n':
      return (replay - 1) % v.every === 0;
    case 'always':
      return true;
    case 'off':
      return false;
  }
}

/** The policy in words, for stats and explain. */
export function describeVerify(v: VerifySettings): string {
  const against = `checked against eager (atol ${v.atol}, rtol ${v.rtol})`;
  switch (v.policy) {
    case 'first-n':
      return `first ${v.first} replayed call${v.first === 1 ? '' : 's'} of each plan ${against}`;
    case 'every-n':
      return `replayed calls 1, ${v.every + 1}, ${2 * v.every + 1}, ... of each plan ${against}`;
    case 'always':
      return `every replayed call ${against}`;
    case 'off':
      return 'off';
  }
}

/** Where the plan's outputs and eager's part (count, list-ness, shape, dtype, values), in words; undefined when they agree. */
export function compareWithEager(
  plan: readonly tf.Tensor[],
  planIsList: boolean,
  eager: unknown,
  v: Pick<VerifySettings, 'atol' | 'rtol'>,
): string | undefined {
  const list = Array.isArray(eager) ? (eager as unknown[]) : [eager];
  if (!list.every((t) => t instanceof tf.Tensor)) return 'eager returned something other than tensors';
  if (Array.isArray(eager) !== planIsList || list.length !== plan.length)
    return `eager returned ${Array.isArray(eager) ? `a list of ${list.length}` : 'one tensor'}, the replay ${planIsList ? `a list of ${plan.length}` : 'one tensor'}`;
  for (let i = 0; i < plan.length; i++) {
    const e = list[i] as tf.Tensor;
    const p = plan[i]!;
    if (e.dtype !== p.dtype || e.shape.join(',') !== p.shape.join(','))
      return `the replay's output ${i} is ${p.dtype}[${p.shape.join(', ')}], eager's ${e.dtype}[${e.shape.join(', ')}]`;
    const c = allclose(e.dataSync(), p.dataSync(), v.atol, v.rtol);
    if (!c.ok) return `the replay's output ${i} differs from eager by ${c.maxAbsDiff}`;
  }
  return undefined;
}
