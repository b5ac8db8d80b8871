/**
 * How a float32 weight is stored in an ONNX file. A weight whose values all lie on a
 * smaller type's grid (as those of a model stored at float16 or uint8 by mixed
 * precision, or of a published model quantised by the tfjs converter, do once tf.js
 * has dequantised them) is stored at that type, and decoded to float32 by nodes in
 * front of its users: `Cast` for float16 (exact), `Cast`, `Mul` and `Add` for uint8
 * (codes * scale + offset, as tf.js decodes its own uint8 weights). onnxruntime folds
 * those nodes into float32 constants when it loads the session, so the file is smaller
 * and the speed the same.
 */
export type WeightStorage =
  | { readonly kind: 'float32' }
  | { readonly kind: 'float16'; readonly bits: Uint16Array }
  | { readonly kind: 'uint8'; readonly codes: Uint8Array; readonly scale: number; readonly offset: number };

/** The stored types, for summaries. */
export type StoredType = WeightStorage['kind'];

/** The float32 weights of an ONNX file by how they are stored: how many, and their bytes. */
export type WeightStorageSummary = Record<StoredType, { count: number; bytes: number }>;

/** A byte count in words: `2.9 kB` below 10 kB, else `1.32 MB`. */
export function describeBytes(bytes: number): string {
  return bytes < 10_000 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(2)} MB`;
}

/** `1.32 MB; weights: 12 float32 (0.41 MB), 18 float16 (0.90 MB)`: a file's size and how its weights are stored. */
export function describeOnnxSize(fileBytes: number, weights: WeightStorageSummary): string {
  const parts = (Object.entries(weights) as [StoredType, { count: number; bytes: number }][])
    .filter(([, w]) => w.count > 0)
    .map(([type, w]) => `${w.count} ${type} (${describeBytes(w.bytes)})`);
  return `${describeBytes(fileBytes)}; weights: ${parts.join(', ') || 'none'}`;
}

/** Weights smaller than this stay float32: a decode node costs more file than it saves. */
export const MIN_COMPRESSED_ELEMENTS = 64;

/**
 * Largest |decoded - value| a uint8 grid may leave, relative to the weight's largest
 * |value| (four float32 rounding steps: the float arithmetic of `codes * scale + offset`,
 * which tf.js does in float64 and ONNX in float32).
 */
const UINT8_RELATIVE_ERROR = 2 ** -21;

/**
 * The smallest storage that holds `values` exactly (uint8 within float32 rounding of its
 * decode): uint8 where at most 256 values on one evenly spaced grid occur, else float16
 * where every value is a float16, else float32.
 */
export function chooseWeightStorage(values: Float32Array): WeightStorage {
  if (values.length < MIN_COMPRESSED_ELEMENTS) return { kind: 'float32' };
  const uint8 = uint8Grid(values);
  if (uint8?.exact) return uint8.storage;
  const bits = float16Bits(values);
  if (bits) return { kind: 'float16', bits };
  return uint8?.storage ?? { kind: 'float32' };
}

/** Bytes the stored data takes. */
export function storedBytes(storage: WeightStorage, elements: number): number {
  return storage.kind === 'float32' ? elements * 4 : storage.kind === 'float16' ? elements * 2 : elements;
}

/** Every value's float16 bits, or undefined when one of them is not a float16. */
export function float16Bits(values: Float32Array): Uint16Array | undefined {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < words.length; i++) {
    const bits = exactFloat16(words[i]!);
    if (bits === undefined) return undefined;
    out[i] = bits;
  }
  return out;
}

/** The float16 bits of the float32 whose bits are `word`, or undefined when it is not a float16 exactly. */
function exactFloat16(word: number): number | undefined {
  const sign = (word >>> 16) & 0x8000;
  const biased = (word >>> 23) & 0xff;
  const mantissa = word & 0x7fffff;
  if (biased === 0) return mantissa === 0 ? sign : undefined; // zero; float32 subnormals are below float16's range
  if (biased === 0xff) return undefined; // Infinity and NaN: left to float32, where they mean what they say
  const exponent = biased - 127;
  if (exponent >= -14 && exponent <= 15) {
    if (mantissa & 0x1fff) return undefined;
    return sign | ((exponent + 15) << 10) | (mantissa >>> 13);
  }
  if (exponent >= -24 && exponent < -14) {
    // a float16 subnormal: a whole number of 2^-24
    const significand = 0x800000 | mantissa;
    const shift = -1 - exponent;
    if (significand & ((1 << shift) - 1)) return undefined;
    return sign | (significand >>> shift);
  }
  return undefined;
}

/**
 * The uint8 grid of `values` where at most 256 distinct finite values occur, evenly
 * spaced (a whole number of steps apart) and decoded by `codes * scale + offset` in
 * float32 to within UINT8_RELATIVE_ERROR of the largest |value|; `exact` where every
 * decoded value equals its original.
 */
function uint8Grid(values: Float32Array): { storage: WeightStorage; exact: boolean } | undefined {
  const distinct = new Set<number>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) return undefined;
    distinct.add(v);
    if (distinct.size > 256) return undefined;
  }
  if (distinct.size < 2) return undefined;
  const sorted = Float64Array.from(distinct).sort();
  const offset = sorted[0]!;
  const span = sorted[sorted.length - 1]! - offset;
  let gap = Infinity;
  for (let i = 1; i < sorted.length; i++) gap = Math.min(gap, sorted[i]! - sorted[i - 1]!);
  const steps = Math.round(span / gap);
  if (steps > 255) return undefined;
  const scale = Math.fround(span / steps);
  const largest = Math.max(Math.abs(offset), Math.abs(offset + span));
  const allowed = largest * UINT8_RELATIVE_ERROR;
  const codes = new Uint8Array(values.length);
  let exact = true;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const code = Math.round((v - offset) / scale);
    if (code < 0 || code > 255) return undefined;
    const decoded = Math.fround(Math.fround(code * scale) + offset);
    if (Math.abs(decoded - v) > allowed) return undefined;
    if (decoded !== v) exact = false;
    codes[i] = code;
  }
  return { storage: { kind: 'uint8', codes, scale, offset }, exact };
}
