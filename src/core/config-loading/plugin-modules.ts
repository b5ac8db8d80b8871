import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { describeError, PluginError } from '../../errors/index.js';
import { MODULE_IMPORTER, type ModuleImporter } from '../tokens.js';

/** Whether `specifier` names a file (`./x.js`, `../x.js`, `/abs/x.js`) rather than a package. */
export function isPathSpecifier(specifier: string): boolean {
  return (
    specifier === '.' ||
    specifier === '..' ||
    /^\.\.?[\\/]/.test(specifier) ||
    path.isAbsolute(specifier) ||
    path.win32.isAbsolute(specifier)
  );
}

/**
 * What to hand to `import()` for a `plugins:` entry: a `file:` URL for a path
 * (relative paths are resolved against `baseDir`, the config file's folder); for a
 * package name, the file Node resolves it to from `baseDir` (so packages installed
 * next to the user's config are found), or the bare name when it cannot be resolved
 * that way (e.g. an ESM-only package without a `require` export), left to `import()`.
 */
export function resolvePluginSpecifier(specifier: string, baseDir: string): string {
  if (/^(file|data|node):/.test(specifier)) return specifier;
  if (isPathSpecifier(specifier)) return pathToFileURL(path.resolve(baseDir, specifier)).href;
  try {
    const resolved = createRequire(path.join(baseDir, 'kiln.yaml')).resolve(specifier, { paths: [baseDir] });
    return path.isAbsolute(resolved) ? pathToFileURL(resolved).href : resolved;
  } catch {
    return specifier;
  }
}

/** The importer used when the container has no `MODULE_IMPORTER`: `import()` of {@link resolvePluginSpecifier}. */
export function defaultModuleImporter(baseDir: string): ModuleImporter {
  return (specifier) => import(resolvePluginSpecifier(specifier, baseDir));
}

export interface ImportPluginModulesOptions {
  /** Folder relative paths are resolved against (the config file's folder). */
  readonly baseDir: string;
  /** Where the list came from, for messages: the config file's path, or "config object". */
  readonly source: string;
  /**
   * Container whose `MODULE_IMPORTER` is used, if it has one; the importer then gets
   * each entry exactly as written in the config. Default: tsyringe's root container.
   */
  readonly container?: DependencyContainer;
}

/**
 * Imports the modules named under `plugins:`, in order, one at a time (a module may
 * rely on one before it). Importing is what registers their `@Plugin` classes. A
 * module that fails to import is a PluginError (PLUGIN_IMPORT) naming it and the config.
 */
export async function importPluginModules(specifiers: readonly string[], options: ImportPluginModulesOptions): Promise<void> {
  const container = options.container ?? rootContainer;
  const importer = container.isRegistered(MODULE_IMPORTER, true)
    ? container.resolve<ModuleImporter>(MODULE_IMPORTER)
    : defaultModuleImporter(options.baseDir);
  for (const [index, specifier] of specifiers.entries()) {
    try {
      await importer(specifier);
    } catch (error) {
      throw new PluginError(
        'PLUGIN_IMPORT',
        `Could not import plugin module ${JSON.stringify(specifier)} (plugins[${index}] in ${options.source}): ${describeError(error)}. ` +
          'Check that the path is relative to the config file, or that the package is installed.',
        { cause: error },
      );
    }
  }
}
