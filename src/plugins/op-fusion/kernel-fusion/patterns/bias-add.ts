import * as tf from '@tensorflow/tfjs';
import type { KernelNode } from '../../../../compiler/ir.js';
import { normaliseConvAttrs } from '../activations.js';
import type { GraphTools } from '../fusion-pattern.js';
import { pairPattern } from '../pair-pattern.js';

/** Unfused producer kernel -> the fused kernel that can also add a bias. */
const FUSES_TO: Readonly<Record<string, string>> = {
  Conv2D: 'FusedConv2D',
  FusedConv2D: 'FusedConv2D',
  DepthwiseConv2dNative: 'FusedDepthwiseConv2D',
  FusedDepthwiseConv2D: 'FusedDepthwiseConv2D',
  BatchMatMul: '_FusedMatMul',
  _FusedMatMul: '_FusedMatMul',
};

/** Backends whose `_FusedMatMul` kernel adds a bias to any BatchMatMul (any rank, batch, transposition). */
const FUSED_MATMUL_ANY_SHAPE = new Set(['cpu', 'webgl']);

/**
 * Whether `_FusedMatMul` on `backend` computes this BatchMatMul plus a bias exactly. Other
 * backends get only the shape tf.fused.matMul itself passes for a tf.layers Dense (rank 3,
 * batch 1, no transposition): tfjs-backend-wasm 4.22 reads a 2-D input out of bounds, and
 * adds the bias wrongly for a batch above 1 or a transposed operand.
 */
function fusedMatMulExact(backend: string, node: KernelNode, tools: GraphTools): boolean {
  if (FUSED_MATMUL_ANY_SHAPE.has(backend)) return true;
  if (node.attrs.transposeA || node.attrs.transposeB) return false;
  return [node.inputs.a, node.inputs.b].every((v) => v !== undefined && tools.value(v).shape.length === 3 && tools.value(v).shape[0] === 1);
}

/**
 * A bias added right after a conv, depthwise conv or matmul (`Add`/`BiasAdd` of a 1-D
 * weight over the last axis, as tf.layers does for DepthwiseConv2D and a linear Dense)
 * moved into the fused kernel's bias input. Exact in value and gradient.
 */
export const biasAdd = pairPattern({
  name: 'bias-add',
  description: 'move a bias Add after a conv, depthwise conv or matmul into the fused kernel',
  trainingSafe: true,
  first: Object.keys(FUSES_TO),
  then: ['Add', 'BiasAdd'],
  key: 'anchor',
  rewrite(node, add, context, tools) {
    const fused = FUSES_TO[node.kernel]!;
    if (node.inputs.bias !== undefined || (node.attrs.activation ?? 'linear') !== 'linear') return undefined;
    if (!tf.getKernel(fused, context.backend)) return undefined;
    if (fused === '_FusedMatMul' && !fusedMatMulExact(context.backend, node, tools)) return undefined;
    const [first, second] = [add.inputs.a ?? add.inputs.x, add.inputs.b ?? add.inputs.bias];
    const added = first === node.outputs[0] ? second : first;
    const bias = added === undefined ? undefined : channelWeight(tools, added);
    if (bias === undefined) return undefined;
    const outShape = tools.value(node.outputs[0]!).shape;
    if (tools.value(bias).shape[0] !== outShape[outShape.length - 1]) return undefined;
    if (tools.value(add.outputs[0]!).shape.join(',') !== outShape.join(',')) return undefined;
    const attrs =
      fused === '_FusedMatMul'
        ? {
            transposeA: node.attrs.transposeA ?? false,
            transposeB: node.attrs.transposeB ?? false,
            activation: 'linear',
            leakyreluAlpha: node.attrs.leakyreluAlpha,
          }
        : normaliseConvAttrs(node.attrs);
    const inputs: Record<string, number> =
      fused === '_FusedMatMul' ? { a: node.inputs.a!, b: node.inputs.b!, bias } : { x: node.inputs.x!, filter: node.inputs.filter!, bias };
    return { kernel: fused, inputs, positional: false, attrs };
  },
});

/**
 * The 1-D weight behind a bias operand: the weight itself, or the weight a Reshape to
 * [1, ..., 1, C] broadcasts (tf.layers' biasAdd for 4-D inputs); that Reshape is then
 * left unused and dead-code removal drops it.
 */
function channelWeight(tools: GraphTools, value: number): number | undefined {
  if (tools.isWeight(value)) return tools.value(value).shape.length === 1 ? value : undefined;
  const producer = tools.value(value).producer;
  const reshape = producer === undefined ? undefined : tools.node(producer);
  if (!reshape || reshape.kernel !== 'Reshape' || !tools.isWeight(reshape.inputs.x)) return undefined;
  const source = reshape.inputs.x!;
  const shape = tools.value(value).shape;
  const ones = shape.slice(0, -1).every((d) => d === 1);
  return ones && tools.value(source).shape.length === 1 ? source : undefined;
}
