/**
 * The errors of the pipeline and the compiler. The base class, the codes and the
 * errors of what the user hands Kiln (config, plugins, model files, inputs) live in
 * `src/errors/`, below every other layer, and are re-exported here.
 */
import { KilnError } from '../errors/kiln-error.js';
import type { KilnReport } from './pipeline/report.js';

export { describeError, KilnError, type KilnErrorCode } from '../errors/kiln-error.js';
export { ConfigError, InputError, ModelFileError, PluginError } from '../errors/input-errors.js';

/**
 * Raised under `fallback: false` at the first candidate that is rolled back; carries
 * the report so far so the caller sees every decision up to and including it.
 */
export class OptimizationFailedError extends KilnError {
  constructor(
    message: string,
    readonly report: KilnReport,
    options?: { cause?: unknown },
  ) {
    super('OPTIMIZATION_FAILED', message, options);
  }
}

/**
 * Thrown by a plugin's `apply` when it ran but found no result within its own
 * constraints (e.g. no weight can be quantised within the accuracy budget): the
 * pipeline records the candidate `rejected` with this message, not `failed`.
 */
export class CandidateRejectedError extends KilnError {
  constructor(message: string) {
    super('CANDIDATE_REJECTED', message);
  }
}

/** Under `strict`, a recompile or an eager fallback of a compiled function. */
export class CompileStrictError extends KilnError {
  constructor(message: string) {
    super('COMPILE_STRICT', message);
  }
}
