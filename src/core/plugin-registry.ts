import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { MAX_TIME_LIMIT_MS } from '../config/kiln-config.js';
import { PluginError } from './errors.js';
import type { OptimizationPlugin, PluginMeta } from './plugin.js';
import { pluginMetaOf } from './plugin-decorator.js';
import { PLUGIN_CLASS } from './tokens.js';
import { resolveAllByLevel } from './container-chain.js';

export type RegisteredPluginClass = new (...args: any[]) => OptimizationPlugin<any>;

export interface RegisteredPlugin {
  readonly meta: PluginMeta;
  readonly pluginClass: RegisteredPluginClass;
}

/**
 * The plugins registered under `PLUGIN_CLASS` in a container and its ancestors.
 * Looks them up by name, refuses two classes with one name in one container (a
 * child container's plugin replaces its parent's of the same name, as any tsyringe
 * registration does), and answers an unknown
 * name with the names it knows. Instances come from the container it was built on,
 * so their constructor injection sees that container's services.
 */
export class PluginRegistry {
  private readonly byName = new Map<string, RegisteredPlugin>();

  constructor(private readonly container: DependencyContainer = rootContainer) {
    for (const level of registeredClassesByLevel(container)) {
      const atThisLevel = new Map<string, RegisteredPluginClass>();
      for (const pluginClass of level) {
        const meta = pluginMetaOf(pluginClass);
        if (!meta) {
          throw new PluginError(
            'PLUGIN_INVALID',
            `Class ${pluginClass.name || '<anonymous>'} is registered as a Kiln plugin but has no @Plugin({...}) metadata. Decorate it with @Plugin from 'tfjs-kiln'.`,
          );
        }
        const limit = meta.timeLimitMs;
        if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= MAX_TIME_LIMIT_MS)) {
          throw new PluginError(
            'PLUGIN_INVALID',
            `Plugin "${meta.name}" (${pluginClass.name}) has meta.timeLimitMs ${limit}: it must be a whole number of ms from 1 to ${MAX_TIME_LIMIT_MS} (Node's longest timer).`,
          );
        }
        const twin = atThisLevel.get(meta.name);
        if (twin && twin !== pluginClass) {
          throw new PluginError(
            'PLUGIN_DUPLICATE',
            `Two plugins are named "${meta.name}": ${twin.name} and ${pluginClass.name}. Plugin names must be unique: rename one of them.`,
          );
        }
        atThisLevel.set(meta.name, pluginClass);
        // A child container's plugin stands in for its parent's of the same name.
        this.byName.set(meta.name, { meta, pluginClass });
      }
    }
  }

  /** Every registered plugin, in registration order. */
  list(): RegisteredPlugin[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The registration for `name`; an unknown name is an error listing the known ones. */
  get(name: string): RegisteredPlugin {
    const found = this.byName.get(name);
    if (!found) throw unknownPluginError(name, this.names());
    return found;
  }

  /** A fresh instance of the plugin, its dependencies injected from this registry's container. */
  create(name: string): OptimizationPlugin<any> {
    return this.container.resolve(this.get(name).pluginClass);
  }
}

export function unknownPluginError(name: string, known: readonly string[], where = ''): PluginError {
  const list = known.length ? known.join(', ') : '(none registered)';
  return new PluginError(
    'PLUGIN_UNKNOWN',
    `${where}Unknown plugin "${name}". Registered plugins: ${list}. Run \`kiln plugins\` to list them; a third-party plugin must be named under \`plugins:\` in the config so Kiln imports it.`,
  );
}

function registeredClassesByLevel(container: DependencyContainer): RegisteredPluginClass[][] {
  return resolveAllByLevel<RegisteredPluginClass>(container, PLUGIN_CLASS);
}
