import * as tf from '@tensorflow/tfjs';
import { CompiledModel } from '../compiler/api/compiled-model.js';
import type { KilnConfig } from '../config/kiln-config.js';
import { withBackendAsync } from '../core/backend-scope.js';
import type { StockModel } from '../core/formats/model-format.js';
import { BUILT_IN_FUSION_PATTERNS } from '../plugins/op-fusion/kernel-fusion/index.js';
import type { KilnModel } from '../core/kiln-model.js';
import { LayersKilnModel, layersModelFormat } from '../formats/layers-model/layers-model-format.js';
import type { KilnReport } from '../core/pipeline/report.js';
import { buildValidationInputs } from '../core/validation/validation-inputs.js';
import { optimize } from '../optimize.js';
import { fuseGraph } from '../plugins/op-fusion/graph-fusion.js';
import { rewriteLayers } from '../plugins/op-fusion/layer-rewrite/index.js';

/** Something the engine frees when its scope ends. */
export interface Disposable {
  dispose(): void;
}

/** A backend a cell runs on: Kiln's name (as in `backend.preference`) and the tf.js one. */
export interface BenchBackend {
  readonly name: string;
  readonly tfName: string;
}

/** Long-lived things shared by the cells of one model on one backend (all batch sizes). */
export interface GroupContext {
  readonly modelName: string;
  readonly backend: BenchBackend;
  /** A fresh copy of the model (its format's `copyTo`) whose weights live on `backend`, freed when the group ends. */
  buildModel(backend: string): Promise<StockModel>;
  /** Seeded sample inputs at `batch` for `model`, freed when the group ends. */
  sampleInputs(model: StockModel, batch: number): tf.Tensor[];
  /** The source's seeded inputs at `batch`; the caller frees them. */
  sourceInputs(model: StockModel, batch: number): tf.Tensor[];
  /** The run's batch sizes, smallest first. */
  readonly batches: readonly number[];
  /** The config Kiln's optimize() runs with for this backend. */
  optimizeConfig(): Promise<KilnConfig>;
  /** Records Kiln's report of an optimize() run, for --json and the HTML report. */
  recordOptimizeRun(report: KilnReport): void;
}

/** What a variant gets to build its model for one cell. */
export interface VariantContext {
  readonly modelName: string;
  readonly backend: BenchBackend;
  /** Kiln's preferred backend among those that run here. */
  readonly bestBackend: BenchBackend;
  readonly batch: number;
  /**
   * A fresh copy of the model and its format (a tf.LayersModel, a tf.GraphModel, ...),
   * weights on the cell's backend, freed when the cell ends. Do not mutate.
   */
  readonly model: StockModel;
  /** The cell's inputs (batch `batch`). The engine owns them. */
  readonly samples: readonly tf.Tensor[];
  /** Another fresh copy (its format's `copyTo`), its weights on `backend` (so two backends never share, and move, one set of weights); freed with the cell. */
  buildModel(backend: string): Promise<StockModel>;
  /** A value built once per model and backend (e.g. Kiln's optimised model) and freed when the last batch of that group is done. */
  shared<T extends Disposable>(key: string, make: (group: GroupContext) => Promise<T>): Promise<T>;
}

/** A variant's model for one cell. */
export interface BuiltVariant {
  /** Freed by the engine when the cell ends (wrap shared models with {@link borrowed}). */
  readonly model: KilnModel;
  /** How it runs here, when there is more to say than the variant's description. */
  readonly description?: string;
}

/**
 * A way of running a model that the suite measures: one row of figures per cell.
 * The list is open: a later engine (a native runtime, a GPU backend) joins the table
 * by adding an entry to the array handed to the engine.
 */
export interface BenchVariant {
  readonly name: string;
  readonly description: string;
  /**
   * Another variant whose figures this one would repeat in a cell (the same model on
   * the same backend, e.g. plain tf.js in a cpu cell): the engine copies them instead
   * of timing the same thing twice.
   */
  sameAs?(context: { readonly backend: BenchBackend; readonly bestBackend: BenchBackend }): string | undefined;
  /**
   * Why the variant does not apply to this model, or undefined where it does: e.g. a
   * rewrite of Keras layers has nothing to rewrite in a tf.GraphModel. The engine then
   * leaves it out of the cell (`skipped`, with this reason) without building it.
   */
  notApplicable?(model: StockModel): string | undefined;
  /**
   * Left out of slow cells (where one call of predict takes longer than the engine's
   * `slowCallMs`): the variants a cell cannot do without are the references and Kiln.
   */
  readonly optional?: boolean;
  build(context: VariantContext): Promise<BuiltVariant>;
}

/** A KilnModel whose dispose() frees nothing: for models a shared() scope owns. */
export function borrowed(model: KilnModel): KilnModel {
  return {
    get backend() {
      return model.backend;
    },
    get description() {
      return model.description;
    },
    get inputs() {
      return model.inputs;
    },
    get outputNames() {
      return model.outputNames;
    },
    get stock() {
      return model.stock;
    },
    get layersModel() {
      return model.layersModel;
    },
    predict: (x) => model.predict(x),
    trainableVariables: () => model.trainableVariables(),
    dispose: () => undefined,
  };
}

/** The model run by its own predict (LayersModel.predict, GraphModel.execute, ...) on `backend`; the engine frees the copy with the cell. */
function stockOn(stock: StockModel, backend: string, description?: string): KilnModel {
  return stock.format.wrap(stock.model, backend, false, description);
}

async function layerFused(model: tf.LayersModel, backend: string): Promise<LayersKilnModel> {
  const { model: rewritten } = await withBackendAsync(backend, () => rewriteLayers(model));
  return new LayersKilnModel(rewritten, backend, true);
}

/** Why a layers-only variant does not apply to `model` (undefined for a tf.LayersModel). */
function layersOnly(what: string): (model: StockModel) => string | undefined {
  return (model) =>
    layersModelFormat.owns(model.model)
      ? undefined
      : `${what} works on a ${layersModelFormat.displayName}; this model is a ${model.format.displayName} (${model.format.name})`;
}

/** Name of the variant every `vsPredict` ratio is taken against. */
export const PREDICT = 'predict';
/** Name of the variant every `vsPlain` ratio is taken against: the stock predict on cpu. */
export const PLAIN_TFJS = 'plain-tfjs';
/** Name of the variant every `vsPlainWasm` ratio is taken against: the stock predict on wasm, the headline reference. */
export const PLAIN_WASM = 'plain-wasm';
/** Name of Kiln's optimised model: its ratio to predict is what `--baseline` guards. */
export const KILN = 'kiln';

/** The tf.js backend of {@link PLAIN_WASM_VARIANT}. */
const WASM = 'wasm';

export const PLAIN_TFJS_VARIANT: BenchVariant = {
  name: PLAIN_TFJS,
  description:
    "plain @tensorflow/tfjs: the model's own predict (LayersModel.predict, GraphModel.execute) on its default backend (cpu in Node), whatever the cell's backend",
  sameAs: ({ backend }) => (backend.tfName === 'cpu' ? PREDICT : undefined),
  build: async (c) => ({ model: stockOn(await c.buildModel('cpu'), 'cpu') }),
};

export const PLAIN_WASM_VARIANT: BenchVariant = {
  name: PLAIN_WASM,
  description:
    "plain @tensorflow/tfjs with @tensorflow/tfjs-backend-wasm: the model's own predict on wasm, whatever the cell's backend (the best stock option in Node without tfjs-node; the summary's headline reference)",
  sameAs: ({ backend }) => (backend.tfName === WASM ? PREDICT : undefined),
  // The registry, not tf.findBackend: probing must not start a backend.
  notApplicable: () => (WASM in tf.engine().registry ? undefined : 'the wasm backend is not running here'),
  build: async (c) => ({ model: stockOn(await c.buildModel(WASM), WASM) }),
};

export const BEST_BACKEND_VARIANT: BenchVariant = {
  name: 'best-backend',
  description: "the model's own predict on the best backend available here (Kiln's preference order), whatever the cell's backend",
  sameAs: ({ backend, bestBackend }) => (backend.name === bestBackend.name ? PREDICT : undefined),
  build: async (c) => ({ model: stockOn(await c.buildModel(c.bestBackend.tfName), c.bestBackend.tfName) }),
};

export const PREDICT_VARIANT: BenchVariant = {
  name: PREDICT,
  description: "the model's own predict (LayersModel.predict, GraphModel.execute) on the cell's backend",
  build: async (c) => ({ model: stockOn(c.model, c.backend.tfName) }),
};

/** A model a group (one model on one backend) owns, shared by its batch sizes. */
class GroupModel implements Disposable {
  constructor(
    readonly model: KilnModel,
    readonly description?: string,
  ) {}
  dispose(): void {
    this.model.dispose();
  }
}

/**
 * Builds a variant once per model and backend, from a fresh copy of the model and
 * batch-1 sample inputs, and lends it to every batch size's cell. A compiled variant
 * meets a new batch size as a new input signature: its first call there compiles it,
 * which the cell's cold figure includes (as a user's first call at that batch would).
 */
async function buildOncePerGroup(
  c: VariantContext,
  key: string,
  make: (model: StockModel, samples: tf.Tensor[], backend: string) => Promise<KilnModel>,
  describe?: (model: KilnModel) => string | undefined,
): Promise<BuiltVariant> {
  const entry = await c.shared(key, async (group) => {
    const model = await group.buildModel(group.backend.tfName);
    const samples = group.sampleInputs(model, 1);
    const made = await make(model, samples, group.backend.tfName);
    return new GroupModel(made, describe?.(made));
  });
  return { model: borrowed(entry.model), ...(entry.description ? { description: entry.description } : {}) };
}

/** What a compiled model runs eagerly, and why (a graph break), when it does: the replay is then plain predict. */
function eagerNote(model: KilnModel): string | undefined {
  if (!(model instanceof CompiledModel)) return undefined;
  const eager = model.stats().eager;
  if (!eager.length) return undefined;
  return `runs eagerly (${[...new Set(eager.map((e) => (e.cause === 'graph-break' ? e.breaks.map((b) => b.cause).join(', ') || e.cause : e.cause)))].join('; ')}): ${eager[0]!.reason}`;
}

export const COMPILED_VARIANT: BenchVariant = {
  name: 'compiled',
  description:
    'graph-compile alone: replay of the traced kernels (no fusion); compiled once per model and backend on batch-1 inputs, other batches compile on their first call',
  optional: true,
  build: (c) =>
    buildOncePerGroup(
      c,
      'compiled',
      async (model, samples, backend) => new CompiledModel(stockOn(model, backend), { sampleInputs: samples, selectionRuns: 5 }),
      eagerNote,
    ),
};

export const LAYERS_FUSED_VARIANT: BenchVariant = {
  name: 'layers-fused',
  description:
    "op-fusion's layer rewrite alone (BatchNorm folded, relu6 as a ReLU layer, activations merged), run by plain predict; tf.LayersModel only",
  optional: true,
  notApplicable: layersOnly("op-fusion's layer rewrite"),
  build: (c) => buildOncePerGroup(c, 'layers-fused', (model, _samples, backend) => layerFused(model.model as tf.LayersModel, backend)),
};

export const FUSED_VARIANT: BenchVariant = {
  name: 'fused',
  description:
    'op-fusion: layer rewrite (a tf.LayersModel; other formats go straight on), then the compiled kernel graph with the fusion patterns, validated on batch-1 inputs once per model and backend; other batches compile on their first call',
  optional: true,
  build: (c) =>
    buildOncePerGroup(
      c,
      'fused',
      async (model, samples, backend) => {
        const base: KilnModel = layersModelFormat.owns(model.model) ? await layerFused(model.model, backend) : stockOn(model, backend);
        const reference = stockOn(model, backend);
        const checks = buildValidationInputs(samples, reference.inputs, { samples: 1, seed: 5, largeMagnitude: 10 });
        try {
          const result = fuseGraph(
            base,
            reference,
            samples,
            checks.map((k) => k.inputs),
            { patterns: BUILT_IN_FUSION_PATTERNS, disabled: [], mode: 'inference', bisect: true },
          );
          if ('failure' in result) {
            base.dispose();
            throw new Error(result.failure);
          }
          return result.model.withOwned(base);
        } finally {
          for (const k of checks) tf.dispose(k.inputs);
        }
      },
      eagerNote,
    ),
};

/** Kiln's optimised model with its report, shared by every batch size of one model and backend. */
class OptimizedEntry implements Disposable {
  constructor(
    readonly model: KilnModel,
    readonly report: KilnReport,
  ) {}
  dispose(): void {
    this.model.dispose();
  }
}

/** `config` with `shapes` set (a copy: the rest, its folder included, as it was). */
function withShapes(config: KilnConfig, shapes: readonly number[]): KilnConfig {
  return Object.create(Object.getPrototypeOf(config) as object, {
    ...Object.getOwnPropertyDescriptors(config),
    shapes: { value: [...shapes], enumerable: true, writable: true, configurable: true },
  }) as KilnConfig;
}

export const KILN_VARIANT: BenchVariant = {
  name: KILN,
  description:
    "Kiln's optimised model: optimize() with backend.preference starting at the cell's backend (then Kiln's fallbacks after it), run once per model and backend with the run's batch sizes as its shape profile (`shapes: [1, 16, 32]`, as `kiln optimize --batch 1,16,32`), so each cell runs what Kiln kept at its batch",
  build: async (c) => {
    const entry = await c.shared('kiln', async (group) => {
      // As a plain tf.js user starts: the model, its inputs and the run on the cpu backend.
      const model = await group.buildModel('cpu');
      const base = await group.optimizeConfig();
      const config = group.batches.length > 1 ? withShapes(base, group.batches) : base;
      const samplesAt = (batch: number | undefined) => group.sourceInputs(model, batch ?? group.batches[0] ?? 1);
      const { model: optimized, report } = await withBackendAsync('cpu', async () => optimize(model.model, { samplesAt, config }));
      group.recordOptimizeRun(report);
      return new OptimizedEntry(optimized, report);
    });
    const kept = entry.report.decisions.filter((d) => d.status === 'applied').map((d) => d.plugin);
    return {
      model: borrowed(entry.model),
      description: `${entry.report.final}${kept.length ? ` (kept: ${kept.join(', ')})` : ' (nothing kept)'}`,
    };
  },
};

/** The built-in variants, in table order. `predict` must be among those handed to the engine. */
export const BUILT_IN_VARIANTS: readonly BenchVariant[] = [
  PLAIN_TFJS_VARIANT,
  PLAIN_WASM_VARIANT,
  BEST_BACKEND_VARIANT,
  PREDICT_VARIANT,
  COMPILED_VARIANT,
  LAYERS_FUSED_VARIANT,
  FUSED_VARIANT,
  KILN_VARIANT,
];
