import * as tf from '@tensorflow/tfjs';
import { KilnError } from './errors.js';

/**
 * Makes `name` the active tf.js backend without awaiting. Works for a backend that
 * is already initialised (tf.setBackend then takes effect synchronously); anything
 * else is an error that says to initialise it first.
 */
export function activateBackend(name: string): void {
  if (tf.getBackend() === name) return;
  if (tf.findBackend(name) == null) {
    throw new KilnError(
      'BACKEND_UNAVAILABLE',
      `tf.js backend "${name}" is not initialised. Await tf.setBackend("${name}") (or let Kiln's backend selection do it) before running a model on it.`,
    );
  }
  void tf.setBackend(name);
  if (tf.getBackend() !== name) {
    throw new KilnError('BACKEND_UNAVAILABLE', `Could not switch tf.js to backend "${name}" (still on "${tf.getBackend()}").`);
  }
}

/**
 * Whether tf.js backend `name` is initialised and ready to run now. Unlike
 * `tf.findBackend`, it never starts initialising a backend that is only registered
 * (which, for an asynchronous one such as wasm, leaves tf.js waiting on it).
 */
export function isBackendReady(name: string): boolean {
  return tf.engine().registry[name] != null;
}

/** Whether `name` is a tf.js backend, registered with tf.js (an engine outside tf.js is not). */
export function isTfjsBackend(name: string): boolean {
  return tf.findBackendFactory(name) != null;
}

/**
 * Puts tf.js back on `backend` after work that may have left it elsewhere (a plugin that
 * timed out may still be switching backends): first waits, at most `waitMs`, for a backend
 * initialisation still in flight (tf.js refuses every op until it settles), then makes
 * `backend` the active one again.
 */
export async function restoreBackend(backend: string, waitMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, waitMs);
  });
  await Promise.race([
    tf.ready().then(
      () => undefined,
      () => undefined,
    ),
    waited,
  ]);
  clearTimeout(timer);
  if (tf.getBackend() !== backend && tf.findBackend(backend)) await tf.setBackend(backend);
}

/** Runs `fn` with `name` as the active backend, then restores the previous one. */
export function withBackend<T>(name: string, fn: () => T): T {
  const previous = tf.getBackend();
  activateBackend(name);
  try {
    return fn();
  } finally {
    if (previous && previous !== name) activateBackend(previous);
  }
}

/** As `withBackend`, for asynchronous work (e.g. loading a model onto a backend). */
export async function withBackendAsync<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  activateBackend(name);
  try {
    return await fn();
  } finally {
    if (previous && previous !== name) activateBackend(previous);
  }
}
