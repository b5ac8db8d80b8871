import type { KilnModel } from '../kiln-model.js';
import type { Availability } from '../plugin.js';
import type { ModuleImporter } from '../tokens.js';

/** What an engine is handed when it starts. */
export interface EngineStartContext {
  /** Imports optional packages (tests swap in stand-ins through `MODULE_IMPORTER`). */
  readonly importModule: ModuleImporter;
}

/**
 * An execution engine: something that runs a model's computation (a tf.js backend such
 * as wasm or cpu; later a native runtime). The backend slot's plugins choose between
 * engines; adding an engine is one file that implements this, calls `registerEngine`
 * and defines its backend plugin (see docs/architecture.md, "Add an engine").
 */
export interface ExecutionEngine {
  /** Name in `backend.preference` (`wasm`). */
  readonly name: string;
  /** What runs the model, for reports and `kiln plugins`. */
  readonly description: string;
  /**
   * Whether the tensors of this engine's models are tf.js tensors of a tf.js backend
   * (the name given), so that tf.js kernels, the graph compiler and fusion apply to
   * them; undefined for an engine outside tf.js.
   */
  readonly tfjsBackend?: string;
  /**
   * True for a tf.js backend a user of plain tf.js gets by importing its package and
   * `tf.setBackend` (not one Kiln brings up itself, as wasm-threads, which
   * tfjs-backend-wasm never starts under Node). Such engines are what the end-to-end
   * figure is against when Kiln's model runs outside tf.js (onnxruntime).
   */
  readonly plainTfjs?: boolean;
  /**
   * Brings the engine up (imports its package, starts its threads, initialises it)
   * or says why it cannot run. The EngineManager calls it once per container; it
   * must answer again, without starting twice, when the engine is already up.
   */
  start(context: EngineStartContext): Promise<Availability>;
  /**
   * A model that runs `model` on this engine: a copy the returned KilnModel owns,
   * never `model` itself (which is only read). Throws with the reason when this
   * engine cannot run it (e.g. a kernel it lacks).
   */
  prepare(model: KilnModel): Promise<KilnModel>;
}
