import { promises as fs } from 'node:fs';
import * as path from 'node:path';

import { expect } from 'chai';

import { ModelFileError } from '../../src/core/errors.js';
import { writeFileAtomic, writeFilesAtomic } from '../../src/io/index.js';
import { expectRejects } from '../helpers/expect-rejects.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';
import { snapshot, tempLeftovers } from './helpers.js';

describe('io/atomic-write', () => {
  let root: string | undefined;
  let tmp: string;

  beforeEach(async () => {
    root = await makeTempDir('kiln-io-test-');
    tmp = root;
  });
  afterEach(async () => {
    await removeTempDir(root);
    root = undefined;
  });

  describe('writeFileAtomic', () => {
    it('creates parent folders and writes bytes or text', async () => {
      const file = path.join(tmp, 'a', 'b', 'out.bin');
      await writeFileAtomic(file, new Uint8Array([1, 2, 3]));
      expect([...(await fs.readFile(file))]).to.deep.equal([1, 2, 3]);
      await writeFileAtomic(file, 'text');
      expect(await fs.readFile(file, 'utf8')).to.equal('text');
      expect(await tempLeftovers(tmp)).to.deep.equal([]);
    });

    it('fails with the target named, removes its temp file and leaves the folder as it was', async () => {
      const target = path.join(tmp, 'occupied');
      await fs.mkdir(target);
      await fs.writeFile(path.join(target, 'keep.txt'), 'keep');
      const before = await snapshot(tmp);
      await expectRejects(writeFileAtomic(target, 'x'), /Cannot write .*occupied .*not a folder/, ModelFileError);
      expect(await snapshot(tmp)).to.deep.equal(before);
    });
  });

  describe('writeFilesAtomic', () => {
    it('creates a missing folder in one step with all files', async () => {
      const dir = path.join(tmp, 'x', 'model');
      await writeFilesAtomic(dir, [
        { name: 'model.json', data: '{}' },
        { name: 'w.bin', data: new Uint8Array([9]) },
      ]);
      expect((await fs.readdir(dir)).sort()).to.deep.equal(['model.json', 'w.bin']);
      expect(await tempLeftovers(tmp)).to.deep.equal([]);
      // A normal folder, not mkdtemp's 0700.
      expect((await fs.stat(dir)).mode & 0o077).to.not.equal(0);
    });

    it('commits the designated file last and leaves unrelated files alone', async () => {
      const dir = path.join(tmp, 'm');
      await fs.mkdir(dir);
      await fs.writeFile(path.join(dir, 'other.txt'), 'untouched');
      const order: string[] = [];
      await writeFilesAtomic(
        dir,
        [
          { name: 'index.json', data: 'new index' },
          { name: 'a.bin', data: 'a' },
          { name: 'b.bin', data: 'b' },
        ],
        { last: 'index.json', beforeCommit: (name) => void order.push(name) },
      );
      expect(order).to.deep.equal(['a.bin', 'b.bin', 'index.json']);
      expect(await fs.readFile(path.join(dir, 'index.json'), 'utf8')).to.equal('new index');
      expect(await fs.readFile(path.join(dir, 'other.txt'), 'utf8')).to.equal('untouched');
      expect(await tempLeftovers(tmp)).to.deep.equal([]);
    });

    it('rolls back replaced and new files when a commit fails midway', async () => {
      const dir = path.join(tmp, 'm');
      await fs.mkdir(dir);
      await fs.writeFile(path.join(dir, 'model.json'), 'old json');
      await fs.writeFile(path.join(dir, 'a.bin'), 'old a');
      const before = await snapshot(tmp);
      await expectRejects(
        writeFilesAtomic(
          dir,
          [
            { name: 'a.bin', data: 'new a' },
            { name: 'b.bin', data: 'new b' },
            { name: 'model.json', data: 'new json' },
          ],
          {
            beforeCommit: (name) => {
              if (name === 'model.json') throw new Error('injected');
            },
          },
        ),
        /Cannot write a\.bin, b\.bin, model\.json into .*m \(injected\)/,
        ModelFileError,
      );
      expect(await snapshot(tmp)).to.deep.equal(before);
    });

    it('changes nothing when a folder stands where one of the files goes', async () => {
      const dir = path.join(tmp, 'm');
      await fs.mkdir(path.join(dir, 'b.bin'), { recursive: true });
      await fs.writeFile(path.join(dir, 'a.bin'), 'old a');
      const before = await snapshot(tmp);
      await expectRejects(
        writeFilesAtomic(dir, [
          { name: 'a.bin', data: 'new a' },
          { name: 'b.bin', data: 'new b' },
        ]),
        /Cannot write .*m[/\\]b\.bin: a folder with that name is in the way\. .*nothing was changed/,
      );
      expect(await snapshot(tmp)).to.deep.equal(before);
    });

    it('keeps the backup folder, and names it, when rolling back fails too', async () => {
      const dir = path.join(tmp, 'm');
      await fs.mkdir(dir);
      await fs.writeFile(path.join(dir, 'a.bin'), 'old a');
      const error = await expectRejects(
        writeFilesAtomic(
          dir,
          [
            { name: 'a.bin', data: 'new a' },
            { name: 'model.json', data: 'new json' },
          ],
          {
            beforeCommit: async (name) => {
              if (name !== 'model.json') return;
              // Lose the saved copy of a.bin, so that putting it back fails.
              const backup = (await fs.readdir(tmp)).find((entry) => entry.startsWith('.kiln-tmp-backup-'))!;
              await fs.rm(path.join(tmp, backup, 'a.bin'));
              throw new Error('injected');
            },
          },
        ),
        /^Writing into .*m failed \(injected\) and rolling back also failed \(a\.bin: .*\)\. The previous files are kept in .*\.kiln-tmp-backup-\S+: copy them back into .*m\.$/,
      );
      const leftovers = await tempLeftovers(tmp);
      expect(leftovers).to.have.length(1);
      expect(error.message).to.include(path.join(tmp, leftovers[0]!));
      expect(await fs.readFile(path.join(dir, 'a.bin'), 'utf8')).to.equal('new a');
    });

    it('leaves nothing behind when the target folder did not exist and writing fails', async () => {
      const dir = path.join(tmp, 'new', 'deeper', 'model');
      await expectRejects(
        writeFilesAtomic(dir, [
          { name: 'a.bin', data: 'a' },
          { name: 'a.bin', data: 'b' },
        ]),
        /Cannot write a\.bin into .* twice/,
        ModelFileError,
      );
      // A failure while staging also removes the parent folders it created.
      const bad = { name: 'x.bin', data: 42 as unknown as string };
      await expectRejects(writeFilesAtomic(dir, [bad]), /Cannot write x\.bin into /, ModelFileError);
      expect(await fs.readdir(tmp)).to.deep.equal([]);
    });

    it('refuses names that are not plain file names', async () => {
      for (const name of ['../x', 'a/b', '', '.kiln-tmp-sneaky']) {
        await expectRejects(writeFilesAtomic(tmp, [{ name, data: 'x' }]), /file names must be plain names/, ModelFileError);
      }
      await expectRejects(writeFilesAtomic(tmp, [{ name: 'a', data: 'x' }], { last: 'b' }), /Cannot commit b last/, ModelFileError);
      expect(await fs.readdir(tmp)).to.deep.equal([]);
    });

    it('refuses a target path that is a file', async () => {
      const file = path.join(tmp, 'file');
      await fs.writeFile(file, 'x');
      await expectRejects(writeFilesAtomic(file, [{ name: 'a', data: 'y' }]), /exists and is not a folder/, ModelFileError);
      expect(await fs.readFile(file, 'utf8')).to.equal('x');
      expect(await tempLeftovers(tmp)).to.deep.equal([]);
    });
  });
});
