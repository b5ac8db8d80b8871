import 'reflect-metadata';

/** Reflect-metadata keys: the text, on the prototype and property; the described properties, on the prototype. */
const DESCRIPTION = 'kiln:description';
const DESCRIBED = 'kiln:described-properties';

/**
 * What a config or options field means, for the configuration reference and the JSON
 * Schema (`json-schema/`): `@Description('Seed of the perturbations, ...')`. Write
 * what the key does, not its type, range or default (those come from the field's
 * validator and initialiser). Plugin authors put it on their options classes; in plain
 * JavaScript, `Description('...')(Options.prototype, 'key')`.
 */
export function Description(text: string) {
  if (typeof text !== 'string' || text.trim() === '') throw new TypeError('@Description needs a non-empty text');
  return function (target: object, propertyName: string): void {
    Reflect.defineMetadata(DESCRIPTION, text, target, propertyName);
    const own = (Reflect.getOwnMetadata(DESCRIBED, target) as string[] | undefined) ?? [];
    if (!own.includes(propertyName)) Reflect.defineMetadata(DESCRIBED, [...own, propertyName], target);
  };
}

/** The `@Description` of a field of `cls` (or of a class it extends); undefined where it has none. */
export function descriptionOf(cls: Function, property: string): string | undefined {
  return Reflect.getMetadata(DESCRIPTION, cls.prototype as object, property) as string | undefined;
}

/** The properties of `cls` (and of the classes it extends) that carry a `@Description`. */
export function describedPropertiesOf(cls: Function): string[] {
  const out = new Set<string>();
  for (
    let proto = cls.prototype as object | null;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const property of (Reflect.getOwnMetadata(DESCRIBED, proto) as string[] | undefined) ?? []) out.add(property);
  }
  return [...out];
}
