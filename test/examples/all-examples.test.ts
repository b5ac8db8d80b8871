import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';

import { expect } from 'chai';

import { REPO_ROOT } from './repo-root.js';

/** Every numbered example, and the smoke test that runs it in `npm test`. */
const SMOKE_TESTS: Record<string, string> = {
  '01-quickstart': 'quickstart.test.ts',
  '02-train-with-decorators': 'train-with-decorators.test.ts',
  '03-custom-plugin': 'custom-plugin.test.ts',
  '04-cli': 'cli.test.ts',
};

describe('examples/', () => {
  it('every numbered example has a README and a smoke test here (so none can rot)', async () => {
    const folders = (await fs.readdir(path.join(REPO_ROOT, 'examples'), { withFileTypes: true }))
      .filter((e) => e.isDirectory() && /^\d\d-/.test(e.name))
      .map((e) => e.name)
      .sort();
    expect(folders).to.deep.equal(Object.keys(SMOKE_TESTS).sort());
    for (const folder of folders) {
      expect(existsSync(path.join(REPO_ROOT, 'examples', folder, 'README.md')), `${folder}/README.md`).to.equal(true);
      expect(existsSync(path.join(REPO_ROOT, 'test', 'examples', SMOKE_TESTS[folder]!)), `test/examples/${SMOKE_TESTS[folder]}`).to.equal(
        true,
      );
    }
  });

  it('every example imports Kiln by its package name, as a user who copies it would (never the source folders)', async () => {
    const files: string[] = [];
    for (const folder of Object.keys(SMOKE_TESTS)) {
      for (const name of await fs.readdir(path.join(REPO_ROOT, 'examples', folder)))
        if (name.endsWith('.ts')) files.push(path.join(folder, name));
    }
    expect(files).to.not.deep.equal([]);
    for (const file of files) {
      const text = await fs.readFile(path.join(REPO_ROOT, 'examples', file), 'utf8');
      const specifiers = [...text.matchAll(/\bfrom\s+'([^']+)'|\brequire\('([^']+)'\)/g)].map((m) => m[1] ?? m[2]!);
      for (const specifier of specifiers) expect(specifier, `examples/${file}`).to.not.match(/(^|\/)(src|dist)(\/|$)/);
    }
  });
});
