import { registerDecorator, type ValidationArguments, type ValidationOptions } from 'class-validator';

/**
 * Custom class-validator decorators for the configuration schema. Each one checks a
 * field completely (type and range together), so a bad value gives exactly one
 * problem. The decorator's `message` says what is wrong with the value at hand
 * ("wrong type", "out of range", ...) and its `context.allowed` says what is allowed;
 * `formatValidationErrors` puts the two together. Plugin authors can use them on
 * their options classes, or give any class-validator decorator {@link validationMessage}.
 */

/** What the error formatter reads from `ValidationError.contexts[constraint]`. */
export interface ProblemContext {
  /** What the field accepts, in words: "an integer from 0 to 64". */
  readonly allowed?: string;
  /** Report the problem at the object holding the field, not at the field. */
  readonly atParent?: boolean;
}

/**
 * Options for any class-validator decorator so that its problem reads well:
 * `@IsIn(['a', 'b'], validationMessage('invalid value', 'one of: a, b'))`.
 */
export function validationMessage(problem: string, allowed: string, options: ValidationOptions = {}): ValidationOptions {
  return { ...options, message: problem, context: { ...(options.context as object | undefined), allowed } };
}

export interface FieldOptions {
  /** `undefined` (key absent) is accepted. `null` never is. */
  readonly optional?: boolean;
}

/** A check: returns undefined when the value is fine, else what is wrong with it. */
type Check = (value: unknown, args: ValidationArguments) => string | undefined;

/**
 * What a field decorator of this module checks, as data. It is recorded as the
 * decorator's constraint in class-validator's metadata storage
 * (`getMetadataStorage()`), where the JSON Schema generator (`json-schema/`) reads
 * it; validation itself does not use it.
 */
export type FieldRule = (
  | { readonly kind: 'number'; readonly range: NumberRange }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'oneOf'; readonly values: readonly string[] }
  | { readonly kind: 'string' }
  | { readonly kind: 'stringList'; readonly rule: StringListRule }
  | { readonly kind: 'numberList'; readonly rule: NumberListRule }
  | { readonly kind: 'list'; readonly minItems?: number }
  | { readonly kind: 'mapping' }
  | { readonly kind: 'objectRule'; readonly name: string; readonly schema?: Readonly<Record<string, unknown>> }
) & {
  /** What the field accepts, in words (the `allowed` of its problems). */
  readonly allowed: string;
  /** `undefined` (key absent) is accepted. */
  readonly optional: boolean;
};

/** Distributes `Omit` over the members of a union. */
type RuleShape = FieldRule extends infer R ? (R extends FieldRule ? Omit<R, 'allowed' | 'optional'> : never) : never;

function field(name: string, allowed: string, check: Check, options: FieldOptions & { atParent?: boolean }, shape: RuleShape) {
  const rule = { ...shape, allowed, optional: options.optional === true } as FieldRule;
  return function (target: object, propertyName: string): void {
    const context: ProblemContext = options.atParent ? { allowed, atParent: true } : { allowed };
    const problemOf = (value: unknown, args: ValidationArguments): string | undefined => {
      if (value === undefined && !options.atParent) return options.optional ? undefined : 'missing';
      return check(value, args);
    };
    registerDecorator({
      name,
      target: target.constructor,
      propertyName,
      constraints: [rule],
      options: {
        context,
        message: (args: ValidationArguments) => problemOf(args.value, args) ?? 'invalid value',
      },
      validator: {
        validate: (value: unknown, args: ValidationArguments) => problemOf(value, args) === undefined,
      },
    });
  };
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

export interface NumberRange extends FieldOptions {
  /** Smallest allowed value (inclusive). */
  readonly min?: number;
  /** Largest allowed value (inclusive). */
  readonly max?: number;
  /** The value must be strictly greater than this. */
  readonly greaterThan?: number;
  /** Whole numbers only. */
  readonly integer?: boolean;
}

/** The words for what a {@link NumberRange} allows: "an integer from 0 to 64", "a number > 0". */
export function describeRange(range: NumberRange): string {
  const noun = range.integer ? 'an integer' : 'a number';
  const { min, max, greaterThan } = range;
  if (min !== undefined && max !== undefined) return `${noun} from ${min} to ${max}`;
  const parts: string[] = [];
  if (min !== undefined) parts.push(`>= ${min}`);
  if (greaterThan !== undefined) parts.push(`> ${greaterThan}`);
  if (max !== undefined) parts.push(`<= ${max}`);
  return parts.length ? `${noun} ${parts.join(' and ')}` : noun;
}

/** Whether the finite number `value` is in `range`. */
function inRange(value: number, range: NumberRange): boolean {
  if (range.integer && !Number.isInteger(value)) return false;
  if (range.min !== undefined && value < range.min) return false;
  if (range.max !== undefined && value > range.max) return false;
  return range.greaterThan === undefined || value > range.greaterThan;
}

/** A finite number (optionally an integer) within the given bounds. Strings are never converted. */
export function IsNumberInRange(range: NumberRange = {}) {
  return field(
    'kilnNumber',
    describeRange(range),
    (value) => {
      if (typeof value !== 'number') return 'wrong type';
      if (!Number.isFinite(value)) return 'not a finite number';
      if (range.integer && !Number.isInteger(value)) return 'not an integer';
      if (range.min !== undefined && value < range.min) return 'out of range';
      if (range.max !== undefined && value > range.max) return 'out of range';
      if (range.greaterThan !== undefined && !(value > range.greaterThan)) return 'out of range';
      return undefined;
    },
    range,
    { kind: 'number', range },
  );
}

/** `true` or `false` (not "yes", not 1). */
export function IsBooleanValue(options: FieldOptions = {}) {
  return field('kilnBoolean', 'true or false', (value) => (typeof value === 'boolean' ? undefined : 'wrong type'), options, {
    kind: 'boolean',
  });
}

/** One of the given strings. */
export function IsOneOfValues(values: readonly string[], options: FieldOptions = {}) {
  return field(
    'kilnOneOf',
    `one of: ${values.join(', ')}`,
    (value) => {
      if (typeof value !== 'string') return 'wrong type';
      return values.includes(value) ? undefined : 'invalid value';
    },
    options,
    { kind: 'oneOf', values: [...values] },
  );
}

/** A non-empty string; `what` describes it ("a plugin name"). */
export function IsNonEmptyString(what: string, options: FieldOptions = {}) {
  return field(
    'kilnString',
    `${what} (a non-empty string)`,
    (value) => {
      if (typeof value !== 'string') return 'wrong type';
      return value.trim() === '' ? 'empty' : undefined;
    },
    options,
    { kind: 'string' },
  );
}

export interface StringListRule extends FieldOptions {
  /** Words for one entry, plural: "backend names". */
  readonly items: string;
  readonly minItems?: number;
  readonly unique?: boolean;
  /** Every entry must match it. */
  readonly pattern?: RegExp;
  /**
   * The names an entry may be, read when a config is validated (so names registered by
   * then, e.g. by a `plugins:` module, count). An entry not among them is refused, and the
   * message lists them.
   */
  readonly oneOf?: () => readonly string[];
}

/** A list of non-empty strings, optionally matching a pattern, distinct, and at least `minItems` long. */
export function IsStringList(rule: StringListRule) {
  const words = [`a list of`];
  if (rule.minItems) words.push(`at least ${rule.minItems}`);
  if (rule.unique) words.push('distinct');
  words.push(rule.items);
  if (rule.pattern) words.push(`matching ${rule.pattern}`);
  return field(
    'kilnStringList',
    words.join(' '),
    (value) => {
      if (!Array.isArray(value)) return `wrong type (${typeName(value)}, not a list)`;
      if (rule.minItems !== undefined && value.length < rule.minItems) {
        return 'too few entries';
      }
      const seen = new Set<string>();
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item !== 'string') return `entry [${i}] is ${typeName(item)}, not a string`;
        if (item.trim() === '') return `entry [${i}] is empty`;
        if (rule.pattern && !rule.pattern.test(item)) return `entry [${i}] ${JSON.stringify(item)} is not allowed`;
        if (rule.oneOf && !rule.oneOf().includes(item))
          return `entry [${i}] ${JSON.stringify(item)} is not one of: ${rule.oneOf().join(', ')}`;
        if (rule.unique && seen.has(item)) return `duplicate entry ${JSON.stringify(item)}`;
        seen.add(item);
      }
      return undefined;
    },
    rule,
    { kind: 'stringList', rule },
  );
}

export interface NumberListRule extends FieldOptions {
  /** Words for the entries, plural: "sizes". */
  readonly items: string;
  /** What each entry may be. */
  readonly each: NumberRange;
  readonly minItems?: number;
  readonly maxItems?: number;
  /** Each entry is greater than the one before (a `[min, max]` range). */
  readonly increasing?: boolean;
}

/** The words for what a {@link NumberListRule} allows: "a list of 2 numbers, the smaller first". */
function describeNumberList(rule: NumberListRule): string {
  const { minItems, maxItems } = rule;
  const count =
    minItems !== undefined && minItems === maxItems
      ? `${minItems} `
      : minItems !== undefined && maxItems !== undefined
        ? `${minItems} to ${maxItems} `
        : minItems !== undefined
          ? `at least ${minItems} `
          : maxItems !== undefined
            ? `at most ${maxItems} `
            : '';
  const each = describeRange(rule.each);
  const plain = each === 'a number' || each === 'an integer';
  if (rule.increasing && minItems === 2 && maxItems === 2)
    return `[min, max]: a list of 2 ${rule.items}${plain ? '' : ` (each ${each})`}, the smaller first`;
  return `a list of ${count}${rule.items}${plain ? '' : ` (each ${each})`}${rule.increasing ? ', each greater than the one before' : ''}`;
}

/** A list of numbers, each in `each`'s range, `minItems` to `maxItems` long, optionally increasing. */
export function IsNumberList(rule: NumberListRule) {
  const allowed = describeNumberList(rule);
  const each = describeRange(rule.each);
  return field(
    'kilnNumberList',
    allowed,
    (value) => {
      if (!Array.isArray(value)) return `wrong type (${typeName(value)}, not a list)`;
      if (rule.minItems !== undefined && value.length < rule.minItems) return 'too few entries';
      if (rule.maxItems !== undefined && value.length > rule.maxItems) return 'too many entries';
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item !== 'number' || !Number.isFinite(item)) return `entry [${i}] is ${typeName(item)}, not a finite number`;
        if (!inRange(item, rule.each)) return `entry [${i}] (${item}) is not ${each}`;
        if (rule.increasing && i > 0 && !(item > (value[i - 1] as number)))
          return `entry [${i}] (${item}) is not greater than entry [${i - 1}] (${value[i - 1] as number})`;
      }
      return undefined;
    },
    rule,
    { kind: 'numberList', rule },
  );
}

/** A list (of nested objects, validated with `@ValidateNested()`), at least `minItems` long. */
export function IsListOf(items: string, rule: FieldOptions & { minItems?: number } = {}) {
  const allowed = rule.minItems ? `a list of at least ${rule.minItems} ${items}` : `a list of ${items}`;
  return field(
    'kilnList',
    allowed,
    (value) => {
      if (!Array.isArray(value)) return 'wrong type';
      if (rule.minItems !== undefined && value.length < rule.minItems) return 'too few entries';
      return undefined;
    },
    rule,
    { kind: 'list', ...(rule.minItems !== undefined ? { minItems: rule.minItems } : {}) },
  );
}

/** A mapping (a plain object, not a list). */
export function IsMapping(what: string, options: FieldOptions = {}) {
  return field(
    'kilnMapping',
    what,
    (value) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'wrong type';
      return undefined;
    },
    options,
    { kind: 'mapping' },
  );
}

/**
 * A check of the whole object the decorated field belongs to; its problem is
 * reported at the object's path with the object as the bad value. `schema` is the
 * same rule as a JSON Schema fragment, which the generated kiln.schema.json adds to
 * the object's schema (so a plugin's own rule needs no edit of src/config).
 */
export function ObjectRule(
  name: string,
  allowed: string,
  check: (object: Record<string, unknown>) => string | undefined,
  schema?: Readonly<Record<string, unknown>>,
) {
  return field(
    name,
    allowed,
    (_value, args) => check(args.object as Record<string, unknown>),
    { atParent: true },
    { kind: 'objectRule', name, ...(schema ? { schema } : {}) },
  );
}
