import * as tf from '@tensorflow/tfjs';

/**
 * Stand-ins for @tensorflow/tfjs-node, which is not installed where `npm test` runs:
 * importing the "present" stand-in registers a backend named "tensorflow" that runs the
 * cpu kernels, as the real package registers its own. `removeStandInBackend` undoes it.
 * Where the real package is installed and a test has loaded it, its "tensorflow"
 * backend is already registered: the stand-in tests skip (`realTensorflowBackendLoaded`),
 * and `removeStandInBackend` leaves the real backend alone (removing it would leave the
 * process without it: Node does not run the package's registration twice).
 */
let standInRegistered = false;

/**
 * Registers the stand-in "tensorflow" backend: the cpu kernels, or only `factory` (a
 * backend that fails to initialise, say). Throws when a "tensorflow" backend is there.
 */
export function registerStandInTensorflowBackend(factory?: () => tf.KernelBackend): void {
  if (tf.findBackendFactory('tensorflow')) throw new Error('a "tensorflow" backend is already registered; a stand-in would not replace it');
  standInRegistered = true;
  if (factory) {
    tf.registerBackend('tensorflow', factory);
    return;
  }
  const CpuBackend = tf.findBackend('cpu')!.constructor as new () => tf.KernelBackend;
  tf.registerBackend('tensorflow', () => new CpuBackend(), 0);
  for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: 'tensorflow' });
}

/** A "tensorflow" backend that no stand-in registered: the real @tensorflow/tfjs-node, loaded in this process. */
export function realTensorflowBackendLoaded(): boolean {
  return !standInRegistered && tf.findBackendFactory('tensorflow') != null;
}

/** Removes what a stand-in registered; never the real package's backend. */
export async function removeStandInBackend(): Promise<void> {
  if (!standInRegistered) return;
  if (tf.getBackend() === 'tensorflow') await tf.setBackend('cpu');
  for (const kernel of tf.getKernelsForBackend('tensorflow')) tf.unregisterKernel(kernel.kernelName, 'tensorflow');
  if (tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
  standInRegistered = false;
}

export function moduleNotFound(specifier: string): Error {
  return Object.assign(new Error(`Cannot find module '${specifier}'`), { code: 'MODULE_NOT_FOUND' });
}
