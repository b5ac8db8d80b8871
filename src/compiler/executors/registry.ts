import type { KernelGraph } from '../ir.js';
import type { MemoryPlan } from '../passes/memory-plan.js';
import { directExecutor } from './direct-executor.js';
import type { ExecutorContext, ExecutorDefinition, ExecutorKind, GraphExecutor } from './executor.js';
import { replayExecutor } from './replay-executor.js';

const registry = new Map<ExecutorKind, ExecutorDefinition>();

/**
 * Makes an executor available to the compiler under its name: `auto` measures it
 * against the replay, and the `executor` option (of compile() and of the
 * graph-compile plugin) accepts its name. The name must be new. Register before the
 * graph-compile plugin's module loads, whose option validation lists the names then.
 * Returns a function that removes it again (plans already built keep theirs).
 */
export function registerExecutor(definition: ExecutorDefinition): () => void {
  if (registry.has(definition.name)) throw new Error(`an executor named "${definition.name}" is already registered`);
  registry.set(definition.name, definition);
  return () => {
    if (registry.get(definition.name) === definition) registry.delete(definition.name);
  };
}

/** The registered executors' names, in registration order (the replay first). */
export function executorNames(): ExecutorKind[] {
  return [...registry.keys()];
}

/** Whether `name` is a registered executor's name. */
export function isExecutorName(name: string): name is ExecutorKind {
  return registry.has(name as ExecutorKind);
}

/** Builds the executor `name` for a graph; throws when it is not registered or cannot run that graph. */
export function createExecutor(
  name: ExecutorKind,
  graph: KernelGraph,
  memory: MemoryPlan | undefined,
  context: ExecutorContext,
): GraphExecutor {
  const definition = registry.get(name);
  if (!definition) throw new Error(`no executor named "${name}" is registered (registered: ${executorNames().join(', ')})`);
  return definition.create(graph, memory, context);
}

/** Kiln's executors: the replay (every plan has it, see `REPLAY`) and direct backend kernel calls. */
for (const definition of [replayExecutor, directExecutor]) registerExecutor(definition);
