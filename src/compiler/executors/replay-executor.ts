import * as tf from '@tensorflow/tfjs';
import { isRecordingGradients } from '../../core/tape-state.js';
import { returnedTensor, valueTensor, type GraphValue, type KernelGraph } from '../ir.js';
import type { MemoryPlan } from '../passes/memory-plan.js';
import { prepareNodes, usedSourceValues, type ExecutorDefinition, type GraphExecutor, type PreparedNode } from './executor.js';

declare module './executor.js' {
  interface ExecutorNames {
    replay: true;
  }
}

type Args = Record<string, tf.Tensor>;

/** The arguments tf.fused.conv2d and tf.fused.depthwiseConv2d share, from a recorded node. */
function convArgs(a: Args, at: Record<string, unknown>) {
  return {
    x: a.x as tf.Tensor4D,
    filter: a.filter as tf.Tensor4D,
    bias: a.bias,
    preluActivationWeights: a.preluActivationWeights,
    strides: at.strides as [number, number],
    pad: at.pad as 'same',
    dataFormat: (at.dataFormat as 'NHWC') ?? 'NHWC',
    dilations: (at.dilations as [number, number]) ?? [1, 1],
    dimRoundingMode: at.dimRoundingMode as 'round' | undefined,
    activation: (at.activation as tf.fused.Activation) ?? 'linear',
    leakyreluAlpha: at.leakyreluAlpha as number | undefined,
  };
}

/**
 * Fused kernels have no registered gradients in tfjs 4.22: eager code differentiates
 * them through the custom gradients of `tf.fused.*`. Under a gradient tape the replay
 * routes them there (attributes normalised: layers record `dilations: null`).
 */
const FUSED_ROUTES: Record<string, (a: Args, attrs: Record<string, unknown>) => tf.Tensor> = {
  FusedConv2D: (a, at) => tf.fused.conv2d(convArgs(a, at)),
  FusedDepthwiseConv2D: (a, at) => tf.fused.depthwiseConv2d(convArgs(a, at)),
  _FusedMatMul: (a, at) =>
    tf.fused.matMul({
      a: a.a!,
      b: a.b!,
      bias: a.bias,
      preluActivationWeights: a.preluActivationWeights,
      transposeA: Boolean(at.transposeA),
      transposeB: Boolean(at.transposeB),
      activation: (at.activation as tf.fused.Activation) ?? 'linear',
      leakyreluAlpha: at.leakyreluAlpha as number | undefined,
    }),
};

/**
 * Replays the graph through `engine.runKernel`, so it works inside `tf.grads`,
 * `tf.variableGrads` and `optimizer.minimize`. Variables are read at call time;
 * intermediates are disposed at their last use.
 */
export class ReplayExecutor implements GraphExecutor {
  readonly kind = 'replay';
  private readonly nodes: PreparedNode[];
  private readonly slots: number;
  private readonly sources: readonly GraphValue[];

  constructor(
    private readonly graph: KernelGraph,
    plan: MemoryPlan | undefined,
  ) {
    this.nodes = prepareNodes(graph, plan);
    this.slots = graph.values.size;
    this.sources = usedSourceValues(graph);
  }

  run(inputs: readonly tf.Tensor[]): tf.Tensor[] {
    const env = seedEnvironment(this.sources, inputs, this.slots);
    const engine = tf.engine();
    const taped = isRecordingGradients();
    const produced: tf.Tensor[] = [];
    try {
      for (const node of this.nodes) {
        const args = node.positional ? ([] as tf.Tensor[]) : ({} as Args);
        for (let k = 0; k < node.ids.length; k++) (args as Record<string, tf.Tensor>)[node.names[k]!] = env[node.ids[k]!]!;
        const route = taped ? FUSED_ROUTES[node.kernel] : undefined;
        const out = route
          ? route(args as Args, node.attrs)
          : engine.runKernel(node.kernel, args as tf.NamedTensorMap, node.attrs as tf.NamedAttrMap);
        if (Array.isArray(out)) {
          for (let k = 0; k < node.outputs.length; k++) env[node.outputs[k]!] = out[k];
          produced.push(...out);
        } else {
          env[node.outputs[0]!] = out;
          produced.push(out);
        }
        for (const v of node.free) {
          env[v]!.dispose();
          env[v] = undefined;
        }
      }
      return collectOutputs(this.graph, env, inputs);
    } catch (error) {
      for (const t of produced) if (!t.isDisposed) t.dispose();
      throw error;
    }
  }
}

/** The replay's registration: it can run any graph. */
export const replayExecutor: ExecutorDefinition = {
  name: 'replay',
  create: (graph, memory) => new ReplayExecutor(graph, memory),
};

/** Inputs, variables (read now) and constants placed in a fresh environment. */
export function seedEnvironment(sources: readonly GraphValue[], inputs: readonly tf.Tensor[], slots: number): (tf.Tensor | undefined)[] {
  const env = new Array<tf.Tensor | undefined>(slots);
  for (const v of sources) env[v.id] = valueTensor(v, inputs);
  return env;
}

/**
 * The graph's outputs: what the traced call returned without making it is that same
 * tensor again (`graph.returned`); every other output is owned by the caller, and one
 * that is not a fresh intermediate (or appears twice) is cloned.
 */
export function collectOutputs(graph: KernelGraph, env: readonly (tf.Tensor | undefined)[], inputs: readonly tf.Tensor[]): tf.Tensor[] {
  const handed = new Set<number>();
  return graph.outputs.map((id, k) => {
    const returned = returnedTensor(graph, k, inputs);
    if (returned) return returned;
    const t = env[id]!;
    if (graph.values.get(id)!.kind === 'intermediate' && !handed.has(id)) {
      handed.add(id);
      return t;
    }
    return tf.clone(t);
  });
}
