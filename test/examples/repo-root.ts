import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** The repository root (holds package.json and examples/); found by walking up from this file. */
export const REPO_ROOT: string = (() => {
  let dir = __dirname;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'examples'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`the repository root was not found above ${__dirname}`);
    dir = parent;
  }
})();
