import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import {
  encodeWeight,
  float16Bits,
  sourceWeights,
  quantizeAffine,
  quantizeArtifacts,
} from '../../../src/plugins/mixed-precision/quantize.js';
import { weightSpecsByteLength } from '../../../src/io/weight-bytes.js';
import { tinyConvModel } from '../../helpers/tiny-models.js';

/** What tf.js's loader makes of stored bytes (the only decoder Kiln trusts). */
function tfjsDecode(data: Uint8Array, spec: tf.io.WeightsManifestEntry): Float32Array {
  const t = tf.io.decodeWeights(data.slice().buffer, [spec])[spec.name]!;
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return values;
}

describe('mixed precision: storing weights the way tf.js loads them', () => {
  it('float16: every one of the 65536 half-precision patterns, decoded by tf.js, encodes back to itself', () => {
    const bits = new Uint16Array(65536).map((_, i) => i);
    const decoded = tfjsDecode(new Uint8Array(bits.buffer), {
      name: 'h',
      shape: [65536],
      dtype: 'float32',
      quantization: { dtype: 'float16' },
    });
    let mismatches = 0;
    for (let i = 0; i < 65536; i++) if (!Number.isNaN(decoded[i]) && float16Bits(decoded[i]!) !== i) mismatches++;
    expect(mismatches).to.equal(0);
  });

  it('float16: each float32 goes to the nearest half (ties to even), overflow to Infinity, NaN stays NaN', () => {
    const positives = tfjsDecode(new Uint8Array(new Uint16Array(0x7c01).map((_, i) => i).buffer), {
      name: 'h',
      shape: [0x7c01],
      dtype: 'float32',
      quantization: { dtype: 'float16' },
    });
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let k = 0; k < 20000; k++) {
      const x = Math.fround((random() * 2 - 1) * 2 ** (random() * 40 - 26));
      const got = Math.abs(positives[float16Bits(x) & 0x7fff]!);
      let lo = 0;
      let hi = 0x7bff;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (positives[mid]! <= Math.abs(x)) lo = mid;
        else hi = mid;
      }
      const nearest = Math.min(Math.abs(Math.abs(x) - positives[lo]!), Math.abs(positives[hi]! - Math.abs(x)));
      if (Math.abs(x) <= 65504) expect(Math.abs(got - Math.abs(x)), `x = ${x}`).to.equal(nearest);
    }
    expect(float16Bits(1 + 2 ** -11)).to.equal(0x3c00); // a tie rounds to the even mantissa
    expect(float16Bits(1 + 3 * 2 ** -11)).to.equal(0x3c02);
    expect(float16Bits(65520)).to.equal(0x7c00);
    expect(float16Bits(-1e9)).to.equal(0xfc00);
    expect(float16Bits(NaN) & 0x7c00).to.equal(0x7c00);
    expect(float16Bits(NaN) & 0x3ff).to.not.equal(0);
    expect(float16Bits(2 ** -24)).to.equal(1); // the smallest subnormal
    expect(float16Bits(2 ** -25)).to.equal(0); // a tie between 0 and it: even, 0
  });

  for (const dtype of ['uint8', 'uint16'] as const) {
    it(`${dtype}: affine codes that tf.js dequantises within half a step, with 0 exact`, () => {
      const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 0.37) * 0.8 - 0.1);
      values[17] = 0;
      const spec = { name: 'w', shape: [1000], dtype: 'float32' as const };
      const encoded = encodeWeight(spec, values, dtype);
      expect(encoded.spec.quantization!.dtype).to.equal(dtype);
      expect(encoded.data.byteLength).to.equal(1000 * (dtype === 'uint8' ? 1 : 2));
      const q = encoded.spec.quantization!;
      const decoded = tfjsDecode(encoded.data, encoded.spec);
      for (let i = 0; i < values.length; i++)
        expect(Math.abs(decoded[i]! - values[i]!)).to.be.at.most(q.scale! * 0.5 + q.scale! * 1e-6 + 1e-7);
      expect(decoded[17]).to.equal(0);
      // The dequantisation tf.js applies is q * scale + min, in double precision, stored as float32.
      const codes = dtype === 'uint8' ? encoded.data : new Uint16Array(encoded.data.buffer);
      for (let i = 0; i < values.length; i += 97) expect(decoded[i]).to.equal(Math.fround(codes[i]! * q.scale! + q.min!));
    });
  }

  it('keeps a constant weight exactly (no division by a zero range)', () => {
    const values = new Float32Array(64).fill(0.3);
    const q = quantizeAffine(values, 'uint8');
    expect(q.scale).to.equal(1);
    const encoded = encodeWeight({ name: 'c', shape: [64], dtype: 'float32' }, values, 'uint8');
    expect(Array.from(tfjsDecode(encoded.data, encoded.spec))).to.deep.equal(Array.from(values));
  });

  it('rewrites the artifacts of a LayersModel with the chosen weights quantised, sized as the manifest says', async () => {
    const model = tinyConvModel(4);
    let source: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        source = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const weights = sourceWeights(source!);
    const kernel = [...weights.values()].find((w) => w.spec.shape.length === 4)!;
    const encoded = new Map([[kernel.spec.name, encodeWeight(kernel.spec, kernel.values!, 'uint8')]]);
    const { artifacts, weightBytes } = quantizeArtifacts(source!, encoded);
    const fp32 = (source!.weightData as ArrayBuffer).byteLength;
    expect(weightBytes).to.equal(fp32 - 3 * kernel.values!.length);
    expect((artifacts.weightData as ArrayBuffer).byteLength).to.equal(weightBytes);
    expect(weightSpecsByteLength(artifacts.weightSpecs!)).to.equal(weightBytes);
    expect(artifacts.weightSpecs!.filter((s) => s.quantization).map((s) => s.name)).to.deep.equal([kernel.spec.name]);
    // tf.js loads it; every other weight is byte-for-byte the original.
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const byName = new Map(loaded.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
    for (const [name, w] of weights) {
      if (name !== kernel.spec.name) expect(Array.from(byName.get(name)!)).to.deep.equal(Array.from(w.values!));
    }
    expect(Array.from(byName.get(kernel.spec.name)!)).to.deep.equal(
      Array.from(tfjsDecode(encoded.get(kernel.spec.name)!.data, encoded.get(kernel.spec.name)!.spec)),
    );
    loaded.dispose();
    model.dispose();
  });
});
