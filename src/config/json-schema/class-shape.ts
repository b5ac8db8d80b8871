import type { JsonSchema } from './json.js';
import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync } from 'class-validator';
import type { FieldRule } from '../validators.js';
import { typeDecoratorClassOf } from './type-metadata.js';

/**
 * The fields of a config (or options) class as the generator sees them: what a key
 * accepts comes from the validators' rules, recorded in class-validator's metadata
 * storage (see `FieldRule` in validators.ts); nested sections from class-transformer's
 * `@Type`; defaults from the class's property initialisers.
 */

export type Constructor = new () => object;

export interface NestedType {
  readonly cls: Constructor;
  /** The field holds one instance, a list of them, or a mapping of names to them. */
  readonly container: 'single' | 'list' | 'map';
}

export interface ClassField {
  readonly property: string;
  readonly rule?: FieldRule;
  /** Metadata of validators other than Kiln's field rules (class-validator's own, or custom ones). */
  readonly others: readonly ValidatorMetadata[];
  readonly nested?: NestedType;
  readonly default: unknown;
  readonly nullable: boolean;
}

export interface ClassShape {
  readonly cls: Constructor;
  readonly fields: readonly ClassField[];
  /** Names of the class's whole-object rules. */
  readonly objectRules: readonly string[];
  /** The JSON Schema fragments those rules carry (`ObjectRule`'s `schema`). */
  readonly objectRuleSchemas: readonly JsonSchema[];
}

/** The parts of class-validator's `ValidationMetadata` read here. */
export interface ValidatorMetadata {
  readonly type: string;
  readonly name?: string;
  readonly propertyName: string;
  readonly constraints?: unknown[];
  readonly each?: boolean;
  readonly context?: { allowed?: string };
}

function isFieldRule(value: unknown): value is FieldRule {
  const r = value as Partial<FieldRule> | undefined;
  return (
    r !== null && typeof r === 'object' && typeof r.kind === 'string' && typeof r.allowed === 'string' && typeof r.optional === 'boolean'
  );
}

const shapes = new Map<Function, ClassShape>();

/** The validated fields of a config (or options) class, in declaration order. */
export function shapeOf(cls: Constructor): ClassShape {
  const known = shapes.get(cls);
  if (known) return known;
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false) as unknown as ValidatorMetadata[];
  const instance = new cls() as Record<string, unknown>;
  const byProperty = new Map<string, ValidatorMetadata[]>();
  for (const m of metadatas) byProperty.set(m.propertyName, [...(byProperty.get(m.propertyName) ?? []), m]);
  const objectRules: string[] = [];
  const objectRuleSchemas: JsonSchema[] = [];
  const fields: ClassField[] = [];
  for (const [property, list] of byProperty) {
    const rules = list.map((m) => m.constraints?.[0]).filter(isFieldRule);
    for (const r of rules) {
      if (r.kind !== 'objectRule') continue;
      objectRules.push(r.name);
      if (r.schema) objectRuleSchemas.push(r.schema as JsonSchema);
    }
    fields.push(fieldOf(cls, property, list, rules, instance[property]));
  }
  const shape = { cls, fields, objectRules, objectRuleSchemas };
  shapes.set(cls, shape);
  return shape;
}

function fieldOf(
  cls: Constructor,
  property: string,
  list: readonly ValidatorMetadata[],
  rules: readonly FieldRule[],
  value: unknown,
): ClassField {
  const rule = rules.find((r) => r.kind !== 'objectRule');
  const others = list.filter((m) => !isFieldRule(m.constraints?.[0]) && m.type !== 'nestedValidation');
  const nested = nestedTypeOf(cls, property);
  return {
    property,
    ...(rule ? { rule } : {}),
    others,
    ...(nested ? { nested } : {}),
    default: value,
    nullable: rule?.kind === 'mapping' && nested !== undefined && acceptsNull(cls, property),
  };
}

function nestedTypeOf(cls: Constructor, property: string): NestedType | undefined {
  const nestedCls = typeDecoratorClassOf(cls, property) as Constructor | undefined;
  if (!nestedCls) return undefined;
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

/** The key must be given (it has no default). */
export function isRequired(f: ClassField): boolean {
  return f.rule !== undefined && f.rule.kind !== 'objectRule' && !f.rule.optional && f.default === undefined;
}

/** Names of the whole-object rules on a class (`ObjectRule`). */
export function objectRulesOf(cls: Constructor): readonly string[] {
  return shapeOf(cls).objectRules;
}

/** The JSON Schema fragments of the whole-object rules on a class. */
export function objectRuleSchemasOf(cls: Constructor): readonly JsonSchema[] {
  return shapeOf(cls).objectRuleSchemas;
}

/** The validated properties of a class, in declaration order. */
export function validatedPropertiesOf(cls: Constructor): string[] {
  return shapeOf(cls).fields.map((f) => f.property);
}
