import * as tf from '@tensorflow/tfjs';
import { withBackendAsync } from '../../core/backend-scope.js';
import { inheritSourceArtifacts } from '../../core/formats/source-artifacts.js';
import { saveLayersModelArtifacts } from './save-layers-model.js';

/**
 * A deep copy of a LayersModel (topology and weight values) whose variables live on
 * `backend`. The source is only read. Custom layers must be registered with
 * `tf.serialization.registerClass`, as for saving. The copy saves with the storage of
 * the files the source was loaded from (see `saveLayersModelKeepingStorage`).
 */
export async function cloneLayersModel(source: tf.LayersModel, backend: string): Promise<tf.LayersModel> {
  const copied = await saveLayersModelArtifacts(source);
  const copy = await withBackendAsync(backend, () => tf.loadLayersModel(tf.io.fromMemory(copied)));
  return inheritSourceArtifacts(copy, source);
}
