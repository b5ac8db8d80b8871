import * as tf from '@tensorflow/tfjs';
import type { Worker } from 'node:worker_threads';
import { container, type DependencyContainer } from 'tsyringe';
import { nodeImporter } from '../../../../src/core/tokens.js';
import type { Decision } from '../../../../src/core/pipeline/report.js';
import { MODULE_IMPORTER, type ModuleImporter } from '../../../../src/core/tokens.js';
import { THREADED_FACTORY_MODULE, WASM_PACKAGE } from '../../../../src/engines/tfjs/wasm-threads/threaded-wasm.js';
import { FAST_CONFIG } from '../../../helpers/tiny-models.js';

/** Fast settings; minSpeedup near 0 so that these tests check selection and validation, not speed. */
export function threadsConfig(preference: string[], backend: { threads?: number } = {}, minSpeedup = 0.01) {
  return { ...FAST_CONFIG, backend: { preference, ...backend }, benchmark: { ...FAST_CONFIG.benchmark, minSpeedup }, pipeline: [] };
}

export const decision = (decisions: readonly Decision[], plugin: string): Decision => {
  const found = decisions.find((d) => d.plugin === plugin);
  if (!found) throw new Error(`no decision for ${plugin}: ${decisions.map((d) => d.plugin).join(', ')}`);
  return found;
};

/** A child container whose MODULE_IMPORTER is `importer`. */
export function withImporter(importer: ModuleImporter): DependencyContainer {
  const child = container.createChildContainer();
  child.register(MODULE_IMPORTER, { useValue: importer });
  return child;
}

type Factory = (config: Record<string, unknown> & { PThread?: { unusedWorkers: Worker[] } }) => Promise<unknown>;

/**
 * An importer that hands out the real modules, except that the threaded build's
 * emscripten factory is wrapped by `wrap` (which gets the real one). Every worker the
 * real factory creates is recorded in `workers`.
 */
export function wrappedFactoryImporter(wrap: (real: Factory, config: Parameters<Factory>[0]) => Promise<unknown>): {
  importer: ModuleImporter;
  workers: Worker[];
} {
  const workers: Worker[] = [];
  const importer: ModuleImporter = async (specifier) => {
    const real = await nodeImporter(specifier);
    if (specifier !== THREADED_FACTORY_MODULE) return real;
    const factory = ((real as { default?: unknown }).default ?? real) as Factory;
    const recording: Factory = (config) => {
      const ready = factory(config);
      workers.push(...(config.PThread?.unusedWorkers ?? []));
      return ready;
    };
    return { default: (config: Parameters<Factory>[0]) => wrap(recording, config) };
  };
  return { importer, workers };
}

/** The real package with another version string, as a newer tfjs-backend-wasm would have. */
export function otherVersionImporter(version: string): ModuleImporter {
  return async (specifier) => {
    const real = await nodeImporter(specifier);
    return specifier === WASM_PACKAGE ? { ...(real as object), version_wasm: version } : real;
  };
}

/** A predict result as an array. */
export function outputsOf(y: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(y) ? y : [y];
}
