import * as tf from '@tensorflow/tfjs';
import { CompiledModel } from '../compiler/api/compiled-model.js';
import type { KilnConfig } from '../config/kiln-config.js';
import { withBackendAsync } from '../core/backend-scope.js';
import { BUILT_IN_FUSION_PATTERNS } from '../plugins/op-fusion/kernel-fusion/index.js';
import type { KilnModel } from '../core/kiln-model.js';
import { LayersKilnModel } from '../formats/layers-model/layers-model-format.js';
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
  /** A fresh copy of the model whose variables live on `backend`, freed when the group ends. */
  buildModel(backend: string): Promise<tf.LayersModel>;
  /** Seeded sample inputs at `batch` for `model`, freed when the group ends. */
  sampleInputs(model: tf.LayersModel, batch: number): tf.Tensor[];
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
  /** A fresh copy of the model, variables on the cell's backend, freed when the cell ends. Do not mutate. */
  readonly model: tf.LayersModel;
  /** The cell's inputs (batch `batch`). The engine owns them. */
  readonly samples: readonly tf.Tensor[];
  /** Another fresh copy, its variables on `backend` (so two backends never share, and move, one set of weights); freed with the cell. */
  buildModel(backend: string): Promise<tf.LayersModel>;
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
    get layersModel() {
      return model.layersModel;
    },
    predict: (x) => model.predict(x),
    trainableVariables: () => model.trainableVariables(),
    dispose: () => undefined,
  };
}

async function layerFused(model: tf.LayersModel, backend: string): Promise<LayersKilnModel> {
  const { model: rewritten } = await withBackendAsync(backend, () => rewriteLayers(model));
  return new LayersKilnModel(rewritten, backend, true);
}

/** Name of the variant every `vsPredict` ratio is taken against. */
export const PREDICT = 'predict';
/** Name of the variant every `vsPlain` ratio is taken against. */
export const PLAIN_TFJS = 'plain-tfjs';
/** Name of Kiln's optimised model: its ratio to predict is what `--baseline` guards. */
export const KILN = 'kiln';

export const PLAIN_TFJS_VARIANT: BenchVariant = {
  name: PLAIN_TFJS,
  description: "plain @tensorflow/tfjs: LayersModel.predict on its default backend (cpu in Node), whatever the cell's backend",
  sameAs: ({ backend }) => (backend.tfName === 'cpu' ? PREDICT : undefined),
  build: async (c) => ({ model: new LayersKilnModel(await c.buildModel('cpu'), 'cpu', false, 'LayersModel.predict on cpu') }),
};

export const BEST_BACKEND_VARIANT: BenchVariant = {
  name: 'best-backend',
  description: "LayersModel.predict on the best backend available here (Kiln's preference order), whatever the cell's backend",
  sameAs: ({ backend, bestBackend }) => (backend.name === bestBackend.name ? PREDICT : undefined),
  build: async (c) => ({
    model: new LayersKilnModel(
      await c.buildModel(c.bestBackend.tfName),
      c.bestBackend.tfName,
      false,
      `LayersModel.predict on ${c.bestBackend.tfName}`,
    ),
  }),
};

export const PREDICT_VARIANT: BenchVariant = {
  name: PREDICT,
  description: "LayersModel.predict on the cell's backend",
  build: async (c) => ({ model: new LayersKilnModel(c.model, c.backend.tfName, false) }),
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
  make: (model: tf.LayersModel, samples: tf.Tensor[], backend: string) => Promise<KilnModel>,
): Promise<BuiltVariant> {
  const entry = await c.shared(key, async (group) => {
    const model = await group.buildModel(group.backend.tfName);
    const samples = group.sampleInputs(model, 1);
    return new GroupModel(await make(model, samples, group.backend.tfName));
  });
  return { model: borrowed(entry.model) };
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
      async (model, samples, backend) =>
        new CompiledModel(new LayersKilnModel(model, backend, false), { sampleInputs: samples, selectionRuns: 5 }),
    ),
};

export const LAYERS_FUSED_VARIANT: BenchVariant = {
  name: 'layers-fused',
  description: "op-fusion's layer rewrite alone (BatchNorm folded, relu6 as a ReLU layer, activations merged), run by plain predict",
  optional: true,
  build: (c) => buildOncePerGroup(c, 'layers-fused', (model, _samples, backend) => layerFused(model, backend)),
};

export const FUSED_VARIANT: BenchVariant = {
  name: 'fused',
  description:
    'op-fusion: layer rewrite, then the compiled kernel graph with the fusion patterns, validated on batch-1 inputs once per model and backend; other batches compile on their first call',
  optional: true,
  build: (c) =>
    buildOncePerGroup(c, 'fused', async (model, samples, backend) => {
      const base = await layerFused(model, backend);
      const reference = new LayersKilnModel(model, backend, false);
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
    }),
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

export const KILN_VARIANT: BenchVariant = {
  name: KILN,
  description:
    "Kiln's optimised model: optimize() with backend.preference starting at the cell's backend (then Kiln's fallbacks after it), run once per model and backend on batch-1 samples (as `kiln optimize` does by default) and timed at every batch",
  build: async (c) => {
    const entry = await c.shared('kiln', async (group) => {
      // As a plain tf.js user starts: the model, its inputs and the run on the cpu backend.
      const model = await group.buildModel('cpu');
      const config = await group.optimizeConfig();
      const { model: optimized, report } = await withBackendAsync('cpu', async () =>
        optimize(model, { sampleInputs: group.sampleInputs(model, 1), config }),
      );
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
  BEST_BACKEND_VARIANT,
  PREDICT_VARIANT,
  COMPILED_VARIANT,
  LAYERS_FUSED_VARIANT,
  FUSED_VARIANT,
  KILN_VARIANT,
];
