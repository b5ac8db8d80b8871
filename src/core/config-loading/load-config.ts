import 'reflect-metadata';
import * as path from 'node:path';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { ConfigError } from '../../errors/index.js';
import { PluginRegistry } from '../plugin-registry.js';
import { formatValue } from '../../config/format-validation-errors.js';
import { KilnConfig } from '../../config/kiln-config.js';
import { CONFIG_OBJECT_SOURCE, validateConfig } from '../../config/validate-config.js';
import { importPluginModules } from './plugin-modules.js';
import { readConfigFile } from '../../config/read-config-file.js';
import { resolvePipeline } from './resolve-pipeline.js';

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

export { CONFIG_OBJECT_SOURCE, validateConfig, type ValidateConfigOptions } from '../../config/validate-config.js';
