import { descriptionOf } from '../description.js';
import { KilnConfig } from '../kiln-config.js';
import { isRequired, shapeOf, type Constructor } from './class-shape.js';
import { allowedWords, typeWords } from './field-words.js';
import { toJsonValue } from './json.js';
import { sortedPlugins, type ConfigSchemaOptions, type SchemaPlugin } from './plugin-options.js';

/** The configuration reference as data: every key, table by table (render-reference.ts writes it as Markdown). */

/** One key of the configuration, as the reference lists it. */
export interface ConfigField {
  /** Where it is written: `validation.atol`, `pipeline[].oneOf[].name`, `options.budgets.<output>.atol`. */
  readonly path: string;
  /** The table it belongs to: `top level`, `backend`, `pipeline[]`, `graph-compile options`, ... */
  readonly section: string;
  /** The plugin whose options it is, for a plugin option. */
  readonly plugin?: string;
  /** The class that declares it, and the property. */
  readonly owner: Function;
  readonly property: string;
  /** The type in a word or two: integer, number, boolean, string, list of strings, mapping, ... */
  readonly type: string;
  /** What it accepts, in the words of its validation errors. */
  readonly allowed: string;
  /** Its default, JSON-ready; `undefined` when the key has none (absent means what its description says). */
  readonly default: unknown;
  /** The key must be given (it has no default). */
  readonly required: boolean;
  /** The field's `@Description`; undefined where it has none (a third-party options class may not). */
  readonly description?: string;
}

export interface SectionPlan {
  /** `top level`, `backend`, `pipeline[]`, `graph-compile options`, `mixed-precision options.budgets.<name>`. */
  readonly title: string;
  readonly cls: Constructor;
  /** Written before each key: `validation.`, `pipeline[].`, `options.budgets.<name>.`. */
  readonly prefix: string;
  /** The plugin whose options these are. */
  readonly plugin?: SchemaPlugin;
}

/** The tables of the reference, in order: the top level, each section under it, then each plugin's options. */
export function sections(plugins: readonly SchemaPlugin[]): SectionPlan[] {
  const out: SectionPlan[] = [];
  const walk = (cls: Constructor, prefix: string, plugin?: SchemaPlugin) => {
    const where = prefix.replace(/\.$/, '');
    const title = plugin ? `${plugin.name} ${where}` : where || 'top level';
    out.push({ title, cls, prefix, ...(plugin ? { plugin } : {}) });
    for (const f of shapeOf(cls).fields) {
      if (!f.nested) continue;
      const key = `${prefix}${f.property}`;
      const nested = f.nested.container === 'list' ? `${key}[]` : f.nested.container === 'map' ? `${key}.<name>` : key;
      walk(f.nested.cls, `${nested}.`, plugin);
    }
  };
  walk(KilnConfig, '');
  for (const p of sortedPlugins(plugins)) if (p.optionsClass) walk(p.optionsClass, 'options.', p);
  return out;
}

/** Every key of the configuration (and of the given plugins' options), table by table. */
export function configReference(options: ConfigSchemaOptions = {}): ConfigField[] {
  const out: ConfigField[] = [];
  for (const s of sections(options.plugins ?? [])) {
    for (const f of shapeOf(s.cls).fields) {
      const description = descriptionOf(s.cls, f.property);
      out.push({
        path: `${s.prefix}${f.property}`,
        section: s.title,
        ...(s.plugin ? { plugin: s.plugin.name } : {}),
        owner: s.cls,
        property: f.property,
        type: typeWords(f),
        allowed: allowedWords(f),
        default: toJsonValue(f.default),
        required: isRequired(f),
        ...(description ? { description } : {}),
      });
    }
  }
  return out;
}
