import { descriptionOf } from '../description.js';
import { KilnConfig } from '../kiln-config.js';
import { isRequired, shapeOf, type ClassField, type Constructor } from './class-shape.js';
import { allowedWords } from './field-words.js';
import { toJsonValue, type JsonSchema } from './json.js';
import {
  isPluginName,
  nameCompletion,
  namesPlugin,
  pluginOptionConditions,
  type ConfigSchemaOptions,
  type SchemaPlugin,
} from './plugin-options.js';
import { otherValidatorsSchema, ruleSchema } from './validator-schema.js';

/** The JSON Schema dialect of {@link kilnJsonSchema}: draft-07, which YAML editors support best. */
export const JSON_SCHEMA_DIALECT = 'http://json-schema.org/draft-07/schema#';

/**
 * The JSON Schema (draft-07) of `kiln.yaml`: every key with its type, range,
 * default and description; unknown keys are errors, as they are for the loader. With
 * `plugins`, slots and candidates naming one of them have their `options` described
 * and checked by that plugin's options class. `npm run schema` writes it to
 * `docs/kiln.schema.json`; a test regenerates it and compares.
 */
export function kilnJsonSchema(options: ConfigSchemaOptions = {}): JsonSchema {
  const builder = new SchemaBuilder(options.plugins ?? []);
  const root = builder.classSchema(KilnConfig);
  return {
    $schema: JSON_SCHEMA_DIALECT,
    title: 'kiln.yaml',
    description: 'Configuration of Kiln (tfjs-kiln): validated optimisation plugins for TensorFlow.js. Every key is optional.',
    ...root,
    definitions: sortKeys(builder.definitions),
  };
}

class SchemaBuilder {
  readonly definitions: Record<string, JsonSchema> = {};
  private readonly names = new Map<Function, string>();

  constructor(private readonly plugins: readonly SchemaPlugin[]) {}

  /** A `$ref` to the class's definition, adding it on first use. */
  ref(cls: Constructor): JsonSchema {
    let name = this.names.get(cls);
    if (!name) {
      const taken = new Set(this.names.values());
      name = cls.name;
      for (let i = 2; taken.has(name); i++) name = `${cls.name}${i}`;
      this.names.set(cls, name);
      this.definitions[name] = {};
      this.definitions[name] = this.classSchema(cls);
    }
    return { $ref: `#/definitions/${name}` };
  }

  classSchema(cls: Constructor): JsonSchema {
    const shape = shapeOf(cls);
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const f of shape.fields) {
      properties[f.property] = this.fieldSchema(cls, f);
      if (isRequired(f)) required.push(f.property);
    }
    const conditions = namesPlugin(cls) ? pluginOptionConditions(this.plugins, (c) => this.ref(c)) : [];
    const allOf = [...shape.objectRuleSchemas, ...conditions];
    return {
      type: 'object',
      properties,
      ...(required.length ? { required } : {}),
      additionalProperties: false,
      ...(allOf.length === 1 ? allOf[0] : allOf.length ? { allOf } : {}),
    };
  }

  private fieldSchema(owner: Constructor, f: ClassField): JsonSchema {
    const core = this.valueSchema(owner, f);
    // Keywords beside a `$ref` are ignored in draft-07, so a bare reference is wrapped.
    const wrapped = f.nullable ? { anyOf: [core, { type: 'null' }] } : core.$ref ? { allOf: [core] } : core;
    const description = descriptionOf(owner, f.property) ?? (allowedWords(f) || undefined);
    const value = toJsonValue(f.default);
    return {
      ...(description ? { description } : {}),
      ...wrapped,
      ...(value !== undefined ? { default: value } : {}),
    };
  }

  /** What the field's value may be: its validators' schema, or the nested class's. */
  private valueSchema(owner: Constructor, f: ClassField): JsonSchema {
    let core: JsonSchema = f.rule ? ruleSchema(f.rule) : otherValidatorsSchema(f.others);
    if (f.nested) {
      const ref = this.ref(f.nested.cls);
      if (f.nested.container === 'list') core = { ...core, type: 'array', items: ref };
      else if (f.nested.container === 'map') core = { ...core, type: 'object', additionalProperties: ref };
      else core = ref;
    }
    if (isPluginName(owner, f)) core = { ...core, ...nameCompletion(this.plugins) };
    return core;
  }
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
