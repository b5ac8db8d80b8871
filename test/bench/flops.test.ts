import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { countFlops, kernelFlops, modelFlops } from '../../src/bench/flops.js';
import type { KernelGraph, KernelNode } from '../../src/compiler/ir.js';

/** A one-kernel graph: value ids 0.. for the given input shapes, then the output. */
function node(
  kernel: string,
  inputs: Record<string, number[]>,
  out: number[],
  attrs: Record<string, unknown> = {},
): { node: KernelNode; shapeOf: (id: number) => number[] } {
  const shapes: number[][] = [];
  const ids: Record<string, number> = {};
  for (const [name, shape] of Object.entries(inputs)) {
    ids[name] = shapes.length;
    shapes.push(shape);
  }
  const outId = shapes.length;
  shapes.push(out);
  return {
    node: { id: 0, kernel, inputs: ids, positional: false, attrs, outputs: [outId], returnsList: false },
    shapeOf: (id) => shapes[id]!,
  };
}

const flopsOf = (n: ReturnType<typeof node>) => kernelFlops(n.node, n.shapeOf);

describe('bench: FLOP count', () => {
  it('counts 2 FLOPs per multiply-accumulate in a convolution', () => {
    // 1x8x8x16 output, 3x3 filter over 4 input channels: 1024 outputs x 36 MACs.
    expect(flopsOf(node('Conv2D', { x: [1, 8, 8, 4], filter: [3, 3, 4, 16] }, [1, 8, 8, 16]))).to.equal(2 * 1024 * 36);
  });

  it('adds one FLOP per output element for a fused bias and one for a fused activation', () => {
    const base = 2 * 1024 * 36;
    expect(
      flopsOf(node('FusedConv2D', { x: [1, 8, 8, 4], filter: [3, 3, 4, 16], bias: [16] }, [1, 8, 8, 16], { activation: 'relu' })),
    ).to.equal(base + 2 * 1024);
    expect(flopsOf(node('FusedConv2D', { x: [1, 8, 8, 4], filter: [3, 3, 4, 16] }, [1, 8, 8, 16], { activation: 'linear' }))).to.equal(
      base,
    );
  });

  it('counts a depthwise convolution per channel (no sum over input channels)', () => {
    expect(flopsOf(node('DepthwiseConv2dNative', { x: [2, 4, 4, 8], filter: [3, 3, 8, 1] }, [2, 4, 4, 8]))).to.equal(2 * 256 * 9);
  });

  it('takes the shared dimension of a matrix product from a, honouring transposeA', () => {
    expect(flopsOf(node('BatchMatMul', { a: [1, 2, 5], b: [1, 5, 3] }, [1, 2, 3]))).to.equal(2 * 6 * 5);
    expect(flopsOf(node('BatchMatMul', { a: [1, 5, 2], b: [1, 5, 3] }, [1, 2, 3], { transposeA: true }))).to.equal(2 * 6 * 5);
    expect(flopsOf(node('_FusedMatMul', { a: [4, 10], b: [10, 6], bias: [6] }, [4, 6], { activation: 'relu' }))).to.equal(
      2 * 24 * 10 + 24 + 24,
    );
  });

  it('counts none for data movement, one per input element for reductions, one per output element otherwise', () => {
    expect(flopsOf(node('Reshape', { x: [2, 6] }, [3, 4]))).to.equal(0);
    expect(flopsOf(node('Transpose', { x: [2, 6] }, [6, 2]))).to.equal(0);
    expect(flopsOf(node('Sum', { x: [4, 10] }, [4]))).to.equal(40);
    expect(flopsOf(node('Add', { a: [4, 10], b: [10] }, [4, 10]))).to.equal(40);
    expect(flopsOf(node('Softmax', { logits: [4, 10] }, [4, 10]))).to.equal(40);
    expect(flopsOf(node('MaxPool', { x: [1, 4, 4, 2] }, [1, 2, 2, 2], { filterSize: [2, 2] }))).to.equal(8 * 4);
  });

  it('sums the kernels of a graph', () => {
    const a = node('Add', { a: [3], b: [3] }, [3]);
    const graph = {
      values: new Map([0, 1, 2].map((id) => [id, { id, kind: 'intermediate' as const, shape: a.shapeOf(id), dtype: 'float32' as const }])),
      nodes: [a.node, { ...a.node, id: 1 }],
      inputs: [],
      outputs: [],
      outputIsList: false,
    } as unknown as KernelGraph;
    expect(countFlops(graph)).to.equal(6);
  });

  it('traces a real model: Dense 4 -> 3 relu at batch 2 is 2x2x4x3 MACs plus bias and relu', () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: 'relu', kernelInitializer: 'ones' })],
    });
    const x = tf.ones([2, 4]);
    const before = tf.memory().numTensors;
    try {
      expect(modelFlops(model, [x])).to.equal(2 * 2 * 4 * 3 + 6 + 6);
      expect(tf.memory().numTensors, 'the trace frees what it kept').to.equal(before);
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});
