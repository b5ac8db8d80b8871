import { inject, Lifecycle, scoped } from 'tsyringe';
import { describeError } from '../errors.js';
import { unavailable, type Availability } from '../plugin.js';
import { MODULE_IMPORTER, type ModuleImporter } from '../tokens.js';
import type { ExecutionEngine } from './execution-engine.js';

/**
 * Starts execution engines on demand, once each per container, and says why one cannot
 * run. Optional packages (tfjs-node, tfjs-node-gpu) are imported only when a run asks
 * for them; absent, the engine is `unavailable` with "package not installed", never a
 * crash. One instance per container, so a test's stand-in importer stays in its own
 * child container.
 */
@scoped(Lifecycle.ContainerScoped)
export class EngineManager {
  private readonly started = new Map<string, Promise<Availability>>();

  constructor(@inject(MODULE_IMPORTER) private readonly importModule: ModuleImporter) {}

  /** Starts `e` once (engines are told apart by name); says whether it can run. */
  ensure(e: ExecutionEngine): Promise<Availability> {
    let result = this.started.get(e.name);
    if (!result) {
      result = e
        .start({ importModule: this.importModule })
        .catch((error: unknown) => unavailable(`${e.name} failed to start: ${describeError(error)}`));
      this.started.set(e.name, result);
    }
    return result;
  }
}
