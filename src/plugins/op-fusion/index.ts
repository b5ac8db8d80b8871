export { OpFusionOptions, OpFusionPlugin } from './op-fusion-plugin.js';
export { fuseGraph, type DroppedSite, type GraphFusionResult, type GraphFusionSettings } from './graph-fusion.js';
