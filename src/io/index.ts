/** Model files on disk: atomic writes, confined reads, and a tfjs IOHandler for Node without tfjs-node; .npy sample inputs. */
export { TEMP_PREFIX, writeFileAtomic, writeFilesAtomic } from './atomic-write.js';
export type { FileData, FileToWrite, WriteFilesAtomicOptions } from './atomic-write.js';
export { resolveConfinedPath } from './confined-path.js';
export {
  diskModelIO,
  loadGraphModelFromDisk,
  loadLayersModelFromDisk,
  MODEL_JSON,
  resolveModelJsonPath,
  saveArtifactsToDisk,
  saveModelToDisk,
  SHARD_BYTES,
} from './model-files.js';
export type { DiskModelIOOptions } from './model-files.js';
export { loadModelFromDisk, loadStockModelFromDisk } from './load-stock-model.js';
export { dtypeByteWidth, elementCount, weightSpecByteLength, weightSpecsByteLength } from './weight-bytes.js';
export { readNpy, readNpyFile, type NpyArray } from './npy.js';
