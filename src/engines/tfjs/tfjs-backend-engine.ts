import * as tf from '@tensorflow/tfjs';
import type { ExecutionEngine, EngineStartContext } from '../../core/engines/execution-engine.js';
import { describeError } from '../../core/errors.js';
import type { KilnModel } from '../../core/kiln-model.js';
import { AVAILABLE, unavailable, type Availability } from '../../core/plugin.js';
import type { ModuleImporter } from '../../core/tokens.js';
import type { BackendDescriptor } from './backend-descriptor.js';

/**
 * A tf.js backend as an execution engine. `start` imports the backend's package when
 * tf.js does not know the backend yet (or runs the descriptor's own bring-up), then
 * initialises it, leaving tf.js on the backend it was on. `prepare` copies the model's
 * weights onto the backend through the model's format, so the user's model stays
 * where it was, and runs the copy with the format's own predict.
 */
export class TfjsBackendEngine implements ExecutionEngine {
  readonly name: string;
  readonly tfjsBackend: string;
  readonly description: string;
  readonly plainTfjs: boolean;

  constructor(readonly descriptor: BackendDescriptor) {
    this.name = descriptor.name;
    this.plainTfjs = descriptor.register === undefined;
    this.tfjsBackend = descriptor.tfName;
    this.description = descriptor.description ?? `tf.js backend "${descriptor.tfName}"`;
  }

  async start({ importModule }: EngineStartContext): Promise<Availability> {
    const d = this.descriptor;
    if (d.register) {
      const registered = await d
        .register(importModule)
        .catch((error: unknown) => unavailable(`${d.name} failed to start: ${describeError(error)}`));
      if (!registered.available) return registered;
    }
    const imported = await importBackendPackage(d, importModule);
    if (!imported.available) return imported;
    if (tf.findBackendFactory(d.tfName) == null) return unavailable(`no tf.js backend named "${d.tfName}" is registered`);
    return initialiseBackend(d.tfName);
  }

  async prepare(model: KilnModel): Promise<KilnModel> {
    if (!model.stock) {
      throw new Error(
        `running a model on ${this.name} needs the stock model it was made from; got "${model.description}". Put the backend slot first in the pipeline.`,
      );
    }
    const { format, model: stock } = model.stock;
    const copy = await format.copyTo(stock, this.tfjsBackend);
    return format.wrap(copy, this.tfjsBackend, true);
  }
}

/** Imports the package that registers the backend, when tf.js does not know it yet. */
async function importBackendPackage(d: BackendDescriptor, importModule: ModuleImporter): Promise<Availability> {
  if (!d.packageName || tf.findBackendFactory(d.tfName) != null) return AVAILABLE;
  try {
    await importModule(d.packageName);
  } catch (error) {
    if (isModuleNotFound(error, d.packageName)) {
      return unavailable(
        d.bundled
          ? `package not installed: ${d.packageName} ships with Kiln; reinstall (npm install)`
          : `package not installed (npm install ${d.packageName} to enable it)`,
      );
    }
    return unavailable(`package ${d.packageName} is installed but failed to load: ${describeError(error)}`);
  }
  if (tf.findBackendFactory(d.tfName) == null) {
    return unavailable(
      `${d.packageName} loaded but registered no "${d.tfName}" backend with Kiln's @tensorflow/tfjs ${tf.version.tfjs} (two copies of tfjs-core? install matching versions)`,
    );
  }
  return AVAILABLE;
}

/** Initialises the registered backend `tfName`, then puts tf.js back on the backend it was on. */
async function initialiseBackend(tfName: string): Promise<Availability> {
  const previous = tf.getBackend();
  try {
    const ok = await tf.setBackend(tfName);
    if (!ok) return unavailable(`the "${tfName}" backend failed to initialise (tf.setBackend returned false; see the warning above)`);
    return AVAILABLE;
  } catch (error) {
    return unavailable(`the "${tfName}" backend failed to initialise: ${describeError(error)}`);
  } finally {
    if (previous && previous !== tf.getBackend() && tf.findBackend(previous)) await tf.setBackend(previous);
  }
}

function isModuleNotFound(error: unknown, packageName: string): boolean {
  const e = error as { code?: string; message?: string };
  return (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') && String(e.message).includes(packageName);
}
