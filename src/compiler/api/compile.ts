import * as tf from '@tensorflow/tfjs';
import { GraphFunction, type GraphFunctionStats } from '../graph-function.js';
import { graphFunctionSettings, sampleList, type CompileOptions } from './compile-options.js';
import { ActiveBackendModel, CompiledModel } from './compiled-model.js';

/** A compiled function of tensors: call it like the original; `stats()` and `dispose()` besides. */
export interface CompiledFunction<F extends (...inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]> {
  (...inputs: Parameters<F>): ReturnType<F>;
  stats(): GraphFunctionStats;
  dispose(): void;
}

/**
 * Kiln's `torch.compile`: traces the model or function to a kernel graph on first
 * call (or now, given `sampleInputs`), optimises the graph, and replays it lean.
 * Guards on input shapes and dtypes, backend and mode; a miss recompiles; a trace
 * that is unsafe to replay (a value read, through a Tensor method or the backend, among
 * others) runs eagerly with the reason (see `stats()`).
 *
 * No guard sees the JavaScript state the function closes over: a trace freezes a
 * number, a flag or a captured tensor rebound later. Pass such values as tensor
 * arguments; `verify` (default: the first replay of each plan) runs eager beside the
 * plan and falls back to eager (or throws under `strict`) where they differ.
 *
 * - `compile(model)` returns a model-like object whose `predict` works like the model's,
 *   on the backend active at each call (it never switches the global backend; a
 *   `tf.setBackend` between calls compiles a plan for the new backend).
 * - `compile(fn)` returns a function with the same signature (tensors in, tensor or
 *   tensors out). Works inside `tf.grads`, `tf.variableGrads` and `optimizer.minimize`.
 */
export function compile(model: tf.LayersModel, options?: CompileOptions): CompiledModel;
export function compile<F extends (...inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]>(
  fn: F,
  options?: CompileOptions,
): CompiledFunction<F>;
export function compile(
  target: tf.LayersModel | ((...inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]),
  options: CompileOptions = {},
): CompiledModel | CompiledFunction<never> {
  if (target instanceof tf.LayersModel) return new CompiledModel(new ActiveBackendModel(target), options);
  if (typeof target !== 'function') throw new TypeError('compile() takes a tf.LayersModel or a function of tensors');
  const graphFn = new GraphFunction(target, graphFunctionSettings(options, target.name || 'function'));
  const compiled = ((...inputs: tf.Tensor[]) => graphFn.call(inputs)) as unknown as CompiledFunction<never>;
  compiled.stats = () => graphFn.stats();
  compiled.dispose = () => graphFn.dispose();
  const samples = sampleList(options.sampleInputs);
  if (samples) tf.dispose(graphFn.call(samples));
  return compiled;
}
