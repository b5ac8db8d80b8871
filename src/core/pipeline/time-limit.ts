import { MAX_TIME_LIMIT_MS } from '../../config/kiln-config.js';
import { KilnError } from '../errors.js';
import { startWork } from './expired-work.js';

/**
 * Runs `work` with a time limit. On expiry the signal is aborted, the work is marked
 * expired (see expired-work.ts: what it does later can be told apart and ignored) and
 * the promise rejects with a TIME_LIMIT error; a result that arrives later is handed to
 * `onLate` (so it can be disposed) instead of being lost.
 */
export async function withTimeLimit<T>(
  work: (signal: AbortSignal) => Promise<T>,
  limitMs: number,
  what: string,
  onLate: (late: T) => void,
): Promise<T> {
  if (!(limitMs >= 1 && limitMs <= MAX_TIME_LIMIT_MS)) {
    throw new RangeError(
      `${what}: time limit ${limitMs} ms is out of range (1 to ${MAX_TIME_LIMIT_MS} ms; Node fires longer timers after 1 ms)`,
    );
  }
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  const started = startWork(what, () => Promise.resolve().then(() => work(controller.signal)));
  const running = started.result;
  running.then(
    (value) => {
      if (expired) onLate(value);
    },
    () => undefined,
  );
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      started.expire();
      controller.abort();
      reject(new KilnError('TIME_LIMIT', `${what} did not finish within its time limit of ${limitMs} ms`));
    }, limitMs);
  });
  try {
    return await Promise.race([running, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
