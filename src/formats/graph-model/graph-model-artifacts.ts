import * as tf from '@tensorflow/tfjs';

/**
 * The model files of a GraphModel (topology and weights), in memory. tfjs-converter
 * keeps the files a GraphModel was loaded from and `GraphModel.save` hands them on as
 * they are, so the weights keep the storage they shipped with (float16, uint8, ...).
 * A model loaded with streamed weights keeps no weight bytes: its weights are then
 * encoded from the tensors it holds (float32, as tf.js encodes them).
 */
export async function saveGraphModelArtifacts(model: tf.GraphModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts) throw new Error('Could not serialise the graph model: GraphModel.save handed no files.');
  if (artifacts.weightData !== undefined || (artifacts.weightSpecs ?? []).length === 0) return { ...artifacts };
  const named = Object.entries(model.weights).flatMap(([name, tensors]) => tensors.map((tensor) => ({ name, tensor })));
  const { data, specs } = await tf.io.encodeWeights(named);
  return { ...artifacts, weightData: data, weightSpecs: specs };
}
