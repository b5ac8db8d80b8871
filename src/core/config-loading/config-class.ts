import 'reflect-metadata';
import * as path from 'node:path';
import { getMetadataStorage, validateSync } from 'class-validator';
import { ConfigError } from '../../errors/index.js';
import type { KilnMode } from '../../config/kiln-mode.js';
import { allowedKeysOf, describeValidationErrors, formatProblem } from '../../config/format-validation-errors.js';
import {
  BackendConfig,
  BenchmarkConfig,
  CandidateConfig,
  KilnConfig,
  SlotConfig,
  ValidationConfig,
  setConfigDir,
} from '../../config/kiln-config.js';
import { loadConfig, validateConfig, type LoadConfigOptions } from './load-config.js';
import { mergeOverrides } from '../../config/merge-overrides.js';
import { isPathSpecifier } from './plugin-modules.js';
import { readConfigFile } from '../../config/read-config-file.js';

/**
 * Kiln's settings declared in code: a class whose fields are `kiln.yaml`'s keys (one
 * schema, two front doors). The decorators here only record metadata; everything is
 * read, merged and validated by {@link configFromClass}, through `loadConfig`.
 *
 * ```ts
 * @KilnSettings()
 * class TrainingSettings {
 *   mode: KilnMode = 'training';                 // a field named like a kiln.yaml key is that key
 *   validation = { atol: 1e-4, rtol: 1e-3 };     // sections are partial mappings, as in kiln.yaml
 *   @Backends('wasm', 'cpu') backends!: string[]; // or a decorator names the key (and gives the value)
 *
 *   @IsNumberInRange({ greaterThan: 0 }) learningRate = 0.01;   // your own, validated with class-validator
 * }
 * const config = await configFromClass(TrainingSettings, { file: 'kiln.yaml' });  // the file wins over the class
 * config.validation.atol; config.learningRate;
 * ```
 *
 * A class that `extends KilnConfig` and overrides defaults with initialisers works too.
 */

const SETTINGS_META = Symbol.for('kiln.settingsClass');
const SETTING_FIELDS = Symbol.for('kiln.settingFields');

/** Options of {@link KilnSettings}. */
export interface KilnSettingsOptions {
  /**
   * A kiln.yaml merged over the class's values (the file wins), relative to the working
   * folder. `configFromClass`'s own `file` option replaces it.
   */
  readonly file?: string;
  /** How the class is named in messages. Default: the class's name. */
  readonly name?: string;
}

/** What `@Setting` (and the shorthand decorators) recorded for one field. */
export interface SettingField {
  readonly property: string;
  /** The config key path it sets: `['validation', 'atol']`. */
  readonly path: readonly string[];
  /** Whether the decorator gave a value, used when the field holds none. */
  readonly hasDefault: boolean;
  readonly defaultValue?: unknown;
}

/** One step of `pipeline:` as written in code (the same shapes as in kiln.yaml). */
export type PipelineStep =
  | { readonly name: string; readonly options?: Record<string, unknown>; readonly timeLimitMs?: number }
  | { readonly oneOf: readonly { readonly name: string; readonly options?: Record<string, unknown>; readonly timeLimitMs?: number }[] };

/**
 * Marks a class as Kiln settings (optional: {@link configFromClass} reads any class).
 * Records its options only.
 */
export function KilnSettings(options: KilnSettingsOptions = {}) {
  return function <T extends abstract new (...args: never[]) => object>(target: T): T {
    Reflect.defineMetadata(SETTINGS_META, Object.freeze({ ...options }), target);
    return target;
  };
}

/** The options `@KilnSettings` recorded on a class, or undefined. */
export function kilnSettingsOf(target: unknown): KilnSettingsOptions | undefined {
  return typeof target === 'function' ? (Reflect.getMetadata(SETTINGS_META, target) as KilnSettingsOptions | undefined) : undefined;
}

/**
 * The field sets the config value at `keyPath` (dotted, e.g. `validation.atol`; default:
 * the field's name). With `value`, the field may be declared without an initialiser:
 * the value is used whenever the field holds `undefined`. Mappings merge key by key
 * into what the class already sets there; other values replace it.
 */
export function Setting(keyPath?: string, ...value: [] | [unknown]) {
  return function (target: object, property: string | symbol): void {
    if (typeof property !== 'string') throw new TypeError('@Setting() goes on a field with a string name');
    const keys = (keyPath ?? property).split('.');
    if (keys.some((k) => k === ''))
      throw new TypeError(`@Setting(${JSON.stringify(keyPath)}) on ${property}: not a key path (keys separated by dots)`);
    const inherited = (Reflect.getMetadata(SETTING_FIELDS, target) as SettingField[] | undefined) ?? [];
    const field: SettingField = { property, path: keys, hasDefault: value.length > 0, defaultValue: value[0] };
    Reflect.defineMetadata(SETTING_FIELDS, [...inherited.filter((f) => f.property !== property), field], target);
  };
}

/** `backend.preference`: the backends to try, best first. */
export function Backends(...names: string[]) {
  return Setting('backend.preference', names);
}

/**
 * `validation.tolerance` (scale-aware), `validation.atol` and `validation.rtol`
 * (element-wise); any may be left out: the default, or what the class sets, stays.
 * Setting atol or rtol switches the default scale-aware check off (see `validation.tolerance`).
 */
export function Tolerance(tolerance: { readonly tolerance?: number; readonly atol?: number; readonly rtol?: number }) {
  return Setting('validation', { ...tolerance });
}

/** `mode`: `inference` or `training` (gradients are validated too). */
export function Mode(mode: KilnMode) {
  return Setting('mode', mode);
}

/** `mode: training`. */
export function TrainingMode() {
  return Mode('training');
}

/** `pipeline`: the optimisation steps, in order. */
export function PipelineSteps(steps: readonly PipelineStep[]) {
  return Setting('pipeline', steps);
}

/** `plugins`: third-party plugin modules to import (relative paths: against `baseDir`, the working folder by default). */
export function Plugins(...modules: string[]) {
  return Setting('plugins', modules);
}

/** The fields `@Setting` and the shorthand decorators recorded on a class (its own and inherited). */
export function settingFieldsOf(target: unknown): readonly SettingField[] {
  if (typeof target !== 'function') return [];
  return (Reflect.getMetadata(SETTING_FIELDS, target.prototype as object) as SettingField[] | undefined) ?? [];
}

export interface ConfigFromClassOptions extends LoadConfigOptions {
  /**
   * A kiln.yaml merged over the class (the file wins; mappings merge key by key,
   * lists and other values replace). Default: `@KilnSettings({ file })`; `false`:
   * none, whatever the class says.
   */
  readonly file?: string | false;
  /** Folder that relative `plugins:` paths set by the class are resolved against. Default: the working folder. */
  readonly baseDir?: string;
}

/** The config, with the class's own fields (`learningRate`, ...) as non-enumerable properties. */
export type ConfigWithSettings<T> = KilnConfig & Omit<T, keyof KilnConfig>;

/** The schema classes whose instances stand for mappings (a `KilnConfig` subclass holds them). */
const SCHEMA_CLASSES: readonly (abstract new (...args: never[]) => object)[] = [
  KilnConfig,
  BackendConfig,
  ValidationConfig,
  BenchmarkConfig,
  SlotConfig,
  CandidateConfig,
];

/**
 * Turns a settings class (or an instance of one) into a validated {@link KilnConfig}.
 *
 * - Fields named like kiln.yaml's top-level keys (`mode`, `validation`, ...) and fields
 *   with `@Setting` / `@Backends` / `@Tolerance` / `@Mode` / `@PipelineSteps` /
 *   `@Plugins` are Kiln's settings; the decorated ones merge over the named ones.
 * - Fields with class-validator decorators are your own: they are validated with
 *   class-validator and copied onto the result, unchanged, as non-enumerable properties.
 * - Any other field is handed to Kiln as a key, so a typo (`fallbak`) is refused as an
 *   unknown key exactly as kiln.yaml refuses it. Give a field of your own `@Allow()` if
 *   any value will do.
 *
 * The class is validated on its own (messages name the class and the key path, worded
 * as for kiln.yaml); then `file` is read and validated on its own (messages exactly as
 * `loadConfig(file)`'s) and merged over it; then `loadConfig` validates the result,
 * imports `plugins:` and checks every plugin in `pipeline:`, with `overrides` on top.
 * The result's `configDir` is the file's folder, or `baseDir`.
 */
export async function configFromClass<T extends object>(
  settings: new () => T,
  options?: ConfigFromClassOptions,
): Promise<ConfigWithSettings<T>>;
export async function configFromClass<T extends object>(settings: T, options?: ConfigFromClassOptions): Promise<ConfigWithSettings<T>>;
export async function configFromClass(settings: object, options: ConfigFromClassOptions = {}): Promise<ConfigWithSettings<object>> {
  const instance = typeof settings === 'function' ? new (settings as new () => object)() : settings;
  if (instance === null || typeof instance !== 'object' || Array.isArray(instance)) {
    throw new ConfigError('configFromClass expects a settings class or an instance of one', 'CONFIG_INVALID');
  }
  const ctor = instance.constructor as (abstract new (...args: never[]) => object) | undefined;
  const meta = kilnSettingsOf(ctor);
  const label = meta?.name ?? (ctor && ctor !== Object && ctor.name ? ctor.name : 'settings object');
  const baseDir = path.resolve(options.baseDir ?? process.cwd());

  const { plain, own, mapped } = splitSettings(instance, ctor);
  absolutisePluginPaths(plain, baseDir);

  // The class on its own: Kiln's keys through Kiln's schema, the user's fields through class-validator.
  const problems: string[] = [];
  try {
    validateConfig(plain, { source: label });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.message.split('\n'));
  }
  problems.push(...ownFieldProblems(instance, own, label));
  if (problems.length) throw new ConfigError(problems.join('\n'), 'CONFIG_INVALID');

  // The file on its own, then over the class.
  const file = options.file === false ? undefined : (options.file ?? meta?.file);
  let merged: Record<string, unknown> = plain;
  let configDir = baseDir;
  if (file !== undefined) {
    const abs = path.resolve(file);
    const fromFile = await readConfigFile(abs);
    validateConfig(fromFile, { source: abs });
    merged = mergeOverrides(plain, fromFile) as Record<string, unknown>;
    configDir = path.dirname(abs);
  }

  // loadConfig keeps the configDir of a KilnConfig it is given: relative plugin paths from the file resolve against its folder.
  const carrier = Object.create(KilnConfig.prototype) as KilnConfig;
  for (const [key, value] of Object.entries(merged))
    Object.defineProperty(carrier, key, { value, enumerable: true, writable: true, configurable: true });
  setConfigDir(carrier, configDir);
  const config = await loadConfig(carrier, {
    container: options.container,
    overrides: options.overrides,
    importPlugins: options.importPlugins,
  });

  for (const key of own) define(config, key, (instance as Record<string, unknown>)[key]);
  for (const field of mapped) define(config, field.property, readBack(config, field.path, field.shape));
  return config as ConfigWithSettings<object>;
}

interface MappedField {
  readonly property: string;
  readonly path: readonly string[];
  /** The value the class gave, whose keys (for a mapping) say what to read back. */
  readonly shape: unknown;
}

/** Splits an instance into Kiln's config (kiln.yaml's shape), the user's own fields, and the decorator-mapped fields. */
function splitSettings(
  instance: object,
  ctor: (abstract new (...args: never[]) => object) | undefined,
): { plain: Record<string, unknown>; own: string[]; mapped: MappedField[] } {
  const kilnKeys = new Set(allowedKeysOf(new KilnConfig()));
  const fields = ctor ? settingFieldsOf(ctor) : [];
  const fieldNames = new Set(fields.map((f) => f.property));
  const validated = new Set(
    ctor && ctor !== Object
      ? getMetadataStorage()
          .getTargetValidationMetadatas(ctor as new () => object, '', true, false)
          .map((m) => m.propertyName)
      : [],
  );
  const values = instance as Record<string, unknown>;

  let plain: Record<string, unknown> = {};
  const own: string[] = [];
  for (const key of Object.keys(instance)) {
    if (fieldNames.has(key)) continue;
    if (!kilnKeys.has(key) && validated.has(key)) {
      own.push(key);
      continue;
    }
    if (values[key] !== undefined) plain[key] = toPlain(values[key]);
  }
  // Fields with class-validator decorators but no value (declared without an initialiser) are the user's too.
  for (const key of validated) if (!kilnKeys.has(key) && !fieldNames.has(key) && !own.includes(key)) own.push(key);

  const mapped: MappedField[] = [];
  for (const field of fields) {
    const value = values[field.property] !== undefined ? values[field.property] : field.hasDefault ? field.defaultValue : undefined;
    if (value === undefined) continue;
    const shaped = toPlain(value);
    let nested: unknown = shaped;
    for (const key of [...field.path].reverse()) nested = { [key]: nested };
    plain = mergeOverrides(plain, nested) as Record<string, unknown>;
    mapped.push({ property: field.property, path: field.path, shape: shaped });
  }
  return { plain, own, mapped };
}

/** Schema-class instances and plain objects become plain mappings (own enumerable keys); lists are copied; anything else is kept. */
function toPlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toPlain);
  if (value !== null && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === null || proto === Object.prototype || SCHEMA_CLASSES.some((c) => value instanceof c)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toPlain(v);
      return out;
    }
  }
  return value;
}

/** Relative `plugins:` paths set by the class are relative to `baseDir`, whatever folder a file puts the config in. */
function absolutisePluginPaths(plain: Record<string, unknown>, baseDir: string): void {
  if (!Array.isArray(plain.plugins)) return;
  plain.plugins = plain.plugins.map((entry: unknown) =>
    typeof entry === 'string' && isPathSpecifier(entry) && !path.isAbsolute(entry) ? path.resolve(baseDir, entry) : entry,
  );
}

/** The user's own fields, checked with their class-validator decorators; one line per problem, worded as Kiln's. */
function ownFieldProblems(instance: object, own: readonly string[], label: string): string[] {
  if (!own.length) return [];
  const errors = validateSync(instance, { forbidUnknownValues: false }).filter((e) => own.includes(e.property));
  return describeValidationErrors(errors).map((p) => formatProblem(p, label));
}

/** The value at `keys` of the final config; for a mapping-shaped field, only the keys it set. */
function readBack(config: KilnConfig, keys: readonly string[], shape: unknown): unknown {
  let node: unknown = config;
  for (const key of keys) node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  if (shape !== null && typeof shape === 'object' && !Array.isArray(shape) && node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(shape)) out[key] = (node as Record<string, unknown>)[key];
    return out;
  }
  return node;
}

/** Adds a field of the user's to the config, never over one of the config's own (its keys, `configDir`, methods). */
function define(target: object, key: string, value: unknown): void {
  if (key in target) return;
  Object.defineProperty(target, key, { value, enumerable: false, writable: true, configurable: true });
}
