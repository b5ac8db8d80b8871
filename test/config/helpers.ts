/** Shared helpers for the src/config tests. */
import 'reflect-metadata';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

import { IsIn } from 'class-validator';
import { container, type DependencyContainer } from 'tsyringe';

import { AVAILABLE, type Availability, type OptimizationPlugin, type PluginMeta } from '../../src/core/plugin.js';
import type { KilnModel } from '../../src/core/kiln-model.js';
import { Plugin } from '../../src/core/plugin-decorator.js';
import { MODULE_IMPORTER, type ModuleImporter } from '../../src/core/tokens.js';
import { validationMessage } from '../../src/config/validators.js';

/** Writes `text` to `dir/name` and returns the file's path. */
export async function writeFile(dir: string, name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text, 'utf8');
  return file;
}

/** Options of the fake mixed-precision plugin. */
export class FakePrecisionOptions {
  @IsIn(['auto', 'float16', 'float32'], validationMessage('invalid value', 'one of: auto, float16, float32'))
  policy: string = 'auto';
}

/** A plugin class that does nothing, registered under `meta` in `target`. */
function definePlugin(meta: PluginMeta, target: DependencyContainer): void {
  @Plugin(meta, { container: target })
  class FakePlugin implements OptimizationPlugin {
    readonly meta = meta;
    isAvailable(): Availability {
      return AVAILABLE;
    }
    async apply(model: KilnModel): Promise<KilnModel> {
      return model;
    }
  }
  void FakePlugin;
}

/**
 * A child of the root container with fake plugins graph-compile, op-fusion (no
 * options) and mixed-precision (options: policy), and, when `importer` is given,
 * that importer as `MODULE_IMPORTER`.
 */
export function fakePluginContainer(importer?: ModuleImporter): DependencyContainer {
  const child = container.createChildContainer();
  definePlugin({ name: 'graph-compile', kind: 'compile', objective: 'latency', description: 'fake' }, child);
  definePlugin({ name: 'op-fusion', kind: 'fusion', objective: 'latency', description: 'fake' }, child);
  definePlugin(
    { name: 'mixed-precision', kind: 'precision', objective: 'size', description: 'fake', optionsClass: FakePrecisionOptions },
    child,
  );
  if (importer) child.register(MODULE_IMPORTER, { useValue: importer });
  return child;
}

/** An importer stand-in that records what it was asked for and imports nothing. */
export function recordingImporter(): { importer: ModuleImporter; specifiers: string[] } {
  const specifiers: string[] = [];
  return {
    specifiers,
    importer: async (specifier) => {
      specifiers.push(specifier);
      return {};
    },
  };
}

export const EXAMPLE_YAML = `plugins: [./my-plugin.js]
backend:
  preference: [tensorflow-gpu, tensorflow, wasm, cpu]
pipeline:
  - name: graph-compile
  - name: op-fusion
  - oneOf:
      - name: mixed-precision
        options: { policy: auto }
      - name: mixed-precision
        options: { policy: float16 }
validation: { atol: 1e-5, rtol: 1e-4, samples: 4 }
benchmark: { warmup: 10, iterations: 50, minSpeedup: 1.05, outlierSigma: 2 }
fallback: true
`;
