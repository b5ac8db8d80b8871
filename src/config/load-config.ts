import 'reflect-metadata';
import * as path from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { ConfigError } from '../core/errors.js';
import { PluginRegistry } from '../core/plugin-registry.js';
import { allowedKeysOf, describeValidationErrors, formatProblem, formatValue, type ConfigProblem } from './format-validation-errors.js';
import { KilnConfig, setConfigDir } from './kiln-config.js';
import { mergeOverrides, overridesPath } from './merge-overrides.js';
import { importPluginModules } from './plugin-modules.js';
import { readConfigFile } from './read-config-file.js';
import { resolvePipeline } from './resolve-pipeline.js';

/** How a config object passed to `loadConfig` is named in messages. */
export const CONFIG_OBJECT_SOURCE = 'config object';
/** How values from `overrides` are named in messages. */
export const OVERRIDES_SOURCE = 'overrides';

export interface LoadConfigOptions {
  /**
   * Container for `MODULE_IMPORTER` and the registered plugins. Default: tsyringe's
   * root container.
   */
  readonly container?: DependencyContainer;
  /**
   * Values that win over the file's (command-line flags): mappings merge key by key,
   * lists and other values replace; `undefined` leaves the file's value.
   */
  readonly overrides?: object;
  /** Import the modules listed under `plugins:`. Default true. */
  readonly importPlugins?: boolean;
}

export interface ValidateConfigOptions {
  /** Names the config in messages: the file's path, or "config object". */
  readonly source?: string;
  readonly overrides?: object;
  /** Folder that `configDir` answers. Default `process.cwd()`. */
  readonly configDir?: string;
}

/**
 * Loads, validates and checks a Kiln configuration.
 *
 * - `source` a string: path of a YAML file (relative to the working folder); relative
 *   paths inside it are resolved against its folder. Missing: CONFIG_NOT_FOUND; bad
 *   YAML: CONFIG_SYNTAX (with line and column); an empty file means all defaults.
 * - `source` an object: the configuration itself (relative paths against `process.cwd()`).
 * - `source` undefined: all defaults.
 *
 * Then `overrides` are merged in, the result is validated (CONFIG_INVALID listing
 * every problem), the modules under `plugins:` are imported in order (PLUGIN_IMPORT),
 * and every plugin in `pipeline:` is looked up (PLUGIN_UNKNOWN) and its options
 * validated (CONFIG_INVALID). The returned config's `configDir` is the config's folder.
 */
export async function loadConfig(source?: string | object, options: LoadConfigOptions = {}): Promise<KilnConfig> {
  let raw: unknown;
  let sourceName: string;
  let configDir: string;
  if (typeof source === 'string') {
    const file = path.resolve(source);
    raw = await readConfigFile(file);
    sourceName = file;
    configDir = path.dirname(file);
  } else if (source === undefined) {
    raw = {};
    sourceName = 'default config';
    configDir = process.cwd();
  } else if (source !== null && typeof source === 'object' && !Array.isArray(source)) {
    raw = source;
    sourceName = CONFIG_OBJECT_SOURCE;
    configDir = source instanceof KilnConfig ? source.configDir : process.cwd();
  } else {
    throw new ConfigError(
      `loadConfig expects the path of a kiln.yaml file or a config object (got ${formatValue(source)}).`,
      'CONFIG_INVALID',
    );
  }

  const config = validateConfig(raw, { source: sourceName, overrides: options.overrides, configDir });
  const container = options.container ?? rootContainer;
  if (options.importPlugins !== false) {
    await importPluginModules(config.plugins, { baseDir: configDir, source: sourceName, container });
  }
  resolvePipeline(config, new PluginRegistry(container), sourceName);
  return config;
}

/**
 * Merges `overrides` over `raw`, turns the result into a {@link KilnConfig} (missing
 * keys and sections get their defaults) and validates it; every problem is one line
 * of the ConfigError (CONFIG_INVALID). Imports nothing and does not look plugins up.
 */
export function validateConfig(raw: unknown, options: ValidateConfigOptions = {}): KilnConfig {
  const source = options.source ?? CONFIG_OBJECT_SOURCE;
  if (options.overrides !== undefined && (options.overrides === null || typeof options.overrides !== 'object' || Array.isArray(options.overrides))) {
    throw new ConfigError(`${OVERRIDES_SOURCE}: wrong type (got ${formatValue(options.overrides)}); allowed: a mapping of config keys`, 'CONFIG_INVALID');
  }
  const merged = mergeOverrides(raw ?? {}, options.overrides);
  if (merged === null || typeof merged !== 'object' || Array.isArray(merged)) {
    throw new ConfigError(
      `${source}: (top level): wrong type (got ${formatValue(merged)}); allowed: a mapping of config keys`,
      'CONFIG_INVALID',
    );
  }
  const plain = merged as Record<string, unknown>;
  const config = plainToInstance(KilnConfig, plain, { exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  const problems: ConfigProblem[] = [...strayKeys(plain, config), ...describeValidationErrors(errors)];
  if (problems.length) {
    const lines = problems.map((p) =>
      formatProblem(p, options.overrides !== undefined && overridesPath(options.overrides, p.segments) ? OVERRIDES_SOURCE : source),
    );
    throw new ConfigError(lines.join('\n'), 'CONFIG_INVALID');
  }
  return setConfigDir(config, options.configDir ?? process.cwd());
}

/**
 * Top-level keys class-transformer skips without a word (names of accessors and
 * methods such as `configDir` or `toString`), so class-validator never sees them.
 */
function strayKeys(plain: Record<string, unknown>, config: KilnConfig): ConfigProblem[] {
  const allowed = allowedKeysOf(config);
  return Object.keys(plain)
    .filter((key) => plain[key] !== undefined && !allowed.includes(key) && !Object.prototype.hasOwnProperty.call(config, key))
    .map((key) => ({
      segments: [key],
      path: key,
      problem: `unknown key ${JSON.stringify(key)}`,
      hasValue: true,
      value: plain[key],
      allowed: allowed.join(', '),
    }));
}
