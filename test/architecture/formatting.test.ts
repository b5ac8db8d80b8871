import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import * as prettier from 'prettier';

const REPO = path.resolve(__dirname, '../../..');
const FOLDERS = ['src', 'test', 'bench', 'examples', 'scripts'];

/** Every .ts and .js source file of the folders Prettier formats (see .prettierrc.json; `npm run format` rewrites them). */
function formattedFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(path.join(REPO, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(rel);
      } else if (/\.(ts|js|cjs|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(rel);
    }
  };
  for (const folder of FOLDERS) if (fs.existsSync(path.join(REPO, folder))) walk(folder);
  return out.sort();
}

describe('architecture: formatting', () => {
  it('every source file is as Prettier writes it (run `npm run format` to fix)', async function () {
    const files = formattedFiles();
    expect(files.length).to.be.greaterThan(250);
    const unformatted: string[] = [];
    for (const file of files) {
      const absolute = path.join(REPO, file);
      const options = await prettier.resolveConfig(absolute);
      expect(options, `.prettierrc.json applies to ${file}`).to.not.equal(null);
      if (!(await prettier.check(fs.readFileSync(absolute, 'utf8'), { ...options, filepath: absolute }))) unformatted.push(file);
    }
    expect(unformatted, 'files Prettier would change').to.deep.equal([]);
  });
});
