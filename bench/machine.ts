import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';

/** What the figures were measured on, printed beside every table. */
export async function describeMachine(): Promise<string> {
  const cpus = os.cpus();
  const flags: string[] = [];
  if (tf.findBackend('wasm')) {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    flags.push(`wasm SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'}`);
  }
  return [
    `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `Node ${process.version}, @tensorflow/tfjs ${tf.version.tfjs}`,
    ...flags,
  ].join('; ');
}
