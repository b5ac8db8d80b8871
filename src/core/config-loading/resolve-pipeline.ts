import 'reflect-metadata';
import { ConfigError } from '../../errors/index.js';
import type { PluginRegistry } from '../plugin-registry.js';
import { unknownPluginError } from '../plugin-registry.js';
import { checkOptions } from '../../config/validate-options.js';
import type { CandidateConfig, KilnConfig, SlotConfig } from '../../config/kiln-config.js';

/** One plugin to try, its options validated. */
export interface ResolvedCandidate {
  readonly name: string;
  /** An instance of the plugin's `optionsClass` (defaults filled in), or `{}` for a plugin without options. */
  readonly options: object;
  /**
   * The time limit the config sets for this candidate, if any. Where it is absent the
   * pipeline falls back to the plugin's `meta.timeLimitMs`, then `config.timeLimitMs`.
   */
  readonly timeLimitMs?: number;
  /** Where it is in the config: `pipeline[1]` or `pipeline[1].oneOf[0]`. */
  readonly path: string;
}

/** One step of the pipeline: a single candidate, or the candidates of a `oneOf`. */
export interface ResolvedSlot {
  /** Position in `pipeline:`. */
  readonly index: number;
  readonly candidates: ResolvedCandidate[];
}

/**
 * The configured pipeline with every plugin looked up in `registry` and every
 * candidate's options validated against the plugin's options class. An unknown
 * plugin name is the registry's PluginError (PLUGIN_UNKNOWN, listing the registered
 * names) prefixed with where it is; bad options are one ConfigError listing them all.
 *
 * It does not choose a default pipeline: when `config.pipeline` is absent it returns `[]`.
 */
export function resolvePipeline(config: KilnConfig, registry: PluginRegistry, source = 'config'): ResolvedSlot[] {
  if (config.pipeline === undefined || config.pipeline === null) return [];
  const entries = config.pipeline.map((slot: SlotConfig, index: number) => ({
    index,
    candidates: slot.oneOf
      ? slot.oneOf.map((candidate: CandidateConfig, j: number) => ({ candidate, path: `pipeline[${index}].oneOf[${j}]` }))
      : [{ candidate: slot as CandidateConfig, path: `pipeline[${index}]` }],
  }));

  for (const { candidates } of entries) {
    for (const { candidate, path } of candidates) {
      if (!registry.has(candidate.name)) throw unknownPluginError(candidate.name, registry.names(), `${source}: ${path}.name: `);
    }
  }

  const problems: string[] = [];
  const slots = entries.map(({ index, candidates }) => ({
    index,
    candidates: candidates.map(({ candidate, path }): ResolvedCandidate => {
      const meta = registry.get(candidate.name).meta;
      const checked = checkOptions(meta.optionsClass, candidate.options, `${path}.options`, source);
      problems.push(...checked.problems);
      return {
        name: candidate.name,
        options: checked.options,
        ...(candidate.timeLimitMs !== undefined ? { timeLimitMs: candidate.timeLimitMs } : {}),
        path,
      };
    }),
  }));
  if (problems.length) throw new ConfigError(problems.join('\n'), 'CONFIG_INVALID');
  return slots;
}

export { validateOptions } from '../../config/validate-options.js';
