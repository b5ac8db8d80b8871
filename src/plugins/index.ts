// Importing this module registers every built-in plugin in the root container.
export * from './backend/index.js';
export * from './graph-compile/index.js';
export * from './mixed-precision/index.js';
export * from './op-fusion/index.js';
