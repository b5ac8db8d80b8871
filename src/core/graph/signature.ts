import type * as tf from '@tensorflow/tfjs';
import type { KilnMode } from '../plugin.js';

/**
 * The guard key of a compiled graph: every input's dtype and shape (a trace bakes
 * the batch into Reshape/Slice attributes, so shapes are never optional), the
 * backend, and the mode.
 */
export function signatureOf(inputs: readonly tf.Tensor[], backend: string, mode: KilnMode): string {
  let key = `${backend}|${mode}`;
  for (const t of inputs) key += `|${t.dtype}[${t.shape.join(',')}]`;
  return key;
}
