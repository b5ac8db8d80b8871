import type * as tf from '@tensorflow/tfjs';
import type { KilnMode } from '../core/plugin.js';

/**
 * The guard key of a compiled graph: every input's dtype and shape (a trace bakes
 * the batch into Reshape/Slice attributes, so shapes are never optional), which
 * inputs are the same tensor (`=j`: the trace of `f(x, x)` cannot tell the two
 * arguments apart, so it must not be replayed for `f(x, y)`), the backend, and the mode.
 *
 * What it cannot hold: the JavaScript state the function closes over (numbers, flags,
 * tensors rebound after the trace). JavaScript cannot inspect a closure as torch.compile's
 * guards inspect Python globals, so a trace freezes that state; the `verify` option
 * (eager beside the plan on chosen calls) is what catches a change.
 */
export function signatureOf(inputs: readonly tf.Tensor[], backend: string, mode: KilnMode): string {
  let key = `${backend}|${mode}`;
  inputs.forEach((t, i) => {
    key += `|${t.dtype}[${t.shape.join(',')}]`;
    const first = inputs.findIndex((u) => u === t);
    if (first < i) key += `=${first}`;
  });
  return key;
}
