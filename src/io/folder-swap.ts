/**
 * Replacing a whole folder, crash-safe: the new folder is staged beside the old one and
 * swapped in by two renames (old folder aside, new folder in), then the old one is
 * removed. A crash between the two renames leaves the target missing and the old folder
 * aside; the next swap into the same target (or `repairInterruptedSwap`) puts it back
 * first. Staging and aside folders of processes that are gone are removed by the next swap.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

import { TEMP_PREFIX } from './temp-names.js';

/** A step of a swap, for fault-injection hooks: before the old folder goes aside, before the new one goes in, before the old one is removed. */
export type SwapStep = 'aside' | 'in' | 'cleanup';

export interface ReplaceFolderOptions {
  /** Whether an entry of the old folder that is not among the new files is carried into the new folder (hard link, else copy). */
  readonly carry: (name: string) => boolean;
  /** Fault-injection hook (tests): awaited before each step of the swap. */
  readonly beforeStep?: (step: SwapStep) => void | Promise<void>;
}

function stagingPrefix(base: string): string {
  return `${TEMP_PREFIX}${base}-`;
}

function asidePrefix(base: string): string {
  return `${TEMP_PREFIX}old-${base}-`;
}

function uniqueSuffix(): string {
  return `${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** The pid a staging or aside name carries (`<prefix><pid>-<hex>`), or undefined. */
function pidOf(name: string, prefix: string): number | undefined {
  const match = /^(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length));
  return match ? Number(match[1]) : undefined;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Repairs what a swap into `target` that was interrupted (its process gone) left behind:
 * puts the old folder back when `target` is missing, and removes leftover staging and
 * aside folders. Returns what it did, one line each.
 */
export async function repairInterruptedSwap(target: string): Promise<string[]> {
  const parent = path.dirname(target);
  const base = path.basename(target);
  const entries = await fs.readdir(parent).catch(() => [] as string[]);
  const dead = (prefix: string) =>
    entries
      .filter((e) => e.startsWith(prefix))
      .filter((e) => {
        const pid = pidOf(e, prefix);
        return pid !== undefined && !isAlive(pid);
      });
  const asides = dead(asidePrefix(base));
  const stagings = dead(stagingPrefix(base)).filter((e) => !e.startsWith(asidePrefix(base)));
  const done: string[] = [];
  const targetExists = await fs.lstat(target).then(
    () => true,
    () => false,
  );
  if (!targetExists && asides.length) {
    const newest = await newestOf(parent, asides);
    await fs.rename(path.join(parent, newest), target);
    done.push(`put back ${target} from ${newest} (a save into it was interrupted)`);
    asides.splice(asides.indexOf(newest), 1);
  }
  for (const leftover of [...asides, ...stagings]) {
    await fs.rm(path.join(parent, leftover), { recursive: true, force: true });
    done.push(`removed ${path.join(parent, leftover)} (left by an interrupted save)`);
  }
  return done;
}

async function newestOf(parent: string, names: readonly string[]): Promise<string> {
  const stats = await Promise.all(names.map(async (n) => ({ n, t: (await fs.stat(path.join(parent, n))).mtimeMs })));
  return stats.sort((a, b) => b.t - a.t)[0]!.n;
}

/** The folder an interrupted swap set aside in place of `target` (missing now), or undefined. */
export async function interruptedSwapOf(target: string): Promise<string | undefined> {
  const prefix = asidePrefix(path.basename(target));
  const entries = await fs.readdir(path.dirname(target)).catch(() => [] as string[]);
  const aside = entries.find((e) => e.startsWith(prefix) && pidOf(e, prefix) !== undefined);
  return aside === undefined ? undefined : path.join(path.dirname(target), aside);
}

/**
 * Replaces the folder `target` (which exists) by `staging` (a complete new folder beside
 * it, from `stagingFolderFor`), after carrying over the old entries `options.carry` keeps.
 */
export async function swapFolder(target: string, staging: string, options: ReplaceFolderOptions): Promise<void> {
  const staged = new Set(await fs.readdir(staging));
  for (const entry of await fs.readdir(target)) {
    if (staged.has(entry) || entry.startsWith(TEMP_PREFIX) || !options.carry(entry)) continue;
    await carryEntry(path.join(target, entry), path.join(staging, entry));
  }
  const aside = path.join(path.dirname(target), `${asidePrefix(path.basename(target))}${uniqueSuffix()}`);
  await options.beforeStep?.('aside');
  await fs.rename(target, aside);
  try {
    await options.beforeStep?.('in');
    await fs.rename(staging, target);
  } catch (error) {
    await fs.rename(aside, target).catch(() => undefined);
    throw error;
  }
  await options.beforeStep?.('cleanup');
  await fs.rm(aside, { recursive: true, force: true });
}

/** A fresh staging folder name beside `target`. */
export function stagingFolderFor(target: string): string {
  return path.join(path.dirname(target), `${stagingPrefix(path.basename(target))}${uniqueSuffix()}`);
}

async function carryEntry(from: string, to: string): Promise<void> {
  const stat = await fs.lstat(from);
  if (stat.isDirectory()) {
    await fs.cp(from, to, { recursive: true, verbatimSymlinks: true });
  } else if (stat.isSymbolicLink()) {
    await fs.symlink(await fs.readlink(from), to);
  } else {
    await fs.link(from, to).catch(() => fs.copyFile(from, to));
  }
}
