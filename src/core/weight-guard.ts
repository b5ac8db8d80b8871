import * as tf from '@tensorflow/tfjs';
import { withBackend } from './backend-scope.js';
import type { ModelWeight } from './formats/model-format.js';

/** FNV-1a over the bytes of a typed array: cheap, and any changed bit shows. */
function checksum(values: tf.TypedArray | string[]): number {
  if (!ArrayBuffer.isView(values)) return checksumText(values.join('\u0000'));
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i]!;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function checksumText(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

interface GuardedWeight {
  readonly name: string;
  readonly variable: tf.Tensor;
  readonly assign?: (values: tf.Tensor) => void;
  readonly checksum: number;
  readonly shape: readonly number[];
  readonly snapshot: tf.Tensor;
}

/**
 * Watches the user's weights: a checksum and a copy of every weight, taken before a
 * plugin runs. `changed()` names the weights whose values (or shapes) differ now;
 * `restore()` writes the copies back. Dispose it to free the copies.
 */
export class WeightGuard {
  private constructor(private readonly weights: readonly GuardedWeight[]) {}

  static capture(modelWeights: readonly ModelWeight[]): WeightGuard {
    const weights = modelWeights.map((w) => {
      const variable = w.value;
      // The snapshot is cloned on cpu (sharing the data, as tf.clone does), never by a kernel
      // on wasm: there a clone allocates, the heap may grow, and tfjs-backend-wasm's Identity
      // then reads through a stale view of the old heap ("Construct on a detached
      // ArrayBuffer", tfjs#4150).
      const values = variable.dataSync();
      return {
        name: w.name,
        variable,
        assign: w.assign,
        checksum: checksum(values),
        shape: [...variable.shape],
        snapshot: tf.findBackend('cpu') ? withBackend('cpu', () => tf.clone(variable)) : tf.clone(variable),
      };
    });
    return new WeightGuard(weights);
  }

  /** Names of the weights that no longer hold what they held at capture. */
  changed(): string[] {
    return this.weights
      .filter((w) => w.variable.isDisposed || !sameShape(w.variable.shape, w.shape) || checksum(w.variable.dataSync()) !== w.checksum)
      .map((w) => w.name);
  }

  /** Puts every captured value back (disposed variables cannot be restored and are listed). */
  restore(): string[] {
    const lost: string[] = [];
    for (const w of this.weights) {
      if (w.variable.isDisposed) {
        lost.push(w.name);
        continue;
      }
      if (!sameShape(w.variable.shape, w.shape) || checksum(w.variable.dataSync()) !== w.checksum) {
        if (sameShape(w.variable.shape, w.shape) && w.assign) w.assign(w.snapshot);
        else lost.push(w.name);
      }
    }
    return lost;
  }

  dispose(): void {
    for (const w of this.weights) w.snapshot.dispose();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
