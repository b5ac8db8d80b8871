/**
 * Resolving paths named inside a model file so they cannot leave the model's folder.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

import { ModelFileError } from '../core/errors.js';

/** True when `child` is `root` itself or lies beneath it (both absolute, normalised). */
function isInside(root: string, child: string): boolean {
  const rel = path.relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function refuse(entry: string, manifestFile: string, why: string): ModelFileError {
  return new ModelFileError(
    `weightsManifest entry ${JSON.stringify(entry)} in ${manifestFile} ${why}: ` +
      'paths must be relative to the model folder and stay inside it. Fix the entry or re-export the model.',
  );
}

/**
 * Resolve `entry` (a path from a weights manifest) against `rootDir`, refusing anything that
 * could read outside it: absolute paths, `..` escapes, and symlinks whose target lies outside.
 *
 * A path that does not exist yet is returned resolved but unchecked for symlinks; reading it
 * then fails as a missing file, which the caller reports.
 *
 * @param rootDir the model's folder.
 * @param entry the path as written in the manifest.
 * @param manifestFile the model.json path, named in error messages.
 * @returns the absolute path to read.
 * @throws ModelFileError when the entry would escape `rootDir`.
 */
export async function resolveConfinedPath(rootDir: string, entry: unknown, manifestFile: string): Promise<string> {
  if (typeof entry !== 'string' || entry.length === 0) {
    throw refuse(String(entry), manifestFile, 'is not a non-empty file name');
  }
  if (entry.includes('\0')) throw refuse(entry, manifestFile, 'contains a NUL character');
  if (path.isAbsolute(entry) || path.win32.isAbsolute(entry) || path.posix.isAbsolute(entry)) {
    throw refuse(entry, manifestFile, 'is an absolute path');
  }
  const root = path.resolve(rootDir);
  const lexical = path.resolve(root, entry);
  if (!isInside(root, lexical) || lexical === root) {
    throw refuse(entry, manifestFile, 'points outside the model folder');
  }

  let realRoot: string;
  let realTarget: string;
  try {
    realRoot = await fs.realpath(root);
    realTarget = await fs.realpath(lexical);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return lexical;
    throw new ModelFileError(
      `Cannot resolve weightsManifest entry ${JSON.stringify(entry)} of ${manifestFile} (${(error as Error).message}): ` +
        'check the file exists and is readable.',
      { cause: error },
    );
  }
  if (!isInside(realRoot, realTarget) || realTarget === realRoot) {
    throw refuse(entry, manifestFile, `resolves through a symlink to ${realTarget}, outside the model folder`);
  }
  return realTarget;
}
