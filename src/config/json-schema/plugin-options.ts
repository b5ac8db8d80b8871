import { CandidateConfig, SlotConfig } from '../kiln-config.js';
import type { ClassField, Constructor } from './class-shape.js';
import type { JsonSchema } from './json.js';
import { NON_BLANK } from './validator-schema.js';

/**
 * The plugins the generator knows: their names complete a slot's or candidate's
 * `name`, and a slot or candidate naming one has its `options` checked against the
 * plugin's options class (in the reference, each gets a table).
 */

/** What the generator needs of a plugin: its name and, if it takes options, their class (a `PluginMeta` will do). */
export interface SchemaPlugin {
  readonly name: string;
  readonly kind?: string;
  readonly objective?: string;
  readonly description?: string;
  readonly optionsClass?: new () => object;
}

export interface ConfigSchemaOptions {
  /**
   * Plugins whose options are described per plugin: in the schema, a candidate or
   * slot naming one of them has its `options` checked against that plugin's options
   * class; in the reference, each gets a table. Other plugin names stay allowed
   * (third-party modules under `plugins:`), with generic options. Default: none.
   */
  readonly plugins?: readonly SchemaPlugin[];
}

/** The plugins by name, one per name (the last given wins). */
export function sortedPlugins(plugins: readonly SchemaPlugin[]): SchemaPlugin[] {
  const byName = new Map<string, SchemaPlugin>();
  for (const p of plugins) byName.set(p.name, p);
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Slots and candidates name a plugin and carry its options. */
export function namesPlugin(cls: Constructor): boolean {
  return cls === SlotConfig || cls === CandidateConfig;
}

/** `name` of a slot or candidate gets plugin-name completion. */
export function isPluginName(owner: Constructor, f: ClassField): boolean {
  return namesPlugin(owner) && f.property === 'name';
}

/** Completion of the built-in plugin names on `name`, any other non-blank name still allowed. */
export function nameCompletion(plugins: readonly SchemaPlugin[]): JsonSchema {
  const names = sortedPlugins(plugins).map((p) => p.name);
  return names.length ? { anyOf: [{ enum: names }, { type: 'string', pattern: NON_BLANK }] } : {};
}

/** For each known plugin: a slot or candidate naming it has its `options` checked against the plugin's options class (`ref` gives its schema). */
export function pluginOptionConditions(plugins: readonly SchemaPlugin[], ref: (cls: Constructor) => JsonSchema): JsonSchema[] {
  return sortedPlugins(plugins).map((p) => ({
    if: { properties: { name: { const: p.name } }, required: ['name'] },
    then: { properties: { options: p.optionsClass ? ref(p.optionsClass) : { type: 'object', maxProperties: 0 } } },
  }));
}
