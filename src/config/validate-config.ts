import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ConfigError } from '../errors/index.js';
import { allowedKeysOf, describeValidationErrors, formatProblem, formatValue, type ConfigProblem } from './format-validation-errors.js';
import { KilnConfig, setConfigDir } from './kiln-config.js';
import { mergeOverrides, overridesPath } from './merge-overrides.js';

/** How a config object passed to `loadConfig` is named in messages. */
export const CONFIG_OBJECT_SOURCE = 'config object';
/** How values from `overrides` are named in messages. */
export const OVERRIDES_SOURCE = 'overrides';

export interface ValidateConfigOptions {
  /** Names the config in messages: the file's path, or "config object". */
  readonly source?: string;
  readonly overrides?: object;
  /** Folder that `configDir` answers. Default `process.cwd()`. */
  readonly configDir?: string;
}

/**
 * Merges `overrides` over `raw`, turns the result into a {@link KilnConfig} (missing
 * keys and sections get their defaults) and validates it; every problem is one line
 * of the ConfigError (CONFIG_INVALID). Imports nothing and does not look plugins up.
 */
export function validateConfig(raw: unknown, options: ValidateConfigOptions = {}): KilnConfig {
  const source = options.source ?? CONFIG_OBJECT_SOURCE;
  if (
    options.overrides !== undefined &&
    (options.overrides === null || typeof options.overrides !== 'object' || Array.isArray(options.overrides))
  ) {
    throw new ConfigError(
      `${OVERRIDES_SOURCE}: wrong type (got ${formatValue(options.overrides)}); allowed: a mapping of config keys`,
      'CONFIG_INVALID',
    );
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
