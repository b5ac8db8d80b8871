import * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { Plugin } from '../../src/core/plugin-decorator.js';
import { AVAILABLE, type OptimizationPlugin, type PluginContext } from '../../src/core/plugin.js';
import type { KilnModel } from '../../src/core/kiln-model.js';

/**
 * Deliberately broken plugins, as torch.compile ships `relu_*_TESTING_ONLY` backends:
 * each fails in one way the pipeline must catch. Registered only in `container`.
 */

/** Wraps a model, replacing its predict; disposes nothing of the wrapped model. */
export class WrappedModel implements KilnModel {
  constructor(
    private readonly inner: KilnModel,
    private readonly run: (x: tf.Tensor | tf.Tensor[]) => tf.Tensor | tf.Tensor[],
    readonly description = 'wrapped',
  ) {}
  get backend() {
    return this.inner.backend;
  }
  get inputs() {
    return this.inner.inputs;
  }
  get outputNames() {
    return this.inner.outputNames;
  }
  get layersModel() {
    return this.inner.layersModel;
  }
  predict(x: tf.Tensor | tf.Tensor[]) {
    return this.run(x);
  }
  trainableVariables() {
    return this.inner.trainableVariables();
  }
  disposed = 0;
  dispose() {
    this.disposed++;
  }
}

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* burn time on purpose */
  }
}

export function registerBrokenPlugins(container: DependencyContainer) {
  const meta = (name: string, description: string) => ({ name, kind: 'test', objective: 'latency' as const, description });

  @Plugin(meta('throws', 'apply throws'), { container })
  class ThrowsPlugin implements OptimizationPlugin {
    isAvailable() {
      return AVAILABLE;
    }
    async apply(): Promise<KilnModel> {
      throw new Error('kaboom in apply');
    }
  }

  @Plugin(meta('nan', 'returns NaN outputs'), { container })
  class NanPlugin implements OptimizationPlugin {
    isAvailable() {
      return AVAILABLE;
    }
    async apply(target: KilnModel) {
      return new WrappedModel(target, (x) => {
        const out = target.predict(x);
        const outs = Array.isArray(out) ? out : [out];
        const poisoned = outs.map((o) => tf.tidy(() => tf.mul(o, tf.scalar(NaN))));
        tf.dispose(outs);
        return Array.isArray(out) ? poisoned : poisoned[0]!;
      });
    }
  }

  @Plugin(meta('slower', 'correct but slower'), { container })
  class SlowerPlugin implements OptimizationPlugin {
    isAvailable() {
      return AVAILABLE;
    }
    async apply(target: KilnModel) {
      return new WrappedModel(target, (x) => {
        busyWait(2);
        return target.predict(x);
      });
    }
  }

  /** Writes zeros into the model it is handed: the user's on cpu, Kiln's kept copy once a backend was kept. */
  @Plugin(meta('mutates', 'writes into the weights of the model it is given'), { container })
  class MutatesPlugin implements OptimizationPlugin {
    isAvailable() {
      return AVAILABLE;
    }
    async apply(target: KilnModel) {
      const w = target.layersModel!.weights[0]!.read() as tf.Variable;
      tf.tidy(() => w.assign(tf.zerosLike(w)));
      return new WrappedModel(target, (x) => target.predict(x));
    }
  }

  @Plugin(meta('hangs', 'apply never settles'), { container })
  class HangsPlugin implements OptimizationPlugin {
    isAvailable() {
      return AVAILABLE;
    }
    apply(): Promise<KilnModel> {
      return new Promise<KilnModel>(() => undefined);
    }
  }

  @Plugin(meta('leaks', 'leaks a tensor per call'), { container })
  class LeaksPlugin implements OptimizationPlugin {
    isAvailable() {
      return AVAILABLE;
    }
    async apply(target: KilnModel) {
      return new WrappedModel(target, (x) => {
        tf.ones([4]);
        return target.predict(x);
      });
    }
  }

  @Plugin(meta('unavailable', 'never available'), { container })
  class UnavailablePlugin implements OptimizationPlugin {
    isAvailable() {
      return { available: false as const, reason: 'needs hardware this machine lacks' };
    }
    async apply(target: KilnModel) {
      return target;
    }
  }

  /** A correct plugin that is faster: it answers from a cache of the first outputs for the same input. */
  @Plugin(meta('faster', 'correct and faster (memoises predict per input tensor)'), { container })
  class FasterPlugin implements OptimizationPlugin {
    isAvailable() {
      return AVAILABLE;
    }
    async apply(target: KilnModel) {
      const cache = new Map<number, tf.Tensor[]>();
      const wrapped = new WrappedModel(target, (x) => {
        const key = (Array.isArray(x) ? x[0]! : x).id;
        let hit = cache.get(key);
        if (!hit) {
          const out = target.predict(x);
          hit = (Array.isArray(out) ? out : [out]).map((t) => tf.keep(t));
          cache.set(key, hit);
        }
        const copies = hit.map((t) => tf.clone(t));
        return copies.length === 1 ? copies[0]! : copies;
      });
      wrapped.dispose = () => {
        for (const ts of cache.values()) tf.dispose(ts);
        cache.clear();
      };
      return wrapped;
    }
  }

  /** Disposes the model it is handed, then throws. */
  @Plugin(meta('disposes-target', 'disposes the model it is given, then throws'), { container })
  class DisposesTargetPlugin implements OptimizationPlugin {
    isAvailable() {
      return AVAILABLE;
    }
    async apply(target: KilnModel): Promise<KilnModel> {
      target.dispose();
      throw new Error('oops after dispose');
    }
  }

  /** Disposes the LayersModel inside the model it is handed (a deeper dispose than `target.dispose()`), then throws. */
  @Plugin(meta('destroys-target', "disposes its target's LayersModel, then throws"), { container })
  class DestroysTargetPlugin implements OptimizationPlugin {
    isAvailable() {
      return AVAILABLE;
    }
    async apply(target: KilnModel): Promise<KilnModel> {
      target.layersModel!.dispose();
      throw new Error('oops after destroying');
    }
  }

  /**
   * Overruns its time limit and, as soon as it is told so (its signal aborts), switches
   * tf.js to `slow-init`, a backend whose initialisation takes 200 ms (while it is in
   * flight every tf.js op throws).
   */
  @Plugin(meta('late-backend-switch', 'times out, then switches the tf.js backend'), { container })
  class LateBackendSwitchPlugin implements OptimizationPlugin {
    isAvailable() {
      return AVAILABLE;
    }
    async apply(target: KilnModel, context: PluginContext): Promise<KilnModel> {
      registerSlowInitBackend();
      await new Promise((resolve) => context.signal.addEventListener('abort', resolve));
      void tf.setBackend('slow-init');
      return target;
    }
  }

  return {
    ThrowsPlugin,
    NanPlugin,
    SlowerPlugin,
    MutatesPlugin,
    HangsPlugin,
    LeaksPlugin,
    UnavailablePlugin,
    FasterPlugin,
    DisposesTargetPlugin,
    DestroysTargetPlugin,
    LateBackendSwitchPlugin,
  };
}

/** A tf.js backend named `slow-init`: the cpu backend's kernels, 200 ms to initialise. */
export function registerSlowInitBackend(): void {
  if (tf.findBackendFactory('slow-init')) return;
  const Cpu = (tf.findBackend('cpu') as object).constructor as new () => tf.KernelBackend;
  tf.registerBackend('slow-init', async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    return new Cpu();
  });
  for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: 'slow-init' });
}
