import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { resolveAllByLevel } from '../container-chain.js';
import { KilnError } from '../errors.js';
import { EXECUTION_ENGINE } from '../tokens.js';
import type { ExecutionEngine } from './execution-engine.js';

/** Registers an execution engine in `container` (default: tsyringe's root, where the built-ins go). */
export function registerEngine(engine: ExecutionEngine, container: DependencyContainer = rootContainer): void {
  container.register(EXECUTION_ENGINE, { useValue: engine });
}

/**
 * The engines registered under `EXECUTION_ENGINE` in a container and its ancestors,
 * by name: a child container's engine stands in for its parent's of the same name.
 */
export class EngineRegistry {
  private readonly byName = new Map<string, ExecutionEngine>();

  constructor(container: DependencyContainer = rootContainer) {
    for (const level of resolveAllByLevel<ExecutionEngine>(container, EXECUTION_ENGINE)) {
      for (const engine of level) this.byName.set(engine.name, engine);
    }
  }

  list(): ExecutionEngine[] {
    return [...this.byName.values()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The engine named `name`; an unknown name is an error listing the registered ones. */
  get(name: string): ExecutionEngine {
    const engine = this.byName.get(name);
    if (!engine) {
      throw new KilnError(
        'BACKEND_UNAVAILABLE',
        `No execution engine named "${name}" is registered (registered: ${[...this.byName.keys()].join(', ') || 'none'}).`,
      );
    }
    return engine;
  }
}
