import type * as tf from '@tensorflow/tfjs';

/**
 * Disposes a LayersModel that Kiln made for itself (a copy, a rewrite, a working copy),
 * and then any of its weights that tf.js left alive: `LayersModel.dispose` releases a
 * layer once per model, so a layer called more than once in the model (a shared layer)
 * keeps its weights after it. Never for the user's model.
 */
export function disposeLayersModel(model: tf.LayersModel): void {
  const weights = model.weights;
  model.dispose();
  for (const w of weights) if (isAlive(w)) w.dispose();
}

/** Whether a LayerVariable still holds its tensor (tf.js has no flag for it; `read` throws once it is disposed). */
function isAlive(variable: tf.LayerVariable): boolean {
  try {
    variable.read();
    return true;
  } catch {
    return false;
  }
}
