/**
 * tfjs-kiln: validated, fall-back-safe optimisation of TensorFlow.js models.
 * This module is the package's only public surface.
 */
import 'reflect-metadata';

// The entry point most users need.
export { optimize, type OptimizeOptions } from './optimize.js';
export type { OptimizationResult, PipelineObserver, PipelineRunOptions } from './core/pipeline/pipeline.js';
export { Pipeline } from './core/pipeline/pipeline.js';
export { OptimizedModel } from './core/pipeline/optimized-model.js';
export { ShapeDispatchModel, type ShapeVariant } from './core/pipeline/shape-dispatch-model.js';
export type {
  Decision,
  DecisionStatus,
  EndToEnd,
  KilnReport,
  MetricValue,
  ProfileEntry,
  ShapeProfileReport,
} from './core/pipeline/report.js';

// Compiling models and functions (torch.compile style), and @compiled() methods.
export { compile, type CompiledFunction } from './compiler/api/compile.js';
export { compiled, compiledFunctionOf } from './compiler/api/compiled-decorator.js';
export { CompiledModel } from './compiler/api/compiled-model.js';
export type { CompileOptions } from './compiler/api/compile-options.js';
export { explain, type Explanation } from './compiler/api/explain.js';
export type { CompileMode, EagerSignature, GraphFunctionStats } from './compiler/graph-function.js';
export type { PlanStats } from './compiler/compiled-plan.js';

// Writing plugins.
export { Plugin, pluginMetaOf, type PluginRegistrationOptions } from './core/plugin-decorator.js';
export {
  AVAILABLE,
  unavailable,
  type Availability,
  type AvailabilityContext,
  type KilnMode,
  type OptimizationPlugin,
  type PluginContext,
  type PluginKind,
  type PluginMeta,
  type PluginObjective,
  type PluginValidation,
} from './core/plugin.js';
export { PluginRegistry, type RegisteredPlugin } from './core/plugin-registry.js';
export { outputsAsArray, runsSynchronously, type KilnModel, type TensorSpec } from './core/kiln-model.js';
export { activateBackend, withBackend, withBackendAsync } from './core/backend-scope.js';
export { createRunContainer, type RunContainerOptions } from './core/run-container.js';
export {
  EXECUTION_ENGINE,
  KILN_CONFIG,
  LOGGER,
  MODEL_FORMAT,
  MODULE_IMPORTER,
  nodeImporter,
  PLUGIN_CLASS,
  RUN_CONTAINER,
  type ModuleImporter,
} from './core/tokens.js';
export { ConsoleLogger, type Logger, type LogLevel } from './core/logger.js';

// Extension points: model formats and execution engines (docs/architecture.md).
export { FormatRegistry, registerModelFormat } from './core/formats/format-registry.js';
export type { ModelFormat, ModelWeight, StockModel } from './core/formats/model-format.js';
export { EngineRegistry, registerEngine } from './core/engines/engine-registry.js';
export { EngineManager } from './core/engines/engine-manager.js';
export type { EngineStartContext, ExecutionEngine } from './core/engines/execution-engine.js';
export { cloneLayersModel, GraphKilnModel, graphModelFormat, LayersKilnModel, layersModelFormat } from './formats/index.js';
export {
  BUILT_IN_ENGINES,
  CPU_ENGINE,
  TENSORFLOW_ENGINE,
  TENSORFLOW_GPU_ENGINE,
  TfjsBackendEngine,
  WASM_ENGINE,
  WASM_THREADS_ENGINE,
  type BackendDescriptor,
} from './engines/index.js';
export {
  ONNXRUNTIME_ENGINE,
  OnnxRuntimeModel,
  THREAD_MEASUREMENT,
  THREAD_SETTINGS,
  type ThreadChoice,
  type ThreadMeasurement,
  type ThreadSetting,
} from './engines/index.js';

// ONNX: lowering a traced model to an ONNX file (`kiln export --format onnx`), run by the onnxruntime engine.
export {
  chooseWeightStorage,
  describeOnnxSize,
  lowerCall,
  lowerModel,
  ONNX_OPSET,
  UnsupportedKernelError,
  type KernelLowering,
  type LowerCallOptions,
  type OnnxExport,
  type WeightStorage,
  type WeightStorageSummary,
} from './lowering/index.js';

// Services plugins can inject.
export {
  seededWeightedSum,
  Validator,
  ValidationSession,
  type LossFunction,
  type Mismatch,
  type ValidationResult,
  type ValidationSettings,
} from './core/validation/validator.js';
export { allclose, type Closeness } from './core/validation/allclose.js';
export { ANY_OUTPUT, type BudgetMetric, type BudgetOutcome, type OutputBudget, type ValidationBudget } from './core/validation/budget.js';
export {
  Benchmarker,
  type BenchmarkResult,
  type BenchmarkSettings,
  type BenchmarkSubject,
  type VariantFigures,
} from './core/benchmark/benchmarker.js';
export { summariseTimings, type TimingStats } from './core/benchmark/timing-stats.js';

// Configuration: the config classes, validating and loading them, and declaring them in code.
export {
  BackendConfig,
  BenchmarkConfig,
  CandidateConfig,
  DEFAULT_BACKEND_PREFERENCE,
  KilnConfig,
  SlotConfig,
  ValidationConfig,
  validateConfig,
  type ValidateConfigOptions,
} from './config/index.js';
export { kilnJsonSchema, type ConfigSchemaOptions, type JsonSchema, type SchemaPlugin } from './config/index.js';
export {
  loadConfig,
  type LoadConfigOptions,
  Backends,
  KilnSettings,
  Mode,
  PipelineSteps,
  Plugins,
  Setting,
  Tolerance,
  TrainingMode,
  configFromClass,
  type ConfigFromClassOptions,
  type ConfigWithSettings,
  type KilnSettingsOptions,
  type PipelineStep,
  type SettingField,
} from './core/config-loading/index.js';

// Options classes of plugins: the validators, their messages and @Description.
export {
  Description,
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
} from './config/index.js';

// Model files on disk.
export {
  diskModelIO,
  loadGraphModelFromDisk,
  loadLayersModelFromDisk,
  loadModelFromDisk,
  loadStockModelFromDisk,
  saveArtifactsToDisk,
  saveModelToDisk,
  writeFileAtomic,
  writeFilesAtomic,
  type DiskModelIOOptions,
} from './io/index.js';

// Errors.
export {
  CandidateRejectedError,
  CompileStrictError,
  ConfigError,
  InputError,
  KilnError,
  ModelFileError,
  OptimizationFailedError,
  PluginError,
  type KilnErrorCode,
} from './core/errors.js';

// Built-in plugins (importing them registers them), their options classes and what their users call.
export {
  BackendPlugin,
  CpuBackendPlugin,
  defineBackendPlugin,
  GraphCompileOptions,
  GraphCompilePlugin,
  MixedPrecisionOptions,
  MixedPrecisionPlugin,
  OpFusionOptions,
  OnnxRuntimeBackendPlugin,
  OpFusionPlugin,
  OutputBudgetOptions,
  QuantizedKilnModel,
  stopWasmThreads,
  TensorflowBackendPlugin,
  TensorflowGpuBackendPlugin,
  WasmBackendPlugin,
  wasmThreadsInfo,
  WasmThreadsBackendPlugin,
  type BackendPluginClass,
  type PrecisionPolicy,
  type WasmThreadsInfo,
} from './plugins/index.js';

// Extra kernel-graph fusion patterns for op-fusion, registered under FUSION_PATTERN (docs/writing-plugins.md).
export { FUSION_PATTERN } from './core/tokens.js';
export { GraphTools, type FusionContext, type FusionPattern, type FusionSite } from './plugins/op-fusion/kernel-fusion/index.js';
export type { GraphValue, KernelGraph, KernelNode, ValueId, ValueKind } from './compiler/ir.js';

// The demo model.
export { buildShogiResNet, SHOGI_INPUT_SHAPE, SHOGI_POLICY_SIZE, type ShogiResNetOptions } from './zoo/shogi-resnet.js';
export { KILN_VERSION } from './core/version.js';
