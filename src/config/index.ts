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
export {
  CONFIG_OBJECT_SOURCE,
  loadConfig,
  validateConfig,
  type LoadConfigOptions,
  type ValidateConfigOptions,
} from './load-config.js';
export {
  CONFIG_DESCRIPTIONS,
  configReference,
  formatDefault,
  JSON_SCHEMA_DIALECT,
  kilnJsonSchema,
  renderConfigReference,
  type ConfigField,
  type ConfigSchemaOptions,
  type JsonSchema,
  type SchemaPlugin,
} from './json-schema.js';
export { mergeOverrides } from './merge-overrides.js';
export {
  defaultModuleImporter,
  importPluginModules,
  resolvePluginSpecifier,
  type ImportPluginModulesOptions,
} from './plugin-modules.js';
export { parseConfigText, readConfigFile } from './read-config-file.js';
export { resolvePipeline, validateOptions, type ResolvedCandidate, type ResolvedSlot } from './resolve-pipeline.js';
export {
  IsBooleanValue,
  IsMapping,
  IsNonEmptyString,
  IsNumberInRange,
  IsOneOfValues,
  IsStringList,
  explain,
  type FieldOptions,
  type NumberRange,
  type StringListRule,
} from './validators.js';
export {
  Backends,
  KilnSettings,
  Mode,
  PipelineSteps,
  Plugins,
  Setting,
  Tolerance,
  TrainingMode,
  configFromClass,
  kilnSettingsOf,
  settingFieldsOf,
  type ConfigFromClassOptions,
  type ConfigWithSettings,
  type KilnSettingsOptions,
  type PipelineStep,
  type SettingField,
} from './config-class.js';
