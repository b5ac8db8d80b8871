import * as tf from '@tensorflow/tfjs';

/** Bytes per element of each dtype a weight can be stored as (tfjs's DTYPE_VALUE_SIZE_MAP, float16/uint8/uint16 included). */
const STORED_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, float16: 2, uint16: 2, uint8: 1, bool: 1, complex64: 8 };

/** Bytes per element of a weight as model files store it (its quantised width where quantised); undefined for a width Kiln does not know (strings). */
export function storedBytesPerElement(spec: tf.io.WeightsManifestEntry): number | undefined {
  return STORED_BYTES[spec.quantization?.dtype ?? spec.dtype];
}

/** Bytes a weight takes in the weight data: its elements times the width it is stored at; undefined for a width Kiln does not know. */
function storedByteLength(spec: tf.io.WeightsManifestEntry): number | undefined {
  const width = storedBytesPerElement(spec);
  return width === undefined ? undefined : spec.shape.reduce((n, d) => n * d, 1) * width;
}

/** The weight bytes of artifacts as one view; empty when there are none. */
function weightBytes(artifacts: tf.io.ModelArtifacts): Uint8Array {
  const data = artifacts.weightData;
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data);
}

/** Each weight's manifest entry and its bytes, in manifest order; undefined when a width is unknown or the sizes disagree. */
function slices(artifacts: tf.io.ModelArtifacts): { spec: tf.io.WeightsManifestEntry; bytes: Uint8Array }[] | undefined {
  const data = weightBytes(artifacts);
  const out: { spec: tf.io.WeightsManifestEntry; bytes: Uint8Array }[] = [];
  let offset = 0;
  for (const spec of artifacts.weightSpecs ?? []) {
    const length = storedByteLength(spec);
    if (length === undefined || offset + length > data.byteLength) return undefined;
    out.push({ spec, bytes: data.subarray(offset, offset + length) });
    offset += length;
  }
  return offset === data.byteLength ? out : undefined;
}

/** The bytes of the values tf.js decodes from a stored weight (the dequantised float32 values, for a quantised one). */
function decodedBytes(spec: tf.io.WeightsManifestEntry, stored: Uint8Array): Uint8Array {
  const tensor = tf.io.decodeWeights(stored.slice().buffer, [spec])[spec.name]!;
  try {
    const values = tensor.dataSync() as Float32Array | Int32Array | Uint8Array;
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  } finally {
    tensor.dispose();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What {@link keepSourceStorage} did: the artifacts to write, and how many weights kept the source's storage. */
export interface KeptStorage {
  readonly artifacts: tf.io.ModelArtifacts;
  /** Weights written with the source's quantised bytes. */
  readonly kept: number;
  /** Weights the source stores quantised but whose values changed (or no longer match by name, shape, dtype): written as saved. */
  readonly changed: number;
}

/**
 * `saved` (full-width weights, as tf.js saves a model) with each weight that `source`
 * stores quantised written back as the source stored it: the source's manifest entry
 * (its `quantization`) and its bytes, byte for byte. Only where the weight's saved
 * values are bit for bit the values tf.js decodes from the source's bytes, so loading
 * the result gives exactly the model that was saved; any other weight stays as saved.
 * Copying the source's bytes, not re-quantising the decoded values, makes this exact
 * by construction for float16, uint8 and uint16 alike.
 */
export function keepSourceStorage(saved: tf.io.ModelArtifacts, source: tf.io.ModelArtifacts): KeptStorage {
  const savedWeights = slices(saved);
  const sourceWeights = slices(source);
  if (!savedWeights || !sourceWeights) return { artifacts: saved, kept: 0, changed: 0 };
  const byName = new Map(sourceWeights.filter((w) => w.spec.quantization != null).map((w) => [w.spec.name, w]));
  if (byName.size === 0) return { artifacts: saved, kept: 0, changed: 0 };
  let kept = 0;
  let changed = 0;
  const out = savedWeights.map((w) => {
    const src = byName.get(w.spec.name);
    if (!src || w.spec.quantization != null) return w;
    const matches =
      src.spec.dtype === w.spec.dtype &&
      src.spec.shape.length === w.spec.shape.length &&
      src.spec.shape.every((d, i) => d === w.spec.shape[i]) &&
      sameBytes(decodedBytes(src.spec, src.bytes), w.bytes);
    if (!matches) {
      changed++;
      return w;
    }
    kept++;
    const spec: tf.io.WeightsManifestEntry = { ...w.spec, quantization: { ...src.spec.quantization! } };
    return { spec, bytes: src.bytes };
  });
  if (kept === 0) return { artifacts: saved, kept, changed };
  const total = out.reduce((n, w) => n + w.bytes.byteLength, 0);
  const data = new Uint8Array(total);
  let at = 0;
  for (const w of out) {
    data.set(w.bytes, at);
    at += w.bytes.byteLength;
  }
  return { artifacts: { ...saved, weightSpecs: out.map((w) => w.spec), weightData: data.buffer }, kept, changed };
}
