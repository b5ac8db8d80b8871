/**
 * Every error Kiln raises on purpose. Each carries a stable `code` and a message
 * that names the thing at fault and what to do about it.
 */
export type KilnErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_SYNTAX'
  | 'CONFIG_NOT_FOUND'
  | 'PLUGIN_UNKNOWN'
  | 'PLUGIN_DUPLICATE'
  | 'PLUGIN_IMPORT'
  | 'PLUGIN_INVALID'
  | 'OPTIMIZATION_FAILED'
  | 'MODEL_FILE'
  | 'BACKEND_UNAVAILABLE'
  | 'INPUT_INVALID'
  | 'TIME_LIMIT'
  | 'COMPILE_STRICT'
  | 'CANDIDATE_REJECTED';

export class KilnError extends Error {
  readonly code: KilnErrorCode;

  constructor(code: KilnErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A problem in kiln.yaml or the object passed to `loadConfig`. */
export class ConfigError extends KilnError {
  constructor(message: string, code: KilnErrorCode = 'CONFIG_INVALID', options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A plugin that cannot be found, imported or registered. */
export class PluginError extends KilnError {}

/** A model file on disk that cannot be read or written safely. */
export class ModelFileError extends KilnError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_FILE', message, options);
  }
}

/** Inputs handed to Kiln that it cannot use. */
export class InputError extends KilnError {
  constructor(message: string) {
    super('INPUT_INVALID', message);
  }
}

/** Text of an unknown error, for reports and chained messages. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Raised under `fallback: false` at the first candidate that is rolled back; carries
 * the report so far so the caller sees every decision up to and including it.
 */
export class OptimizationFailedError extends KilnError {
  constructor(
    message: string,
    readonly report: import('./pipeline/report.js').KilnReport,
  ) {
    super('OPTIMIZATION_FAILED', message);
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
