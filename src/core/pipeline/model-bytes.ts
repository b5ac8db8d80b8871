import type { KilnModel } from '../kiln-model.js';

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

/**
 * Bytes a model ships: its `artifactBytes` when it knows them (e.g. quantised
 * weights), else its stock model's weights at their dtype's width.
 */
export function modelBytes(model: KilnModel): number {
  if (model.artifactBytes != null) return model.artifactBytes;
  if (!model.stock) return NaN;
  const { format, model: stock } = model.stock;
  return format.weights(stock).reduce((sum, w) => sum + w.value.size * (BYTES_PER_ELEMENT[w.value.dtype] ?? 4), 0);
}
