import 'reflect-metadata';
import { container as rootContainer, injectable, type DependencyContainer } from 'tsyringe';
import type { OptimizationPlugin, PluginMeta } from './plugin.js';
import { PLUGIN_CLASS } from './tokens.js';

const PLUGIN_META_KEY = Symbol.for('kiln.PluginMeta');

export interface PluginRegistrationOptions {
  /**
   * Container to register in. Default: tsyringe's root container, so importing the
   * module that defines the class is enough. Tests pass a child container to keep
   * deliberately broken plugins out of everyone else's way.
   */
  readonly container?: DependencyContainer;
}

type PluginConstructor = new (...args: any[]) => OptimizationPlugin<any>;

/**
 * Class decorator for an optimisation plugin: makes the class injectable (its
 * constructor parameters are resolved from the run's container) and registers the
 * class under the `PLUGIN_CLASS` multi-token. It only records; the registry and the
 * pipeline read the registration later.
 *
 * ```ts
 * @Plugin({ name: 'my-plugin', kind: 'fusion', objective: 'latency', description: '...' })
 * export class MyPlugin implements OptimizationPlugin { constructor(private readonly validator: Validator) {} ... }
 * ```
 */
export function Plugin(meta: PluginMeta, options: PluginRegistrationOptions = {}) {
  return function <T extends PluginConstructor>(target: T): T {
    Reflect.defineMetadata(PLUGIN_META_KEY, Object.freeze({ ...meta }), target);
    injectable()(target);
    (options.container ?? rootContainer).register(PLUGIN_CLASS, { useValue: target });
    return target;
  };
}

/** The metadata `@Plugin` recorded on a class, or undefined for an undecorated class. */
export function pluginMetaOf(target: unknown): PluginMeta | undefined {
  if (typeof target !== 'function') return undefined;
  return Reflect.getOwnMetadata(PLUGIN_META_KEY, target) as PluginMeta | undefined;
}
