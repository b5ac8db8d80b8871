import type { KilnModel } from '../kiln-model.js';

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

/**
 * Bytes a model ships: its `artifactBytes` when it knows them (e.g. quantised
 * weights), else its layers model's weights at their dtype's width.
 */
export function modelBytes(model: KilnModel): number {
  if (model.artifactBytes != null) return model.artifactBytes;
  if (!model.layersModel) return NaN;
  return model.layersModel.weights.reduce((sum, w) => sum + w.shape.reduce((a: number, d) => a * (d ?? 1), 1) * (BYTES_PER_ELEMENT[w.dtype] ?? 4), 0);
}
