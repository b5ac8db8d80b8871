/**
 * Calling `apply` under its time limit (Kiln's own `withTimeLimit`), timed, with
 * what it returned, threw, or that it overran.
 */
import type { KilnModel } from '../core/kiln-model.js';
import type { OptimizationPlugin, PluginContext } from '../core/plugin.js';
import { withTimeLimit } from '../core/pipeline/time-limit.js';

export interface ApplyOutcome {
  readonly result?: KilnModel;
  readonly error?: unknown;
  readonly timedOut: boolean;
  readonly ms: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls `apply` under the time limit; a result that arrives late is disposed. An
 * `apply` that finishes but took longer than the limit (it blocked the event loop)
 * has overrun too.
 */
export async function applyWithLimit(
  plugin: OptimizationPlugin<object>,
  input: KilnModel,
  context: (signal: AbortSignal) => PluginContext<object>,
  limitMs: number,
): Promise<ApplyOutcome> {
  const discard = (result: KilnModel) => {
    if (result !== input) result.dispose();
  };
  /** Settles when `apply` does, returned or thrown. */
  let finished: Promise<void> | undefined;
  let settled = false;
  const work = (signal: AbortSignal) => {
    const applying = Promise.resolve().then(() => plugin.apply(input, context(signal)));
    finished = applying.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    return applying;
  };
  const started = performance.now();
  let outcome: { result?: KilnModel; error?: unknown };
  try {
    outcome = { result: await withTimeLimit(work, limitMs, `${plugin.constructor.name}.apply`, discard) };
  } catch (error) {
    outcome = { error };
  }
  const ms = performance.now() - started;
  if (settled && ms <= limitMs) return { ...outcome, timedOut: false, ms };
  // Over the limit. Still running (its signal aborted): give it a moment to stop. A result is freed, now or when it arrives.
  if (!settled) await Promise.race([finished, sleep(Math.min(limitMs, 5000))]);
  if (outcome.result) discard(outcome.result);
  return { timedOut: true, ms };
}
