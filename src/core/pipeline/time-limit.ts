import { KilnError } from '../errors.js';

/**
 * Runs `work` with a time limit. On expiry the signal is aborted and the promise
 * rejects with a TIME_LIMIT error; a result that arrives later is handed to `onLate`
 * (so it can be disposed) instead of being lost.
 */
export async function withTimeLimit<T>(
  work: (signal: AbortSignal) => Promise<T>,
  limitMs: number,
  what: string,
  onLate: (late: T) => void,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  const running = Promise.resolve().then(() => work(controller.signal));
  running.then(
    (value) => {
      if (expired) onLate(value);
    },
    () => undefined,
  );
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
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
