export {
  BACKEND_NAME_PATTERN,
  BackendConfig,
  BenchmarkConfig,
  CandidateConfig,
  DEFAULT_BACKEND_PREFERENCE,
  KilnConfig,
  SlotConfig,
  ValidationConfig,
  setConfigDir,
} from './kiln-config.js';
export {
  describeValidationErrors,
  formatPath,
  formatProblem,
  formatValidationErrors,
  type ConfigProblem,
  type PathSegment,
} from './format-validation-errors.js';
export { Description, describedPropertiesOf, descriptionOf } from './description.js';
export {
  configReference,
  formatDefault,
  JSON_SCHEMA_DIALECT,
  kilnJsonSchema,
  renderConfigReference,
  type ConfigField,
  type ConfigSchemaOptions,
  type JsonSchema,
  type SchemaPlugin,
} from './json-schema/index.js';
export { mergeOverrides } from './merge-overrides.js';
export { parseConfigText, readConfigFile } from './read-config-file.js';
export {
  IsBooleanValue,
  IsMapping,
  IsNonEmptyString,
  IsNumberInRange,
  IsOneOfValues,
  IsStringList,
  validationMessage,
  type FieldOptions,
  type NumberRange,
  type StringListRule,
} from './validators.js';
export { CONFIG_OBJECT_SOURCE, validateConfig, type ValidateConfigOptions } from './validate-config.js';
export { validateOptions } from './validate-options.js';
export type { KilnMode } from './kiln-mode.js';
