import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { GraphFunction } from '../graph-function.js';
import { graphFunctionSettings, type CompileOptions } from './compile-options.js';

/** Metadata key under which `@compiled` records its options, per method name. */
export const COMPILED_METHODS = Symbol.for('kiln.compiledMethods');

const perInstance = new WeakMap<object, Map<string | symbol, GraphFunction>>();

/**
 * Compiles a method of tensors per instance, like `compile(fn)`. The decorator only
 * records the options; the first call on each instance builds that instance's
 * compiled function (so each model object gets its own graphs, guards and variables).
 *
 * ```ts
 * class PolicyValueNet {
 *   @compiled({ mode: 'training' })
 *   forward(x: tf.Tensor): tf.Tensor[] { ... }
 * }
 * ```
 */
export function compiled(options: CompileOptions = {}) {
  return function (target: object, key: string | symbol, descriptor: PropertyDescriptor): PropertyDescriptor {
    const original = descriptor.value as (...args: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
    if (typeof original !== 'function') throw new TypeError(`@compiled() goes on a method; ${String(key)} is not one`);
    const recorded = (Reflect.getOwnMetadata(COMPILED_METHODS, target) as Map<string | symbol, CompileOptions> | undefined) ?? new Map();
    recorded.set(key, options);
    Reflect.defineMetadata(COMPILED_METHODS, recorded, target);
    const name = `${target.constructor?.name ?? 'object'}.${String(key)}`;
    return {
      ...descriptor,
      value: function (this: object, ...args: tf.Tensor[]) {
        if (!args.every((a) => a instanceof tf.Tensor)) {
          throw new TypeError(`${name} is @compiled: its arguments must all be tensors (got ${args.map((a) => typeof a).join(', ')})`);
        }
        let functions = perInstance.get(this);
        if (!functions) perInstance.set(this, (functions = new Map()));
        let fn = functions.get(key);
        if (!fn)
          functions.set(
            key,
            (fn = new GraphFunction((...xs) => original.apply(this, xs), graphFunctionSettings(options, name, undefined, 'auto'))),
          );
        return fn.call(args);
      },
    };
  };
}

/** The compiled function behind a `@compiled` method of `instance` (after its first call), for stats. */
export function compiledFunctionOf(instance: object, method: string | symbol): GraphFunction | undefined {
  return perInstance.get(instance)?.get(method);
}
