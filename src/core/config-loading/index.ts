export { loadConfig, type LoadConfigOptions } from './load-config.js';
export { defaultModuleImporter, importPluginModules, resolvePluginSpecifier, type ImportPluginModulesOptions } from './plugin-modules.js';
export { resolvePipeline, type ResolvedCandidate, type ResolvedSlot } from './resolve-pipeline.js';
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
