import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A fresh folder under os.tmpdir() (its real path); remove it with {@link removeTempDir}. */
export async function makeTempDir(prefix = 'kiln-test-'): Promise<string> {
  return fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), prefix)));
}

/** Removes `dir` and everything in it; does nothing when `dir` is undefined. */
export async function removeTempDir(dir: string | undefined): Promise<void> {
  if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
}
