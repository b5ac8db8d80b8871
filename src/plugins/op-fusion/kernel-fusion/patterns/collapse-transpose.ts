import { pairPattern } from '../pair-pattern.js';

/**
 * Transpose of a Transpose (the inner one used nowhere else) becomes one Transpose
 * with the composed permutation, or an Identity when they cancel (which no-op removal
 * then drops on the next compile pass).
 */
export const collapseTranspose = pairPattern({
  name: 'collapse-transpose',
  description: 'one Transpose (or none) instead of a chain of Transposes',
  trainingSafe: true,
  first: ['Transpose'],
  then: ['Transpose'],
  key: 'chain',
  rewrite(inner, outer) {
    const p1 = inner.attrs.perm as number[];
    const p2 = outer.attrs.perm as number[];
    const perm = p2.map((axis) => p1[axis]!);
    const identity = perm.every((axis, i) => axis === i);
    return identity ? { kernel: 'Identity', inputs: { x: inner.inputs.x! }, attrs: {} } : { attrs: { perm } };
  },
});
