import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { allclose } from '../../../src/core/validation/allclose.js';

export const asList = (y: tf.Tensor | tf.Tensor[]): tf.Tensor[] => (Array.isArray(y) ? y : [y]);

/** Asserts same output count, shapes, dtypes and values within atol/rtol (numpy allclose, `expected` the reference). */
export function expectTensorsClose(
  actual: tf.Tensor | tf.Tensor[],
  expected: tf.Tensor | tf.Tensor[],
  atol = 1e-5,
  rtol = 1e-4,
  what = 'output',
): void {
  const a = asList(actual);
  const e = asList(expected);
  expect(Array.isArray(actual), `${what}: list-ness`).to.equal(Array.isArray(expected));
  expect(a.length, `${what}: count`).to.equal(e.length);
  e.forEach((ref, i) => {
    expect(a[i]!.shape, `${what} ${i}: shape`).to.deep.equal(ref.shape);
    expect(a[i]!.dtype, `${what} ${i}: dtype`).to.equal(ref.dtype);
    const c = allclose(ref.dataSync(), a[i]!.dataSync(), atol, rtol);
    expect(c.ok, `${what} ${i}: max |diff| ${c.maxAbsDiff} (worst ${JSON.stringify(c.worst)})`).to.equal(true);
  });
}

/** Live backend buffers of the active backend. */
export function numDataIds(): number {
  return tf.engine().backend.numDataIds();
}

/** A logger that records what it is given. */
export function recordingLogger() {
  const lines = { debug: [] as string[], info: [] as string[], warn: [] as string[] };
  return {
    lines,
    debug: (m: string) => void lines.debug.push(m),
    info: (m: string) => void lines.info.push(m),
    warn: (m: string) => void lines.warn.push(m),
  };
}
