import type * as tf from '@tensorflow/tfjs';
import type { KilnModel } from '../kiln-model.js';

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

/**
 * Bytes a model ships: its `artifactBytes` when it knows them (e.g. quantised weights),
 * else the weight bytes of the files its format's `save` writes for its stock model. So
 * weights the source files store quantised (a graph model's float16 weights, a layers
 * model loaded from uint8 files) count at their stored width, as the files Kiln writes
 * store them; a model outside tf.js (onnxruntime) counts those of the stock model it was
 * made from. A format whose `save` fails is counted at its weights' dtype widths.
 */
export async function modelBytes(model: KilnModel): Promise<number> {
  if (model.artifactBytes != null) return model.artifactBytes;
  const source = model.stock ?? model.madeFrom;
  if (!source) return NaN;
  const { format, model: stock } = source;
  try {
    const saved = await format.save(stock);
    if (saved.weightData !== undefined) return byteLengthOf(saved.weightData);
  } catch {
    // counted from the weights below
  }
  return format.weights(stock).reduce((sum, w) => sum + w.value.size * (BYTES_PER_ELEMENT[w.value.dtype] ?? 4), 0);
}

function byteLengthOf(data: tf.io.WeightData): number {
  return (Array.isArray(data) ? data : [data]).reduce((n, b) => n + b.byteLength, 0);
}
