import * as tf from '@tensorflow/tfjs';
import { withBackendAsync } from '../../core/backend-scope.js';

/**
 * A deep copy of a LayersModel (topology and weight values) whose variables live on
 * `backend`. The source is only read. Custom layers must be registered with
 * `tf.serialization.registerClass`, as for saving.
 */
export async function cloneLayersModel(source: tf.LayersModel, backend: string): Promise<tf.LayersModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await source.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts) throw new Error(`Could not serialise model "${source.name}" to copy it.`);
  const copied = artifacts;
  return withBackendAsync(backend, () => tf.loadLayersModel(tf.io.fromMemory(copied)));
}
