import * as tf from '@tensorflow/tfjs';
import { CompiledModel } from '../src/compile/compiled-model.js';
import { withBackendAsync } from '../src/core/backend-scope.js';
import { BUILT_IN_FUSION_PATTERNS } from '../src/core/graph/fusion/index.js';
import type { KilnModel } from '../src/core/kiln-model.js';
import { LayersKilnModel } from '../src/core/layers-kiln-model.js';
import { buildValidationInputs } from '../src/core/validation/validation-inputs.js';
import { fuseGraph } from '../src/plugins/op-fusion/graph-fusion.js';
import { rewriteLayers } from '../src/plugins/op-fusion/layer-rewrite/index.js';

/**
 * A way of running a model that the suite measures. The table is open: later
 * engines join as rows by adding an entry here.
 */
export interface BenchVariant {
  readonly name: string;
  readonly description: string;
  /** The variant every ratio in a row is taken against (exactly one). */
  readonly baseline?: boolean;
  build(model: tf.LayersModel, backend: string, samples: tf.Tensor[]): Promise<KilnModel>;
}

async function layerFused(model: tf.LayersModel, backend: string): Promise<LayersKilnModel> {
  const { model: rewritten } = await withBackendAsync(backend, () => rewriteLayers(model));
  return new LayersKilnModel(rewritten, backend, true);
}

export const VARIANTS: readonly BenchVariant[] = [
  { name: 'predict', description: 'LayersModel.predict', baseline: true, build: async (model, backend) => new LayersKilnModel(model, backend, false) },
  {
    name: 'compiled',
    description: 'graph-compile: replay of the traced kernels (no fusion)',
    build: async (model, backend, samples) => new CompiledModel(new LayersKilnModel(model, backend, false), { sampleInputs: samples, selectionRuns: 5 }),
  },
  {
    name: 'layers-fused',
    description: 'op-fusion layer rewrite alone, run by plain predict',
    build: (model, backend) => layerFused(model, backend),
  },
  {
    name: 'fused',
    description: 'op-fusion: layer rewrite, then the compiled kernel graph with the fusion patterns',
    build: async (model, backend, samples) => {
      const base = await layerFused(model, backend);
      const reference = new LayersKilnModel(model, backend, false);
      const checks = buildValidationInputs(samples, reference.inputs, { samples: 1, seed: 5, largeMagnitude: 10 });
      try {
        const result = fuseGraph(base, reference, samples, checks.map((c) => c.inputs), { patterns: BUILT_IN_FUSION_PATTERNS, disabled: [], mode: 'inference', atol: 1e-5, rtol: 1e-4, bisect: true });
        if ('failure' in result) throw new Error(result.failure);
        return result.model.withOwned(base);
      } finally {
        for (const c of checks) tf.dispose(c.inputs);
      }
    },
  },
];
