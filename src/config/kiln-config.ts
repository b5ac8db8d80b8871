import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import { ValidateNested } from 'class-validator';
import { Description } from './description.js';
import type { KilnMode } from './kiln-mode.js';
import {
  IsBooleanValue,
  IsListOf,
  IsMapping,
  IsNonEmptyString,
  IsNumberInRange,
  IsNumberList,
  IsOneOfValues,
  IsStringList,
  ObjectRule,
} from './validators.js';

/** The longest time limit Node's timers keep (2^31 - 1 ms); a longer one would fire after 1 ms. */
export const MAX_TIME_LIMIT_MS = 2_147_483_647;

/**
 * The schema of `kiln.yaml`. Every key is optional; the property initialisers are
 * the defaults, and each field's `@Description` is its entry in the configuration
 * reference (type, range and default there come from the validators and initialisers).
 *
 * ```yaml
 * plugins: [./my-plugin.js]
 * backend:
 *   preference: [onnxruntime, tensorflow-gpu, tensorflow, wasm-threads, wasm, cpu]
 *   threads: 2
 * pipeline:
 *   - name: graph-compile
 *   - oneOf:
 *       - name: mixed-precision
 *         options: { policy: auto }
 *       - name: mixed-precision
 *         options: { policy: float16 }
 * inputs:
 *   LR: { shape: [1, 64, 64, 3], range: [0, 255] }
 * validation: { tolerance: 1e-4, samples: 4 }
 * benchmark: { warmup: 10, iterations: 50, minSpeedup: 1.05 }
 * fallback: true
 * ```
 */

/** Pattern every backend name in `backend.preference` must match. */
export const BACKEND_NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

/** The backend names Kiln tries by default, best first. */
export const DEFAULT_BACKEND_PREFERENCE: readonly string[] = Object.freeze([
  'onnxruntime',
  'tensorflow-gpu',
  'tensorflow',
  'wasm-threads',
  'wasm',
  'cpu',
]);

/** `null` for a section (a YAML key with nothing under it) means "all defaults". */
function sectionDefault<T>(make: () => T) {
  return Transform(({ value }) => (value === null || value === undefined ? make() : value));
}

const MAPPING = 'a mapping of option names to values';

/** `backend:` — which tf.js backend the pipeline runs on. */
export class BackendConfig {
  @Description(
    "Execution engines to try, best first, as the candidates of the `backend` slot (`backend-<name>` plugins): tf.js backends, and `onnxruntime` (onnxruntime-node, an optional dependency, on Kiln's ONNX lowering of the model; inference only). The first one that runs, validates and is faster than what Kiln had wins; one that cannot start is `unavailable` with the reason, and the next is tried.",
  )
  @IsStringList({ items: 'backend names', minItems: 1, unique: true, pattern: BACKEND_NAME_PATTERN })
  preference: string[] = [...DEFAULT_BACKEND_PREFERENCE];

  @Description(
    "Threads of the `wasm-threads` backend (tfjs-backend-wasm's threaded build under Node). `1` switches it off (its candidate is `unavailable`, and single-threaded `wasm` is next). Absent: the machine's cores, at most 8.",
  )
  @IsNumberInRange({ integer: true, min: 1, max: 8, optional: true })
  threads?: number;
}

/** `validation:` — how each optimised model is checked against the model it replaces. */
export class ValidationConfig {
  @Description(
    "Scale-aware check of every output: the largest |candidate - original| over every validation input set must be at most `tolerance` times the output's scale, its largest |original| over those sets (at least 1e-6, so an all-zero output allows next to nothing). Absent: 1e-4 when neither `atol` nor `rtol` is set (stock float32 backends differ from cpu by at most 6e-6 of the scale on the measured models), not checked when either is.",
  )
  @IsNumberInRange({ min: 0, optional: true })
  tolerance?: number;

  @Description(
    'Element-wise check instead of (or, with `tolerance` set too, besides) the scale-aware one: `|candidate - original| <= atol + rtol * |original|` for every element. Absent: not checked, unless `rtol` is set (then 1e-5).',
  )
  @IsNumberInRange({ min: 0, optional: true })
  atol?: number;

  @Description('Relative part of the element-wise check (see `atol`). Absent: not checked, unless `atol` is set (then 1e-4).')
  @IsNumberInRange({ min: 0, optional: true })
  rtol?: number;

  @Description('How many seeded perturbations of the sample inputs are compared besides the sample inputs themselves.')
  @IsNumberInRange({ integer: true, min: 0, max: 64 })
  samples: number = 4;

  @Description('Seed of the perturbations, so that runs are reproducible.')
  @IsNumberInRange({ integer: true })
  seed: number = 0;

  @Description('Scale of the large-magnitude input set (the samples times this), which catches overflow in reduced precision.')
  @IsNumberInRange({ greaterThan: 0 })
  largeMagnitude: number = 10;

  @Description('In training mode, compare gradients as well as outputs.')
  @IsBooleanValue()
  gradients: boolean = true;
}

/** `benchmark:` — how each optimisation's gain is measured and judged. */
export class BenchmarkConfig {
  @Description('Untimed runs before measuring, at most: the warm-up stops after one run once it has used a fifth of `budgetMs`.')
  @IsNumberInRange({ integer: true, min: 0, max: 100000 })
  warmup: number = 10;

  @Description(
    'Timed runs at most, the baseline and the candidate interleaved. Timing stops earlier once the 95% interval of the speed-up lies wholly above or below `minSpeedup`, or once `budgetMs` is spent (after `minIterations` runs either way).',
  )
  @IsNumberInRange({ integer: true, min: 1, max: 100000 })
  iterations: number = 50;

  @Description('Timed runs always made (at most `iterations`), whatever the stopping rule and the budget.')
  @IsNumberInRange({ integer: true, min: 1, max: 100000 })
  minIterations: number = 5;

  @Description(
    'Wall-clock budget of one comparison (warm-up and timed runs), in ms: no new run starts once it is spent and `minIterations` runs are done. Bounds the cost of timing a slow baseline (a cpu model at seconds per call).',
  )
  @IsNumberInRange({ integer: true, min: 1, max: MAX_TIME_LIMIT_MS })
  budgetMs: number = 4000;

  @Description('Speed-up (median latency before / after) a latency plugin must reach to be kept.')
  @IsNumberInRange({ greaterThan: 0 })
  minSpeedup: number = 1.05;

  @Description('Gain (bytes before / after) a size plugin must reach to be kept.')
  @IsNumberInRange({ greaterThan: 0 })
  minSizeGain: number = 1.05;

  @Description('Timings further than this many standard deviations from the mean are dropped.')
  @IsNumberInRange({ greaterThan: 0 })
  outlierSigma: number = 2;

  @Description('At the end, benchmark the final model against plain tf.js `predict` on the cpu backend and report the overall speed-up.')
  @IsBooleanValue()
  endToEnd: boolean = true;
}

/**
 * `inputs.<name>:` — how Kiln makes the sample input of one model input when no sample
 * inputs are passed: its shape and the range of its values. At least one of the two.
 */
export class InputConfig {
  @Description(
    "The input's whole shape, batch axis first, e.g. `[1, 64, 64, 3]`: one size per axis, the model's fixed sizes kept. Needed where the model leaves an axis other than the batch free (null). Absent: the model's shape, a free batch axis at 1 (at `--batch` on the command line).",
  )
  @IsNumberList({ items: 'sizes', each: { integer: true, min: 1 }, minItems: 1, optional: true })
  @ObjectRule(
    'inputEntry',
    'at least one of: shape, range',
    (entry) => (entry.shape === undefined && entry.range === undefined ? 'sets neither shape nor range' : undefined),
    { anyOf: [{ required: ['shape'] }, { required: ['range'] }] },
  )
  shape?: number[];

  @Description(
    '`[min, max]`: the generated values are uniform in it (whole numbers from min to max for int32 inputs), e.g. `[0, 255]` for an image model that takes pixel values. Absent: standard normal values (whole numbers 0 to 9 for int32 inputs).',
  )
  @IsNumberList({ items: 'numbers', each: {}, minItems: 2, maxItems: 2, increasing: true, optional: true })
  range?: number[];
}

/** One plugin to try: an entry of a slot's `oneOf`, or (through {@link SlotConfig}) a slot of its own. */
export class CandidateConfig {
  @Description('Name of a registered plugin (`kiln plugins` lists them).')
  @IsNonEmptyString('a plugin name')
  name!: string;

  @Description(
    "The plugin's options, checked against the plugin's options class. Absent: the plugin's defaults. A plugin without options accepts none.",
  )
  @IsMapping(MAPPING, { optional: true })
  options?: Record<string, unknown>;

  @Description(
    "Time limit for this candidate's `isAvailable` and `apply`, each, in ms (at most 2147483647, Node's longest timer); overrides the plugin's own and the top-level `timeLimitMs`.",
  )
  @IsNumberInRange({ integer: true, min: 1, max: MAX_TIME_LIMIT_MS, optional: true })
  timeLimitMs?: number;
}

/**
 * One step of `pipeline:`. Either a single plugin, `{ name, options?, timeLimitMs? }`,
 * or a choice, `{ oneOf: [candidates] }`: every candidate is tried and the best one
 * that passes validation is kept. Exactly one of `name` and `oneOf`.
 */
export class SlotConfig {
  @Description('Name of a registered plugin (`kiln plugins` lists them), for a single-plugin slot. Exactly one of `name` and `oneOf`.')
  @IsNonEmptyString('a plugin name', { optional: true })
  @ObjectRule('slotShape', 'either { name, options?, timeLimitMs? } or { oneOf: [candidates] }', slotShapeProblem, {
    oneOf: [
      { required: ['name'], not: { required: ['oneOf'] } },
      { required: ['oneOf'], not: { anyOf: [{ required: ['name'] }, { required: ['options'] }, { required: ['timeLimitMs'] }] } },
    ],
  })
  name?: string;

  @Description(
    "The plugin's options (single-plugin slot only), checked against the plugin's options class. Absent: the plugin's defaults. A plugin without options accepts none.",
  )
  @IsMapping(MAPPING, { optional: true })
  options?: Record<string, unknown>;

  @Description(
    "Time limit for the plugin's `isAvailable` and `apply`, each, in ms (single-plugin slot only; at most 2147483647); overrides the plugin's own and the top-level `timeLimitMs`.",
  )
  @IsNumberInRange({ integer: true, min: 1, max: MAX_TIME_LIMIT_MS, optional: true })
  timeLimitMs?: number;

  @Description(
    'Candidates to choose from, in order of preference: each is tried until one is kept. `options` and `timeLimitMs` go on each candidate, not on the slot.',
  )
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
  @Description(
    "Third-party plugin modules to import before the pipeline is built, in order: paths relative to the config file (`./my-plugin.js`), absolute paths, or package names (resolved from the config file's folder). Importing a module registers the plugins it defines with `@Plugin`.",
  )
  @IsStringList({ items: 'module paths or package names' })
  plugins: string[] = [];

  @Description('Backend selection. Empty or `null`: every key at its default.')
  @IsMapping('a mapping with keys: preference, threads')
  @ValidateNested({ message: 'wrong type' })
  @Type(() => BackendConfig)
  @sectionDefault(() => new BackendConfig())
  backend: BackendConfig = new BackendConfig();

  @Description(
    "The optimisation steps after backend selection, in order: each entry is a slot, `{ name, options?, timeLimitMs? }` or `{ oneOf: [candidates] }`. Absent: Kiln's default pipeline (every registered built-in latency plugin: graph-compile, op-fusion). An empty list runs no optimisation besides backend selection.",
  )
  @IsListOf('slots ({ name, ... } or { oneOf: [...] })', { optional: true })
  @ValidateNested({ message: 'wrong type', context: { allowed: 'a mapping { name, options?, timeLimitMs? } or { oneOf: [...] }' } })
  @Type(() => SlotConfig)
  pipeline?: SlotConfig[];

  @Description(
    "The sample inputs Kiln generates where none are passed (`optimize()` without `sampleInputs`, and the `kiln` CLI), per model input name: its shape and value range. Generated values are seeded by `validation.seed`. On the command line, `--input-shape`, `--input-range` and `--sample-input` win over these. Absent: every input at the model's shape, a free batch axis at 1, with standard normal values.",
  )
  @IsMapping('a mapping of model input names to { shape?, range? }', { optional: true })
  @ValidateNested({ message: 'wrong type', context: { allowed: 'a mapping { shape?, range? }' } })
  @Type(() => InputConfig)
  inputs?: Map<string, InputConfig>;

  @Description(
    "Batch sizes to serve, smallest first, as a TensorRT optimisation profile: e.g. `[1, 16, 32]`. Kiln runs the pipeline once per size (sample inputs at that batch, every candidate validated and benchmarked there) and returns one model that runs each call on what was kept for its batch size, a batch outside the profile on the nearest one (the report's `profile` says what each size kept). Sizes other axes from `inputs:` (and the CLI's input flags); every input's batch axis must be free. `--batch 1,16,32` on the command line sets it. Absent: one run at the samples' batch (1 for generated ones).",
  )
  @IsNumberList({ items: 'batch sizes', each: { integer: true, min: 1 }, minItems: 1, increasing: true, optional: true })
  shapes?: number[];

  @Description('How each result is checked against the model it replaces. Empty or `null`: every key at its default.')
  @IsMapping('a mapping with keys: tolerance, atol, rtol, samples, seed, largeMagnitude, gradients')
  @ValidateNested({ message: 'wrong type' })
  @Type(() => ValidationConfig)
  @sectionDefault(() => new ValidationConfig())
  validation: ValidationConfig = new ValidationConfig();

  @Description('How gains are measured and judged. Empty or `null`: every key at its default.')
  @IsMapping('a mapping with keys: warmup, iterations, minIterations, budgetMs, minSpeedup, minSizeGain, outlierSigma, endToEnd')
  @ValidateNested({ message: 'wrong type' })
  @Type(() => BenchmarkConfig)
  @sectionDefault(() => new BenchmarkConfig())
  benchmark: BenchmarkConfig = new BenchmarkConfig();

  @Description(
    'When a plugin fails, times out, or its result does not validate or is not faster/smaller, roll it back and go on. `false` stops at the first such plugin with an error that carries the report so far.',
  )
  @IsBooleanValue()
  fallback: boolean = true;

  @Description('Optimise for `inference` (predict) or `training` (fit; gradients are validated too).')
  @IsOneOfValues(['inference', 'training'])
  mode: KilnMode = 'inference';

  @Description(
    "Default time limit for one plugin's `isAvailable` and `apply`, each, in ms (at most 2147483647, Node's longest timer), where neither the slot nor the plugin sets one.",
  )
  @IsNumberInRange({ integer: true, min: 1, max: MAX_TIME_LIMIT_MS })
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
