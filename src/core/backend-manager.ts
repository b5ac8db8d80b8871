import * as tf from '@tensorflow/tfjs';
import { inject, Lifecycle, scoped } from 'tsyringe';
import { describeError } from './errors.js';
import { AVAILABLE, unavailable, type Availability } from './plugin.js';
import { MODULE_IMPORTER, type ModuleImporter } from './tokens.js';
import { WASM_THREADS_DESCRIPTOR } from '../engines/tfjs/wasm-threads/wasm-threads-descriptor.js';

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
  /**
   * A bring-up of its own, for a backend that no package registers by being imported
   * (wasm-threads starts a threaded build itself): registers the tf.js backend, or says
   * why it cannot. Runs before `packageName` is imported, once per BackendManager (one per
   * run), so it must answer again, without starting twice, when the backend is already up.
   */
  readonly register?: (importModule: ModuleImporter) => Promise<Availability>;
}

export const BUILT_IN_BACKENDS: readonly BackendDescriptor[] = [
  { name: 'tensorflow-gpu', tfName: 'tensorflow', packageName: '@tensorflow/tfjs-node-gpu' },
  { name: 'tensorflow', tfName: 'tensorflow', packageName: '@tensorflow/tfjs-node' },
  WASM_THREADS_DESCRIPTOR,
  { name: 'wasm', tfName: 'wasm', packageName: '@tensorflow/tfjs-backend-wasm', bundled: true },
  { name: 'cpu', tfName: 'cpu' },
];

/** Imports with Node's own `import()`: the default `MODULE_IMPORTER`. */
export const nodeImporter: ModuleImporter = (specifier) => import(specifier);

/**
 * Loads tf.js backends on demand and says why one cannot run. Optional packages
 * (tfjs-node, tfjs-node-gpu) are imported only when a run asks for them; absent,
 * they are `unavailable` with "package not installed", never a crash. One instance
 * per container, so a test's stand-in importer stays in its own child container.
 */
@scoped(Lifecycle.ContainerScoped)
export class BackendManager {
  private readonly pending = new Map<string, Promise<Availability>>();

  constructor(@inject(MODULE_IMPORTER) private readonly importModule: ModuleImporter) {}

  /** Brings `descriptor`'s backend up (import, register, initialise) once; says whether it can run. */
  ensure(descriptor: BackendDescriptor): Promise<Availability> {
    let result = this.pending.get(descriptor.name);
    if (!result) {
      result = this.bringUp(descriptor);
      this.pending.set(descriptor.name, result);
    }
    return result;
  }

  private async bringUp(d: BackendDescriptor): Promise<Availability> {
    if (d.register) {
      const registered = await d.register(this.importModule).catch((error: unknown) => unavailable(`${d.name} failed to start: ${describeError(error)}`));
      if (!registered.available) return registered;
    }
    if (d.packageName && tf.findBackendFactory(d.tfName) == null) {
      try {
        await this.importModule(d.packageName);
      } catch (error) {
        if (isModuleNotFound(error, d.packageName)) {
          return unavailable(d.bundled
            ? `package not installed: ${d.packageName} ships with Kiln; reinstall (npm install)`
            : `package not installed (npm install ${d.packageName} to enable it)`);
        }
        return unavailable(`package ${d.packageName} is installed but failed to load: ${describeError(error)}`);
      }
      if (tf.findBackendFactory(d.tfName) == null) {
        return unavailable(`${d.packageName} loaded but registered no "${d.tfName}" backend with Kiln's @tensorflow/tfjs ${tf.version.tfjs} (two copies of tfjs-core? install matching versions)`);
      }
    }
    if (tf.findBackendFactory(d.tfName) == null) return unavailable(`no tf.js backend named "${d.tfName}" is registered`);
    const previous = tf.getBackend();
    try {
      const ok = await tf.setBackend(d.tfName);
      if (!ok) return unavailable(`the "${d.tfName}" backend failed to initialise (tf.setBackend returned false; see the warning above)`);
      return AVAILABLE;
    } catch (error) {
      return unavailable(`the "${d.tfName}" backend failed to initialise: ${describeError(error)}`);
    } finally {
      if (previous && previous !== tf.getBackend() && tf.findBackend(previous)) await tf.setBackend(previous);
    }
  }
}

function isModuleNotFound(error: unknown, packageName: string): boolean {
  const e = error as { code?: string; message?: string };
  return (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') && String(e.message).includes(packageName);
}
