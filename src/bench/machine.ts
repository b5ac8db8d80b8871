import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { wasmThreadsInfo } from '../engines/tfjs/wasm-threads/threaded-wasm.js';
import type { MachineInfo } from './types.js';

/**
 * What the figures were measured on: CPU model, cores, memory, Node and tf.js
 * versions, and the flags of each initialised backend that change its speed
 * (wasm SIMD and threads). Call it after the backends are up.
 */
export async function describeMachine(): Promise<MachineInfo> {
  const cpus = os.cpus();
  const backendFlags: Record<string, string> = {};
  if (tf.findBackend('wasm')) {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    backendFlags.wasm = `SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'}`;
  }
  const threaded = wasmThreadsInfo();
  if (threaded && tf.findBackend('wasm-threads'))
    backendFlags['wasm-threads'] = `SIMD on, ${threaded.threads} threads (the threaded build, started by Kiln)`;
  if (tf.findBackend('tensorflow')) backendFlags.tensorflow = 'libtensorflow (tfjs-node)';
  const info = {
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.arch()}`,
    node: process.version,
    tfjs: tf.version.tfjs,
    backendFlags,
  };
  const description = [
    `${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB, ${info.platform}`,
    `Node ${info.node}, @tensorflow/tfjs ${info.tfjs}`,
    ...Object.entries(backendFlags).map(([b, f]) => `${b} ${f}`),
  ].join('; ');
  return { ...info, description };
}
