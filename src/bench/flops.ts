import * as tf from '@tensorflow/tfjs';
import type { KilnModel } from '../core/kiln-model.js';
import { disposeGraphConstants, type KernelGraph, type KernelNode } from '../compiler/ir.js';
import { traceCall } from '../compiler/trace.js';

/**
 * FLOP count of a model call, from the kernels it runs. The rule, per kernel:
 *
 * - convolutions and matrix products count 2 FLOPs per multiply-accumulate:
 *   `Conv2D`, `FusedConv2D`: 2 x output elements x kh x kw x in-channels;
 *   `DepthwiseConv2dNative`, `FusedDepthwiseConv2D`: 2 x output elements x kh x kw;
 *   `BatchMatMul`, `_FusedMatMul`: 2 x output elements x the shared dimension.
 *   The fused kernels add one FLOP per output element for the bias and one for the
 *   activation, when they have them;
 * - pooling (`MaxPool`, `AvgPool`): output elements x window size;
 * - reductions (`Sum`, `Mean`, `Max`, `Min`, `Prod`, `ArgMax`, ...): one per input element;
 * - kernels that only move or reshape data (`Reshape`, `Transpose`, `Concat`,
 *   `Slice`, `GatherV2`, `Cast`, ...): none;
 * - everything else (elementwise arithmetic, activations, softmax, batch norm):
 *   one per output element. An exp or a tanh counts as one, so this is a floor.
 *
 * Achieved GFLOP/s is this count over a median time, the same count for every way of
 * running the model, so a variant that skips work (fusion) shows as faster, not as
 * doing less.
 */
export function countFlops(graph: KernelGraph): number {
  let total = 0;
  for (const node of graph.nodes) total += kernelFlops(node, (id) => graph.values.get(id)?.shape ?? []);
  return total;
}

const MOVES = new Set([
  'Reshape',
  'Identity',
  'Cast',
  'Transpose',
  'Slice',
  'StridedSlice',
  'Concat',
  'Pack',
  'Unpack',
  'Split',
  'SplitV',
  'GatherV2',
  'GatherNd',
  'ExpandDims',
  'Squeeze',
  'Tile',
  'PadV2',
  'Pad',
  'MirrorPad',
  'Fill',
  'ZerosLike',
  'OnesLike',
  'Range',
  'Reverse',
  'BroadcastTo',
  'Clone',
  'Shape',
  'OneHot',
]);
const REDUCTIONS = new Set(['Sum', 'Mean', 'Max', 'Min', 'Prod', 'All', 'Any', 'ArgMax', 'ArgMin']);

const elements = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/** FLOPs of one kernel call (see {@link countFlops} for the rule). */
export function kernelFlops(node: KernelNode, shapeOf: (id: number) => readonly number[]): number {
  const input = (name: string) => (node.inputs[name] === undefined ? undefined : shapeOf(node.inputs[name]!));
  const out = node.outputs.length ? elements(shapeOf(node.outputs[0]!)) : 0;
  const attrs = node.attrs as Record<string, unknown>;
  const extras = () => (input('bias') ? out : 0) + (typeof attrs.activation === 'string' && attrs.activation !== 'linear' ? out : 0);
  switch (node.kernel) {
    case 'Conv2D':
    case 'FusedConv2D': {
      const filter = input('filter') ?? [];
      return 2 * out * (filter[0] ?? 1) * (filter[1] ?? 1) * (filter[2] ?? 1) + extras();
    }
    case 'DepthwiseConv2dNative':
    case 'FusedDepthwiseConv2D': {
      const filter = input('filter') ?? [];
      return 2 * out * (filter[0] ?? 1) * (filter[1] ?? 1) + extras();
    }
    case 'BatchMatMul':
    case '_FusedMatMul': {
      const a = input('a') ?? [];
      const shared = attrs.transposeA ? a[a.length - 2] : a[a.length - 1];
      return 2 * out * (shared ?? 1) + extras();
    }
    case 'MaxPool':
    case 'AvgPool': {
      const size = attrs.filterSize;
      const window = Array.isArray(size) ? (size as number[]).reduce((n, d) => n * d, 1) : typeof size === 'number' ? size * size : 1;
      return out * window;
    }
    default:
      if (MOVES.has(node.kernel)) return 0;
      if (REDUCTIONS.has(node.kernel)) return elements(input('x') ?? shapeOf(Object.values(node.inputs)[0] ?? -1));
      return out;
  }
}

/**
 * FLOPs of one `model.predict(inputs)`, for a tf.LayersModel or a model of any format as
 * a KilnModel (a GraphModel's `execute`): traces the call once (it runs for real, on the
 * active backend, or the KilnModel's) and counts its kernels. Every kernel that ran is
 * counted, also when the trace has graph breaks (a value read): they stop a replay, not
 * the count. Frees what the trace kept.
 */
export function modelFlops(model: tf.LayersModel | KilnModel, inputs: readonly tf.Tensor[]): number {
  const layers = model instanceof tf.LayersModel ? model.layers : model.layersModel?.layers;
  const trace = traceCall((...xs) => model.predict(xs.length === 1 ? xs[0]! : xs), inputs, { layers });
  try {
    return countFlops(trace.graph);
  } finally {
    tf.dispose(trace.outputs);
    disposeGraphConstants(trace.graph);
  }
}
