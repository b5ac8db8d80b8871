import type { EngineStartContext, ExecutionEngine } from '../../core/engines/execution-engine.js';
import { describeError } from '../../core/errors.js';
import type { KilnModel } from '../../core/kiln-model.js';
import { AVAILABLE, unavailable, type Availability } from '../../core/plugin.js';
import { isNativeBinding } from './native-session.js';
import { ONNXRUNTIME_BINDING, ONNXRUNTIME_PACKAGE, type OrtModule, type OrtNativeBinding } from './ort-api.js';
import { OnnxRuntimeModel, ONNXRUNTIME } from './onnxruntime-model.js';

/**
 * onnxruntime-node as an execution engine outside tf.js: `start` imports the optional
 * package (through the container's module importer, so tests hand in a stand-in) and
 * checks it has the API Kiln uses, and its native binding, whose sessions run
 * synchronously (see ort-api.ts); `prepare` copies the model onto the cpu backend
 * through its format, and runs it from Kiln's ONNX lowering of that copy (see
 * OnnxRuntimeModel: a session per input signature).
 */
export class OnnxRuntimeEngine implements ExecutionEngine {
  readonly name = ONNXRUNTIME;
  readonly description = "ONNX Runtime on the CPU from Kiln's ONNX lowering (onnxruntime-node, optional dependency)";
  private ort: OrtModule | undefined;
  private native: OrtNativeBinding | undefined;
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
    const version = ort.env?.versions?.node ?? 'unknown';
    let native: unknown;
    try {
      const b = await importModule(ONNXRUNTIME_BINDING);
      native = (b as { default?: unknown })?.default ?? b;
    } catch (error) {
      native = error;
    }
    if (!isNativeBinding(native)) {
      return unavailable(
        `${ONNXRUNTIME_PACKAGE} ${version} loaded, but Kiln cannot run its sessions synchronously: ${ONNXRUNTIME_BINDING} ` +
          `${native instanceof Error ? `failed to load (${describeError(native)})` : 'has no InferenceSession with loadModel and run'}. ` +
          `Kiln's models serve a synchronous predict, and the package's public InferenceSession.run returns only a promise; ` +
          `install the onnxruntime-node version Kiln is tested with (1.30).`,
      );
    }
    this.ort = ort as OrtModule;
    this.native = native;
    this.version = version;
    return AVAILABLE;
  }

  async prepare(model: KilnModel): Promise<KilnModel> {
    if (!this.ort || !this.native) throw new Error(`the ${ONNXRUNTIME} engine was not started`);
    if (!model.stock) {
      throw new Error(
        `running a model on ${ONNXRUNTIME} needs the stock model it was made from; got "${model.description}". Put the backend slot first in the pipeline.`,
      );
    }
    const { format, model: stock } = model.stock;
    const copy = { format, model: await format.copyTo(stock, 'cpu') };
    return new OnnxRuntimeModel(this.ort, this.native, copy, model, this.version);
  }
}

/** The onnxruntime engine (its backend plugin: `backend-onnxruntime`). */
export const ONNXRUNTIME_ENGINE = new OnnxRuntimeEngine();
