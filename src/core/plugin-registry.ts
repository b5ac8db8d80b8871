import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { PluginError } from './errors.js';
import type { OptimizationPlugin, PluginMeta } from './plugin.js';
import { pluginMetaOf } from './plugin-decorator.js';
import { PLUGIN_CLASS } from './tokens.js';

export type RegisteredPluginClass = new (...args: any[]) => OptimizationPlugin<any>;

export interface RegisteredPlugin {
  readonly meta: PluginMeta;
  readonly pluginClass: RegisteredPluginClass;
}

/**
 * The plugins registered under `PLUGIN_CLASS` in a container and its ancestors.
 * Looks them up by name, refuses two classes with one name, and answers an unknown
 * name with the names it knows. Instances come from the container it was built on,
 * so their constructor injection sees that container's services.
 */
export class PluginRegistry {
  private readonly byName = new Map<string, RegisteredPlugin>();

  constructor(private readonly container: DependencyContainer = rootContainer) {
    for (const pluginClass of registeredClasses(container)) {
      const meta = pluginMetaOf(pluginClass);
      if (!meta) {
        throw new PluginError(
          'PLUGIN_INVALID',
          `Class ${pluginClass.name || '<anonymous>'} is registered as a Kiln plugin but has no @Plugin({...}) metadata. Decorate it with @Plugin from 'tfjs-kiln'.`,
        );
      }
      const existing = this.byName.get(meta.name);
      if (existing && existing.pluginClass !== pluginClass) {
        throw new PluginError(
          'PLUGIN_DUPLICATE',
          `Two plugins are named "${meta.name}": ${existing.pluginClass.name} and ${pluginClass.name}. Plugin names must be unique: rename one of them.`,
        );
      }
      this.byName.set(meta.name, { meta, pluginClass });
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

/**
 * Plugin classes registered in `container` and every ancestor, ancestors first.
 * tsyringe's `resolveAll` stops at the first container that has the token, so the
 * chain is walked here (its `parent` field is not part of tsyringe's typed API).
 */
function registeredClasses(container: DependencyContainer): RegisteredPluginClass[] {
  const chain: DependencyContainer[] = [];
  for (let c: DependencyContainer | undefined = container; c; c = (c as unknown as { parent?: DependencyContainer }).parent) {
    chain.unshift(c);
  }
  const seen = new Set<RegisteredPluginClass>();
  for (const c of chain) {
    if (!c.isRegistered(PLUGIN_CLASS, false)) continue;
    for (const cls of c.resolveAll<RegisteredPluginClass>(PLUGIN_CLASS)) seen.add(cls);
  }
  return [...seen];
}
