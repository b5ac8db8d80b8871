import type { FieldRule } from '../validators.js';
import type { ValidatorMetadata } from './class-shape.js';
import type { JsonSchema } from './json.js';

/** What a field's validators accept, as JSON Schema. */

/** The pattern of a non-blank string (Kiln's non-empty strings refuse whitespace only). */
export const NON_BLANK = '\\S';

/** What one of Kiln's field decorators (validators.ts) accepts. */
export function ruleSchema(rule: FieldRule): JsonSchema {
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
    case 'boolean':
      return { type: 'boolean' };
    case 'oneOf':
      return { type: 'string', enum: [...rule.values] };
    case 'string':
      return { type: 'string', pattern: NON_BLANK };
    case 'stringList': {
      const { pattern, minItems, unique, oneOf } = rule.rule;
      const item: JsonSchema = {
        type: 'string',
        pattern: NON_BLANK,
        ...(pattern ? { allOf: [{ pattern: pattern.source }] } : {}),
        ...(oneOf ? { enum: [...oneOf()] } : {}),
      };
      return { type: 'array', items: item, ...(minItems ? { minItems } : {}), ...(unique ? { uniqueItems: true } : {}) };
    }
    case 'numberList': {
      const { each, minItems, maxItems } = rule.rule;
      return {
        type: 'array',
        items: ruleSchema({ kind: 'number', range: each, allowed: '', optional: false }),
        ...(minItems ? { minItems } : {}),
        ...(maxItems !== undefined ? { maxItems } : {}),
      };
    }
    case 'list':
      return { type: 'array', ...(rule.minItems ? { minItems: rule.minItems } : {}) };
    case 'mapping':
      return { type: 'object' };
    case 'objectRule':
      return {};
  }
}

/** The few class-validator decorators a third-party options class is likely to use. */
export function otherValidatorsSchema(others: readonly ValidatorMetadata[]): JsonSchema {
  const out: JsonSchema = {};
  for (const m of others) {
    const c = m.constraints ?? [];
    const target: JsonSchema = m.each ? ((out.items as JsonSchema | undefined) ?? ((out.items = {}) as JsonSchema)) : out;
    switch (m.name) {
      case 'isIn':
        target.enum = [...(c[0] as unknown[])];
        break;
      case 'isInt':
        target.type = 'integer';
        break;
      case 'isNumber':
        target.type ??= 'number';
        break;
      case 'isString':
        target.type = 'string';
        break;
      case 'isBoolean':
        target.type = 'boolean';
        break;
      case 'min':
        target.minimum = c[0];
        break;
      case 'max':
        target.maximum = c[0];
        break;
      case 'isPositive':
        target.exclusiveMinimum = 0;
        break;
      case 'isArray':
        out.type = 'array';
        break;
      case 'arrayMinSize':
        out.minItems = c[0];
        break;
      default:
        break;
    }
  }
  if (out.type === undefined && out.items !== undefined) out.type = 'array';
  return out;
}
