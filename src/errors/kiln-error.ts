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
  | 'CANDIDATE_REJECTED'
  | 'SOURCE_CHANGED';

export class KilnError extends Error {
  readonly code: KilnErrorCode;

  constructor(code: KilnErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Text of an unknown error, for reports and chained messages. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
