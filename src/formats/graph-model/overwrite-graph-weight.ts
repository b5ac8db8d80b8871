import * as tf from '@tensorflow/tfjs';

/**
 * The part of tfjs-converter's GraphModel this reaches into: its executor's weight map.
 * `GraphModel.weights` returns that map, but only the executor's `weightMap` setter
 * also records the weights' tensor ids, which `execute` keeps from being disposed as
 * intermediates; so a new weight tensor goes in through the setter.
 */
interface GraphExecutorWeights {
  weightMap: Record<string, tf.Tensor[]>;
}

function executorOf(model: tf.GraphModel): GraphExecutorWeights {
  const executor = (model as unknown as { executor?: Partial<GraphExecutorWeights> }).executor;
  if (executor == null || executor.weightMap == null || typeof executor.weightMap !== 'object') {
    throw new Error(
      "this version of tfjs-converter keeps a GraphModel's weights where Kiln does not look (GraphModel.executor.weightMap): " +
        'weights of a graph model cannot be overwritten; report it with your @tensorflow/tfjs version',
    );
  }
  return executor as GraphExecutorWeights;
}

/**
 * Replaces the values of weight `name` of a GraphModel Kiln made (a working copy, never
 * the user's) with a copy of `values`, on the active backend, and frees the old tensor.
 * The copy is kept out of any enclosing tidy: the model owns it and frees it with itself.
 *
 * @throws Error when the model has no single-tensor weight `name`, or the shape or dtype differ.
 */
export function overwriteGraphWeight(model: tf.GraphModel, name: string, values: tf.Tensor): void {
  const executor = executorOf(model);
  const map = executor.weightMap;
  const old = map[name];
  if (!old || old.length !== 1) throw new Error(`weight "${name}" is not a single-tensor weight of this graph model`);
  const before = old[0]!;
  if (before.dtype !== values.dtype || !tf.util.arraysEqual(before.shape, values.shape)) {
    throw new Error(
      `weight "${name}" is ${before.dtype} [${before.shape.join(', ')}]; cannot overwrite it with ${values.dtype} [${values.shape.join(', ')}]`,
    );
  }
  const replacement = tf.keep(values.clone());
  executor.weightMap = { ...map, [name]: [replacement] };
  before.dispose();
}
