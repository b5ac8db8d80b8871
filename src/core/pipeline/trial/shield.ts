import type { KilnModel } from '../../kiln-model.js';

/**
 * `model` as a candidate is handed it: the same model (every property and method, and
 * `instanceof`, answer as the model's own), except that `dispose` does nothing. The
 * pipeline owns the models it keeps and frees them itself; a plugin that disposes its
 * `target` (and then throws, say) cannot take the model every later candidate builds on
 * down with it.
 */
export function shieldFromDispose(model: KilnModel): KilnModel {
  return new Proxy(model, {
    get(target, property) {
      if (property === 'dispose') return () => undefined;
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
