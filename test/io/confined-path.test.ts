import { promises as fs } from 'node:fs';
import * as path from 'node:path';

import { expect } from 'chai';

import { ModelFileError } from '../../src/core/errors.js';
import { resolveConfinedPath } from '../../src/io/index.js';
import { expectRejects } from '../helpers/expect-rejects.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

describe('io/confined-path', () => {
  let root: string | undefined;
  let model: string;

  beforeEach(async () => {
    root = await makeTempDir('kiln-io-test-');
    model = path.join(root, 'model');
    await fs.mkdir(path.join(model, 'sub'), { recursive: true });
    await fs.writeFile(path.join(model, 'sub', 'w.bin'), 'w');
    await fs.writeFile(path.join(root, 'outside.bin'), 'o');
  });
  afterEach(async () => {
    await removeTempDir(root);
    root = undefined;
  });

  it('resolves plain, nested and not-yet-existing paths inside the folder', async () => {
    expect(await resolveConfinedPath(model, 'sub/w.bin', 'model.json')).to.equal(path.join(model, 'sub', 'w.bin'));
    expect(await resolveConfinedPath(model, './sub/../sub/w.bin', 'model.json')).to.equal(path.join(model, 'sub', 'w.bin'));
    expect(await resolveConfinedPath(model, '..shard.bin', 'model.json')).to.equal(path.join(model, '..shard.bin'));
  });

  it('refuses escapes, absolute paths, the folder itself and non-strings', async () => {
    const cases: [unknown, RegExp][] = [
      ['../outside.bin', /"\.\.\/outside\.bin" in m\.json points outside the model folder/],
      ['sub/../../outside.bin', /points outside the model folder/],
      [path.join(root!, 'outside.bin'), /is an absolute path/],
      ['C:\\evil.bin', /is an absolute path/],
      ['.', /points outside the model folder/],
      [42, /is not a non-empty file name/],
    ];
    for (const [entry, pattern] of cases) {
      await expectRejects(resolveConfinedPath(model, entry, 'm.json'), pattern, ModelFileError);
    }
  });

  it('refuses a symlinked folder that leads outside', async () => {
    await fs.symlink(root!, path.join(model, 'up'));
    await expectRejects(
      resolveConfinedPath(model, 'up/outside.bin', 'm.json'),
      /resolves through a symlink to .*outside\.bin, outside the model folder: paths must be relative to the model folder/,
      ModelFileError,
    );
  });
});
