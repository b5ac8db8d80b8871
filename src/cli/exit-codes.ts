import { KilnError } from '../core/errors.js';

/** 0 done; 1 optimisation failed (fallback: false) or an unexpected error; 2 usage or configuration error. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export function exitCodeFor(error: unknown): number {
  if (!(error instanceof KilnError)) return EXIT_FAILED;
  return error.code === 'OPTIMIZATION_FAILED' || error.code === 'TIME_LIMIT' ? EXIT_FAILED : EXIT_USAGE;
}
