import * as tf from '@tensorflow/tfjs';
import { sourceArtifactsOf } from '../../core/formats/source-artifacts.js';
import { keepSourceStorage } from '../../core/formats/keep-source-storage.js';

/** The model files of a LayersModel (topology and weights), in memory, as `model.save` writes them (every weight at full width). */
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

/**
 * The model files of a LayersModel with the storage of the files it was built from:
 * `LayersModel.save` writes every weight as float32, so a model loaded from float16 or
 * uint8 files would come out 2 to 4 times larger. Each weight those files store
 * quantised, and whose values are still exactly the ones they decode to, is written
 * with the source's bytes and `quantization` entry; every other weight as tf.js saves it.
 */
export async function saveLayersModelKeepingStorage(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  const saved = await saveLayersModelArtifacts(model);
  const source = sourceArtifactsOf(model);
  return source ? keepSourceStorage(saved, source).artifacts : saved;
}
