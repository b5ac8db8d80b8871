import { onnx } from 'onnx-proto';
import type { KernelGraph } from '../compiler/ir.js';
import type { KernelLowering } from './kernel-lowering.js';
import { LoweringContext } from './lowering-context.js';
import type { WeightStorageSummary } from './weight-storage.js';
import { onnxDataType } from './onnx-dtype.js';
import { BUILT_IN_LOWERINGS } from './ops/index.js';
import { UnsupportedKernelError } from './unsupported-kernel-error.js';

/** The ONNX opset the lowerings write (ReduceMean's axes as an attribute, ReduceSum's as an input). */
export const ONNX_OPSET = 17;
/** The ONNX IR version of opset 17. */
const IR_VERSION = 8;

export interface LoweringOptions {
  /** ONNX names of the graph inputs, in order (default `input_0`, ...). */
  readonly inputNames?: readonly string[];
  /** ONNX names of the graph outputs, in order (default `output_0`, ...). */
  readonly outputNames?: readonly string[];
  /** The graph's name in the file. */
  readonly graphName?: string;
  /** Lowerings to use instead of the built-in ones. */
  readonly lowerings?: readonly KernelLowering[];
  /**
   * Whether float32 weights whose values lie on a float16 or uint8 grid are stored at
   * that type and decoded to float32 by `Cast` (and `Mul`, `Add`) nodes (see
   * weight-storage.ts). Default true: the file is smaller and computes the same.
   */
  readonly compressWeights?: boolean;
}

/** A lowered graph: the ONNX model and what the lowering did. */
export interface LoweredGraph {
  readonly model: onnx.ModelProto;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Transposes inserted to change layouts (NHWC <-> NCHW), not counting those the model runs itself. */
  readonly layoutTransposes: number;
  /** ONNX nodes written. */
  readonly nodes: number;
  /** The float32 weights by how the file stores them (float32, float16, uint8). */
  readonly weights: WeightStorageSummary;
}

/**
 * Lowers a traced kernel graph (every value of static shape) to one ONNX graph: graph
 * inputs stay inputs, weights (variables, constants, folded values) become
 * initializers with their current values, and each kernel becomes ONNX nodes by the
 * lowering for its name. Convs and pools run in NCHW; element-wise ops, activations,
 * softmax, reductions, concat, slice and pad follow the layout of their inputs, so a
 * plain CNN converts its input once and its output once.
 *
 * @throws UnsupportedKernelError naming the first kernel that has no lowering, or a
 *   use of one that its lowering does not cover.
 */
export function lowerKernelGraph(graph: KernelGraph, options: LoweringOptions = {}): LoweredGraph {
  const byKernel = new Map<string, KernelLowering>();
  for (const l of options.lowerings ?? BUILT_IN_LOWERINGS) for (const k of l.kernels) byKernel.set(k, l);
  for (const node of graph.nodes) {
    if (!byKernel.has(node.kernel)) throw new UnsupportedKernelError(node.kernel, undefined, node.layer);
  }
  const context = new LoweringContext(graph, options.compressWeights ?? true);
  try {
    const inputNames = graph.inputs.map((_, i) => options.inputNames?.[i] ?? `input_${i}`);
    const outputNames = graph.outputs.map((_, i) => options.outputNames?.[i] ?? `output_${i}`);
    for (const name of [...inputNames, ...outputNames]) context.reserve(name);
    graph.inputs.forEach((id, i) => context.define(id, inputNames[i]!));
    for (const node of graph.nodes) context.within(node, () => byKernel.get(node.kernel)!.lower(node, context));
    graph.outputs.forEach((id, i) => context.emit('Identity', [context.inLayout(id, undefined)], [], [outputNames[i]!]));
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: 'tfjs-kiln',
      graph: {
        name: options.graphName ?? 'kiln',
        node: context.nodes,
        initializer: context.initializers,
        input: graph.inputs.map((id, i) => valueInfo(graph, id, inputNames[i]!)),
        output: graph.outputs.map((id, i) => valueInfo(graph, id, outputNames[i]!)),
      },
    });
    return {
      model,
      inputNames,
      outputNames,
      layoutTransposes: context.layoutTransposes,
      nodes: context.nodes.length,
      weights: context.weightStorage,
    };
  } finally {
    context.dispose();
  }
}

/** The encoded ONNX file of a lowered graph. */
export function encodeOnnx(lowered: LoweredGraph): Uint8Array {
  return onnx.ModelProto.encode(lowered.model).finish();
}

function valueInfo(graph: KernelGraph, id: number, name: string): onnx.IValueInfoProto {
  const v = graph.values.get(id)!;
  const elemType = onnxDataType(v.dtype);
  if (elemType === undefined)
    throw new UnsupportedKernelError('(graph input or output)', `a ${v.dtype} tensor cannot be an ONNX input or output in Kiln`);
  return { name, type: { tensorType: { elemType, shape: { dim: v.shape.map((d) => ({ dimValue: d })) } } } };
}
