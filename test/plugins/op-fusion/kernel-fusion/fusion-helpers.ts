import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { CompiledModel } from '../../../../src/compiler/api/compiled-model.js';
import { graphFunctionSettings } from '../../../../src/compiler/api/compile-options.js';
import type { CompiledPlan } from '../../../../src/compiler/compiled-plan.js';
import { emptyTally, fusionPass, type FusionPattern, type FusionTally } from '../../../../src/plugins/op-fusion/kernel-fusion/index.js';
import { GraphFunction } from '../../../../src/compiler/graph-function.js';
import type { KernelGraph, KernelNode } from '../../../../src/compiler/ir.js';
import { LayersKilnModel } from '../../../../src/formats/layers-model/layers-model-format.js';
import type { KilnMode } from '../../../../src/core/plugin.js';
import { asList, expectTensorsClose } from '../../../compiler/api/compile-helpers.js';

export const ATOL = 1e-5;
export const RTOL = 1e-4;
export const BACKENDS = ['cpu', 'wasm'] as const;

/** Mocha hooks that make `backend` the active one for a suite (wasm loaded on demand) and restore cpu after. */
export function onBackend(backend: string): void {
  before(async () => {
    if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    expect(await tf.setBackend(backend), `backend ${backend} initialises`).to.equal(true);
  });
  after(async () => {
    await tf.setBackend('cpu');
  });
}

/** Seeded, clearly non-trivial BatchNorm statistics: the layer-rewrite tests' helper, shared. */
export { seedBatchNorms } from '../layer-rewrite/helpers.js';

/** The live variable behind the weight of `layer` whose name ends with `suffix` (e.g. moving_mean, kernel). */
export function variableOf(model: tf.LayersModel, layer: string, suffix: string): tf.Variable {
  const w = model.getLayer(layer).weights.find((v) => v.originalName.endsWith(suffix));
  expect(w, `${layer} has a weight ending in ${suffix}`).to.not.equal(undefined);
  return w!.read() as tf.Variable;
}

export function fusionExtraPasses(patterns: readonly FusionPattern[], backend: string, mode: KilnMode = 'inference') {
  const tally = emptyTally();
  return { tally, extraPasses: [fusionPass({ patterns, context: { mode, backend } }, tally)] };
}

export interface FusedModel {
  readonly compiled: CompiledModel;
  readonly tally: FusionTally;
  readonly plan: CompiledPlan;
}

/** `model.predict` compiled (on `x`, now) with only `patterns` as the fusion pass. */
export function compileModel(
  model: tf.LayersModel,
  x: tf.Tensor,
  patterns: readonly FusionPattern[],
  backend: string,
  mode: KilnMode = 'inference',
): FusedModel {
  const { tally, extraPasses } = fusionExtraPasses(patterns, backend, mode);
  const compiled = new CompiledModel(new LayersKilnModel(model, backend, false), { mode, sampleInputs: [x], extraPasses });
  const stats = compiled.stats();
  expect(stats.eager, JSON.stringify(stats.eager)).to.deep.equal([]);
  expect(stats.compiled).to.have.length(1);
  const plan = (compiled as unknown as { fn: GraphFunction }).fn.planFor([x]);
  expect(plan, 'a plan for the sample signature').to.not.equal(undefined);
  return { compiled, tally, plan: plan! };
}

export interface FusedFunction {
  readonly fn: GraphFunction;
  readonly tally: FusionTally;
  readonly plan: CompiledPlan;
}

/** `fn` compiled (on `x`, now; the traced call's outputs freed) with only `patterns` as the fusion pass. */
export function compileFunction(
  fn: (x: tf.Tensor) => tf.Tensor,
  x: tf.Tensor,
  patterns: readonly FusionPattern[],
  backend: string,
  mode: KilnMode = 'inference',
): FusedFunction {
  const { tally, extraPasses } = fusionExtraPasses(patterns, backend, mode);
  const graphFn = new GraphFunction(fn as (...xs: tf.Tensor[]) => tf.Tensor, graphFunctionSettings({ mode, extraPasses }, 'fused'));
  // in a tidy: the traced call runs `fn` for real, and a plain function leaves its intermediates to its caller
  tf.tidy(() => {
    graphFn.call([x]);
  });
  const stats = graphFn.stats();
  expect(stats.eager, JSON.stringify(stats.eager)).to.deep.equal([]);
  const plan = graphFn.planFor([x]);
  expect(plan, 'a plan for the signature').to.not.equal(undefined);
  return { fn: graphFn, tally, plan: plan! };
}

export const kernelsOf = (graph: KernelGraph): string[] => graph.nodes.map((n) => n.kernel);

/** The only node running `kernel` in `graph`. */
export function onlyNode(graph: KernelGraph, kernel: string): KernelNode {
  const nodes = graph.nodes.filter((n) => n.kernel === kernel);
  expect(nodes, `exactly one ${kernel} in ${kernelsOf(graph).join(', ')}`).to.have.length(1);
  return nodes[0]!;
}

export const valueKind = (graph: KernelGraph, id: number | undefined): string | undefined =>
  id === undefined ? undefined : graph.values.get(id)?.kind;

/**
 * The plan, run by every executor it has, and the compiled call (past its first,
 * traced, call) equal `eager()` within ATOL/RTOL.
 */
export function expectPlanMatchesEager(
  plan: CompiledPlan,
  call: () => tf.Tensor | tf.Tensor[],
  eager: () => tf.Tensor | tf.Tensor[],
  x: tf.Tensor,
): void {
  const expected = eager();
  try {
    const viaCall = call();
    expectTensorsClose(viaCall, expected, ATOL, RTOL, 'compiled call');
    tf.dispose(asList(viaCall));
    for (const kind of plan.hasDirect ? (['replay', 'direct'] as const) : (['replay'] as const)) {
      const got = plan.runWith(kind, [x]);
      expectTensorsClose(plan.graph.outputIsList ? got : got[0]!, expected, ATOL, RTOL, kind);
      tf.dispose(got);
    }
  } finally {
    tf.dispose(asList(expected));
  }
}

/** Seeded weights as variables (disposed by the caller). */
export function seededVariable(shape: number[], seed: number, name?: string): tf.Variable {
  return tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, 1, 'float32', seed), true, name));
}
