import { expect } from 'chai';
import { container, inject } from 'tsyringe';
import type { KilnConfig } from '../../src/config/kiln-config.js';
import { Plugin, pluginMetaOf } from '../../src/core/plugin-decorator.js';
import { AVAILABLE, type OptimizationPlugin } from '../../src/core/plugin.js';
import { PluginRegistry } from '../../src/core/plugin-registry.js';
import type { KilnModel } from '../../src/core/kiln-model.js';
import { KILN_CONFIG, PLUGIN_CLASS } from '../../src/core/tokens.js';
import { Validator } from '../../src/core/validation/validator.js';
import { EngineManager } from '../../src/core/engines/engine-manager.js';
import { createRunContainer } from '../../src/core/run-container.js';
import { loadConfig } from '../../src/core/config-loading/load-config.js';
import '../../src/plugins/index.js';

class Noop implements OptimizationPlugin {
  isAvailable() {
    return AVAILABLE;
  }
  async apply(target: KilnModel) {
    return target;
  }
}

describe('plugin registry', () => {
  it('lists the built-in backend plugins with their kind, registered by importing their module', () => {
    const registry = new PluginRegistry();
    const backends = registry
      .list()
      .filter((p) => p.meta.kind === 'backend')
      .map((p) => p.meta.name);
    expect(backends).to.deep.equal([
      'backend-tensorflow-gpu',
      'backend-tensorflow',
      'backend-wasm',
      'backend-cpu',
      'backend-onnxruntime',
      'backend-wasm-threads',
    ]);
    expect(registry.get('backend-wasm').meta.objective).to.equal('latency');
  });

  it('sees plugins registered in a child container, and only there', () => {
    const child = container.createChildContainer();
    @Plugin({ name: 'child-only', kind: 'test', objective: 'latency', description: 'x' }, { container: child })
    class ChildOnly extends Noop {}
    expect(new PluginRegistry(child).get('child-only').pluginClass).to.equal(ChildOnly);
    expect(new PluginRegistry(child).has('backend-cpu')).to.equal(true);
    expect(new PluginRegistry().has('child-only')).to.equal(false);
    expect(pluginMetaOf(ChildOnly)!.name).to.equal('child-only');
  });

  it('refuses two classes with the same name', () => {
    const child = container.createChildContainer();
    @Plugin({ name: 'twin', kind: 'test', objective: 'latency', description: 'a' }, { container: child })
    class TwinA extends Noop {}
    @Plugin({ name: 'twin', kind: 'test', objective: 'latency', description: 'b' }, { container: child })
    class TwinB extends Noop {}
    expect(TwinA).to.not.equal(TwinB);
    expect(() => new PluginRegistry(child)).to.throw(
      'Two plugins are named "twin": TwinA and TwinB. Plugin names must be unique: rename one of them.',
    );
  });

  it('answers an unknown name with the names it knows', () => {
    expect(() => new PluginRegistry().get('graph-compil')).to.throw(
      /^Unknown plugin "graph-compil"\. Registered plugins: backend-tensorflow-gpu, backend-tensorflow, backend-wasm, backend-cpu.*Run `kiln plugins`/,
    );
  });

  it('refuses a class registered without @Plugin metadata', () => {
    const child = container.createChildContainer();
    child.register(PLUGIN_CLASS, { useValue: class Bare extends Noop {} });
    expect(() => new PluginRegistry(child)).to.throw(/Class Bare is registered as a Kiln plugin but has no @Plugin/);
  });

  it("injects the run's services into a plugin's constructor", async () => {
    const parent = container.createChildContainer();
    @Plugin({ name: 'needs-services', kind: 'test', objective: 'latency', description: 'x' }, { container: parent })
    class NeedsServices extends Noop {
      constructor(
        readonly validator: Validator,
        readonly backends: EngineManager,
        @inject(KILN_CONFIG) readonly config: KilnConfig,
      ) {
        super();
      }
    }
    const config = await loadConfig({ fallback: false });
    const run = createRunContainer(config, { parent });
    const plugin = run.resolve(PluginRegistry).create('needs-services') as NeedsServices;
    expect(plugin.validator).to.be.instanceOf(Validator);
    expect(plugin.backends).to.be.instanceOf(EngineManager);
    expect(plugin.config.fallback).to.equal(false);
    // One backend manager per run container: a second run gets its own.
    const other = createRunContainer(config, { parent }).resolve(PluginRegistry).create('needs-services') as NeedsServices;
    expect(other.backends).to.not.equal(plugin.backends);
  });
});

describe('plugin registry: child containers', () => {
  it("lets a child container's plugin stand in for its parent's of the same name", () => {
    const child = container.createChildContainer();
    @Plugin({ name: 'graph-compile', kind: 'test', objective: 'latency', description: 'stand-in' }, { container: child })
    class StandIn extends Noop {}
    expect(new PluginRegistry(child).get('graph-compile').pluginClass).to.equal(StandIn);
    expect(new PluginRegistry().get('graph-compile').pluginClass).to.not.equal(StandIn);
  });
});
