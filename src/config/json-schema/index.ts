/**
 * The JSON Schema of `kiln.yaml` and the configuration reference, both generated from
 * the config classes (`kiln-config.ts`) and, for plugin options, from the plugins'
 * `optionsClass`: types and ranges from the validators, nested sections from `@Type`,
 * defaults from the property initialisers, and what each key means from its
 * `@Description` (description.ts). `npm run schema` writes `docs/kiln.schema.json` and
 * the reference tables of `docs/configuration.md`; a test regenerates both and compares.
 *
 * - class-shape.ts: the fields of a class, read from the validator and `@Type` metadata
 *   (type-metadata.ts: the one read of class-transformer's private storage)
 * - validator-schema.ts: what the validators accept, as JSON Schema
 * - plugin-options.ts: the plugins whose names and options the schema and reference know
 * - kiln-json-schema.ts: the JSON Schema document
 * - config-reference.ts, render-reference.ts: the reference, as data and as Markdown
 */
export { objectRuleSchemasOf, objectRulesOf, validatedPropertiesOf } from './class-shape.js';
export { configClasses, pluginOptionClasses } from './config-classes.js';
export { configReference, type ConfigField } from './config-reference.js';
export { toJsonValue, type JsonSchema } from './json.js';
export { JSON_SCHEMA_DIALECT, kilnJsonSchema } from './kiln-json-schema.js';
export { type ConfigSchemaOptions, type SchemaPlugin } from './plugin-options.js';
export { formatDefault, renderConfigReference, yamlFlow } from './render-reference.js';
