import * as tf from '@tensorflow/tfjs';
import { inject } from 'tsyringe';
import type { KilnConfig } from '../../config/kiln-config.js';
import { isBackendReady, isTfjsBackend, withBackendAsync } from '../../core/backend-scope.js';
import { EngineManager } from '../../core/engines/engine-manager.js';
import { EngineRegistry } from '../../core/engines/engine-registry.js';
import { CandidateRejectedError } from '../../core/errors.js';
import type { ModelFormat } from '../../core/formats/model-format.js';
import { runsSynchronously, type KilnModel } from '../../core/kiln-model.js';
import {
  AVAILABLE,
  unavailable,
  type AvailabilityContext,
  type OptimizationPlugin,
  type PluginContext,
  type PluginValidation,
} from '../../core/plugin.js';
import { Plugin } from '../../core/plugin-decorator.js';
import { KILN_CONFIG } from '../../core/tokens.js';
import { describeBytes } from '../../lowering/index.js';
import { ANY_OUTPUT, summariseOutcomes, type ValidationBudget } from '../../core/validation/budget.js';
import { Validator } from '../../core/validation/validator.js';
import { budgetOf, MixedPrecisionOptions } from './mixed-precision-options.js';
import {
  autoSearch,
  copyArtifacts,
  measureAlone,
  WorkingModel,
  type Measurement,
  type SearchResult,
  type WeightEntry,
} from './precision-search.js';
import { calibrate, type Calibration } from './calibration.js';
import { WeightEncoder } from './weight-encoder.js';
import {
  sourceWeights,
  storedWidth,
  PRECISION_BYTES,
  quantizeArtifacts,
  unsupportedReason,
  type EncodedWeight,
  type StoredPrecision,
} from './quantize.js';
import { QuantizedKilnModel } from './quantized-model.js';

/** What the report says about compute precision on a backend: tf.js dequantises weights to float32 at load. */
export function computeStatement(backend: string): string {
  if (!isTfjsBackend(backend))
    return `compute stays float32 on ${backend}: tf.js dequantises the stored weights to float32 at load, and the ONNX file ${backend} runs keeps them at their stored types, decoded to float32 when the session loads; the gain is the size of the model files (load time and inference speed not measured)`;
  const why =
    backend === 'webgl'
      ? 'Kiln does not switch webgl to float16 textures (WEBGL_FORCE_F16_TEXTURES is a global tf.js flag, not a per-model setting); set it yourself and rerun Kiln to validate it'
      : `the ${backend} backend computes in float32`;
  return `compute stays float32 on ${backend}: tf.js dequantises the stored weights to float32 at load, and ${why}; the gain is the size of the model files (load time and inference speed not measured)`;
}

/**
 * Stores each weight at the smallest precision (float32, float16, uint16, uint8) that
 * keeps the outputs within an accuracy budget, as stock tf.js model files. The model
 * Kiln validates is loaded by tf.js from exactly those files, so it is what a user
 * who loads them gets. Compute stays float32: tf.js dequantises at load.
 */
@Plugin({
  name: 'mixed-precision',
  kind: 'precision',
  objective: 'size',
  description:
    'store each weight as float16/uint16/uint8 where an accuracy budget allows (stock tf.js quantised weights; compute stays float32)',
  optionsClass: MixedPrecisionOptions,
})
export class MixedPrecisionPlugin implements OptimizationPlugin<MixedPrecisionOptions> {
  constructor(
    private readonly validator: Validator,
    @inject(KILN_CONFIG) private readonly config: KilnConfig,
    private readonly engines: EngineManager,
    private readonly engineRegistry: EngineRegistry,
  ) {}

  isAvailable(context: AvailabilityContext) {
    if (context.mode === 'training') {
      return unavailable(
        'training mode: the weights are being updated, so storing them at reduced precision belongs at export (run Kiln in inference mode on the trained model)',
      );
    }
    return AVAILABLE;
  }

  async apply(target: KilnModel, context: PluginContext<MixedPrecisionOptions>): Promise<KilnModel> {
    const options = context.options;
    const policy = options.policy === 'int8' ? 'uint8' : options.policy;
    // a model outside tf.js (onnxruntime) stores and searches the weights of the stock model it was made from
    const stock = target.stock ?? target.madeFrom;
    if (!stock || !stock.format.overwriteWeight) {
      context.note(
        stock
          ? `mixed precision searches over weight values, which the ${stock.format.displayName} format cannot overwrite: nothing stored at reduced precision`
          : `mixed precision stores the weights of a stock model's files, and "${target.description}" runs none: nothing to store at reduced precision`,
      );
      return target;
    }
    const budget = budgetOf(options);
    checkBudgetOutputs(budget, target.outputNames);
    if (options.policy === 'int8') context.note('int8 is stored as affine uint8: tf.js weight files have no int8 type');

    // The model's files as its format writes them: weights the source files store quantised stay so.
    const source = await stock.format.save(stock.model);
    const weights = describeWeights(source, options.minElements);
    // Words for "as the files store them", for models whose files store some weights quantised.
    const shipsQuantized = [...weights.values()].some((w) => w.stored && w.stored !== 'float32');
    const unchanged = shipsQuantized ? "as the model's files store it" : 'float32';
    const eligible = [...weights.values()].filter((w) => !w.keep && (policy === 'auto' || smaller(policy, w.stored)));
    if (eligible.length === 0) {
      const shipped = [...weights.values()].filter((w) => w.stored && w.stored !== 'float32').length;
      context.note(
        `no weight can be stored smaller${policy === 'auto' ? '' : ` as ${policy}`}: ${shipped ? `${shipped} weight(s) already stored below float32 in the model's files (kept as stored), ` : ''}no other float32 weight has ${options.minElements} elements or more (minElements); nothing to store at reduced precision`,
      );
      return target;
    }
    if (sampleRows(context) < FEW_SAMPLE_ROWS) {
      context.note(
        `the budget checks${calibrates(options.rounding, policy) ? ' and calibration' : ''} rest on ${sampleRows(context)} sample row(s) and the validation sets derived from them; a budget that holds there says little about other inputs: pass at least ${FEW_SAMPLE_ROWS} representative samples (sampleInputs) for a stronger check`,
      );
    }
    const searchBackend = await this.searchBackendFor(target.backend);
    const encoder = new WeightEncoder(weights, await this.calibration(stock.format, source, eligible, policy, searchBackend, context));
    const own = context.validation ? undefined : this.ownValidation(target, context);
    const validation = context.validation ?? own!.validation;
    let result: SearchResult = { state: new Map(), final: EMPTY_MEASUREMENT, alone: new Map() };
    let rejection: string | undefined;
    let work: WorkingModel | undefined;
    try {
      work = await WorkingModel.create(stock.format, source, searchBackend, weights, encoder, validation, budget, context.signal);
      const baseline = work.measure();
      if (!baseline.passed) {
        rejection = `the budget cannot be met even with every weight ${unchanged} (on ${searchBackend}): ${baseline.reason}`;
        result = { ...result, final: baseline };
      } else if (policy === 'auto') {
        result = autoSearch(work, eligible, baseline);
        const least = leastHarmful(result);
        if (result.state.size === 0) {
          rejection = `no weight can be stored below ${shipsQuantized ? 'its precision in the files' : 'float32'} within the budget${least ? `: the least harmful change alone, ${least.name} as ${least.precision}, already breaks it (${least.m.reason})` : ''}`;
        }
      } else {
        const precisionOf = (w: WeightEntry) => (unsupportedReason(w.values!, policy) || !smaller(policy, w.stored) ? [] : [policy]);
        const alone = measureAlone(work, eligible, precisionOf);
        const all = new Map(eligible.filter((w) => precisionOf(w).length).map((w) => [w.name, policy]));
        work.apply(all);
        result = { state: all, final: work.measure(), alone };
        if (!result.final.passed)
          rejection = `policy ${options.policy} (${storedBytes(weights, all)} bytes) breaks the budget: ${result.final.reason}`;
      }
      context.metric('budgetChecks', work.checks);
      context.metric('searchBackend', searchBackend);
    } finally {
      work?.dispose();
      own?.dispose();
    }

    const state = rejection ? new Map<string, StoredPrecision>() : result.state;
    const encoded = this.report(weights, state, result, context, options.minElements, target.backend, encoder);
    if (rejection) throw new CandidateRejectedError(`${rejection}; every weight stays ${unchanged}`);
    if (result.broke)
      context.note(
        `the budget broke when ${result.broke.name} went to ${result.broke.to} on top of the changes ranked before it (${result.broke.reason}); the search kept what held`,
      );

    const { artifacts, weightBytes } = quantizeArtifacts(source, encoded);
    const runs = await this.loadOnEngine(stock.format, artifacts, target.backend, context.sampleInputs);
    const counts = countPrecisions(weights, state);
    const description = `${runs.description}, weights stored as ${Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([p, n]) => `${n} ${p}`)
      .join(', ')} (compute float32)`;
    const model = new QuantizedKilnModel(runs, artifacts, weightBytes, budget, description);

    // What the pipeline will check: the model tf.js loaded from the files, on its backend.
    const final = validation.check(model, budget);
    if (!final.passed) {
      model.dispose();
      throw new CandidateRejectedError(
        `the chosen precisions held on ${searchBackend} but the model loaded from the quantised files does not on ${target.backend}: ${final.reason}; every weight stays ${unchanged}`,
      );
    }
    context.note(`within budget: ${summariseOutcomes(final.budget ?? [])}`);
    if (model.onnx && target.onnx) {
      context.metric('onnxBytes', model.onnx.length);
      context.note(
        `the ONNX file ${target.backend} runs: ${describeBytes(model.onnx.length)}, ${(model.onnx.length / target.onnx.length).toFixed(2)}x the ${describeBytes(target.onnx.length)} of the model before (weights on the float16 and uint8 grids stored at those types, decoded to float32 by Cast nodes)`,
      );
    }
    return model;
  }

  /**
   * Where the search's many checks run: the model's own tf.js backend, but wasm rather
   * than cpu's slow kernels, and wasm (started if need be), else cpu, for a model outside
   * tf.js (onnxruntime).
   */
  private async searchBackendFor(backend: string): Promise<string> {
    if (isTfjsBackend(backend) && backend !== 'cpu') return backend;
    if (!isTfjsBackend(backend) && !isBackendReady('wasm') && this.engineRegistry.has('wasm'))
      await this.engines.ensure(this.engineRegistry.get('wasm'));
    return isBackendReady('wasm') ? 'wasm' : 'cpu';
  }

  /**
   * The model tf.js loads from `artifacts`, run where `backend` runs: on that tf.js
   * backend, or, for an engine outside tf.js, loaded on cpu and handed to the engine.
   */
  private async loadOnEngine(
    format: ModelFormat,
    artifacts: tf.io.ModelArtifacts,
    backend: string,
    sampleInputs: readonly tf.Tensor[],
  ): Promise<KilnModel> {
    if (isTfjsBackend(backend)) {
      const loaded = await withBackendAsync(backend, () => format.load(copyArtifacts(artifacts)));
      return format.wrap(loaded, backend, true);
    }
    const engine = this.engineRegistry.get(backend);
    const started = await this.engines.ensure(engine);
    if (!started.available) throw new Error(`the ${backend} engine the model ran on cannot start now: ${started.reason}`);
    const loaded = await withBackendAsync('cpu', () => format.load(copyArtifacts(artifacts)));
    const onCpu = format.wrap(loaded, 'cpu', true);
    let model: KilnModel | undefined;
    try {
      model = await engine.prepare(onCpu);
      // one call at the sample inputs first: an engine that builds per signature (onnxruntime) builds theirs, whose file it reports
      const args = sampleInputs.length === 1 ? sampleInputs[0]! : [...sampleInputs];
      tf.dispose(runsSynchronously(model) ? model.predict(args) : await model.predictAsync!(args));
      return model;
    } catch (error) {
      model?.dispose();
      throw error;
    } finally {
      onCpu.dispose();
    }
  }

  /** Per-weight notes, table and figures; returns the stored bytes of every weight not kept float32. */
  private report(
    weights: ReadonlyMap<string, WeightEntry>,
    state: ReadonlyMap<string, StoredPrecision>,
    result: SearchResult,
    context: PluginContext<MixedPrecisionOptions>,
    minElements: number,
    backend: string,
    encoder: WeightEncoder,
  ): Map<string, EncodedWeight> {
    const encoded = new Map<string, EncodedWeight>();
    const rows: Record<string, number | string | boolean>[] = [];
    let before = 0;
    let after = 0;
    let float32 = 0;
    for (const w of weights.values()) {
      const precision = state.get(w.name) ?? 'float32';
      const bytesBefore = w.elements * storedWidth(w.spec);
      const bytesAfter = precision === 'float32' ? bytesBefore : w.elements * PRECISION_BYTES[precision];
      before += bytesBefore;
      after += bytesAfter;
      float32 += w.values ? w.elements * 4 : bytesBefore;
      const alone = result.alone.get(w.name);
      const m = precision === 'float32' ? undefined : alone?.get(precision);
      // The shared encoder's bytes: exactly what the search decoded and validated.
      if (precision !== 'float32') encoded.set(w.name, encoder.encoded(w.name, precision));
      const rounding = precision === 'uint8' || precision === 'uint16' ? encoder.roundingOf(w.name, precision) : undefined;
      const roundingNote = precision === 'uint8' && rounding === 'nearest' ? encoder.nearestWhy(w.name) : undefined;
      const why = w.keep ?? (precision === 'float32' ? triedWhy(alone) : '');
      rows.push({
        weight: w.name,
        shape: w.spec.shape.join('x') || 'scalar',
        precision: precision === 'float32' ? (w.stored ?? w.spec.dtype) : precision,
        ...(rounding ? { rounding } : {}),
        ...(roundingNote ? { roundingNote } : {}),
        bytesBefore,
        bytesAfter,
        errorContribution: m ? round(m.usage) : 0,
        maxAbsDiffAlone: m ? round(m.maxAbsDiff) : 0,
        ...(why ? { note: why } : {}),
      });
      context.note(
        precision === 'float32'
          ? `${w.name}: ${w.stored && w.stored !== 'float32' ? `${w.stored} as the files store it` : 'float32'}, ${bytesBefore} bytes (${why})`
          : `${w.name}: ${precision}${rounding === 'error-feedback' ? ' (error-feedback rounding)' : roundingNote ? ` (rounded to nearest: ${roundingNote})` : ''}, ${bytesBefore} -> ${bytesAfter} bytes, error contribution ${fmt(m?.usage ?? NaN)} of the budget (max |diff| ${fmt(m?.maxAbsDiff ?? NaN)} alone)`,
      );
    }
    context.table?.('weights', rows);
    const counts = countPrecisions(weights, state);
    for (const [p, n] of Object.entries(counts)) context.metric(`weights.${p}`, n);
    context.metric('weightBytesFloat32', float32);
    context.metric('weightBytesSource', before);
    context.metric('weightBytesStored', after);
    context.metric('computePrecision', 'float32');
    context.note(
      `minElements ${minElements}: ${[...weights.values()].filter((w) => w.keep).length} weight(s) stay float32 whatever the budget`,
    );
    context.note(computeStatement(backend));
    for (const o of result.final.outcomes)
      context.metric(`budget.${o.output}.${o.term}`, Number.isFinite(o.achieved) ? round(o.achieved) : String(o.achieved));
    return encoded;
  }

  /**
   * Input moments of the eligible kernels on the samples, for error-feedback rounding of
   * uint8 codes; none when rounding is `nearest` or the policy never stores uint8.
   */
  private async calibration(
    format: ModelFormat,
    source: tf.io.ModelArtifacts,
    eligible: readonly WeightEntry[],
    policy: string,
    backend: string,
    context: PluginContext<MixedPrecisionOptions>,
  ): Promise<Calibration | undefined> {
    if (!calibrates(context.options.rounding, policy)) return undefined;
    if (format.name !== 'layers-model') {
      context.note(
        `uint8 rounding: to nearest for every weight: error feedback calibrates on the inputs of each layer's kernel, which a ${format.displayName} does not expose`,
      );
      return undefined;
    }
    let calibration: Calibration;
    try {
      calibration = await calibrate(
        copyArtifacts(source),
        context.sampleInputs,
        backend,
        eligible.map((w) => w.name),
      );
    } catch (error) {
      context.note(`uint8 rounding: to nearest for every weight: calibration for error feedback failed (${(error as Error).message})`);
      return undefined;
    }
    const inputRows = [...calibration.moments.values()].map((m) => m.inputRows);
    context.note(
      `uint8 rounding: error feedback (GPTQ) for ${calibration.moments.size} kernel(s), calibrated on the layer inputs of the ${sampleRows(context)} sample row(s)` +
        (inputRows.length ? ` (${Math.min(...inputRows)} to ${Math.max(...inputRows)} input rows per kernel)` : '') +
        '; the budget is still checked on every validation set, including the perturbed, scaled and doubled ones calibration never saw',
    );
    context.metric('errorFeedbackKernels', calibration.moments.size);
    return calibration;
  }

  /** Validation against `target` on cpu, for a context made outside the pipeline. */
  private ownValidation(
    target: KilnModel,
    context: PluginContext<MixedPrecisionOptions>,
  ): { validation: PluginValidation; dispose(): void } {
    const reference = (target.stock ?? target.madeFrom)!.format.wrap(
      (target.stock ?? target.madeFrom)!.model,
      'cpu',
      false,
      'reference on cpu',
    );
    const session = this.validator.prepare(reference, context.sampleInputs, this.config.validation, 'inference');
    return { validation: { inputSets: session.inputSetLabels, check: (m, b) => session.check(m, b) }, dispose: () => session.dispose() };
  }
}

/** Fewer sample rows than this get a note that the budget check is weak. */
const FEW_SAMPLE_ROWS = 8;

/** Whether uint8 codes get error feedback, which needs calibration: `rounding: error-feedback` under a policy that stores uint8. */
const calibrates = (rounding: string, policy: string): boolean =>
  rounding === 'error-feedback' && (policy === 'auto' || policy === 'uint8');

/** Rows (batch size) of the sample inputs. */
const sampleRows = (context: PluginContext<MixedPrecisionOptions>): number => context.sampleInputs[0]?.shape[0] ?? 0;

/** Every weight, with why it stays as the files store it whatever the policy (dtype, storage, size, values). */
function describeWeights(source: tf.io.ModelArtifacts, minElements: number): Map<string, WeightEntry> {
  const out = new Map<string, WeightEntry>();
  for (const [name, { spec, stored, values }] of sourceWeights(source)) {
    const elements = spec.shape.reduce((n, d) => n * d, 1);
    let keep: string | undefined;
    if (!values) keep = `${spec.dtype}, not float32`;
    else if (stored === 'uint8') keep = "stored as uint8 in the model's files: nothing smaller to store it as";
    else if (elements < minElements) keep = `${elements} elements, under minElements ${minElements}`;
    else keep = unsupportedReason(values, 'uint8');
    out.set(name, { name, spec, elements, values, stored, keep });
  }
  return out;
}

/** Whether `precision` stores a weight in fewer bytes than the files do (`stored`). */
function smaller(precision: StoredPrecision, stored: StoredPrecision | undefined): boolean {
  return PRECISION_BYTES[precision] < PRECISION_BYTES[stored ?? 'float32'];
}

function checkBudgetOutputs(budget: ValidationBudget, outputs: readonly string[]): void {
  const unknown = Object.keys(budget).filter((name) => name !== ANY_OUTPUT && !outputs.includes(name));
  if (unknown.length) {
    throw new Error(
      `budgets name output(s) ${unknown.map((n) => `"${n}"`).join(', ')} that the model does not have; its outputs are: ${outputs.join(', ')} (or "*" for all)`,
    );
  }
}

/** What was tried for a weight left float32, and how much of the budget it used alone. */
function triedWhy(alone: ReadonlyMap<StoredPrecision, Measurement> | undefined): string {
  if (!alone || alone.size === 0) return 'not tried';
  const tried = [...alone.entries()].map(([p, m]) => `${p} alone uses ${fmt(m.usage)} of the budget${m.passed ? '' : ' (breaks it)'}`);
  const why = [...alone.values()].every((m) => !m.passed)
    ? 'every precision tried breaks the budget alone'
    : 'the budget broke with it in combination';
  return `kept: ${why}; ${tried.join(', ')}`;
}

/** Bytes the weights take with the given precisions (as the files store them elsewhere). */
function storedBytes(weights: ReadonlyMap<string, WeightEntry>, state: ReadonlyMap<string, StoredPrecision>): number {
  let total = 0;
  for (const w of weights.values()) {
    const p = state.get(w.name);
    total += w.elements * (p ? PRECISION_BYTES[p] : storedWidth(w.spec));
  }
  return total;
}

const EMPTY_MEASUREMENT: Measurement = { passed: true, usage: 0, maxAbsDiff: 0, reason: '', outcomes: [] };

function leastHarmful(result: SearchResult): { name: string; precision: StoredPrecision; m: Measurement } | undefined {
  let best: { name: string; precision: StoredPrecision; m: Measurement } | undefined;
  for (const [name, byPrecision] of result.alone) {
    for (const [precision, m] of byPrecision) if (!best || m.usage < best.m.usage) best = { name, precision, m };
  }
  return best;
}

function countPrecisions(
  weights: ReadonlyMap<string, WeightEntry>,
  state: ReadonlyMap<string, StoredPrecision>,
): Record<StoredPrecision, number> {
  const counts: Record<StoredPrecision, number> = { float32: 0, float16: 0, uint16: 0, uint8: 0 };
  for (const w of weights.values()) counts[state.get(w.name) ?? w.stored ?? 'float32']++;
  return counts;
}

function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(4)) : x;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toExponential(2) : String(x);
}
