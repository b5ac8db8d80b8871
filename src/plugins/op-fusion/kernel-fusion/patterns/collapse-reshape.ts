import { pairPattern } from '../pair-pattern.js';

/** Reshape of a Reshape (the inner one used nowhere else) becomes one Reshape to the final shape. */
export const collapseReshape = pairPattern({
  name: 'collapse-reshape',
  description: 'one Reshape instead of a chain of Reshapes',
  trainingSafe: true,
  first: ['Reshape'],
  then: ['Reshape'],
  key: 'chain',
  rewrite: (inner, outer, _context, tools) => ({
    inputs: { x: inner.inputs.x! },
    attrs: { shape: [...tools.value(outer.outputs[0]!).shape] },
  }),
});
