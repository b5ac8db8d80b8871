/** The benchmark suite behind `kiln bench` and `npm run bench`. */
export * from './baseline.js';
export * from './engine.js';
export * from './flops.js';
export * from './format.js';
export * from './machine.js';
export * from './progress-bar.js';
export * from './setup.js';
export * from './sources.js';
export * from './types.js';
export * from './variants.js';
