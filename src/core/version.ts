import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Kiln's version, from its package.json. */
export const KILN_VERSION: string = (() => {
  for (const up of ['../..', '../../..']) {
    try {
      const pkg = JSON.parse(readFileSync(join(__dirname, up, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tfjs-kiln' && pkg.version) return pkg.version;
    } catch {
      // try the next folder up
    }
  }
  return '0.0.0';
})();
