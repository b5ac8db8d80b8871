import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import { ValidateNested } from 'class-validator';
import type { KilnMode } from './kiln-mode.js';
import {
  IsBooleanValue,
  IsListOf,
  IsMapping,
  IsNonEmptyString,
  IsNumberInRange,
  IsOneOfValues,
  IsStringList,
  ObjectRule,
} from './validators.js';

/**
 * The schema of `kiln.yaml`. Every key is optional; the property initialisers are
 * the defaults, and the doc comments below are the configuration reference.
 *
 * ```yaml
 * plugins: [./my-plugin.js]
 * backend:
 *   preference: [tensorflow-gpu, tensorflow, wasm-threads, wasm, cpu]
 *   threads: 2
 * pipeline:
 *   - name: graph-compile
 *   - oneOf:
 *       - name: mixed-precision
 *         options: { policy: auto }
 *       - name: mixed-precision
 *         options: { policy: float16 }
 * validation: { atol: 1e-5, rtol: 1e-4, samples: 4 }
 * benchmark: { warmup: 10, iterations: 50, minSpeedup: 1.05 }
 * fallback: true
 * ```
 */

/** Pattern every backend name in `backend.preference` must match. */
export const BACKEND_NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

/** The backend names Kiln tries by default, best first. */
export const DEFAULT_BACKEND_PREFERENCE: readonly string[] = Object.freeze(['tensorflow-gpu', 'tensorflow', 'wasm-threads', 'wasm', 'cpu']);

/** `null` for a section (a YAML key with nothing under it) means "all defaults". */
function sectionDefault<T>(make: () => T) {
  return Transform(({ value }) => (value === null || value === undefined ? make() : value));
}

const MAPPING = 'a mapping of option names to values';

/** `backend:` — which tf.js backend the pipeline runs on. */
export class BackendConfig {
  /**
   * tf.js backends to try, best first; the first one that can be initialised is used.
   * Names are lower-case letters, digits and dashes (`tensorflow-gpu`, `webgpu`, ...);
   * at least one, no duplicates. Default: `[tensorflow-gpu, tensorflow, wasm-threads, wasm, cpu]`.
   */
  @IsStringList({ items: 'backend names', minItems: 1, unique: true, pattern: BACKEND_NAME_PATTERN })
  preference: string[] = [...DEFAULT_BACKEND_PREFERENCE];

  /**
   * Threads of the `wasm-threads` backend (tfjs-backend-wasm's threaded build under
   * Node). `1` switches it off (the candidate is `unavailable`, and single-threaded
   * `wasm` is next). An integer from 1 to 8. Default: the machine's cores, at most 8.
   */
  @IsNumberInRange({ integer: true, min: 1, max: 8, optional: true })
  threads?: number;
}

/** `validation:` — how each optimised model is checked against the model it replaces. */
export class ValidationConfig {
  /** Absolute tolerance when comparing outputs: `|a - b| <= atol + rtol * |b|`. A number >= 0. Default 1e-5. */
  @IsNumberInRange({ min: 0 })
  atol: number = 1e-5;

  /** Relative tolerance when comparing outputs (see `atol`). A number >= 0. Default 1e-4. */
  @IsNumberInRange({ min: 0 })
  rtol: number = 1e-4;

  /**
   * How many seeded perturbations of the sample inputs are compared besides the
   * sample inputs themselves. An integer from 0 to 64. Default 4.
   */
  @IsNumberInRange({ integer: true, min: 0, max: 64 })
  samples: number = 4;

  /** Seed of the perturbations, so that runs are reproducible. An integer. Default 0. */
  @IsNumberInRange({ integer: true })
  seed: number = 0;

  /** Scale of the large-magnitude input set (catches overflow in reduced precision). A number > 0. Default 10. */
  @IsNumberInRange({ greaterThan: 0 })
  largeMagnitude: number = 10;

  /** In training mode, compare gradients as well as outputs. `true` or `false`. Default true. */
  @IsBooleanValue()
  gradients: boolean = true;
}

/** `benchmark:` — how each optimisation's gain is measured and judged. */
export class BenchmarkConfig {
  /** Untimed runs before measuring. An integer from 0 to 100000. Default 10. */
  @IsNumberInRange({ integer: true, min: 0, max: 100000 })
  warmup: number = 10;

  /** Timed runs. An integer from 1 to 100000. Default 50. */
  @IsNumberInRange({ integer: true, min: 1, max: 100000 })
  iterations: number = 50;

  /**
   * Speed-up (latency before / latency after) a latency plugin must reach to be
   * kept. A number > 0. Default 1.05.
   */
  @IsNumberInRange({ greaterThan: 0 })
  minSpeedup: number = 1.05;

  /** Gain (bytes before / bytes after) a size plugin must reach to be kept. A number > 0. Default 1.05. */
  @IsNumberInRange({ greaterThan: 0 })
  minSizeGain: number = 1.05;

  /** Timings further than this many standard deviations from the mean are dropped. A number > 0. Default 2. */
  @IsNumberInRange({ greaterThan: 0 })
  outlierSigma: number = 2;

  /**
   * At the end, benchmark the final model against plain tf.js `predict` on the
   * default backend, and report the overall speed-up. `true` or `false`. Default true.
   */
  @IsBooleanValue()
  endToEnd: boolean = true;
}

/** One plugin to try: an entry of a slot's `oneOf`, or (through {@link SlotConfig}) a slot of its own. */
export class CandidateConfig {
  /** Name of a registered plugin (`kiln plugins` lists them). Required. */
  @IsNonEmptyString('a plugin name')
  name!: string;

  /**
   * The plugin's options, checked against the plugin's options class. Absent: the
   * plugin's defaults. A plugin without options accepts none.
   */
  @IsMapping(MAPPING, { optional: true })
  options?: Record<string, unknown>;

  /** Time limit for this plugin's `apply`, in ms; overrides the plugin's and the top-level `timeLimitMs`. An integer >= 1. */
  @IsNumberInRange({ integer: true, min: 1, optional: true })
  timeLimitMs?: number;
}

/**
 * One step of `pipeline:`. Either a single plugin, `{ name, options?, timeLimitMs? }`,
 * or a choice, `{ oneOf: [candidates] }`: every candidate is tried and the best one
 * that passes validation is kept. Exactly one of `name` and `oneOf`.
 */
export class SlotConfig {
  /** Name of a registered plugin, for a single-plugin slot. */
  @IsNonEmptyString('a plugin name', { optional: true })
  @ObjectRule('slotShape', 'either { name, options?, timeLimitMs? } or { oneOf: [candidates] }', slotShapeProblem)
  name?: string;

  /** The plugin's options (single-plugin slot only); see {@link CandidateConfig.options}. */
  @IsMapping(MAPPING, { optional: true })
  options?: Record<string, unknown>;

  /** Time limit for the plugin's `apply`, in ms (single-plugin slot only). An integer >= 1. */
  @IsNumberInRange({ integer: true, min: 1, optional: true })
  timeLimitMs?: number;

  /** Candidates to choose from, at least one: `[{ name, options?, timeLimitMs? }, ...]`. */
  @IsListOf('candidates ({ name, options?, timeLimitMs? })', { minItems: 1, optional: true })
  @ValidateNested({ message: 'wrong type', context: { allowed: 'a mapping { name, options?, timeLimitMs? }' } })
  @Type(() => CandidateConfig)
  oneOf?: CandidateConfig[];
}

function slotShapeProblem(slot: Record<string, unknown>): string | undefined {
  const hasName = slot.name !== undefined;
  const hasOneOf = slot.oneOf !== undefined;
  if (hasName && hasOneOf) return 'has both "name" and "oneOf"';
  if (!hasName && !hasOneOf) return 'needs "name" or "oneOf"';
  if (hasOneOf && (slot.options !== undefined || slot.timeLimitMs !== undefined)) {
    return '"options" and "timeLimitMs" go on each candidate of "oneOf", not on the slot';
  }
  return undefined;
}

const CONFIG_DIR = Symbol('kiln.configDir');

/** The whole of `kiln.yaml`. */
export class KilnConfig {
  /**
   * Third-party plugin modules to import before the pipeline is built, in order:
   * paths relative to the config file (`./my-plugin.js`), absolute paths, or package
   * names (resolved from the config file's folder). Importing a module registers the
   * plugins it defines with `@Plugin`. Default: none.
   */
  @IsStringList({ items: 'module paths or package names' })
  plugins: string[] = [];

  /** Backend selection; see {@link BackendConfig}. */
  @IsMapping('a mapping with keys: preference, threads')
  @ValidateNested({ message: 'wrong type' })
  @Type(() => BackendConfig)
  @sectionDefault(() => new BackendConfig())
  backend: BackendConfig = new BackendConfig();

  /**
   * The optimisation steps, in order; see {@link SlotConfig}. Absent: Kiln's default
   * pipeline. An empty list runs no optimisation.
   */
  @IsListOf('slots ({ name, ... } or { oneOf: [...] })', { optional: true })
  @ValidateNested({ message: 'wrong type', context: { allowed: 'a mapping { name, options?, timeLimitMs? } or { oneOf: [...] }' } })
  @Type(() => SlotConfig)
  pipeline?: SlotConfig[];

  /** How results are checked; see {@link ValidationConfig}. */
  @IsMapping('a mapping with keys: atol, rtol, samples, seed, largeMagnitude, gradients')
  @ValidateNested({ message: 'wrong type' })
  @Type(() => ValidationConfig)
  @sectionDefault(() => new ValidationConfig())
  validation: ValidationConfig = new ValidationConfig();

  /** How gains are measured; see {@link BenchmarkConfig}. */
  @IsMapping('a mapping with keys: warmup, iterations, minSpeedup, minSizeGain, outlierSigma, endToEnd')
  @ValidateNested({ message: 'wrong type' })
  @Type(() => BenchmarkConfig)
  @sectionDefault(() => new BenchmarkConfig())
  benchmark: BenchmarkConfig = new BenchmarkConfig();

  /**
   * When a plugin fails, times out, or its result does not validate or is not
   * faster/smaller, roll it back and go on. `false` stops at the first such plugin
   * with an error. `true` or `false`. Default true.
   */
  @IsBooleanValue()
  fallback: boolean = true;

  /** Optimise for `inference` (predict) or `training` (fit; gradients are validated too). Default inference. */
  @IsOneOfValues(['inference', 'training'])
  mode: KilnMode = 'inference';

  /** Default time limit for one plugin's `apply`, in ms, where neither the slot nor the plugin sets one. An integer >= 1. Default 120000. */
  @IsNumberInRange({ integer: true, min: 1 })
  timeLimitMs: number = 120000;

  /**
   * Not a config key: the folder relative paths in the config are resolved against —
   * the config file's folder, or `process.cwd()` for a config object.
   */
  get configDir(): string {
    return (this as { [CONFIG_DIR]?: string })[CONFIG_DIR] ?? process.cwd();
  }
}

/** Records the folder `config.configDir` answers (non-enumerable; not part of the schema). */
export function setConfigDir(config: KilnConfig, dir: string): KilnConfig {
  Object.defineProperty(config, CONFIG_DIR, { value: dir, enumerable: false, configurable: true, writable: true });
  return config;
}
