/**
 * Getting a model's artifacts in functional form, and building a stock LayersModel back
 * from edited artifacts. The source model is only read (`model.save` to memory).
 */
import * as tf from '@tensorflow/tfjs';

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The model's artifacts (topology, weight specs and bytes) via a save to memory. */
export async function saveToMemory(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved) throw new Error(`Could not serialise model "${model.name}": its save handler was never called.`);
  return saved;
}

/** The `class_name` of a saved topology (`Model`, `Sequential`, ...). */
export function topologyClassName(artifacts: tf.io.ModelArtifacts): unknown {
  return isRecord(artifacts.modelTopology) ? artifacts.modelTopology.class_name : undefined;
}

/** A stock LayersModel from artifacts, loaded exactly as plain tfjs would (`strict`: every weight must match). */
export function loadStockModel(artifacts: tf.io.ModelArtifacts): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory(artifacts), { strict: true });
}

/**
 * The artifacts of `model` with a functional (`class_name: 'Model'`) topology. A
 * functional model's are returned as saved. A Sequential is rebuilt as a functional
 * model by tfjs itself, on a temporary copy: the copy's layers are applied in order to
 * a fresh input named like the Sequential's own input, so every node index in the
 * JSON (nested models included) is the one tfjs writes. The copy is disposed; the
 * source is only read. `trainingConfig` is never carried over.
 */
export async function functionalArtifacts(model: tf.LayersModel): Promise<{ artifacts: tf.io.ModelArtifacts; fromSequential: boolean }> {
  const saved = await saveToMemory(model);
  const { trainingConfig: _dropped, ...artifacts } = saved;
  const className = topologyClassName(artifacts);
  if (className !== 'Sequential') return { artifacts, fromSequential: false };

  const copy = await loadStockModel(artifacts);
  let functional: tf.LayersModel | undefined;
  try {
    const source = copy.inputs[0];
    if (!source || copy.inputs.length !== 1)
      throw new Error(`Sequential model "${model.name}" has ${copy.inputs.length} inputs; expected 1.`);
    const input = tf.input({ batchShape: source.shape, dtype: source.dtype, name: source.sourceLayer.name });
    let x: tf.SymbolicTensor = input;
    for (const layer of copy.layers) {
      if (layer.getClassName() === 'InputLayer') continue;
      x = layer.apply(x) as tf.SymbolicTensor;
    }
    functional = tf.model({ inputs: input, outputs: x, name: copy.name });
    const converted = await saveToMemory(functional);
    return {
      artifacts: {
        ...artifacts,
        modelTopology: converted.modelTopology,
        weightSpecs: converted.weightSpecs,
        weightData: converted.weightData,
      },
      fromSequential: true,
    };
  } finally {
    // Both containers hold a reference to every layer: disposing both frees the copy's variables.
    functional?.dispose();
    copy.dispose();
  }
}
