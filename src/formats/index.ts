/**
 * The built-in model formats. Importing this module registers them in tsyringe's root
 * container (as importing the plugins registers the plugins).
 */
import { registerModelFormat } from '../core/formats/format-registry.js';
import { layersModelFormat } from './layers-model/layers-model-format.js';

registerModelFormat(layersModelFormat);

export { LayersKilnModel, layersModelFormat } from './layers-model/layers-model-format.js';
export { cloneLayersModel } from './layers-model/clone-layers-model.js';
