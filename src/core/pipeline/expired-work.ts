import { AsyncLocalStorage } from 'node:async_hooks';
import * as tf from '@tensorflow/tfjs';
import type { Logger } from '../logger.js';

/** The async context of one piece of time-limited work: whether its time limit passed. */
interface WorkContext {
  readonly what: string;
  expired: boolean;
}

const work = new AsyncLocalStorage<WorkContext>();

/**
 * Runs `fn` as time-limited work named `what`: everything it starts, down every await
 * and timer, belongs to this work. `expire()` marks it as past its limit, after which
 * `expiredWork()` answers its name from inside it.
 */
export function startWork<T>(what: string, fn: () => Promise<T>): { readonly result: Promise<T>; expire(): void } {
  const context: WorkContext = { what, expired: false };
  return { result: work.run(context, fn), expire: () => void (context.expired = true) };
}

/** The name of the timed-out work the caller runs in, or undefined (not in time-limited work, or still within its limit). */
export function expiredWork(): string | undefined {
  const context = work.getStore();
  return context?.expired ? context.what : undefined;
}

let installed = 0;
let original: ((name: string) => Promise<boolean>) | undefined;
const loggers: Logger[] = [];

/**
 * While a pipeline runs, a plugin whose time limit passed can no longer switch tf.js's
 * global backend: its later `tf.setBackend` calls are ignored (answered `false`) with a
 * warning, so they cannot pull the backend from under the pipeline (a switch to a backend
 * that is still initialising makes every tf.js op throw). Returns the function that
 * removes the guard; nested runs share one.
 */
export function guardBackendSwitches(logger: Logger): () => void {
  const engine = tf.engine() as unknown as { setBackend(name: string): Promise<boolean> };
  if (installed++ === 0) {
    original = engine.setBackend;
    engine.setBackend = function guardedSetBackend(this: unknown, name: string): Promise<boolean> {
      const late = expiredWork();
      if (late) {
        loggers.at(-1)?.warn(`${late} switched the tf.js backend to "${name}" after its time limit; Kiln ignored it`);
        return Promise.resolve(false);
      }
      return original!.call(this, name);
    };
  }
  loggers.push(logger);
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    loggers.splice(loggers.lastIndexOf(logger), 1);
    if (--installed === 0) {
      // The prototype's method again (the guard was an own property of the engine).
      delete (engine as { setBackend?: unknown }).setBackend;
      original = undefined;
    }
  };
}
