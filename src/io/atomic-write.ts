/**
 * Crash- and failure-safe writes: a single file replaced atomically, or a set of files
 * (a model.json and its shards) committed into a folder as a group.
 *
 * Everything temporary is named `.kiln-tmp-*` and lives beside its target, so the final
 * `rename` never crosses a file-system boundary.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

import { describeError, ModelFileError } from '../core/errors.js';
import { repairInterruptedSwap, swapFolder, type ReplaceFolderOptions } from './folder-swap.js';
import { TEMP_PREFIX, tempName } from './temp-names.js';

export { TEMP_PREFIX } from './temp-names.js';

/** File contents accepted by the atomic writers (strings are written as UTF-8). */
export type FileData = Uint8Array | string;

/** One file of a group written by {@link writeFilesAtomic}. */
export interface FileToWrite {
  /** Plain file name (no folders) inside the target folder. */
  name: string;
  data: FileData;
}

/** Options for {@link writeFilesAtomic}. */
export interface WriteFilesAtomicOptions {
  /**
   * File committed after all the others, so a reader that sees it also sees the rest.
   * Defaults to `model.json` when the group holds one.
   */
  last?: string;
  /**
   * Fault-injection hook (for tests): awaited before each staged file is moved into an
   * existing folder. Throwing from it aborts the write, which is then rolled back.
   */
  beforeCommit?: (name: string) => void | Promise<void>;
  /**
   * Replace the whole folder instead of committing file by file: the new folder is staged
   * (the group, plus every old entry `carry` keeps) and swapped in by two renames, so a
   * crash at any point leaves the old folder or the new one, whole; the next write into
   * the folder repairs an interrupted swap (see folder-swap.ts). `beforeCommit` is then
   * awaited for each file before the swap.
   */
  replaceFolder?: ReplaceFolderOptions;
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

async function writeAndSync(file: string, data: FileData): Promise<void> {
  const handle = await fs.open(file, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync a folder so renames in it are durable; not every platform allows it, so failures are ignored. */
async function syncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Directory fsync is unsupported on some platforms (e.g. Windows); the data itself was synced.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

async function lstatOrNull(p: string): Promise<import('node:fs').Stats | null> {
  try {
    return await fs.lstat(p);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw error;
  }
}

/** mkdir -p; returns the first folder it created (undefined when all existed). */
async function makeParents(dir: string, forWhat: string): Promise<string | undefined> {
  try {
    return await fs.mkdir(dir, { recursive: true });
  } catch (error) {
    throw new ModelFileError(
      `Cannot create folder ${dir} for ${forWhat} (${describeError(error)}): ` +
        'check the path is not a file and that you have permission to write there.',
      { cause: error },
    );
  }
}

/** Remove the empty folders `makeParents` created, deepest first, stopping at `firstCreated`. */
async function removeCreatedParents(dir: string, firstCreated: string | undefined): Promise<void> {
  if (firstCreated === undefined) return;
  let current = dir;
  for (;;) {
    try {
      await fs.rmdir(current);
    } catch {
      return;
    }
    if (current === firstCreated) return;
    const up = path.dirname(current);
    if (up === current) return;
    current = up;
  }
}

/**
 * Write `data` to `target` atomically: the bytes go to a `.kiln-tmp-*` file in the same folder,
 * are fsynced, and the temp file is renamed over `target`. Readers see the old file or the new
 * one, never a partial write. On failure the temp file is removed and `target` is untouched.
 * Parent folders are created as needed.
 *
 * @throws ModelFileError naming `target` when the write fails.
 */
export async function writeFileAtomic(target: string, data: FileData): Promise<void> {
  const abs = path.resolve(target);
  const dir = path.dirname(abs);
  await makeParents(dir, abs);
  const tmp = path.join(dir, tempName(path.basename(abs)));
  try {
    await writeAndSync(tmp, data);
    await fs.rename(tmp, abs);
  } catch (error) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new ModelFileError(
      `Cannot write ${abs} (${describeError(error)}): check the path is a writable file location ` +
        '(not a folder) and that the disk has space. The previous file, if any, is unchanged.',
      { cause: error },
    );
  }
  await syncDir(dir);
}

function checkNames(target: string, files: readonly FileToWrite[], last: string | undefined): void {
  const seen = new Set<string>();
  for (const file of files) {
    const name = file?.name;
    if (
      typeof name !== 'string' ||
      name === '' ||
      name === '.' ||
      name === '..' ||
      name.includes('/') ||
      name.includes('\\') ||
      name.includes('\0') ||
      name.startsWith(TEMP_PREFIX)
    ) {
      throw new ModelFileError(
        `Cannot write ${JSON.stringify(name)} into ${target}: file names must be plain names without folders ` +
          `and must not start with ${TEMP_PREFIX}.`,
      );
    }
    if (seen.has(name)) {
      throw new ModelFileError(`Cannot write ${name} into ${target} twice in one group: give each file a distinct name.`);
    }
    seen.add(name);
  }
  if (last !== undefined && !seen.has(last)) {
    throw new ModelFileError(`Cannot commit ${last} last into ${target}: it is not among the files being written.`);
  }
}

/**
 * Write a group of files into `dir` so that either all of them land or none do.
 *
 * All files are staged (written and fsynced) in a fresh `.kiln-tmp-*` folder beside `dir`.
 * If `dir` does not exist, the staging folder is renamed to `dir` in one step. Otherwise each
 * staged file is renamed into `dir`, with `options.last` (default `model.json`) last, so a reader
 * never sees a model.json whose shards are not there yet; files being replaced are hard-linked
 * aside first, and if any step fails the files already moved are rolled back. Staging and backup
 * folders are always removed; files in `dir` that are not part of the group are never touched.
 *
 * @param dir target folder (created, with its parents, when missing).
 * @param files plain file names and their contents.
 * @throws ModelFileError naming `dir` (and the file at fault) when anything fails.
 */
export async function writeFilesAtomic(dir: string, files: readonly FileToWrite[], options: WriteFilesAtomicOptions = {}): Promise<void> {
  const target = path.resolve(dir);
  const last = options.last ?? (files.some((f) => f?.name === 'model.json') ? 'model.json' : undefined);
  checkNames(target, files, last);
  const ordered = last === undefined ? [...files] : [...files.filter((f) => f.name !== last), ...files.filter((f) => f.name === last)];

  const parent = path.dirname(target);
  const firstCreated = await makeParents(parent, target);
  if (options.replaceFolder) await repairInterruptedSwap(target);
  const staging = path.join(parent, tempName(path.basename(target)));
  const progress: GroupProgress = { committedAnything: false, keepBackup: false };

  try {
    await stageFiles(staging, ordered);
    const targetStat = await renameStagingToTarget(staging, target);
    if (targetStat === null) {
      progress.committedAnything = true;
      await syncDir(parent);
      return;
    }
    await checkTargetFolder(target, targetStat, ordered);
    if (options.replaceFolder) {
      for (const file of ordered) await options.beforeCommit?.(file.name);
      await swapFolder(target, staging, options.replaceFolder);
      progress.committedAnything = true;
      await syncDir(parent);
      return;
    }
    progress.backup = await fs.mkdtemp(path.join(parent, `${TEMP_PREFIX}backup-`));
    await commitFileByFile(target, staging, progress.backup, ordered, progress, options.beforeCommit);
    await syncDir(target);
  } catch (error) {
    if (!progress.committedAnything) {
      await fs.rm(staging, { recursive: true, force: true }).catch(() => undefined);
      await removeCreatedParents(parent, firstCreated);
    }
    if (error instanceof ModelFileError) throw error;
    throw new ModelFileError(
      `Cannot write ${ordered.map((f) => f.name).join(', ')} into ${target} (${describeError(error)}): ` +
        'check the folder is writable and the disk has space. The previous files, if any, are unchanged.',
      { cause: error },
    );
  } finally {
    await fs.rm(staging, { recursive: true, force: true }).catch(() => undefined);
    if (progress.backup !== undefined && !progress.keepBackup)
      await fs.rm(progress.backup, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** How far a {@link writeFilesAtomic} got, for cleaning up after it. */
interface GroupProgress {
  /** Some file of the group reached the target folder; a failure from then on leaves the parent folders in place. */
  committedAnything: boolean;
  /** The folder the files being replaced are saved in, once made. */
  backup?: string;
  /** Rolling back failed: the backup folder holds the only copy of the previous files, so it stays. */
  keepBackup: boolean;
}

/** Write and fsync every file into a fresh staging folder. */
async function stageFiles(staging: string, files: readonly FileToWrite[]): Promise<void> {
  // mkdir (not mkdtemp) so the folder gets normal permissions if it becomes `dir` itself.
  await fs.mkdir(staging);
  for (const file of files) await writeAndSync(path.join(staging, file.name), file.data);
  await syncDir(staging);
}

/**
 * Where `target` does not exist, rename the staging folder to it (the whole group lands in
 * one step) and return null. Otherwise return what is at `target`, including where someone
 * created it meanwhile; the files are then committed one by one.
 */
async function renameStagingToTarget(staging: string, target: string): Promise<import('node:fs').Stats | null> {
  const targetStat = await lstatOrNull(target);
  if (targetStat !== null) return targetStat;
  try {
    await fs.rename(staging, target);
    return null;
  } catch (error) {
    // Someone created `target` meanwhile: fall back to committing file by file.
    if (!['EEXIST', 'ENOTEMPTY', 'EISDIR', 'ENOTDIR', 'EPERM'].includes(errnoCode(error) ?? '')) throw error;
    const raced = await lstatOrNull(target);
    if (raced === null) throw error;
    return raced;
  }
}

/** Refuse a target that is not a folder, or that holds a folder where one of the files goes. */
async function checkTargetFolder(target: string, targetStat: import('node:fs').Stats, files: readonly FileToWrite[]): Promise<void> {
  if (!targetStat.isDirectory()) {
    throw new ModelFileError(`Cannot save into ${target}: it exists and is not a folder. Choose a folder path, or move that file away.`);
  }
  for (const file of files) {
    const existing = await lstatOrNull(path.join(target, file.name));
    if (existing?.isDirectory()) {
      throw new ModelFileError(
        `Cannot write ${path.join(target, file.name)}: a folder with that name is in the way. ` +
          'Move or remove it and save again; nothing was changed.',
      );
    }
  }
}

/**
 * Move each staged file into `target` in order, first saving any file it replaces in
 * `backup` (hard link, else copy). If a step fails, the files already moved are
 * rolled back and the error rethrown; if rolling back fails too, the backup is kept and
 * the error names it.
 */
async function commitFileByFile(
  target: string,
  staging: string,
  backup: string,
  files: readonly FileToWrite[],
  progress: GroupProgress,
  beforeCommit: WriteFilesAtomicOptions['beforeCommit'],
): Promise<void> {
  const committed: string[] = [];
  const backedUp = new Set<string>();
  try {
    for (const file of files) {
      const dest = path.join(target, file.name);
      await beforeCommit?.(file.name);
      if ((await lstatOrNull(dest)) !== null) {
        const saved = path.join(backup, file.name);
        try {
          await fs.link(dest, saved);
        } catch {
          await fs.copyFile(dest, saved);
        }
        backedUp.add(file.name);
      }
      await fs.rename(path.join(staging, file.name), dest);
      committed.push(file.name);
      progress.committedAnything = true;
    }
  } catch (error) {
    const problems = await rollBack(target, backup, committed, backedUp);
    if (problems.length > 0) {
      progress.keepBackup = true;
      throw new ModelFileError(
        `Writing into ${target} failed (${describeError(error)}) and rolling back also failed (${problems.join('; ')}). ` +
          `The previous files are kept in ${backup}: copy them back into ${target}.`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Undo the commits, last first: a replaced file is moved back from `backup`, a new one is
 * removed. Returns what could not be undone, one `name: why` each.
 */
async function rollBack(target: string, backup: string, committed: readonly string[], backedUp: ReadonlySet<string>): Promise<string[]> {
  const problems: string[] = [];
  for (const name of [...committed].reverse()) {
    const dest = path.join(target, name);
    try {
      if (backedUp.has(name)) await fs.rename(path.join(backup, name), dest);
      else await fs.rm(dest, { force: true });
    } catch (undoError) {
      problems.push(`${name}: ${describeError(undoError)}`);
    }
  }
  return problems;
}
