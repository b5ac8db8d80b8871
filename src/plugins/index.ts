// Importing this module registers every built-in plugin in the root container.
export * from './backend/index.js';
export * from './graph-compile/index.js';
