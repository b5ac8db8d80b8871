import * as tf from '@tensorflow/tfjs';

/** Name of the backend that holds `tensor`'s data, i.e. whose kernels produced it. */
export function backendOfTensor(tensor: tf.Tensor): string {
  const engine = tf.engine() as unknown as {
    state: { tensorInfo: WeakMap<object, { backend: tf.KernelBackend }> };
    registry: Record<string, tf.KernelBackend>;
  };
  const holder = engine.state.tensorInfo.get(tensor.dataId)?.backend;
  const entry = Object.entries(engine.registry).find(([, backend]) => backend === holder);
  return entry?.[0] ?? 'unknown';
}
