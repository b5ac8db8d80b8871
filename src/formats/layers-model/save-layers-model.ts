import * as tf from '@tensorflow/tfjs';

/** The model files of a LayersModel (topology and weights), in memory, as `model.save` writes them. */
export async function saveLayersModelArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts) throw new Error(`Could not serialise model "${model.name}".`);
  return artifacts;
}
