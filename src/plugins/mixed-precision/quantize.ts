/**
 * Storing float32 weights as float16 or affine uint8/uint16, in the form tf.js's
 * loaders read (the `quantization` field of a weights-manifest entry). Decoding is
 * never done here: Kiln always hands the bytes to tf.js (`tf.io.decodeWeights`,
 * `tf.loadLayersModel`), so the values it validates are the values a user loads.
 *
 * tf.js 4.22 decodes (tfjs-core `decodeWeight`):
 * - `float16`: IEEE 754 half-precision bits, little-endian, widened exactly to float32;
 * - `uint8` / `uint16`: `value = q * scale + min`, computed in double precision and
 *   stored in a Float32Array.
 */
import * as tf from '@tensorflow/tfjs';
import { storedBytesPerElement } from '../../core/formats/keep-source-storage.js';
import { nearestCode, type AffineGrid } from './error-feedback.js';

/** How one weight is stored: as it is, or quantised. */
export type StoredPrecision = 'float32' | 'float16' | 'uint16' | 'uint8';

/** Bytes per element of each stored precision. */
export const PRECISION_BYTES: Readonly<Record<StoredPrecision, number>> = { float32: 4, float16: 2, uint16: 2, uint8: 1 };

/** Largest finite float16 magnitude; larger values would turn into Infinity. */
export const FLOAT16_MAX = 65504;

/** One weight's stored bytes and the manifest entry that describes them. */
export interface EncodedWeight {
  readonly spec: tf.io.WeightsManifestEntry;
  readonly data: Uint8Array;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float16 bits nearest to a float32 value (round half to even; overflow to Infinity, NaN kept). */
export function float16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // A float16 subnormal (or zero): value = q * 2^-24 with q = significand * 2^(exponent - 126),
    // so `shift` (>= 14) bits of the 24-bit significand fall below 2^-24 and are rounded off.
    const shift = 126 - exponent;
    if (shift > 24) return sign;
    const significand = mantissa | 0x800000;
    let q = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rest > half || (rest === half && (q & 1) === 1)) q++;
    return sign | q; // q may reach 0x400: the smallest normal, encoded the same way
  }
  let bits = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (bits & 1) === 1)) bits++; // a carry into the exponent is correct, up to Infinity
  return sign | bits;
}

/** Float16 bits of every value. */
export function toFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float16Bits(values[i]!);
  return out;
}

/** Affine quantisation parameters and codes of one weight. */
export interface AffineQuantized {
  readonly codes: Uint8Array | Uint16Array;
  readonly min: number;
  readonly scale: number;
}

/**
 * The affine grid of a weight as the tf.js converter makes it: scale = (max - min) /
 * qmax, and min nudged to a whole number of steps so that 0 is represented exactly. A
 * constant weight gets scale 1 and min its value, so it is stored exactly.
 */
export function affineGrid(values: Float32Array, dtype: 'uint8' | 'uint16'): AffineGrid {
  const qmax = dtype === 'uint8' ? 255 : 65535;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > lo)) return { min: values.length ? lo : 0, scale: 1, qmax };
  const scale = (hi - lo) / qmax;
  return { min: Math.round(lo / scale) * scale, scale, qmax };
}

/**
 * Affine quantisation as the tf.js converter does it: the grid of {@link affineGrid},
 * each value rounded to its nearest code (values outside the nudged range clip).
 */
export function quantizeAffine(values: Float32Array, dtype: 'uint8' | 'uint16'): AffineQuantized {
  const grid = affineGrid(values, dtype);
  const codes = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) codes[i] = nearestCode(values[i]!, grid);
  return { codes, min: grid.min, scale: grid.scale };
}

/** Why a weight cannot be stored at `precision`, or undefined when it can. */
export function unsupportedReason(values: Float32Array, precision: StoredPrecision): string | undefined {
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) return 'holds NaN or Infinity';
    const a = Math.abs(v);
    if (a > maxAbs) maxAbs = a;
  }
  if (precision === 'float16' && maxAbs > FLOAT16_MAX) return `holds ${maxAbs.toExponential(2)}, beyond float16's range (${FLOAT16_MAX})`;
  return undefined;
}

/** The stored bytes and manifest entry of a float32 weight at `precision`. */
export function encodeWeight(spec: tf.io.WeightsManifestEntry, values: Float32Array, precision: StoredPrecision): EncodedWeight {
  const base: tf.io.WeightsManifestEntry = { name: spec.name, shape: [...spec.shape], dtype: spec.dtype };
  if (spec.group !== undefined) base.group = spec.group;
  if (precision === 'float32') return { spec: base, data: bytesOf(values) };
  if (precision === 'float16') return { spec: { ...base, quantization: { dtype: 'float16' } }, data: bytesOf(toFloat16(values)) };
  const q = quantizeAffine(values, precision);
  return encodeAffine(spec, q.codes, q);
}

/** The stored bytes and manifest entry of affine codes on the grid `{ min, scale }` (uint8 or uint16 by the codes' type). */
export function encodeAffine(
  spec: tf.io.WeightsManifestEntry,
  codes: Uint8Array | Uint16Array,
  grid: { min: number; scale: number },
): EncodedWeight {
  const base: tf.io.WeightsManifestEntry = { name: spec.name, shape: [...spec.shape], dtype: spec.dtype };
  if (spec.group !== undefined) base.group = spec.group;
  const dtype = codes instanceof Uint8Array ? 'uint8' : 'uint16';
  return { spec: { ...base, quantization: { dtype, min: grid.min, scale: grid.scale } }, data: bytesOf(codes) };
}

/** The weight's values as tf.js decodes `encoded` (so exactly what a loader gets). */
export function decodeWithTfjs(encoded: EncodedWeight): tf.Tensor {
  const copy = encoded.data.slice().buffer;
  return tf.io.decodeWeights(copy, [encoded.spec])[encoded.spec.name]!;
}

/** A copy of the weight artifacts with each named weight stored at its chosen precision (float32 otherwise). */
export function quantizeArtifacts(
  source: tf.io.ModelArtifacts,
  encoded: ReadonlyMap<string, EncodedWeight>,
): { artifacts: tf.io.ModelArtifacts; weightBytes: number } {
  const specs = source.weightSpecs ?? [];
  const data = new Uint8Array(
    tf.io.concatenateArrayBuffers(Array.isArray(source.weightData) ? source.weightData : source.weightData ? [source.weightData] : []),
  );
  const outSpecs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const spec of specs) {
    const length = spec.shape.reduce((n, d) => n * d, 1) * storedWidth(spec);
    const chosen = encoded.get(spec.name);
    if (chosen) {
      outSpecs.push(chosen.spec);
      chunks.push(chosen.data);
    } else {
      outSpecs.push({ ...spec });
      chunks.push(data.subarray(offset, offset + length));
    }
    offset += length;
  }
  if (offset !== data.byteLength) throw new Error(`weight specs describe ${offset} bytes but the weight data holds ${data.byteLength}`);
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const weightData = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    weightData.set(chunk, at);
    at += chunk.byteLength;
  }
  const artifacts: tf.io.ModelArtifacts = { ...source, weightSpecs: outSpecs, weightData: weightData.buffer };
  return { artifacts, weightBytes: total };
}

/** One weight of a model's files: its manifest entry, how the files store it, and its values as tf.js decodes them. */
export interface SourceWeight {
  readonly spec: tf.io.WeightsManifestEntry;
  /** How the files store it: its `quantization` dtype, or float32 for an unquantised float32 weight (undefined for other dtypes). */
  readonly stored: StoredPrecision | undefined;
  /** Its float32 values as tf.js decodes the stored bytes (dequantised where stored quantised); absent for other dtypes. */
  readonly values: Float32Array | undefined;
}

/**
 * Every weight of a model's files (any format: a LayersModel's float32 artifacts, or a
 * graph model shipped with float16 or uint8 weights), by manifest name. Quantised
 * weights are decoded by tf.js, so their values are the ones a loader gets.
 */
export function sourceWeights(source: tf.io.ModelArtifacts): Map<string, SourceWeight> {
  const specs = source.weightSpecs ?? [];
  const buffer = tf.io.concatenateArrayBuffers(
    Array.isArray(source.weightData) ? source.weightData : source.weightData ? [source.weightData] : [],
  );
  const out = new Map<string, SourceWeight>();
  let offset = 0;
  for (const spec of specs) {
    const length = spec.shape.reduce((a, d) => a * d, 1) * storedWidth(spec);
    let values: Float32Array | undefined;
    if (spec.dtype === 'float32') {
      if (!spec.quantization) values = new Float32Array(buffer.slice(offset, offset + length));
      else {
        const decoded = tf.io.decodeWeights(buffer.slice(offset, offset + length), [spec])[spec.name]!;
        values = decoded.dataSync() as Float32Array;
        decoded.dispose();
      }
    }
    const stored = spec.dtype !== 'float32' ? undefined : ((spec.quantization?.dtype ?? 'float32') as StoredPrecision);
    out.set(spec.name, { spec, stored, values });
    offset += length;
  }
  if (offset !== buffer.byteLength) throw new Error(`weight specs describe ${offset} bytes but the weight data holds ${buffer.byteLength}`);
  return out;
}

/** Bytes per element of a weight as its files store it (its quantised width where it is quantised). */
export function storedWidth(spec: tf.io.WeightsManifestEntry): number {
  const width = storedBytesPerElement(spec);
  if (width === undefined)
    throw new Error(
      `weight "${spec.name}" is stored as ${spec.quantization?.dtype ?? spec.dtype}, which Kiln cannot measure (string weights are not supported)`,
    );
  return width;
}

function bytesOf(view: Float32Array | Uint16Array | Uint8Array): Uint8Array {
  return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}
