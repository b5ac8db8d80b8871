import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync } from 'class-validator';
import { BackendConfig, BenchmarkConfig, CandidateConfig, KilnConfig, SlotConfig, ValidationConfig } from './kiln-config.js';
import type { FieldRule } from './validators.js';

/**
 * The JSON Schema of `kiln.yaml` and the configuration reference, both generated from
 * the config classes (`kiln-config.ts`) and, for plugin options, from the plugins'
 * `optionsClass`. What a key accepts comes from the validators' rules, recorded in
 * class-validator's metadata storage (see `FieldRule` in validators.ts); nested
 * sections from class-transformer's `@Type`; defaults from the classes' property
 * initialisers. Only the descriptions are written by hand, in {@link CONFIG_DESCRIPTIONS}
 * (doc comments do not exist at run time). `npm run schema` writes
 * `docs/kiln.schema.json` and the reference tables of `docs/configuration.md`; a
 * test regenerates both and compares.
 */

/** A JSON Schema (draft-07) document or fragment. */
export type JsonSchema = { [keyword: string]: unknown };

/** The JSON Schema dialect of {@link kilnJsonSchema}: draft-07, which YAML editors support best. */
export const JSON_SCHEMA_DIALECT = 'http://json-schema.org/draft-07/schema#';

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
  /** From {@link CONFIG_DESCRIPTIONS}; undefined where the table has no entry (a third-party options class). */
  readonly description?: string;
}

/**
 * What each key means, by `ClassName.property`: the doc comments of the config
 * classes and of the built-in plugins' options classes, without the type, range and
 * default (those are generated). A test fails when a field has no entry here or an
 * entry names no field.
 */
export const CONFIG_DESCRIPTIONS: Readonly<Record<string, string>> = Object.freeze({
  'KilnConfig.plugins': 'Third-party plugin modules to import before the pipeline is built, in order: paths relative to the config file (`./my-plugin.js`), absolute paths, or package names (resolved from the config file\'s folder). Importing a module registers the plugins it defines with `@Plugin`.',
  'KilnConfig.backend': 'Backend selection. Empty or `null`: every key at its default.',
  'KilnConfig.pipeline': 'The optimisation steps after backend selection, in order: each entry is a slot, `{ name, options?, timeLimitMs? }` or `{ oneOf: [candidates] }`. Absent: Kiln\'s default pipeline (every registered built-in latency plugin: graph-compile, op-fusion). An empty list runs no optimisation besides backend selection.',
  'KilnConfig.validation': 'How each result is checked against the model it replaces. Empty or `null`: every key at its default.',
  'KilnConfig.benchmark': 'How gains are measured and judged. Empty or `null`: every key at its default.',
  'KilnConfig.fallback': 'When a plugin fails, times out, or its result does not validate or is not faster/smaller, roll it back and go on. `false` stops at the first such plugin with an error that carries the report so far.',
  'KilnConfig.mode': 'Optimise for `inference` (predict) or `training` (fit; gradients are validated too).',
  'KilnConfig.timeLimitMs': 'Default time limit for one plugin\'s `apply`, in ms, where neither the slot nor the plugin sets one.',
  'BackendConfig.preference': 'tf.js backends to try, best first, as the candidates of the `backend` slot (`backend-<name>` plugins). The first one that runs, validates and is faster than what Kiln had wins.',
  'BackendConfig.threads': 'Threads of the `wasm-threads` backend (tfjs-backend-wasm\'s threaded build under Node). `1` switches it off (its candidate is `unavailable`, and single-threaded `wasm` is next). Absent: the machine\'s cores, at most 8.',
  'ValidationConfig.atol': 'Absolute tolerance when comparing outputs: `|candidate - reference| <= atol + rtol * |reference|`, element-wise.',
  'ValidationConfig.rtol': 'Relative tolerance when comparing outputs (see `atol`).',
  'ValidationConfig.samples': 'How many seeded perturbations of the sample inputs are compared besides the sample inputs themselves.',
  'ValidationConfig.seed': 'Seed of the perturbations, so that runs are reproducible.',
  'ValidationConfig.largeMagnitude': 'Scale of the large-magnitude input set (the samples times this), which catches overflow in reduced precision.',
  'ValidationConfig.gradients': 'In training mode, compare gradients as well as outputs.',
  'BenchmarkConfig.warmup': 'Untimed runs before measuring.',
  'BenchmarkConfig.iterations': 'Timed runs, the baseline and the candidate interleaved.',
  'BenchmarkConfig.minSpeedup': 'Speed-up (median latency before / after) a latency plugin must reach to be kept.',
  'BenchmarkConfig.minSizeGain': 'Gain (bytes before / after) a size plugin must reach to be kept.',
  'BenchmarkConfig.outlierSigma': 'Timings further than this many standard deviations from the mean are dropped.',
  'BenchmarkConfig.endToEnd': 'At the end, benchmark the final model against plain tf.js `predict` on the cpu backend and report the overall speed-up.',
  'SlotConfig.name': 'Name of a registered plugin (`kiln plugins` lists them), for a single-plugin slot. Exactly one of `name` and `oneOf`.',
  'SlotConfig.options': 'The plugin\'s options (single-plugin slot only), checked against the plugin\'s options class. Absent: the plugin\'s defaults. A plugin without options accepts none.',
  'SlotConfig.timeLimitMs': 'Time limit for the plugin\'s `apply`, in ms (single-plugin slot only); overrides the plugin\'s own and the top-level `timeLimitMs`.',
  'SlotConfig.oneOf': 'Candidates to choose from, in order of preference: each is tried until one is kept. `options` and `timeLimitMs` go on each candidate, not on the slot.',
  'CandidateConfig.name': 'Name of a registered plugin (`kiln plugins` lists them).',
  'CandidateConfig.options': 'The plugin\'s options, checked against the plugin\'s options class. Absent: the plugin\'s defaults. A plugin without options accepts none.',
  'CandidateConfig.timeLimitMs': 'Time limit for this candidate\'s `apply`, in ms; overrides the plugin\'s own and the top-level `timeLimitMs`.',
  'GraphCompileOptions.disablePasses': 'Passes to switch off by name.',
  'GraphCompileOptions.executor': '`auto` measures replay against direct kernel calls at compile time and keeps the faster; `replay` or `direct` forces one.',
  'GraphCompileOptions.recompileLimit': 'Signatures (input shapes) compiled at most; past it, new signatures run eagerly (with one warning).',
  'OpFusionOptions.level': 'Where to fuse: `layers` (a stock LayersModel), `graph` (the compiled kernel graph), or `both`.',
  'OpFusionOptions.disable': 'Layer rules or graph patterns to switch off by name (e.g. fold-batchnorm, fused-activation).',
  'OpFusionOptions.bisect': 'When the fused graph fails validation, find the pattern applications at fault by halving and drop only those.',
  'MixedPrecisionOptions.policy': '`auto`: each weight gets the smallest precision the budgets allow (measured, then searched). `float16`, `uint16`, `uint8`: every eligible weight at that precision, if the budgets hold. `int8` is stored as affine `uint8` (tf.js weight files have no int8 type).',
  'MixedPrecisionOptions.minElements': 'Weights with fewer elements stay float32 (biases, BatchNorm parameters): they cost little and are often sensitive.',
  'MixedPrecisionOptions.rounding': 'How uint8 codes are chosen: `error-feedback` (GPTQ, for Conv2D and Dense kernels, calibrated on the layer inputs of the sample inputs; same grid and file format) or `nearest` (each value to its nearest code, as the tf.js converter does).',
  'MixedPrecisionOptions.budgets': 'Accuracy budgets, per output name; `*` covers every output not named. An output neither named nor covered by `*` is held to `validation.atol`/`rtol`.',
  'OutputBudgetOptions.atol': 'Element-wise `|candidate - original| <= atol + rtol * |original|`. Every term given must hold; at least one term is required.',
  'OutputBudgetOptions.rtol': 'Relative part of the element-wise check (see `atol`).',
  'OutputBudgetOptions.argmaxAgreement': 'Share of rows whose top-1 index is unchanged (e.g. the move a policy head picks).',
  'OutputBudgetOptions.klDivergence': 'Largest mean KL(original || candidate) per row, in nats, for probability outputs.',
  'OutputBudgetOptions.metric': 'A metric of your own, from code only (YAML cannot carry a function): `{ name, compute(reference, candidate, shape) => number, max?, min? }`.',
});

/**
 * JSON Schema fragments for the whole-object rules (`ObjectRule`) of the built-in
 * classes, by rule name. A class with a rule not listed here gets no fragment for
 * it (the loader still enforces it); a test fails when a built-in class has one.
 */
export const OBJECT_RULE_SCHEMAS: Readonly<Record<string, JsonSchema>> = Object.freeze({
  slotShape: {
    oneOf: [
      { required: ['name'], not: { required: ['oneOf'] } },
      { required: ['oneOf'], not: { anyOf: [{ required: ['name'] }, { required: ['options'] }, { required: ['timeLimitMs'] }] } },
    ],
  },
  budgetTerms: {
    anyOf: ['atol', 'rtol', 'argmaxAgreement', 'klDivergence', 'metric'].map((term) => ({ required: [term] })),
  },
});

type Constructor = new () => object;

interface NestedType {
  readonly cls: Constructor;
  /** The field holds one instance, a list of them, or a mapping of names to them. */
  readonly container: 'single' | 'list' | 'map';
}

interface ClassField {
  readonly property: string;
  readonly rule?: FieldRule;
  /** Metadata of validators other than Kiln's field rules (class-validator's own, or custom ones). */
  readonly others: readonly ValidatorMetadata[];
  readonly nested?: NestedType;
  readonly default: unknown;
  readonly nullable: boolean;
}

interface ClassShape {
  readonly cls: Constructor;
  readonly fields: readonly ClassField[];
  /** Names of the class's whole-object rules. */
  readonly objectRules: readonly string[];
}

/** The parts of class-validator's `ValidationMetadata` read here. */
interface ValidatorMetadata {
  readonly type: string;
  readonly name?: string;
  readonly propertyName: string;
  readonly constraints?: unknown[];
  readonly each?: boolean;
  readonly context?: { allowed?: string };
}

interface TypeMetadataStorage {
  findTypeMetadata(target: Function, propertyName: string): { typeFunction(): Function } | undefined;
}

// class-transformer keeps `@Type` in a storage its index does not export.
const typeStorage = (require('class-transformer/cjs/storage') as { defaultMetadataStorage: TypeMetadataStorage }).defaultMetadataStorage;

function isFieldRule(value: unknown): value is FieldRule {
  const r = value as Partial<FieldRule> | undefined;
  return r !== null && typeof r === 'object' && typeof r.kind === 'string' && typeof r.allowed === 'string' && typeof r.optional === 'boolean';
}

const shapes = new Map<Function, ClassShape>();

/** The validated fields of a config (or options) class, in declaration order. */
function shapeOf(cls: Constructor): ClassShape {
  const known = shapes.get(cls);
  if (known) return known;
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false) as unknown as ValidatorMetadata[];
  const instance = new cls() as Record<string, unknown>;
  const byProperty = new Map<string, ValidatorMetadata[]>();
  for (const m of metadatas) byProperty.set(m.propertyName, [...(byProperty.get(m.propertyName) ?? []), m]);
  const objectRules: string[] = [];
  const fields: ClassField[] = [];
  for (const [property, list] of byProperty) {
    const rules = list.map((m) => m.constraints?.[0]).filter(isFieldRule);
    for (const r of rules) if (r.kind === 'objectRule') objectRules.push(r.name);
    const rule = rules.find((r) => r.kind !== 'objectRule');
    const others = list.filter((m) => !isFieldRule(m.constraints?.[0]) && m.type !== 'nestedValidation');
    const nested = nestedTypeOf(cls, property);
    fields.push({
      property,
      ...(rule ? { rule } : {}),
      others,
      ...(nested ? { nested } : {}),
      default: instance[property],
      nullable: rule?.kind === 'mapping' && nested !== undefined && acceptsNull(cls, property),
    });
  }
  const shape = { cls, fields, objectRules };
  shapes.set(cls, shape);
  return shape;
}

function nestedTypeOf(cls: Constructor, property: string): NestedType | undefined {
  const type = typeStorage.findTypeMetadata(cls, property);
  if (!type) return undefined;
  const nestedCls = type.typeFunction() as Constructor;
  const design = Reflect.getMetadata('design:type', cls.prototype, property) as unknown;
  const container = design === Array ? 'list' : design === Map ? 'map' : 'single';
  return { cls: nestedCls, container };
}

/** Whether the class accepts `null` for the property (a section whose `null` means "all defaults"), tried with the loader's own steps. */
function acceptsNull(cls: Constructor, property: string): boolean {
  const instance = plainToInstance(cls, { [property]: null }, { exposeDefaultValues: true }) as object;
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false });
  return !errors.some((e) => e.property === property);
}

/** Every class reachable from `root` through nested fields, root first. */
function reachable(root: Constructor): Constructor[] {
  const out: Constructor[] = [];
  const visit = (cls: Constructor) => {
    if (out.includes(cls)) return;
    out.push(cls);
    for (const f of shapeOf(cls).fields) if (f.nested) visit(f.nested.cls);
  };
  visit(root);
  return out;
}

/** The config classes: KilnConfig and every class under it. */
export function configClasses(): Constructor[] {
  return reachable(KilnConfig);
}

/** The options classes of `plugins` and every class under them, in plugin order (by name). */
export function pluginOptionClasses(plugins: readonly SchemaPlugin[] = []): Constructor[] {
  const out: Constructor[] = [];
  for (const p of sortedPlugins(plugins)) {
    if (p.optionsClass) for (const cls of reachable(p.optionsClass)) if (!out.includes(cls)) out.push(cls);
  }
  return out;
}

/** Names of the whole-object rules on a class (`ObjectRule`). */
export function objectRulesOf(cls: Constructor): readonly string[] {
  return shapeOf(cls).objectRules;
}

/** The validated properties of a class, in declaration order. */
export function validatedPropertiesOf(cls: Constructor): string[] {
  return shapeOf(cls).fields.map((f) => f.property);
}

function sortedPlugins(plugins: readonly SchemaPlugin[]): SchemaPlugin[] {
  const byName = new Map<string, SchemaPlugin>();
  for (const p of plugins) byName.set(p.name, p);
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// ---------------------------------------------------------------------------------
// Defaults and words.

/** A default as JSON: Maps and class instances become plain objects, undefined keys are dropped. */
export function toJsonValue(value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries([...value.entries()].map(([k, v]) => [String(k), toJsonValue(v)]));
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined && typeof v !== 'function') out[k] = toJsonValue(v);
    return out;
  }
  return value;
}

function descriptionOf(cls: Function, property: string): string | undefined {
  return CONFIG_DESCRIPTIONS[`${cls.name}.${property}`];
}

function typeWords(field: ClassField): string {
  const { rule, nested } = field;
  if (nested) {
    if (nested.container === 'list') return 'list of mappings';
    return 'mapping';
  }
  switch (rule?.kind) {
    case 'number': return rule.range.integer ? 'integer' : 'number';
    case 'boolean': return 'boolean';
    case 'oneOf': return 'string';
    case 'string': return 'string';
    case 'stringList': return 'list of strings';
    case 'list': return 'list';
    case 'mapping': return 'mapping';
    default: break;
  }
  const names = new Set(field.others.map((m) => m.name));
  if (names.has('isInt')) return 'integer';
  if (names.has('isNumber')) return 'number';
  if (names.has('isString') || names.has('isIn')) return 'string';
  if (names.has('isBoolean')) return 'boolean';
  return 'any';
}

function allowedWords(field: ClassField): string {
  if (field.rule) return field.rule.allowed;
  const allowed = field.others.map((m) => m.context?.allowed).find((a) => typeof a === 'string');
  return allowed ?? '';
}

// ---------------------------------------------------------------------------------
// The JSON Schema.

const NON_BLANK = '\\S';

function ruleSchema(rule: FieldRule): JsonSchema {
  switch (rule.kind) {
    case 'number': {
      const { min, max, greaterThan, integer } = rule.range;
      return {
        type: integer ? 'integer' : 'number',
        ...(min !== undefined ? { minimum: min } : {}),
        ...(max !== undefined ? { maximum: max } : {}),
        ...(greaterThan !== undefined ? { exclusiveMinimum: greaterThan } : {}),
      };
    }
    case 'boolean': return { type: 'boolean' };
    case 'oneOf': return { type: 'string', enum: [...rule.values] };
    case 'string': return { type: 'string', pattern: NON_BLANK };
    case 'stringList': {
      const { pattern, minItems, unique } = rule.rule;
      const item: JsonSchema = { type: 'string', pattern: NON_BLANK, ...(pattern ? { allOf: [{ pattern: pattern.source }] } : {}) };
      return { type: 'array', items: item, ...(minItems ? { minItems } : {}), ...(unique ? { uniqueItems: true } : {}) };
    }
    case 'list': return { type: 'array', ...(rule.minItems ? { minItems: rule.minItems } : {}) };
    case 'mapping': return { type: 'object' };
    case 'objectRule': return {};
  }
}

/** The few class-validator decorators a third-party options class is likely to use. */
function otherValidatorsSchema(others: readonly ValidatorMetadata[]): JsonSchema {
  const out: JsonSchema = {};
  for (const m of others) {
    const c = m.constraints ?? [];
    const target: JsonSchema = m.each ? ((out.items as JsonSchema | undefined) ?? (out.items = {}) as JsonSchema) : out;
    switch (m.name) {
      case 'isIn': target.enum = [...(c[0] as unknown[])]; break;
      case 'isInt': target.type = 'integer'; break;
      case 'isNumber': target.type ??= 'number'; break;
      case 'isString': target.type = 'string'; break;
      case 'isBoolean': target.type = 'boolean'; break;
      case 'min': target.minimum = c[0]; break;
      case 'max': target.maximum = c[0]; break;
      case 'isPositive': target.exclusiveMinimum = 0; break;
      case 'isArray': out.type = 'array'; break;
      case 'arrayMinSize': out.minItems = c[0]; break;
      default: break;
    }
  }
  if (out.type === undefined && out.items !== undefined) out.type = 'array';
  return out;
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
    const fragments = shape.objectRules.map((name) => OBJECT_RULE_SCHEMAS[name]).filter((s): s is JsonSchema => s !== undefined);
    const conditions = cls === SlotConfig || cls === CandidateConfig ? this.pluginOptionConditions() : [];
    const allOf = [...fragments, ...conditions];
    return {
      type: 'object',
      properties,
      ...(required.length ? { required } : {}),
      additionalProperties: false,
      ...(allOf.length === 1 ? allOf[0] : allOf.length ? { allOf } : {}),
    };
  }

  private fieldSchema(owner: Constructor, f: ClassField): JsonSchema {
    let core: JsonSchema = f.rule ? ruleSchema(f.rule) : otherValidatorsSchema(f.others);
    if (f.nested) {
      const ref = this.ref(f.nested.cls);
      if (f.nested.container === 'list') core = { ...core, type: 'array', items: ref };
      else if (f.nested.container === 'map') core = { ...core, type: 'object', additionalProperties: ref };
      else core = ref;
    }
    if (isPluginName(owner, f)) core = { ...core, ...this.nameCompletion() };
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

  /** Completion of the built-in plugin names on `name`, any other non-blank name still allowed. */
  private nameCompletion(): JsonSchema {
    const names = sortedPlugins(this.plugins).map((p) => p.name);
    return names.length ? { anyOf: [{ enum: names }, { type: 'string', pattern: NON_BLANK }] } : {};
  }

  /** For each known plugin: a slot or candidate naming it has its `options` checked against the plugin's options class. */
  private pluginOptionConditions(): JsonSchema[] {
    return sortedPlugins(this.plugins).map((p) => ({
      if: { properties: { name: { const: p.name } }, required: ['name'] },
      then: { properties: { options: p.optionsClass ? this.ref(p.optionsClass) : { type: 'object', maxProperties: 0 } } },
    }));
  }
}

/** `name` of a slot or candidate gets plugin-name completion. */
function isPluginName(owner: Constructor, f: ClassField): boolean {
  return (owner === SlotConfig || owner === CandidateConfig) && f.property === 'name';
}

/**
 * The JSON Schema (draft-07) of `kiln.yaml`: every key with its type, range,
 * default and description; unknown keys are errors, as they are for the loader. With
 * `plugins`, slots and candidates naming one of them have their `options` described
 * and checked by that plugin's options class.
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

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// ---------------------------------------------------------------------------------
// The reference.

interface SectionPlan {
  /** `top level`, `backend`, `pipeline[]`, `graph-compile options`, `mixed-precision options.budgets.<name>`. */
  readonly title: string;
  readonly cls: Constructor;
  /** Written before each key: `validation.`, `pipeline[].`, `options.budgets.<name>.`. */
  readonly prefix: string;
  /** The plugin whose options these are. */
  readonly plugin?: SchemaPlugin;
}

/** The tables of the reference, in order: the top level, each section under it, then each plugin's options. */
function sections(plugins: readonly SchemaPlugin[]): SectionPlan[] {
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

function isRequired(f: ClassField): boolean {
  return f.rule !== undefined && f.rule.kind !== 'objectRule' && !f.rule.optional && f.default === undefined;
}

/**
 * A default as the reference writes it: YAML flow style in backticks, `(required)`
 * for a key without one that must be given, `—` for a key whose absence means what
 * its description says, and "the defaults below" for a section.
 */
export function formatDefault(field: Pick<ConfigField, 'default' | 'required' | 'owner' | 'property'>): string {
  if (field.required) return '(required)';
  if (field.default === undefined) return '—';
  const nested = shapeOf(field.owner as Constructor).fields.find((f) => f.property === field.property)?.nested;
  if (nested?.container === 'single') return 'the defaults below';
  return `\`${yamlFlow(field.default)}\``;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A value in YAML flow style: `[a, b]`, `{ '*': { atol: 1e-3 } }`, `1e-5`. */
export function yamlFlow(value: unknown): string {
  if (typeof value === 'number') return value !== 0 && Math.abs(value) < 0.01 ? value.toExponential() : String(value);
  if (typeof value === 'string') return /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(value) ? value : `'${value.replace(/'/g, "''")}'`;
  if (Array.isArray(value)) return `[${value.map(yamlFlow).join(', ')}]`;
  if (isPlainRecord(value)) {
    const entries = Object.entries(value).map(([k, v]) => `${yamlFlow(k)}: ${yamlFlow(v)}`);
    return entries.length ? `{ ${entries.join(', ')} }` : '{}';
  }
  return String(value);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * The reference tables in Markdown, one per section: key, type, default, what it
 * accepts, and what it means. `docs/configuration.md` holds this between its
 * generated-section markers.
 */
export function renderConfigReference(options: ConfigSchemaOptions = {}): string {
  const plugins = options.plugins ?? [];
  const fields = configReference(options);
  const lines: string[] = [];
  for (const s of sections(plugins)) {
    const where = s.prefix.replace(/\.$/, '');
    lines.push(`### ${s.plugin ? `Plugin \`${s.plugin.name}\`: \`${where}\`` : where ? `\`${where}\`` : 'Top level'}`, '');
    if (s.plugin && where === 'options') {
      const what = [s.plugin.kind, s.plugin.objective].filter(Boolean).join(', ');
      lines.push(`${what ? `${what}: ` : ''}${s.plugin.description ?? ''}`.trim(), '');
    }
    lines.push('| Key | Type | Default | Allowed | Description |', '|---|---|---|---|---|');
    for (const f of fields.filter((x) => x.section === s.title)) {
      lines.push(`| \`${cell(f.path)}\` | ${f.type} | ${cell(formatDefault(f))} | ${cell(f.allowed)} | ${cell(f.description ?? '')} |`);
    }
    lines.push('');
  }
  const without = sortedPlugins(plugins).filter((p) => !p.optionsClass).map((p) => `\`${p.name}\``);
  if (without.length) lines.push(`Plugins that take no options (leave \`options\` out): ${without.join(', ')}.`, '');
  return lines.join('\n');
}
