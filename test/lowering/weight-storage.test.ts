/**
 * Weights stored below float32 in ONNX: the storage chosen from the values alone (float16
 * where every value is one, uint8 where the values lie on a 256-step grid as tf.js
 * decodes its uint8 weights), and a lowered model whose weights tf.js loaded from float16
 * and uint8 files: smaller, and computing in onnxruntime what the float32 file computes.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { onnx } from 'onnx-proto';
import { layersModelFormat } from '../../src/formats/layers-model/layers-model-format.js';
import { chooseWeightStorage, describeOnnxSize, lowerModel, MIN_COMPRESSED_ELEMENTS } from '../../src/lowering/index.js';
import type { OrtModule } from '../../src/engines/onnxruntime/ort-api.js';
import { toFloat16 } from '../../src/plugins/mixed-precision/quantize.js';
import { onnxRuntimeOrSkip, runOnnx } from '../helpers/onnxruntime.js';

/** `values` as tf.js decodes them from a weight file stored with `quantization`. */
function decodedBy(values: Float32Array, quantization: tf.io.WeightsManifestEntry['quantization']): Float32Array {
  const spec: tf.io.WeightsManifestEntry = { name: 'w', shape: [values.length], dtype: 'float32', quantization };
  let bytes: ArrayBuffer;
  if (quantization!.dtype === 'float16') {
    // a float16 weight file as Kiln's mixed precision writes one
    bytes = toFloat16(values).buffer as ArrayBuffer;
  } else {
    const { min, scale } = quantization as { min: number; scale: number };
    bytes = Uint8Array.from(values, (v) => Math.max(0, Math.min(255, Math.round((v - min) / scale)))).buffer;
  }
  const t = tf.io.decodeWeights(bytes, [spec])['w']!;
  const out = t.dataSync() as Float32Array;
  t.dispose();
  return Float32Array.from(out);
}

function seeded(n: number, seed: number): Float32Array {
  const t = tf.randomNormal([n], 0, 0.5, 'float32', seed);
  const v = Float32Array.from(t.dataSync() as Float32Array);
  t.dispose();
  return v;
}

describe('lowering: how a float32 weight is stored in ONNX', () => {
  it('float16 where every value is a float16 (normal, subnormal, zero, negative zero), exactly', () => {
    const values = decodedBy(seeded(300, 1), { dtype: 'float16' });
    values[0] = 0;
    values[1] = -0;
    values[2] = 2 ** -24; // the smallest float16 subnormal
    values[3] = -(2 ** -20) * 3;
    values[4] = 65504;
    const storage = chooseWeightStorage(values);
    expect(storage.kind).to.equal('float16');
    if (storage.kind !== 'float16') return;
    const back = tf.io.decodeWeights(storage.bits.slice().buffer, [
      { name: 'w', shape: [values.length], dtype: 'float32', quantization: { dtype: 'float16' } },
    ])['w']!;
    const decoded = back.dataSync();
    back.dispose();
    values.forEach((v, i) => expect(Object.is(decoded[i], v), `value ${i}: ${decoded[i]} for ${v}`).to.equal(true));
  });

  it('float32 where one value is not a float16 (one bit below float16 precision, beyond its range, or NaN)', () => {
    for (const odd of [1 + 2 ** -11, 70000, 2 ** -26, NaN, Infinity]) {
      const values = decodedBy(seeded(300, 2), { dtype: 'float16' });
      values[17] = odd;
      expect(chooseWeightStorage(values).kind, String(odd)).to.equal('float32');
    }
  });

  it('uint8 where the values are what tf.js decodes from a uint8 file, each within float32 rounding of its original', () => {
    const raw = seeded(500, 3);
    const min = -1.2;
    const scale = 2.3 / 255;
    const values = decodedBy(raw, { dtype: 'uint8', min, scale });
    const storage = chooseWeightStorage(values);
    expect(storage.kind).to.equal('uint8');
    if (storage.kind !== 'uint8') return;
    let worst = 0;
    storage.codes.forEach((c, i) => {
      const decoded = Math.fround(Math.fround(c * storage.scale) + storage.offset);
      worst = Math.max(worst, Math.abs(decoded - values[i]!));
    });
    expect(worst).to.be.at.most(1.2 * 2 ** -21);
  });

  it('uint8 also for a grid some steps of which no value uses, and for a grid of positive values only', () => {
    const codes = Array.from({ length: 400 }, (_, i) => (i * 37) % 256).filter((c) => c % 3 !== 1);
    const values = Float32Array.from(codes, (c) => Math.fround(0.5 + c * 0.01));
    expect(chooseWeightStorage(values).kind).to.equal('uint8');
  });

  it('float32 for plain float32 values, for more than 256 distinct values off the float16 grid, and below the size floor', () => {
    expect(chooseWeightStorage(seeded(1000, 4)).kind).to.equal('float32');
    const small = decodedBy(seeded(MIN_COMPRESSED_ELEMENTS - 1, 5), { dtype: 'float16' });
    expect(chooseWeightStorage(small).kind).to.equal('float32');
    // 200 distinct values, unevenly spaced (not a grid) and not float16
    const uneven = Float32Array.from({ length: 400 }, (_, i) => Math.fround(Math.sqrt((i % 200) + 0.1234567)));
    expect(chooseWeightStorage(uneven).kind).to.equal('float32');
  });
});

describe('lowering: a model loaded from float16 and uint8 weight files, in onnxruntime-node', function () {
  let ort: OrtModule;

  before(async function () {
    ort = await onnxRuntimeOrSkip(this);
  });

  /** A small CNN whose conv kernel tf.js loaded as float16 and whose dense kernel as uint8. */
  function quantisedCnn(): tf.LayersModel {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [8, 8, 3],
          filters: 16,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
        }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }) }),
      ],
    });
    const [convKernel, convBias, denseKernel, denseBias] = model.getWeights();
    const conv = decodedBy(convKernel!.dataSync() as Float32Array, { dtype: 'float16' });
    const dense = denseKernel!.dataSync() as Float32Array;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of dense) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    const scale = (hi - lo) / 255;
    const uint8 = decodedBy(dense, { dtype: 'uint8', min: Math.round(lo / scale) * scale, scale });
    const set = [tf.tensor(conv, convKernel!.shape), convBias!, tf.tensor(uint8, denseKernel!.shape), denseBias!];
    model.setWeights(set);
    tf.dispose([set[0]!, set[2]!]);
    return model;
  }

  it('stores them as FLOAT16 and UINT8 initializers decoded by Cast (Mul, Add), a smaller file computing what the float32 file does', async () => {
    const model = quantisedCnn();
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 9);
    try {
      const kiln = layersModelFormat.wrap(model, 'cpu', false);
      const compressed = lowerModel(kiln, [x]);
      const plain = lowerModel(kiln, [x], { compressWeights: false });
      expect(compressed.weights.float16.count, describeOnnxSize(compressed.bytes.length, compressed.weights)).to.equal(1);
      expect(compressed.weights.uint8.count, describeOnnxSize(compressed.bytes.length, compressed.weights)).to.equal(1);
      expect(plain.weights.float16.count + plain.weights.uint8.count).to.equal(0);
      const denseBytes = 8 * 8 * 16 * 10;
      const convBytes = 3 * 3 * 3 * 16;
      // uint8 saves 3 of every 4 bytes of the dense kernel, float16 2 of every 4 of the conv kernel
      expect(plain.bytes.length - compressed.bytes.length).to.be.at.least(3 * denseBytes + 2 * convBytes - 400);
      const types = onnx.ModelProto.decode(compressed.bytes).graph!.initializer!.map((i) => i.dataType);
      expect(types).to.include.members([onnx.TensorProto.DataType.FLOAT16, onnx.TensorProto.DataType.UINT8]);

      const name = compressed.inputNames[0]!;
      const fromCompressed = await runOnnx(ort, compressed.bytes, { [name]: x });
      const fromPlain = await runOnnx(ort, plain.bytes, { [name]: x });
      const y = model.predict(x) as tf.Tensor;
      const expected = y.dataSync();
      y.dispose();
      const out = compressed.outputNames[0]!;
      fromPlain[out]!.forEach((v, i) => expect(fromCompressed[out]![i]).to.be.closeTo(v, 1e-6 * Math.max(1, Math.abs(v))));
      fromPlain[out]!.forEach((v, i) => expect(v).to.be.closeTo(expected[i]!, 1e-4));
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});
