/**
 * The class a field's `@Type(() => X)` names. This is the only place Kiln reads
 * class-transformer's private state: class-transformer records `@Type` in its
 * `defaultMetadataStorage`, which its index does not export, and it has no public
 * function that reads the metadata back (it only uses it while transforming). So the
 * storage is required from its own module here; if a class-transformer release moves
 * it, this file is the one to change. Everything else the generator reads is public:
 * class-validator's `getMetadataStorage()` and reflect-metadata's `design:type`.
 */

interface TypeMetadataStorage {
  findTypeMetadata(target: Function, propertyName: string): { typeFunction(): Function } | undefined;
}

const typeStorage = (require('class-transformer/cjs/storage') as { defaultMetadataStorage: TypeMetadataStorage }).defaultMetadataStorage;

/** The class given by `@Type` on `cls`'s `property`; undefined where it has none. */
export function typeDecoratorClassOf(cls: Function, property: string): Function | undefined {
  return typeStorage.findTypeMetadata(cls, property)?.typeFunction();
}
