export { describeError, KilnError, type KilnErrorCode } from './kiln-error.js';
export { ConfigError, InputError, ModelFileError, PluginError } from './input-errors.js';
