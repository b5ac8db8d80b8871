/**
 * What the kit measures around a plugin: the tensors and backend buffers held, one
 * call of a model on the sample inputs, and the warnings the plugin logs.
 */
import * as tf from '@tensorflow/tfjs';
import { backendDataIds } from '../core/benchmark/backend-data-ids.js';
import { outputsAsArray, predictEither, type KilnModel } from '../core/kiln-model.js';
import type { Logger } from '../core/logger.js';

/** Tensors (tf.memory()) and backend buffers (every backend's) held at one moment. */
export interface MemoryCount {
  readonly tensors: number;
  readonly dataIds: number;
}

export function memory(): MemoryCount {
  return { tensors: tf.memory().numTensors, dataIds: backendDataIds() };
}

function feed(inputs: readonly tf.Tensor[]): tf.Tensor | tf.Tensor[] {
  return inputs.length === 1 ? inputs[0]! : [...inputs];
}

/** Runs `model` once on `inputs`, reads the outputs back and disposes them. */
export function runOnce(model: KilnModel, inputs: readonly tf.Tensor[]): void {
  const outputs = outputsAsArray(model.predict(feed(inputs)));
  try {
    for (const o of outputs) o.dataSync();
  } finally {
    tf.dispose(outputs);
  }
}

/** `runOnce` by whichever predict the model runs (`predictAsync` for one that runs only asynchronously, such as onnxruntime's). */
export async function runOnceEither(model: KilnModel, inputs: readonly tf.Tensor[]): Promise<void> {
  const outputs = await predictEither(model, feed(inputs));
  try {
    for (const o of outputs) o.dataSync();
  } finally {
    tf.dispose(outputs);
  }
}

/** Keeps the warnings logged (as `warning: ...`), drops the rest. */
export class CollectingLogger implements Logger {
  readonly lines: string[] = [];
  debug(): void {}
  info(): void {}
  warn(message: string): void {
    this.lines.push(`warning: ${message}`);
  }
}
