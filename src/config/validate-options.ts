import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ConfigError } from '../errors/index.js';
import { describeValidationErrors, formatProblem, formatValue } from './format-validation-errors.js';

const OPTIONS_VALIDATION = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false } as const;

/**
 * Turns raw `options` into an instance of `optionsClass` (its initialisers are the
 * defaults) and validates it with class-validator (no unknown keys). A plugin
 * without an options class accepts only absent or empty options and gets `{}`.
 * Problems are a ConfigError (CONFIG_INVALID) whose lines name `path` + the key,
 * e.g. `kiln.yaml: pipeline[0].oneOf[1].options.policy: ...`.
 */
export function validateOptions(optionsClass: (new () => object) | undefined, raw: unknown, path: string, source: string): object {
  const { options, problems } = checkOptions(optionsClass, raw, path, source);
  if (problems.length) throw new ConfigError(problems.join('\n'), 'CONFIG_INVALID');
  return options;
}

export function checkOptions(
  optionsClass: (new () => object) | undefined,
  raw: unknown,
  path: string,
  source: string,
): { options: object; problems: string[] } {
  const value = raw ?? undefined;
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    return {
      options: {},
      problems: [`${source}: ${path}: wrong type (got ${formatValue(raw)}); allowed: a mapping of option names to values`],
    };
  }
  if (!optionsClass) {
    if (value === undefined || Object.keys(value).length === 0) return { options: {}, problems: [] };
    return {
      options: {},
      problems: [`${source}: ${path}: this plugin takes no options (got ${formatValue(value)}); allowed: no options (leave "options" out)`],
    };
  }
  const options = plainToInstance(optionsClass, value ?? {}, { exposeDefaultValues: true }) as object;
  const errors = validateSync(options, OPTIONS_VALIDATION);
  return { options, problems: describeValidationErrors(errors, path).map((p) => formatProblem(p, source)) };
}
