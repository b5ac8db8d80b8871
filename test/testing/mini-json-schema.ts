/**
 * A small draft-07 validator for the keywords Kiln's generated schema uses, so the
 * tests can check that the schema accepts and refuses what Kiln's loader does
 * without a JSON Schema dependency. Unknown keywords fail loudly.
 */
export type Schema = boolean | { [keyword: string]: unknown };

const ANNOTATIONS = new Set(['$schema', 'title', 'description', 'default', 'definitions', 'examples']);
const KNOWN = new Set([
  ...ANNOTATIONS,
  '$ref',
  'type',
  'enum',
  'const',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'items',
  'properties',
  'additionalProperties',
  'required',
  'maxProperties',
  'anyOf',
  'oneOf',
  'allOf',
  'not',
  'if',
  'then',
  'else',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/** Problems with `value` under `schema` (empty: valid); `root` resolves `#/definitions/...`. */
export function validate(schema: Schema, value: unknown, root: Schema = schema, path = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: no value allowed`];
  const s = schema as Record<string, unknown>;
  for (const key of Object.keys(s)) if (!KNOWN.has(key)) throw new Error(`mini validator: unknown keyword ${key} at ${path}`);
  const errors: string[] = [];
  const sub = (child: unknown, v: unknown, p = path) => validate(child as Schema, v, root, p);
  if (typeof s.$ref === 'string') {
    const name = /^#\/definitions\/(.+)$/.exec(s.$ref)?.[1];
    const target = name ? ((root as Record<string, Record<string, Schema>>).definitions ?? {})[name] : undefined;
    if (target === undefined) throw new Error(`mini validator: unresolved $ref ${s.$ref}`);
    errors.push(...sub(target, value));
  }
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => matchesType(value, t))) return [...errors, `${path}: expected ${types.join(' or ')}, got ${typeOf(value)}`];
  }
  if (s.enum !== undefined && !(s.enum as unknown[]).some((e) => JSON.stringify(e) === JSON.stringify(value)))
    errors.push(`${path}: not one of ${JSON.stringify(s.enum)}`);
  if (s.const !== undefined && JSON.stringify(s.const) !== JSON.stringify(value)) errors.push(`${path}: not ${JSON.stringify(s.const)}`);
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) errors.push(`${path}: below ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) errors.push(`${path}: above ${s.maximum}`);
    if (typeof s.exclusiveMinimum === 'number' && !(value > s.exclusiveMinimum)) errors.push(`${path}: not above ${s.exclusiveMinimum}`);
  }
  if (typeof value === 'string' && typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value))
    errors.push(`${path}: does not match ${s.pattern}`);
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) errors.push(`${path}: fewer than ${s.minItems} items`);
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) errors.push(`${path}: more than ${s.maxItems} items`);
    if (s.uniqueItems === true && new Set(value.map((v) => JSON.stringify(v))).size !== value.length)
      errors.push(`${path}: duplicate items`);
    if (s.items !== undefined) value.forEach((v, i) => errors.push(...sub(s.items, v, `${path}[${i}]`)));
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    for (const [key, v] of Object.entries(record)) {
      if (key in properties) errors.push(...sub(properties[key], v, `${path}.${key}`));
      else if (s.additionalProperties !== undefined) errors.push(...sub(s.additionalProperties, v, `${path}.${key}`));
    }
    for (const key of (s.required ?? []) as string[]) if (!(key in record)) errors.push(`${path}: missing ${key}`);
    if (typeof s.maxProperties === 'number' && Object.keys(record).length > s.maxProperties)
      errors.push(`${path}: more than ${s.maxProperties} keys`);
  }
  if (Array.isArray(s.allOf)) for (const part of s.allOf) errors.push(...sub(part, value));
  if (Array.isArray(s.anyOf) && !s.anyOf.some((part) => sub(part, value).length === 0)) errors.push(`${path}: matches none of anyOf`);
  if (Array.isArray(s.oneOf) && s.oneOf.filter((part) => sub(part, value).length === 0).length !== 1)
    errors.push(`${path}: does not match exactly one of oneOf`);
  if (s.not !== undefined && sub(s.not, value).length === 0) errors.push(`${path}: matches "not"`);
  if (s.if !== undefined) {
    const branch = sub(s.if, value).length === 0 ? s.then : s.else;
    if (branch !== undefined) errors.push(...sub(branch, value));
  }
  return errors;
}
