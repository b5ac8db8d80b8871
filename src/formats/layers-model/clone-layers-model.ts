import * as tf from '@tensorflow/tfjs';
import { withBackendAsync } from '../../core/backend-scope.js';
import { saveLayersModelArtifacts } from './save-layers-model.js';

/**
 * A deep copy of a LayersModel (topology and weight values) whose variables live on
 * `backend`. The source is only read. Custom layers must be registered with
 * `tf.serialization.registerClass`, as for saving.
 */
export async function cloneLayersModel(source: tf.LayersModel, backend: string): Promise<tf.LayersModel> {
  const copied = await saveLayersModelArtifacts(source);
  return withBackendAsync(backend, () => tf.loadLayersModel(tf.io.fromMemory(copied)));
}
