import type { KilnConfig } from '../config/kiln-config.js';
import { loadConfig } from '../core/config-loading/load-config.js';
import { EngineManager } from '../core/engines/engine-manager.js';
import { BUILT_IN_ENGINES } from '../engines/index.js';
import { ConfigError } from '../core/errors.js';
import { createRunContainer } from '../core/run-container.js';
import { BUILT_IN_VARIANTS, PREDICT, type BenchBackend, type BenchVariant } from './variants.js';

/**
 * Settings of Kiln's optimize() inside the suite when no kiln.yaml is given: one
 * perturbed validation sample and 15 timed runs per decision keep the run short; the
 * end-to-end comparison is off because the suite measures it itself.
 */
export const BENCH_OPTIMIZE_DEFAULTS = { validation: { samples: 1 }, benchmark: { warmup: 3, iterations: 15 } } as const;

/**
 * Loads the optimize() config of the kiln variant: the file or config object (or the
 * defaults above), end-to-end comparison off, and `backend.preference` set to
 * `preference` when given.
 */
export function benchOptimizeConfig(config: string | object | undefined, preference?: readonly string[]): Promise<KilnConfig> {
  const overrides: Record<string, unknown> = { benchmark: { endToEnd: false } };
  if (preference?.length) overrides.backend = { preference: [...preference] };
  return loadConfig(
    config === undefined ? structuredClone(BENCH_OPTIMIZE_DEFAULTS) : typeof config === 'string' ? config : structuredClone(config),
    {
      overrides,
    },
  );
}

/**
 * The backend preference of the kiln variant in a cell: the cell's backend first, then
 * the backends Kiln would fall back to from there (those after it in Kiln's order that
 * run here). Kiln keeps the first that validates and is faster, so a backend Kiln
 * rejects shows as what Kiln chose instead (the detail table's "ran on" says which).
 */
export function fallbackChain(backend: BenchBackend, available: readonly BenchBackend[]): string[] {
  const i = available.findIndex((b) => b.name === backend.name);
  return i < 0 ? [backend.name] : available.slice(i).map((b) => b.name);
}

export interface BackendPlan {
  /** The backends to run cells on, in the order asked (or Kiln's preference order). */
  readonly backends: BenchBackend[];
  /** Every backend that runs here, in Kiln's preference order. */
  readonly available: BenchBackend[];
  /** Kiln's preferred backend among those that run here. */
  readonly best: BenchBackend;
  /** Backends in Kiln's list that cannot run here, with why. */
  readonly unavailable: Record<string, string>;
}

/**
 * Brings up every backend Kiln knows (tensorflow-gpu, tensorflow, wasm, cpu, in that
 * order of preference), through the EngineManager, so an absent package is a reason
 * and not a crash. `requested` (Kiln's names) picks the cells' backends; by default,
 * all that run here. Asking for an unknown or unavailable one is a usage error.
 */
export async function planBackends(config: KilnConfig, requested?: readonly string[]): Promise<BackendPlan> {
  const manager = createRunContainer(config).resolve(EngineManager);
  const available: BenchBackend[] = [];
  const unavailable: Record<string, string> = {};
  for (const d of BUILT_IN_ENGINES) {
    const a = await manager.ensure(d);
    if (a.available) available.push({ name: d.name, tfName: d.tfjsBackend });
    else unavailable[d.name] = a.reason;
  }
  const best = available[0];
  if (!best) throw new Error('no tf.js backend can run here (not even cpu)');
  let backends = available;
  if (requested?.length) {
    backends = requested.map((name) => {
      if (!BUILT_IN_ENGINES.some((d) => d.name === name))
        throw new ConfigError(`unknown backend "${name}" in --backend; Kiln knows: ${BUILT_IN_ENGINES.map((d) => d.name).join(', ')}`);
      const found = available.find((b) => b.name === name);
      if (!found) throw new ConfigError(`backend "${name}" cannot run here: ${unavailable[name]}`);
      return found;
    });
  }
  return { backends, available, best, unavailable };
}

/** The built-in variants named in `names` (all when absent), in table order; `predict` is always kept. */
export function pickVariants(names: readonly string[] | undefined, all: readonly BenchVariant[] = BUILT_IN_VARIANTS): BenchVariant[] {
  if (!names?.length) return [...all];
  const unknown = names.filter((n) => !all.some((v) => v.name === n));
  if (unknown.length)
    throw new ConfigError(
      `unknown variant(s) ${unknown.map((n) => `"${n}"`).join(', ')} in --variants; the suite has: ${all.map((v) => v.name).join(', ')}`,
    );
  return all.filter((v) => v.name === PREDICT || names.includes(v.name));
}
