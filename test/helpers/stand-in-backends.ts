import * as tf from '@tensorflow/tfjs';

/**
 * Stand-ins for @tensorflow/tfjs-node, which cannot be installed here: importing the
 * "present" stand-in registers a backend named "tensorflow" that runs the cpu
 * kernels, as the real package registers its own. `removeStandInBackend` undoes it.
 */
export function registerStandInTensorflowBackend(): void {
  const CpuBackend = tf.findBackend('cpu')!.constructor as new () => tf.KernelBackend;
  tf.registerBackend('tensorflow', () => new CpuBackend(), 0);
  for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: 'tensorflow' });
}

export async function removeStandInBackend(): Promise<void> {
  if (tf.getBackend() === 'tensorflow') await tf.setBackend('cpu');
  for (const kernel of tf.getKernelsForBackend('tensorflow')) tf.unregisterKernel(kernel.kernelName, 'tensorflow');
  if (tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
}

export function moduleNotFound(specifier: string): Error {
  return Object.assign(new Error(`Cannot find module '${specifier}'`), { code: 'MODULE_NOT_FOUND' });
}
