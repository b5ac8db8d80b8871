import { KilnError, type KilnErrorCode } from './kiln-error.js';

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
