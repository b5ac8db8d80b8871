/**
 * What the kit is asked to check: the plugin (by name or class), models of the
 * caller's own, the options of a run, and the fast config the kit runs under.
 */
import type * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import type { OptimizationPlugin } from '../core/plugin.js';
import type { ZooName } from '../zoo/index.js';

/** A plugin to check: its registered name, or its `@Plugin`-decorated class. */
export type ConformanceTarget = string | (new (...args: never[]) => OptimizationPlugin<never>);

/**
 * A model of your own to check the plugin on, besides or instead of the zoo's: of any
 * registered model format (a `tf.LayersModel`, a `tf.GraphModel`, or a model of a format
 * registered in `container`). `graphModelFixture(path)` makes one from a graph model's
 * model.json.
 */
export interface ConformanceModel<M extends object = tf.LayersModel | tf.GraphModel | object> {
  /** Names it in test titles and messages. */
  readonly name: string;
  /**
   * A fresh model with fixed weights; the kit disposes it. Called again for the pipeline
   * check when the direct check left weights the kit cannot write back (a graph model's,
   * or disposed ones), so it must give the same model each time.
   */
  build(): M | Promise<M>;
  /**
   * One tensor per model input, for the model `build` gave; the kit disposes them.
   * Default: at batch 1 (every free dimension 1), seeded normal values, small integers
   * (0..9) for int32 inputs, read off the inputs its format gives (`format.wrap(model).inputs`).
   */
  sampleInputs?(model: M): tf.Tensor[];
}

export interface ConformanceOptions {
  /** Zoo models (by name) or models of your own (of any registered format). Default: every zoo model. */
  readonly models?: readonly (ZooName | ConformanceModel)[];
  /** Build the zoo models scaled down (same input and output shapes). Default true. */
  readonly small?: boolean;
  /**
   * Name of the backend (as in `backend.preference`: cpu, wasm, ...) that the model
   * handed to `apply` runs on, as after Kiln's backend slot; the pipeline check uses
   * `backend.preference: [backend]`. Default `cpu`. A backend plugin's pipeline check
   * always runs it in the backend slot, on the user's model on cpu.
   */
  readonly backend?: string;
  /** The plugin's options, as under `options:` in kiln.yaml (validated against its options class). Default: none. */
  readonly options?: object;
  /**
   * Config keys over the kit's fast config (`validation.samples: 1`, `benchmark:
   * { warmup: 1, iterations: 5, minSpeedup: 0.01, endToEnd: false }`), e.g. `{ mode:
   * 'training' }` or `{ validation: { atol: 1e-4 } }`. `backend.preference` and
   * `pipeline` are the kit's.
   */
  readonly config?: object;
  /** Container the plugin is registered in (a class not registered there is registered in a child). Default: tsyringe's root. */
  readonly container?: DependencyContainer;
  /** Time limit for `apply`, in ms. Default: the plugin's `meta.timeLimitMs`, else the config's `timeLimitMs`. */
  readonly timeLimitMs?: number;
  /** Also run each model through Kiln's pipeline (`optimize()` with the one plugin). Default true. */
  readonly pipeline?: boolean;
  /** Seed of the zoo weights and sample inputs. Default 0. */
  readonly seed?: number;
  /**
   * How a result outside the tolerance is judged. Default (false): the plugin's
   * contract is kept when the pipeline then rejects that result with a reason (it
   * catches the drift, rolls back and says why). `true`: the plugin must keep within
   * the tolerance itself, or throw `CandidateRejectedError` (check with
   * `context.validation.check`); a result the pipeline has to reject fails.
   */
  readonly strictTolerance?: boolean;
}

/** The fast settings the kit runs under: small sample counts, a short benchmark, any speed-up accepted. */
export const CONFORMANCE_CONFIG = Object.freeze({
  validation: { samples: 1 },
  benchmark: { warmup: 1, iterations: 5, minSpeedup: 0.01, endToEnd: false },
});
