/**
 * The weights of a saved model (`weightSpecs` + `weightData` of tfjs ModelArtifacts)
 * as an ordered, editable list of named byte blocks. Weights are plain bytes on the
 * CPU: no tensors are created, so nothing can leak and the source model's variables
 * are never touched.
 *
 * A tfjs layers model names its weights `<layer name>/<weight name>` (the variables'
 * `originalName`, e.g. `stem_conv/kernel`, `stem_bn/moving_mean`), and loading matches
 * them back by that name, so the order of the list does not matter to tfjs; it is kept
 * stable anyway (a new weight goes right after its layer's other weights).
 */
import type * as tf from '@tensorflow/tfjs';
import { weightSpecByteLength } from '../../../io/weight-bytes.js';

interface StoredWeight {
  spec: tf.io.WeightsManifestEntry;
  bytes: Uint8Array;
}

/** A float32 weight read out of the store (a copy: editing it changes nothing until `setFloat32`). */
export interface Float32Weight {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

export class WeightStore {
  private constructor(private entries: StoredWeight[]) {}

  /** Splits the concatenated weight data into one block per spec (copies the bytes). */
  static fromArtifacts(specs: readonly tf.io.WeightsManifestEntry[], data: ArrayBuffer): WeightStore {
    const entries: StoredWeight[] = [];
    let offset = 0;
    for (const spec of specs) {
      const length = weightSpecByteLength(spec, 'the model being rewritten');
      if (offset + length > data.byteLength) {
        throw new Error(`weight data ends at byte ${data.byteLength} but weight ${spec.name} needs bytes ${offset}..${offset + length}`);
      }
      entries.push({ spec: { ...spec, shape: [...spec.shape] }, bytes: new Uint8Array(data.slice(offset, offset + length)) });
      offset += length;
    }
    if (offset !== data.byteLength) throw new Error(`weight specs describe ${offset} bytes but the weight data holds ${data.byteLength}`);
    return new WeightStore(entries);
  }

  /** Weight names, in order. */
  names(): string[] {
    return this.entries.map((e) => e.spec.name);
  }

  has(name: string): boolean {
    return this.entries.some((e) => e.spec.name === name);
  }

  /** Names of the weights of layer `layer` (`<layer>/...`). */
  namesOfLayer(layer: string): string[] {
    return this.names().filter((n) => n.startsWith(`${layer}/`));
  }

  /**
   * The values of a float32, unquantised weight, or a reason why it cannot be read
   * that way (missing, duplicated, other dtype, quantised).
   */
  readFloat32(name: string): Float32Weight | string {
    const found = this.entries.filter((e) => e.spec.name === name);
    if (found.length === 0) return `weight ${name} not found`;
    if (found.length > 1) return `weight name ${name} appears ${found.length} times`;
    const { spec, bytes } = found[0]!;
    if (spec.quantization != null) return `weight ${name} is quantised (${spec.quantization.dtype})`;
    if (spec.dtype !== 'float32') return `weight ${name} is ${spec.dtype}, not float32`;
    const values = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(values.buffer).set(bytes);
    return { shape: [...spec.shape], values };
  }

  /**
   * Replaces the float32 weight `name` (keeping its position), or adds it right after
   * the last weight named `after` when it does not exist yet.
   */
  setFloat32(name: string, shape: readonly number[], values: Float32Array, after?: string): void {
    const count = shape.reduce((n, d) => n * d, 1);
    if (count !== values.length) throw new Error(`weight ${name}: shape [${shape.join(', ')}] needs ${count} values, got ${values.length}`);
    const entry: StoredWeight = {
      spec: { name, shape: [...shape], dtype: 'float32' },
      bytes: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
    };
    const index = this.entries.findIndex((e) => e.spec.name === name);
    if (index >= 0) {
      this.entries[index] = entry;
      return;
    }
    let at = this.entries.length;
    if (after !== undefined) {
      for (let i = this.entries.length - 1; i >= 0; i--) {
        if (this.entries[i]!.spec.name === after) {
          at = i + 1;
          break;
        }
      }
    }
    this.entries.splice(at, 0, entry);
  }

  /** Removes weight `name` (no-op when absent). */
  delete(name: string): void {
    this.entries = this.entries.filter((e) => e.spec.name !== name);
  }

  /** Specs and one concatenated buffer, ready for `tf.io.fromMemory`. */
  toArtifacts(): { weightSpecs: tf.io.WeightsManifestEntry[]; weightData: ArrayBuffer } {
    const total = this.entries.reduce((n, e) => n + e.bytes.byteLength, 0);
    const data = new Uint8Array(total);
    let offset = 0;
    for (const e of this.entries) {
      data.set(e.bytes, offset);
      offset += e.bytes.byteLength;
    }
    return { weightSpecs: this.entries.map((e) => ({ ...e.spec, shape: [...e.spec.shape] })), weightData: data.buffer };
  }
}
