import type { KilnConfig } from '../../config/kiln-config.js';
import { resolvePipeline, validateOptions } from '../config-loading/resolve-pipeline.js';
import { ConfigError } from '../errors.js';
import type { PluginRegistry } from '../plugin-registry.js';

/** Latency plugins the default pipeline runs after backend selection, when registered. */
export const DEFAULT_LATENCY_PLUGINS: readonly string[] = ['graph-compile', 'op-fusion'];

export interface PlannedCandidate {
  readonly name: string;
  readonly options: object;
  readonly timeLimitMs: number;
}

export interface PlannedSlot {
  /** "backend", or the config path of the slot ("pipeline[1]"). */
  readonly label: string;
  readonly candidates: readonly PlannedCandidate[];
}

/**
 * The slots of a run, in order. Backend selection comes first, its candidates the
 * `backend-<name>` plugins in `backend.preference` order; then the configured
 * `pipeline`, or, when the config names none, every built-in latency plugin that is
 * registered (size plugins such as mixed precision run only when named).
 */
export function planSlots(config: KilnConfig, registry: PluginRegistry): PlannedSlot[] {
  const backendSlot: PlannedSlot = {
    label: 'backend',
    candidates: config.backend.preference.map((backend, i) => {
      const name = `backend-${backend}`;
      if (!registry.has(name)) {
        const known = registry
          .list()
          .filter((p) => p.meta.kind === 'backend')
          .map((p) => p.meta.name.replace(/^backend-/, ''));
        throw new ConfigError(`backend.preference[${i}]: unknown backend "${backend}"; known backends: ${known.join(', ')}.`);
      }
      return { name, options: defaultOptions(registry, name), timeLimitMs: timeLimitOf(registry, name, config.timeLimitMs) };
    }),
  };
  if (config.pipeline === undefined) {
    const defaults = DEFAULT_LATENCY_PLUGINS.filter((name) => registry.has(name));
    return [
      backendSlot,
      ...defaults.map((name) => ({
        label: name,
        candidates: [{ name, options: defaultOptions(registry, name), timeLimitMs: timeLimitOf(registry, name, config.timeLimitMs) }],
      })),
    ];
  }
  const slots = resolvePipeline(config, registry);
  return [
    backendSlot,
    ...slots.map((slot) => ({
      label: `pipeline[${slot.index}]`,
      candidates: slot.candidates.map((c) => ({
        name: c.name,
        options: c.options,
        timeLimitMs: c.timeLimitMs ?? timeLimitOf(registry, c.name, config.timeLimitMs),
      })),
    })),
  ];
}

/** The plugin's options with every default, as when the config gives none. */
function defaultOptions(registry: PluginRegistry, name: string): object {
  return validateOptions(registry.get(name).meta.optionsClass, undefined, `${name}.options`, 'defaults');
}

function timeLimitOf(registry: PluginRegistry, name: string, fallback: number): number {
  return registry.get(name).meta.timeLimitMs ?? fallback;
}
