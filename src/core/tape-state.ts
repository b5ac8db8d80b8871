import * as tf from '@tensorflow/tfjs';

/** The part of tf.js 4.22's private engine state that tells whether a gradient tape records. */
interface TapeState {
  gradientDepth: number;
  activeTape: { saved?: tf.Tensor[] }[] | null;
}

function tapeState(): TapeState {
  return tf.engine().state as unknown as TapeState;
}

/** Whether a gradient tape is recording now (inside tf.grads, tf.variableGrads, optimizer.minimize). */
export function isRecordingGradients(): boolean {
  return tapeState().gradientDepth > 0;
}

/**
 * tf.js 4.22's engine.gradients frees the tensors its tape saved for the backward
 * pass only when the pass completes; when a backward kernel throws (e.g. the wasm
 * backend has no Conv2DBackpropFilter) they stay alive with the abandoned tape.
 * Frees them, as the engine would have. Does nothing while a tape is still recording
 * or when no tape was left behind.
 */
export function reclaimAbandonedTape(): void {
  const state = tapeState();
  if (state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = null;
}
