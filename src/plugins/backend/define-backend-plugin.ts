import { EngineManager } from '../../core/engines/engine-manager.js';
import type { ExecutionEngine } from '../../core/engines/execution-engine.js';
import { Plugin, type PluginRegistrationOptions } from '../../core/plugin-decorator.js';
import { BackendPlugin } from './backend-plugin.js';

/** Plugin name for a backend in `backend.preference`: wasm -> backend-wasm. */
export function backendPluginName(backend: string): string {
  return `backend-${backend}`;
}

/** A backend plugin class: what `defineBackendPlugin` returns. */
export type BackendPluginClass = new (engines: EngineManager) => BackendPlugin;

/**
 * The `backend-<engine.name>` plugin of an engine, registered like any `@Plugin` class
 * (in tsyringe's root container when this runs, or in `options.container`). The backend
 * slot then offers the engine under its name in `backend.preference`.
 */
export function defineBackendPlugin(engine: ExecutionEngine, options: PluginRegistrationOptions = {}): BackendPluginClass {
  @Plugin({ name: backendPluginName(engine.name), kind: 'backend', objective: 'latency', description: engine.description }, options)
  class EngineBackendPlugin extends BackendPlugin {
    protected readonly engine = engine;
    constructor(engines: EngineManager) {
      super(engines);
    }
  }
  Object.defineProperty(EngineBackendPlugin, 'name', { value: `${pascalCase(engine.name)}BackendPlugin` });
  return EngineBackendPlugin;
}

function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
