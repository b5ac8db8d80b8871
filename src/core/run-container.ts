import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import type { KilnConfig } from '../config/kiln-config.js';
import { ConsoleLogger, type Logger } from './logger.js';
import { PluginRegistry } from './plugin-registry.js';
import { EngineRegistry } from './engines/engine-registry.js';
import { FormatRegistry } from './formats/format-registry.js';
import { KILN_CONFIG, LOGGER, MODULE_IMPORTER, nodeImporter, RUN_CONTAINER } from './tokens.js';

export interface RunContainerOptions {
  /** Parent to inherit registrations from (tests pass a child with stand-ins). Default: tsyringe's root. */
  readonly parent?: DependencyContainer;
  readonly logger?: Logger;
}

/**
 * The child container one pipeline run resolves from: its config, its logger, the
 * plugin, format and engine registries over the parent's registrations, and defaults for anything the
 * parent chain does not provide (Node's importer, a warnings-only console logger).
 */
export function createRunContainer(config: KilnConfig, options: RunContainerOptions = {}): DependencyContainer {
  const child = (options.parent ?? rootContainer).createChildContainer();
  child.register(KILN_CONFIG, { useValue: config });
  if (options.logger) child.register(LOGGER, { useValue: options.logger });
  else if (!child.isRegistered(LOGGER, true)) child.register(LOGGER, { useValue: new ConsoleLogger('warn') });
  if (!child.isRegistered(MODULE_IMPORTER, true)) child.register(MODULE_IMPORTER, { useValue: nodeImporter });
  child.register(PluginRegistry, { useFactory: (c) => new PluginRegistry(c) });
  child.register(FormatRegistry, { useFactory: (c) => new FormatRegistry(c) });
  child.register(EngineRegistry, { useFactory: (c) => new EngineRegistry(c) });
  child.register(RUN_CONTAINER, { useValue: child });
  return child;
}
