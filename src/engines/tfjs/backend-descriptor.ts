import type { Availability } from '../../core/plugin.js';
import type { ModuleImporter } from '../../core/tokens.js';

/** How Kiln brings up one tf.js backend. */
export interface BackendDescriptor {
  /** Name in `backend.preference`. */
  readonly name: string;
  /** Name tf.js registers the backend under. */
  readonly tfName: string;
  /** npm package that registers it when imported; none for backends built into @tensorflow/tfjs. */
  readonly packageName?: string;
  /** Ships with Kiln (a dependency), so "not installed" means a broken install. */
  readonly bundled?: boolean;
  /** What runs the model, for reports. */
  readonly description?: string;
  /**
   * A bring-up of its own, for a backend that no package registers by being imported
   * (wasm-threads starts a threaded build itself): registers the tf.js backend, or says
   * why it cannot. Runs before `packageName` is imported, once per EngineManager (one per
   * run), so it must answer again, without starting twice, when the backend is already up.
   */
  readonly register?: (importModule: ModuleImporter) => Promise<Availability>;
}
