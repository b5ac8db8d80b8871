import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../core/errors.js';

/** What is at `p`: a folder, a file, or nothing (undefined). */
async function kindOf(p: string): Promise<'folder' | 'file' | undefined> {
  const stat = await fs.stat(p).catch(() => undefined);
  return stat === undefined ? undefined : stat.isDirectory() ? 'folder' : 'file';
}

/** The nearest folder at or above `p` that exists; a file on the way is a usage error naming `flag` and `target`. */
async function nearestFolder(p: string, flag: string, target: string): Promise<string> {
  for (let at = p; ; at = path.dirname(at)) {
    const kind = await kindOf(at);
    if (kind === 'folder') return at;
    if (kind === 'file')
      throw new ConfigError(`${flag} ${target}: ${at} is a file, so nothing can be written under it. Choose another path.`);
    if (path.dirname(at) === at) return at;
  }
}

async function mustBeWritable(folder: string, flag: string, target: string): Promise<void> {
  try {
    await fs.access(folder, constants.W_OK);
  } catch {
    throw new ConfigError(`${flag} ${target}: cannot write in ${folder} (permission denied). Choose a folder you can write to.`);
  }
}

/**
 * Checks `--out` before any model work: a folder path (not `.json`), not a file, not the
 * input model's folder nor a folder that holds it (the save replaces the whole folder),
 * and writable (its parent too, which the swap renames in).
 */
export async function checkOutFolder(out: string, inputModelJson: string): Promise<void> {
  const abs = path.resolve(out);
  if (abs.toLowerCase().endsWith('.json')) {
    throw new ConfigError(
      `--out ${abs}: --out is the folder to write model.json, its shards and kiln-report.json into, not a .json file. Pass a folder path.`,
    );
  }
  const inputDir = path.dirname(path.resolve(inputModelJson));
  if (abs === inputDir || inputDir.startsWith(abs + path.sep)) {
    throw new ConfigError(
      `--out ${abs} ${abs === inputDir ? 'is' : 'holds'} the folder of the input model (${inputModelJson}): writing there would replace the model being read. Choose another folder.`,
    );
  }
  const kind = await kindOf(abs);
  if (kind === 'file') throw new ConfigError(`--out ${abs} is a file. Pass a folder path (it is created when missing).`);
  const parent = await nearestFolder(kind === 'folder' ? path.dirname(abs) : abs, '--out', abs);
  await mustBeWritable(parent, '--out', abs);
  if (kind === 'folder') await mustBeWritable(abs, '--out', abs);
}

/** Checks `--report` before any model work: not a folder, under a writable folder. */
export async function checkReportFile(file: string): Promise<void> {
  const abs = path.resolve(file);
  if ((await kindOf(abs)) === 'folder') throw new ConfigError(`--report ${abs} is a folder. Pass the path of the HTML file to write.`);
  await mustBeWritable(await nearestFolder(path.dirname(abs), '--report', abs), '--report', abs);
}
