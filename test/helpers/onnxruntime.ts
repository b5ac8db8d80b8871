import * as tf from '@tensorflow/tfjs';
import { ONNXRUNTIME_BINDING, ONNXRUNTIME_PACKAGE, type OrtModule, type OrtTensorType } from '../../src/engines/onnxruntime/ort-api.js';

/** onnxruntime-node, or why it cannot be loaded here (it is an optional dependency). */
export async function loadOnnxRuntime(): Promise<{ ort: OrtModule } | { reason: string }> {
  try {
    return { ort: (await import(ONNXRUNTIME_PACKAGE)) as OrtModule };
  } catch (error) {
    return {
      reason: `${ONNXRUNTIME_PACKAGE} cannot be loaded here: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    };
  }
}

/** Skips the suite, saying why, when onnxruntime-node does not load. */
export async function onnxRuntimeOrSkip(context: Mocha.Context): Promise<OrtModule> {
  const loaded = await loadOnnxRuntime();
  if ('ort' in loaded) return loaded.ort;
  console.warn(`      skipped: ${loaded.reason}`);
  context.skip();
}

/** Runs an ONNX file on tf.js tensors in a fresh session (graph optimisation 'all'); the outputs as plain arrays, by output name. */
export async function runOnnx(ort: OrtModule, bytes: Uint8Array, feeds: Record<string, tf.Tensor>): Promise<Record<string, number[]>> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  try {
    const inputs = Object.fromEntries(
      Object.entries(feeds).map(([name, t]) => [
        name,
        new ort.Tensor(t.dtype as OrtTensorType, t.dataSync() as Float32Array | Int32Array | Uint8Array, t.shape),
      ]),
    );
    const outputs = await session.run(inputs);
    return Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, Array.from(t.data as ArrayLike<number>, Number)]));
  } finally {
    await session.release();
  }
}

/** Largest |actual - expected| as a share of the expected values' largest |value| (the validator's default check). */
export function relativeToScale(expected: ArrayLike<number>, actual: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(Number(expected[i]) - Number(actual[i])));
    scale = Math.max(scale, Math.abs(Number(expected[i])));
  }
  return expected.length === actual.length ? diff / scale : Infinity;
}

/** Whether onnxruntime-node loads here, with its native binding (then `backend-onnxruntime`, first in the default preference, can run). */
export async function onnxRuntimeLoads(): Promise<boolean> {
  const loaded = await loadOnnxRuntime();
  if (!('ort' in loaded)) return false;
  try {
    await import(ONNXRUNTIME_BINDING);
    return true;
  } catch {
    return false;
  }
}
