/**
 * The kernel lowerings one family at a time, on small functions over tensors that the
 * zoo models do not run (pools, resizes, strided slices, pads, transposed and dilated
 * convs, ...): each lowered function, run in onnxruntime-node, gives what tf.js gives on
 * cpu. And a kernel without a mapping is an UnsupportedKernelError naming it.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import type { OrtModule } from '../../src/engines/onnxruntime/ort-api.js';
import { lowerCall, UnsupportedKernelError } from '../../src/lowering/index.js';
import { onnxRuntimeOrSkip, relativeToScale, runOnnx } from '../helpers/onnxruntime.js';

const w = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 0.5, 'float32', seed);

interface Case {
  readonly name: string;
  readonly inputs: () => tf.Tensor[];
  readonly fn: (...x: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
  /** Most layout transposes the lowering may insert. */
  readonly maxTransposes?: number;
}

/** The cases' weights, made on first use: at load time no tf.js backend is set yet (the root hook sets cpu). */
let made: Record<'filter' | 'filter2' | 'depthwise' | 'transposed' | 'alpha', tf.Tensor> | undefined;
function weight(name: keyof NonNullable<typeof made>): tf.Tensor {
  made ??= {
    filter: w([3, 3, 4, 6], 1),
    filter2: w([3, 3, 4, 6], 2),
    depthwise: w([3, 3, 4, 2], 3),
    transposed: w([3, 3, 5, 4], 4),
    alpha: tf.tensor1d([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]),
  };
  return made[name];
}
const nhwc =
  (h = 9, c = 4) =>
  () => [tf.randomNormal([2, h, h, c], 0, 1, 'float32', 9)];

const CASES: readonly Case[] = [
  {
    name: 'conv valid stride 2, max and average pools (same, valid), leaky relu, elu, concat of two branches on channels',
    inputs: nhwc(),
    fn: (x) => {
      const a = tf.leakyRelu(tf.conv2d(x as tf.Tensor4D, weight('filter') as tf.Tensor4D, 1, 'same'), 0.1);
      const b = tf.elu(tf.conv2d(x as tf.Tensor4D, weight('filter2') as tf.Tensor4D, 1, 'same'));
      const c = tf.concat([a, b], -1) as tf.Tensor4D;
      return tf.add(tf.maxPool(c, 3, 2, 'same'), tf.avgPool(c, 3, 2, 'same'));
    },
    maxTransposes: 2,
  },
  {
    name: 'prelu, relu6 and sigmoid on a conv output; a mean over H, W then softmax',
    inputs: nhwc(),
    fn: (x) => {
      const y = tf.prelu(
        tf.conv2d(x as tf.Tensor4D, weight('filter') as tf.Tensor4D, [2, 2], 'valid'),
        weight('alpha') as unknown as tf.Tensor4D,
      );
      return tf.softmax(tf.mean(tf.sigmoid(tf.relu6(y)), [1, 2]));
    },
    maxTransposes: 1,
  },
  {
    name: 'depthwise conv with multiplier 2, dilation 2 and explicit padding; fused conv with bias and relu',
    inputs: nhwc(),
    fn: (x) => {
      const d = tf.depthwiseConv2d(x as tf.Tensor4D, weight('depthwise') as tf.Tensor4D, 1, 'same', 'NHWC', 2);
      const e = tf.conv2d(x as tf.Tensor4D, weight('filter') as tf.Tensor4D, 1, [
        [0, 0],
        [1, 2],
        [2, 1],
        [0, 0],
      ]);
      const f = tf.fused.conv2d({
        x: x as tf.Tensor4D,
        filter: weight('filter') as tf.Tensor4D,
        strides: 1,
        pad: 'same',
        bias: weight('alpha'),
        activation: 'relu',
      });
      return [d, e, f];
    },
  },
  {
    name: 'conv2dTranspose (same, stride 2; valid, stride 2 with an odd output) and depthToSpace',
    inputs: () => [tf.randomNormal([1, 5, 5, 4], 0, 1, 'float32', 5)],
    fn: (x) => [
      tf.conv2dTranspose(x as tf.Tensor4D, weight('transposed') as tf.Tensor4D, [1, 10, 10, 5], 2, 'same'),
      tf.conv2dTranspose(x as tf.Tensor4D, weight('transposed') as tf.Tensor4D, [1, 11, 11, 5], 2, 'valid'),
      tf.depthToSpace(x as tf.Tensor4D, 2),
    ],
  },
  {
    name: 'bilinear and nearest resizes with align corners, half-pixel centres and neither',
    inputs: () => [tf.randomNormal([1, 5, 7, 3], 0, 1, 'float32', 6)],
    fn: (x) => {
      const img = x as tf.Tensor4D;
      return [
        tf.image.resizeBilinear(img, [9, 12], false, false),
        tf.image.resizeBilinear(img, [9, 12], true, false),
        tf.image.resizeBilinear(img, [9, 12], false, true),
        tf.image.resizeNearestNeighbor(img, [9, 12], false, false),
        tf.image.resizeNearestNeighbor(img, [9, 12], true, false),
        tf.image.resizeNearestNeighbor(img, [9, 12], false, true),
      ];
    },
  },
  {
    name: 'strided slices (masks, negative strides, shrink and new axes), slice, pad and reflect pad on an NCHW-held value',
    inputs: nhwc(),
    fn: (x) => {
      const y = tf.conv2d(x as tf.Tensor4D, weight('filter') as tf.Tensor4D, 1, 'same');
      return [
        tf.stridedSlice(x, [0, 1, 0, 0], [2, 8, 9, 3], [1, 2, 3, 1]),
        tf.stridedSlice(x, [1, 8, 0, 0], [2, 0, 9, 4], [1, -2, 1, 1], 1, 12),
        tf.stridedSlice(x, [0, 2, 0, 1], [2, 3, 9, 2], [1, 1, 1, 1], 0, 0, 0, 0, 10),
        tf.slice(y, [0, 1, 2, 1], [2, 5, 4, -1]),
        tf.pad(
          y,
          [
            [0, 0],
            [1, 2],
            [3, 0],
            [0, 1],
          ],
          0.5,
        ),
        tf.mirrorPad(
          x as tf.Tensor4D,
          [
            [0, 0],
            [2, 1],
            [1, 2],
            [0, 0],
          ],
          'reflect',
        ),
      ];
    },
  },
  {
    name: 'reductions (sum, max, min with keepDims, argMax) of an NCHW-held value; tile, stack, unstack, gather, cast',
    inputs: nhwc(),
    fn: (x) => {
      const y = tf.conv2d(x as tf.Tensor4D, weight('filter') as tf.Tensor4D, 1, 'same');
      const [u0, u1] = tf.unstack(tf.slice(y, [0, 0, 0, 0], [2, 2, 9, 6]), 1);
      return [
        tf.sum(y, [1, 2], true),
        tf.max(y, 3),
        tf.min(y, [0, 1]),
        tf.argMax(y, 3),
        tf.tile(tf.relu(y), [1, 2, 1, 3]),
        tf.stack([u0!, u1!], 2),
        tf.gather(x, tf.tensor1d([2, 0, 3], 'int32'), 3),
        tf.cast(tf.mul(y, 3), 'int32'),
        tf.logSoftmax(y),
      ];
    },
  },
  {
    name: 'matmuls with transposed operands and batch broadcasting; a transpose back to NHWC that cancels',
    inputs: () => [tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 8)],
    fn: (x) => {
      const m = w([5, 4], 11);
      const a = tf.matMul(x, tf.transpose(x, [0, 1, 3, 2]));
      const b = tf.matMul(m, x, true, true);
      const c = tf.conv2d(tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D, w([1, 1, 3, 2], 12) as tf.Tensor4D, 1, 'valid');
      return [a, b, tf.transpose(c, [0, 3, 1, 2])];
    },
  },
  {
    name: 'cumsum (exclusive, reverse) and top-k of an NCHW-held value, LRN, einsum, one-hot with out-of-range indices',
    inputs: () => [tf.randomNormal([2, 5, 5, 4], 0, 1, 'float32', 10), tf.tensor1d([0, 3, -1, 5, 2], 'int32')],
    fn: (x, i) => {
      const y = tf.conv2d(x as tf.Tensor4D, weight('filter') as tf.Tensor4D, 1, 'same');
      const { values, indices } = tf.topk(y, 3);
      return [
        tf.cumsum(y, 1),
        tf.cumsum(y, 3, true, true),
        values,
        indices,
        tf.localResponseNormalization(y as tf.Tensor4D, 2, 1.5, 0.3, 0.75),
        tf.einsum('bhwc,bhvc->bhwv', y, y),
        tf.oneHot(i as tf.Tensor1D, 4, 2, -1),
        tf.oneHot(i as tf.Tensor1D, 6, 0.5, 0, 'float32'),
      ];
    },
  },
];

describe('lowering: kernel families in onnxruntime-node', function () {
  let ort: OrtModule;

  before(async function () {
    ort = await onnxRuntimeOrSkip(this);
    // the weights exist before any trace, so that no trace records their (random) kernels
    weight('filter');
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const inputs = c.inputs();
      try {
        const lowered = lowerCall(c.fn, inputs);
        if (c.maxTransposes !== undefined) expect(lowered.layoutTransposes).to.be.at.most(c.maxTransposes);
        const got = await runOnnx(ort, lowered.bytes, Object.fromEntries(inputs.map((t, i) => [lowered.inputNames[i]!, t])));
        const expected = [c.fn(...inputs)].flat();
        expected.forEach((e, i) => {
          const name = lowered.outputNames[i]!;
          expect(got[name]!.length, `${name} size`).to.equal(e.size);
          expect(relativeToScale(e.dataSync(), got[name]!), `${name} (${e.shape.join('x')})`).to.be.at.most(1e-5);
        });
        tf.dispose(expected);
      } finally {
        tf.dispose(inputs);
      }
    });
  }
});

describe('lowering: sigmoid in its tails, element by element', function () {
  let ort: OrtModule;

  before(async function () {
    ort = await onnxRuntimeOrSkip(this);
  });

  it('each value within 1e-5 of its own size from -80 to 30, the plain and the fused sigmoid (an output that lives in the tail passes the scale-aware check)', async () => {
    const x = tf.linspace(-80, 30, 1101).reshape([1, 1101]);
    try {
      for (const fn of [
        (t: tf.Tensor) => tf.sigmoid(t),
        (t: tf.Tensor) =>
          tf.fused.matMul({ a: t.reshape([1101, 1]) as tf.Tensor2D, b: tf.ones([1, 1]) as tf.Tensor2D, activation: 'sigmoid' }),
      ]) {
        const lowered = lowerCall(fn, [x]);
        const got = (await runOnnx(ort, lowered.bytes, { [lowered.inputNames[0]!]: x }))[lowered.outputNames[0]!]!;
        const want = tf.tidy(() => fn(x));
        const values = want.dataSync();
        want.dispose();
        let worst = 0;
        values.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i]! - v) / Math.max(Math.abs(v), 1e-30))));
        expect(worst, 'largest |onnx - tf.js| / |tf.js|').to.be.at.most(1e-5);
      }
    } finally {
      x.dispose();
    }
  });
});

describe('lowering: kernels without a mapping', () => {
  it('name the kernel in an UnsupportedKernelError', () => {
    const x = tf.ones([1, 4, 4, 4, 1]);
    const f = tf.ones([2, 2, 2, 1, 1]);
    try {
      expect(() => lowerCall((t) => tf.conv3d(tf.relu(t) as tf.Tensor5D, f as tf.Tensor5D, 1, 'valid'), [x]))
        .to.throw(UnsupportedKernelError, 'kernel Conv3D cannot be lowered to ONNX: Kiln has no ONNX mapping for it')
        .with.property('kernel', 'Conv3D');
    } finally {
      tf.dispose([x, f]);
    }
  });

  it('say which use of a mapped kernel is not covered (a symmetric mirror pad)', () => {
    const x = tf.ones([1, 4, 4, 1]);
    try {
      expect(() =>
        lowerCall(
          (t) =>
            tf.mirrorPad(
              t,
              [
                [0, 0],
                [1, 1],
                [1, 1],
                [0, 0],
              ],
              'symmetric',
            ),
          [x],
        ),
      ).to.throw(
        UnsupportedKernelError,
        'kernel MirrorPad cannot be lowered to ONNX: mirror mode "symmetric" (ONNX Pad has reflect and edge only)',
      );
    } finally {
      x.dispose();
    }
  });
});
