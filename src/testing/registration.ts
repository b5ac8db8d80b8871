/**
 * The `registered` check: the plugin a target names (by name in the container, or by
 * class, registered in a child container when it is not there), its `@Plugin`
 * metadata, and its options validated against its options class.
 */
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { validateOptions } from '../core/config-loading/resolve-pipeline.js';
import { describeError } from '../core/errors.js';
import type { PluginMeta } from '../core/plugin.js';
import { pluginMetaOf } from '../core/plugin-decorator.js';
import { PluginRegistry } from '../core/plugin-registry.js';
import { PLUGIN_CLASS } from '../core/tokens.js';
import { check, type ConformanceCheck } from './checks.js';
import type { ConformanceOptions, ConformanceTarget } from './options.js';

/** The plugin a target names: its metadata, and the container it is registered in. */
interface FoundPlugin {
  readonly meta: PluginMeta;
  readonly container: DependencyContainer;
}

/** Why a target names no plugin the kit can check: the `registered` check's message, and why no model check can run. */
interface NotFound {
  readonly failure: string;
  readonly blocked: string;
}

/** The `registered` check, with the plugin and its validated options when it passed, or why nothing else can run. */
export type Registration =
  | {
      readonly check: ConformanceCheck;
      readonly meta: PluginMeta;
      readonly container: DependencyContainer;
      readonly pluginOptions: object;
      readonly blocked?: undefined;
    }
  | { readonly check: ConformanceCheck; readonly blocked: string };

export function checkRegistration(target: ConformanceTarget, options: ConformanceOptions): Registration {
  const found = findPlugin(target, options.container ?? rootContainer);
  if ('failure' in found) return { check: check('registered', 'failed', found.failure), blocked: found.blocked };
  const { meta, container } = found;
  const problems = metadataProblems(meta);
  let pluginOptions: object = {};
  try {
    pluginOptions = validateOptions(meta.optionsClass, options.options, `${meta.name}.options`, 'conformance options');
  } catch (error) {
    problems.push(`the options given to the kit do not validate: ${describeError(error)}`);
  }
  if (problems.length) return { check: check('registered', 'failed', problems.join('; ')), blocked: 'its metadata or options are invalid' };
  const summary = `${meta.name}: kind ${meta.kind}, objective ${meta.objective}${meta.timeLimitMs ? `, time limit ${meta.timeLimitMs} ms` : ''}`;
  return { check: check('registered', 'passed', summary), meta, container, pluginOptions };
}

/** The plugin `target` names in `parent`. */
function findPlugin(target: ConformanceTarget, parent: DependencyContainer): FoundPlugin | NotFound {
  try {
    return typeof target === 'string' ? findByName(target, parent) : findByClass(target, parent);
  } catch (error) {
    return { failure: `the plugin registry could not be read: ${describeError(error)}`, blocked: 'the plugin registry could not be read' };
  }
}

function findByName(name: string, parent: DependencyContainer): FoundPlugin | NotFound {
  const registry = new PluginRegistry(parent);
  if (!registry.has(name)) {
    return {
      failure: `no plugin named "${name}" is registered (registered: ${registry.names().join(', ') || 'none'}). Import the module that defines it, or pass the class.`,
      blocked: 'the plugin is not registered',
    };
  }
  return { meta: registry.get(name).meta, container: parent };
}

/** A class registered in `parent` under its name, or else registered in a child of `parent` (never in `parent` itself). */
function findByClass(pluginClass: Exclude<ConformanceTarget, string>, parent: DependencyContainer): FoundPlugin | NotFound {
  const registry = new PluginRegistry(parent);
  const meta = pluginMetaOf(pluginClass);
  if (!meta)
    return {
      failure: `class ${pluginClass.name} has no @Plugin({...}) metadata: decorate it with @Plugin from 'tfjs-kiln'.`,
      blocked: 'the class has no @Plugin metadata',
    };
  if (!registry.has(meta.name)) {
    const container = parent.createChildContainer();
    container.register(PLUGIN_CLASS, { useValue: pluginClass });
    return { meta, container };
  }
  const registered = registry.get(meta.name).pluginClass;
  if (registered !== pluginClass) {
    return {
      failure: `another class (${registered.name}) is registered under the name "${meta.name}"; plugin names must be unique.`,
      blocked: 'another class holds the name',
    };
  }
  return { meta, container: parent };
}

/** What is wrong with the metadata: a missing name, kind or description, an unknown objective, a bad time limit, defaults that do not validate. */
function metadataProblems(meta: PluginMeta): string[] {
  const problems: string[] = [];
  for (const key of ['name', 'kind', 'description'] as const) {
    if (typeof meta[key] !== 'string' || meta[key].trim() === '') problems.push(`meta.${key} must be a non-empty string`);
  }
  if (!['latency', 'size', 'memory'].includes(meta.objective))
    problems.push(`meta.objective must be latency, size or memory (got ${JSON.stringify(meta.objective)})`);
  if (meta.timeLimitMs !== undefined && !(Number.isInteger(meta.timeLimitMs) && meta.timeLimitMs >= 1))
    problems.push(`meta.timeLimitMs must be an integer >= 1 (got ${meta.timeLimitMs})`);
  if (meta.optionsClass) {
    try {
      validateOptions(meta.optionsClass, undefined, `${meta.name}.options`, 'defaults');
    } catch (error) {
      problems.push(`the defaults of its options class do not validate: ${describeError(error)}`);
    }
  }
  return problems;
}
