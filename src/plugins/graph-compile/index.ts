export { GraphCompileOptions, GraphCompilePlugin } from './graph-compile-plugin.js';
