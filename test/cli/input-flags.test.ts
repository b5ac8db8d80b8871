import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { InvalidArgumentError } from 'commander';

import { inputEntriesFromFlags, parseInputRanges, parseInputShapes, parseSampleInputs } from '../../src/cli/input-flags.js';
import { InputError } from '../../src/core/errors.js';
import { expectRejects } from '../helpers/expect-rejects.js';
import { encodeNpy } from '../helpers/npy-writer.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

/** The message of the InvalidArgumentError that `fn` throws (commander prints it after the flag and the value). */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidArgumentError);
    return (error as Error).message;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('cli: the input flags (--input-shape, --input-range, --sample-input)', () => {
  describe('--input-shape [NAME:]D0xD1x...', () => {
    it('named, unnamed, comma separated and repeated', () => {
      const first = parseInputShapes('LR:1x64x64x3');
      expect(first).to.deep.equal([{ flag: '--input-shape', text: 'LR:1x64x64x3', name: 'LR', shape: [1, 64, 64, 3] }]);
      const all = parseInputShapes(' a:2x8 , scope/b:0:2X4 ', first);
      expect(all.map((f) => [f.name, f.shape])).to.deep.equal([
        ['LR', [1, 64, 64, 3]],
        ['a', [2, 8]],
        ['scope/b:0', [2, 4]],
      ]);
      expect(parseInputShapes('1x16x16x3')).to.deep.equal([{ flag: '--input-shape', text: '1x16x16x3', shape: [1, 16, 16, 3] }]);
    });

    it('refuses each fault with its fix', () => {
      expect(refusal(() => parseInputShapes('LR:1x0x16x3'))).to.equal(
        '"LR:1x0x16x3": the size at axis 1 is 0; every size must be a whole number >= 1.',
      );
      expect(refusal(() => parseInputShapes('LR:1x-2x3'))).to.equal(
        '"LR:1x-2x3": "-2" at axis 1 is not a size. Sizes are whole numbers >= 1 joined by "x", e.g. LR:1x64x64x3 (or 1x64x64x3 for a model of one input).',
      );
      expect(refusal(() => parseInputShapes('LR:1x?x3'))).to.match(/^"LR:1x\?x3": "\?" at axis 1 is not a size\./);
      expect(refusal(() => parseInputShapes('LR:1x2.5x3'))).to.match(/^"LR:1x2\.5x3": "2\.5" at axis 1 is not a size\./);
      expect(refusal(() => parseInputShapes('LR:1xx3'))).to.match(/^"LR:1xx3": an empty size at axis 1 is not a size\./);
      expect(refusal(() => parseInputShapes('LR:[1,2]'))).to.match(/^"LR:\[1": "\[1" at axis 0 is not a size\./);
      expect(refusal(() => parseInputShapes('LR:'))).to.equal(
        '"LR:" gives no sizes. Write LR:1x64x64x3 (or 1x64x64x3 for a model of one input).',
      );
      expect(refusal(() => parseInputShapes(':1x2'))).to.equal(
        '":1x2": the input name before ":" is empty. Write LR:1x64x64x3 (or 1x64x64x3 for a model of one input).',
      );
    });
  });

  describe('--input-range [NAME:]MIN..MAX', () => {
    it('named, unnamed, negative and fractional bounds', () => {
      expect(parseInputRanges('LR:0..255,-1..1').map((f) => [f.name, f.range])).to.deep.equal([
        ['LR', [0, 255]],
        [undefined, [-1, 1]],
      ]);
      expect(parseInputRanges('x:-0.5..1.5e1')[0]!.range).to.deep.equal([-0.5, 15]);
    });

    it('refuses what is not a range, and a range the wrong way round', () => {
      expect(refusal(() => parseInputRanges('0-255'))).to.equal(
        '"0-255" is not a range: write the smallest and the largest value joined by "..", e.g. LR:0..255 (or 0..255 for a model of one input).',
      );
      expect(refusal(() => parseInputRanges('LR:a..b'))).to.match(/^"LR:a\.\.b" is not a range/);
      expect(refusal(() => parseInputRanges('LR:255..0'))).to.equal('"LR:255..0": the minimum (255) must be below the maximum (0).');
      expect(refusal(() => parseInputRanges('1..1'))).to.equal('"1..1": the minimum (1) must be below the maximum (1).');
    });
  });

  describe('--sample-input [NAME=]file.npy', () => {
    it('named and unnamed; split at commas that start a NAME=, not at commas inside a path', () => {
      const parsed = parseSampleInputs('LR=a.npy,mask=dir/b,c.npy');
      expect(parsed.map((f) => [f.name, f.file])).to.deep.equal([
        ['LR', path.resolve('a.npy')],
        ['mask', path.resolve('dir/b,c.npy')],
      ]);
      expect(parseSampleInputs('x.npy')[0]).to.deep.equal({ flag: '--sample-input', text: 'x.npy', file: path.resolve('x.npy') });
    });

    it('refuses an empty name or file, and images (only .npy is read)', () => {
      expect(refusal(() => parseSampleInputs('=a.npy'))).to.equal(
        '"=a.npy": the input name before "=" is empty. Write LR=lr.npy (or lr.npy for a model of one input).',
      );
      expect(refusal(() => parseSampleInputs('LR='))).to.equal(
        '"LR=" gives no file. Write LR=lr.npy (or lr.npy for a model of one input).',
      );
      expect(refusal(() => parseSampleInputs('LR=photo.JPG'))).to.match(
        /^"LR=photo\.JPG": Kiln reads sample inputs from \.npy files only, not images\. Convert it first, e.g\. in Python: numpy\.save\('lr\.npy', .*PIL\.Image\.open\('photo\.JPG'\)/,
      );
    });
  });

  describe('inputEntriesFromFlags', () => {
    let dir: string;
    before(async () => {
      dir = await makeTempDir('kiln-input-flags-');
    });
    after(async () => {
      await removeTempDir(dir);
    });

    it('reads the .npy files; each entry says which flag it came from', async () => {
      const file = path.join(dir, 'lr.npy');
      await fs.writeFile(file, encodeNpy('<f4', [1, 2], Float32Array.from([1, 2])));
      const entries = await inputEntriesFromFlags({
        inputShape: parseInputShapes('LR:1x2'),
        inputRange: parseInputRanges('0..1'),
        sampleInput: parseSampleInputs(`mask=${file}`),
      });
      expect(entries.map((e) => [e.name, e.from])).to.deep.equal([
        ['LR', '--input-shape LR:1x2'],
        [undefined, '--input-range 0..1'],
        ['mask', `--sample-input mask=${file}`],
      ]);
      expect(entries[0]!.shape!.write!([1, 3])).to.equal('LR:1x3');
      expect(entries[1]!.withName!('LR')).to.equal('--input-range LR:0..1');
      expect(Array.from(entries[2]!.data!.value.values)).to.deep.equal([1, 2]);
    });

    it('a missing file names the flag and the path', async () => {
      await expectRejects(
        inputEntriesFromFlags({ sampleInput: parseSampleInputs('LR=no-such.npy') }),
        /^--sample-input LR=no-such\.npy: no such file \(.*no-such\.npy\)\.$/,
        InputError,
      );
    });
  });
});
