/**
 * Preparing a plugin once for all its model checks: the `registered` check, the
 * config the kit runs it under, and the `available` check (constructing it from
 * the container and asking `isAvailable`).
 */
import type { DependencyContainer } from 'tsyringe';
import type { KilnConfig } from '../config/kiln-config.js';
import { mergeOverrides } from '../config/merge-overrides.js';
import { validateConfig } from '../core/config-loading/load-config.js';
import { describeError } from '../core/errors.js';
import type { Availability, OptimizationPlugin, PluginMeta } from '../core/plugin.js';
import { PluginRegistry } from '../core/plugin-registry.js';
import { createRunContainer } from '../core/run-container.js';
import { check, type ConformanceCheck } from './checks.js';
import { CollectingLogger } from './measure.js';
import { CONFORMANCE_CONFIG, type ConformanceOptions, type ConformanceTarget } from './options.js';
import { checkRegistration } from './registration.js';

/** A plugin as prepared for its model checks: the plugin-level checks, and what the model checks need. */
export interface PreparedPlugin {
  readonly name: string;
  readonly checks: ConformanceCheck[];
  /** Set when the plugin was found: everything the model checks need. */
  readonly meta?: PluginMeta;
  readonly container?: DependencyContainer;
  readonly config?: KilnConfig;
  /** The raw config handed to `optimize()`. */
  readonly rawConfig?: object;
  readonly pluginOptions?: object;
  readonly timeLimitMs?: number;
  readonly availability?: Availability;
  /** Why model checks cannot run at all (no plugin, bad options). */
  readonly blocked?: string;
}

export async function preparePlugin(target: ConformanceTarget, name: string, options: ConformanceOptions): Promise<PreparedPlugin> {
  const registration = checkRegistration(target, options);
  const checks: ConformanceCheck[] = [registration.check];
  if (registration.blocked !== undefined) {
    checks.push(check('available', 'skipped', registration.blocked));
    return { name, checks, blocked: registration.blocked };
  }
  const { meta, container, pluginOptions } = registration;
  const rawConfig = kitConfig(meta, options);
  let config: KilnConfig;
  try {
    config = validateConfig(rawConfig, { source: 'conformance config' });
  } catch (error) {
    checks.push(check('available', 'failed', `the kit's config does not validate: ${describeError(error)}`));
    return { name, checks, blocked: 'the config does not validate' };
  }
  const timeLimitMs = options.timeLimitMs ?? meta.timeLimitMs ?? config.timeLimitMs;
  const availability = await checkAvailability(meta, container, config);
  checks.push(availability.check);
  if (availability.blocked !== undefined) return { name, checks, meta, blocked: availability.blocked };
  return { name, checks, meta, container, config, rawConfig, pluginOptions, timeLimitMs, availability: availability.answer };
}

/** The name of the backend a backend plugin brings up in Kiln's backend slot (`backend-wasm`: wasm). */
function backendSlotName(meta: PluginMeta): string | undefined {
  return meta.kind === 'backend' && meta.name.startsWith('backend-') ? meta.name.slice('backend-'.length) : undefined;
}

/** The config: the kit's fast settings, the caller's keys, then the kit's backend and pipeline. */
function kitConfig(meta: PluginMeta, options: ConformanceOptions): object {
  const slotBackend = backendSlotName(meta);
  return mergeOverrides(
    mergeOverrides(CONFORMANCE_CONFIG, options.config ?? {}),
    slotBackend
      ? { backend: { preference: [slotBackend] }, pipeline: [] }
      : {
          backend: { preference: [options.backend ?? 'cpu'] },
          pipeline: [
            {
              name: meta.name,
              ...(options.options ? { options: options.options } : {}),
              ...(options.timeLimitMs ? { timeLimitMs: options.timeLimitMs } : {}),
            },
          ],
        },
  ) as object;
}

/** The `available` check: a well-formed answer, with a reason when unavailable; or why the plugin cannot be checked further. */
async function checkAvailability(
  meta: PluginMeta,
  container: DependencyContainer,
  config: KilnConfig,
): Promise<{ check: ConformanceCheck; answer?: Availability; blocked?: string }> {
  let plugin: OptimizationPlugin<object>;
  try {
    const run = createRunContainer(config, { parent: container, logger: new CollectingLogger() });
    plugin = run.resolve(new PluginRegistry(container).get(meta.name).pluginClass) as OptimizationPlugin<object>;
  } catch (error) {
    return {
      check: check(
        'available',
        'failed',
        `the plugin could not be constructed: ${describeError(error)}. Register every service its constructor asks for in the container.`,
      ),
      blocked: 'the plugin could not be constructed',
    };
  }
  let answer: Availability;
  try {
    answer = await plugin.isAvailable({ mode: config.mode });
  } catch (error) {
    return {
      check: check('available', 'failed', `isAvailable threw: ${describeError(error)}. Answer unavailable('why') instead of throwing.`),
      blocked: 'isAvailable threw',
    };
  }
  if (!answer || typeof answer.available !== 'boolean') {
    return {
      check: check('available', 'failed', `isAvailable returned ${JSON.stringify(answer)}; return AVAILABLE or unavailable('why')`),
      blocked: 'isAvailable answered nonsense',
    };
  }
  if (!answer.available && (typeof answer.reason !== 'string' || answer.reason.trim() === '')) {
    return {
      check: check(
        'available',
        'failed',
        'isAvailable answered unavailable without a reason; say why (e.g. "package not installed (npm install x)")',
      ),
      answer,
    };
  }
  return { check: check('available', 'passed', answer.available ? 'available' : `unavailable: ${answer.reason}`), answer };
}
