/**
 * Injection tokens. Each names one thing that can be swapped through a child container.
 * Class-typed services (Validator, Benchmarker, ...) are their own tokens.
 */
export const PLUGIN_CLASS = Symbol.for('kiln.PluginClass');
/** Imports a module by specifier; swapped in tests to inject stand-in modules. */
export const MODULE_IMPORTER = Symbol.for('kiln.ModuleImporter');
/** The validated configuration of the current run. */
export const KILN_CONFIG = Symbol.for('kiln.Config');
/** Where log lines go (defaults to a silent logger in library use). */
export const LOGGER = Symbol.for('kiln.Logger');

export type ModuleImporter = (specifier: string) => Promise<unknown>;
/** The container of the current pipeline run (for plugins that collect registrations, e.g. fusion patterns). */
export const RUN_CONTAINER = Symbol.for('kiln.RunContainer');
/** Multi-token of graph fusion patterns added by third parties (`FusionPattern` objects). */
export const FUSION_PATTERN = Symbol.for('kiln.FusionPattern');
/** Multi-token of model format adapters (`ModelFormat` objects; see `registerModelFormat`). */
export const MODEL_FORMAT = Symbol.for('kiln.ModelFormat');
/** Multi-token of execution engines (`ExecutionEngine` objects; see `registerEngine`). */
export const EXECUTION_ENGINE = Symbol.for('kiln.ExecutionEngine');

/** Imports with Node's own `import()`: the default `MODULE_IMPORTER`. */
export const nodeImporter: ModuleImporter = (specifier) => import(specifier);
