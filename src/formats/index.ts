/**
 * The built-in model formats. Importing this module registers them in tsyringe's root
 * container (as importing the plugins registers the plugins).
 */
import { registerModelFormat } from '../core/formats/format-registry.js';
import { graphModelFormat } from './graph-model/graph-model-format.js';
import { layersModelFormat } from './layers-model/layers-model-format.js';

registerModelFormat(layersModelFormat);
registerModelFormat(graphModelFormat);

export { LayersKilnModel, layersModelFormat } from './layers-model/layers-model-format.js';
export { cloneLayersModel } from './layers-model/clone-layers-model.js';
export { GraphKilnModel, graphModelFormat } from './graph-model/graph-model-format.js';
