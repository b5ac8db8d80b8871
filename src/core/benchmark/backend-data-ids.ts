import * as tf from '@tensorflow/tfjs';

/**
 * Data buffers held by every initialised backend, not only the active one (a call may
 * switch backends): catches allocations that bypass tf.memory(), such as direct kernel calls.
 */
export function backendDataIds(): number {
  const registry = (tf.engine() as unknown as { registry: Record<string, tf.KernelBackend> }).registry;
  return Object.values(registry).reduce((sum, backend) => sum + backend.numDataIds(), 0);
}
