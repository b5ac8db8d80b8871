import * as tf from '@tensorflow/tfjs';
import { returnedTensor, valueTensor, type GraphValue, type KernelGraph, type ValueId } from '../ir.js';
import type { MemoryPlan } from '../passes/memory-plan.js';
import { prepareNodes, usedSourceValues, type ExecutorDefinition, type GraphExecutor, type PreparedNode } from './executor.js';

declare module './executor.js' {
  interface ExecutorNames {
    direct: true;
  }
}

type Info = tf.TensorInfo | tf.Tensor;
type KernelFn = (params: {
  inputs: Record<string, Info> | Info[];
  backend: tf.KernelBackend;
  attrs: Record<string, unknown>;
}) => Info | Info[];

/**
 * Inference without the engine's per-kernel bookkeeping: calls the backend's
 * registered kernel functions directly on TensorInfos, frees each intermediate
 * through the backend at its last use (Reshape and Identity share their input's
 * buffer by reference count, so each output is released exactly once), and wraps
 * only the graph's outputs as tensors. Never under a gradient tape: the compiled
 * function falls back to replay there.
 */
export class DirectExecutor implements GraphExecutor {
  readonly kind = 'direct';
  private readonly nodes: PreparedNode[];
  private readonly kernels: KernelFn[];
  private readonly backend: tf.KernelBackend;
  private readonly slots: number;
  private readonly sources: readonly GraphValue[];
  private readonly outputKinds: boolean[];

  constructor(
    private readonly graph: KernelGraph,
    plan: MemoryPlan | undefined,
    readonly backendName: string,
  ) {
    const backend = tf.findBackend(backendName);
    if (!backend) throw new Error(`backend "${backendName}" is not initialised`);
    this.backend = backend;
    this.nodes = prepareNodes(graph, plan);
    this.kernels = this.nodes.map((n) => {
      const k = tf.getKernel(n.kernel, backendName);
      if (!k) throw new Error(`kernel ${n.kernel} is not registered for backend "${backendName}"`);
      return k.kernelFunc as unknown as KernelFn;
    });
    this.slots = graph.values.size;
    this.sources = usedSourceValues(graph);
    this.outputKinds = graph.outputs.map((id) => graph.values.get(id)!.kind === 'intermediate');
  }

  run(inputs: readonly tf.Tensor[]): tf.Tensor[] {
    const env = new Array<Info | undefined>(this.slots);
    for (const v of this.sources) env[v.id] = valueTensor(v, inputs);
    const backend = this.backend;
    const live: ValueId[] = [];
    try {
      for (let i = 0; i < this.nodes.length; i++) {
        const node = this.nodes[i]!;
        const args: Record<string, Info> | Info[] = node.positional ? [] : {};
        for (let k = 0; k < node.ids.length; k++) (args as Record<string, Info>)[node.names[k]!] = env[node.ids[k]!]!;
        const out = this.kernels[i]!({ inputs: args, backend, attrs: node.attrs });
        if (Array.isArray(out)) for (let k = 0; k < node.outputs.length; k++) env[node.outputs[k]!] = out[k];
        else env[node.outputs[0]!] = out;
        live.push(...node.outputs);
        for (const v of node.free) {
          release(backend, env[v]!);
          env[v] = undefined;
        }
      }
      const engine = tf.engine();
      const handed = new Map<ValueId, tf.Tensor>();
      return this.graph.outputs.map((id, k) => {
        const returned = returnedTensor(this.graph, k, inputs);
        if (returned) return returned;
        const info = env[id]!;
        if (!this.outputKinds[k]) return tf.clone(info as tf.Tensor);
        const first = handed.get(id);
        if (first) return tf.clone(first);
        const t = info instanceof tf.Tensor ? info : engine.makeTensorFromTensorInfo(info, backend);
        handed.set(id, t);
        return t;
      });
    } catch (error) {
      for (const v of live) if (env[v]) release(backend, env[v]!);
      throw error;
    }
  }
}

/** The direct executor's registration: it needs every kernel of the graph registered for the plan's backend. */
export const directExecutor: ExecutorDefinition = {
  name: 'direct',
  create: (graph, memory, context) => new DirectExecutor(graph, memory, context.backend),
};

function release(backend: tf.KernelBackend, info: Info): void {
  if (info instanceof tf.Tensor) info.dispose();
  else backend.disposeData(info.dataId);
}
