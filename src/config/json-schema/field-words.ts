import type { ClassField } from './class-shape.js';

/** A field's type and what it accepts, in the words of the reference and of the validation errors. */

/** The type in a word or two: integer, number, boolean, string, list of strings, mapping, ... */
export function typeWords(field: ClassField): string {
  const { rule, nested } = field;
  if (nested) {
    if (nested.container === 'list') return 'list of mappings';
    return 'mapping';
  }
  switch (rule?.kind) {
    case 'number':
      return rule.range.integer ? 'integer' : 'number';
    case 'boolean':
      return 'boolean';
    case 'oneOf':
      return 'string';
    case 'string':
      return 'string';
    case 'stringList':
      return 'list of strings';
    case 'numberList':
      return rule.rule.each.integer ? 'list of integers' : 'list of numbers';
    case 'list':
      return 'list';
    case 'mapping':
      return 'mapping';
    default:
      break;
  }
  const names = new Set(field.others.map((m) => m.name));
  if (names.has('isInt')) return 'integer';
  if (names.has('isNumber')) return 'number';
  if (names.has('isString') || names.has('isIn')) return 'string';
  if (names.has('isBoolean')) return 'boolean';
  return 'any';
}

/** What the field accepts, in the words of its validation errors (`''` where no validator says). */
export function allowedWords(field: ClassField): string {
  if (field.rule) return field.rule.allowed;
  const allowed = field.others.map((m) => m.context?.allowed).find((a) => typeof a === 'string');
  return allowed ?? '';
}
