import type { EngineStartContext, ExecutionEngine } from '../../core/engines/execution-engine.js';
import { describeError } from '../../core/errors.js';
import type { KilnModel } from '../../core/kiln-model.js';
import { AVAILABLE, unavailable, type Availability } from '../../core/plugin.js';
import { ONNXRUNTIME_PACKAGE, type OrtModule } from './ort-api.js';
import { OnnxRuntimeModel, ONNXRUNTIME } from './onnxruntime-model.js';

/**
 * onnxruntime-node as an execution engine outside tf.js: `start` imports the optional
 * package (through the container's module importer, so tests hand in a stand-in) and
 * checks it has the API Kiln uses; `prepare` copies the model onto the cpu backend
 * through its format, and runs it from Kiln's ONNX lowering of that copy (see
 * OnnxRuntimeModel: a session per input signature, run asynchronously only).
 */
export class OnnxRuntimeEngine implements ExecutionEngine {
  readonly name = ONNXRUNTIME;
  readonly description =
    "ONNX Runtime on the CPU from Kiln's ONNX lowering (onnxruntime-node, optional dependency; runs asynchronously: predictAsync)";
  private ort: OrtModule | undefined;
  private version = 'unknown';

  async start({ importModule }: EngineStartContext): Promise<Availability> {
    let loaded: unknown;
    try {
      loaded = await importModule(ONNXRUNTIME_PACKAGE);
    } catch (error) {
      const e = error as { code?: string; message?: string };
      if ((e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') && String(e.message).includes(ONNXRUNTIME_PACKAGE))
        return unavailable(
          `package not installed (npm install ${ONNXRUNTIME_PACKAGE} to enable it; it is an optional dependency of tfjs-kiln)`,
        );
      return unavailable(`package ${ONNXRUNTIME_PACKAGE} is installed but failed to load: ${describeError(error)}`);
    }
    const ort = ((loaded as { default?: unknown })?.default ?? loaded) as Partial<OrtModule> | undefined;
    if (typeof ort?.InferenceSession?.create !== 'function' || typeof ort.Tensor !== 'function') {
      return unavailable(`${ONNXRUNTIME_PACKAGE} loaded but has no InferenceSession.create and Tensor (not the onnxruntime-node 1.x API)`);
    }
    this.ort = ort as OrtModule;
    this.version = ort.env?.versions?.node ?? 'unknown';
    return AVAILABLE;
  }

  async prepare(model: KilnModel): Promise<KilnModel> {
    if (!this.ort) throw new Error(`the ${ONNXRUNTIME} engine was not started`);
    if (!model.stock) {
      throw new Error(
        `running a model on ${ONNXRUNTIME} needs the stock model it was made from; got "${model.description}". Put the backend slot first in the pipeline.`,
      );
    }
    const { format, model: stock } = model.stock;
    const copy = { format, model: await format.copyTo(stock, 'cpu') };
    return new OnnxRuntimeModel(this.ort, copy, model, this.version);
  }
}

/** The onnxruntime engine (its backend plugin: `backend-onnxruntime`). */
export const ONNXRUNTIME_ENGINE = new OnnxRuntimeEngine();
