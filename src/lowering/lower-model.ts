import * as tf from '@tensorflow/tfjs';
import { withBackend } from '../core/backend-scope.js';
import { outputsAsArray, type KilnModel } from '../core/kiln-model.js';
import { disposeFreshOutputs, disposeGraphConstants, type KernelGraph } from '../compiler/ir.js';
import { BUILT_IN_PASSES, runPasses } from '../compiler/passes/index.js';
import { traceCall } from '../compiler/trace.js';
import { encodeOnnx, lowerKernelGraph, type LoweringOptions } from './lower-kernel-graph.js';
import type { WeightStorageSummary } from './weight-storage.js';

/** A model lowered to ONNX at one input signature. */
export interface OnnxExport {
  /** The ONNX file. */
  readonly bytes: Uint8Array;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The shapes the graph was traced at (the ONNX graph is fixed to them, batch included). */
  readonly inputShapes: readonly (readonly number[])[];
  /** Kernels traced, by name. */
  readonly kernels: Readonly<Record<string, number>>;
  /** Layout transposes the lowering inserted. */
  readonly layoutTransposes: number;
  /** ONNX nodes written. */
  readonly nodes: number;
  /** The float32 weights by how the file stores them (float16 and uint8 ones decoded by Cast nodes). */
  readonly weights: WeightStorageSummary;
}

/** How `lowerCall` names and traces. */
export interface LowerCallOptions extends Omit<LoweringOptions, 'inputNames' | 'outputNames'> {
  readonly inputNames?: readonly string[];
  readonly outputNames?: readonly string[];
  /** Layers of the traced model, to name kernels (and errors) after the user's layers. */
  readonly layers?: readonly tf.layers.Layer[];
}

/**
 * Traces one inference call of `model` on `inputs` on the cpu backend and lowers it to
 * ONNX (see {@link lowerCall}), named after the model's inputs and outputs.
 */
export function lowerModel(
  model: KilnModel,
  inputs: readonly tf.Tensor[],
  options: Omit<LoweringOptions, 'inputNames' | 'outputNames'> = {},
): OnnxExport {
  const arg = inputs.length === 1 ? inputs[0]! : [...inputs];
  return lowerCall(() => model.predict(arg), inputs, {
    ...options,
    inputNames: model.inputs.map((s) => s.name),
    outputNames: model.outputNames,
    layers: model.layersModel?.layers,
  });
}

/**
 * Traces `fn(...inputs)` once on the cpu backend, simplifies the kernel graph with the
 * compiler's built-in passes (no-op removal, constant folding, common subexpressions,
 * dead code) and lowers it to ONNX. The ONNX graph has the static shapes of that call.
 *
 * @throws Error when the call cannot be traced faithfully (a graph break: it reads
 *   values that depend on the inputs, draws random values, ...), naming why.
 * @throws UnsupportedKernelError naming the first kernel ONNX cannot get.
 */
export function lowerCall(
  fn: (...inputs: tf.Tensor[]) => unknown,
  inputs: readonly tf.Tensor[],
  options: LowerCallOptions = {},
): OnnxExport {
  return withBackend('cpu', () => {
    const traced = traceCall(fn, inputs, { layers: options.layers });
    disposeFreshOutputs(traced.graph, outputsAsArray(traced.outputs as tf.Tensor | tf.Tensor[]));
    let simplified: KernelGraph | undefined;
    try {
      if (traced.breaks.length) {
        throw new Error(`the model cannot be traced for ONNX: ${traced.breaks.map((b) => b.reason).join('; ')}`);
      }
      simplified = runPasses(traced.graph, { mode: 'inference' }, [], BUILT_IN_PASSES).graph;
      const lowered = lowerKernelGraph(simplified, {
        ...options,
        inputNames: options.inputNames && uniqueNames(options.inputNames),
        outputNames: options.outputNames && uniqueNames(options.outputNames),
      });
      const kernels: Record<string, number> = {};
      for (const n of traced.graph.nodes) kernels[n.kernel] = (kernels[n.kernel] ?? 0) + 1;
      return {
        bytes: encodeOnnx(lowered),
        inputNames: lowered.inputNames,
        outputNames: lowered.outputNames,
        inputShapes: inputs.map((t) => [...t.shape]),
        kernels,
        layoutTransposes: lowered.layoutTransposes,
        nodes: lowered.nodes,
        weights: lowered.weights,
      };
    } finally {
      disposeGraphConstants(traced.graph);
      if (simplified) disposeGraphConstants(simplified);
    }
  });
}

/** Names made unique by a suffix where two are the same. */
function uniqueNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.map((n) => {
    let name = n || 'value';
    for (let i = 1; seen.has(name); i++) name = `${n}_${i}`;
    seen.add(name);
    return name;
  });
}
