import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';

import { InputError } from '../../src/core/errors.js';
import { readNpy, readNpyFile } from '../../src/io/npy.js';
import { expectRejects } from '../helpers/expect-rejects.js';
import { encodeNpy } from '../helpers/npy-writer.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

function readError(bytes: Uint8Array): InputError {
  try {
    readNpy(bytes, 'x.npy');
  } catch (error) {
    expect(error).to.be.instanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected readNpy to throw');
}

describe('io: .npy reader', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir('kiln-npy-test-');
  });
  after(async () => {
    await removeTempDir(dir);
  });

  describe('round trip (written as numpy.save writes, read back)', () => {
    it('float32, through a file: the values, the shape and the dtype', async () => {
      const values = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i / 7 - 1.5);
      const file = path.join(dir, 'f32.npy');
      await fs.writeFile(file, encodeNpy('<f4', [2, 3, 4], values));
      const array = await readNpyFile(file);
      expect(array.dtype).to.equal('float32');
      expect(array.shape).to.deep.equal([2, 3, 4]);
      expect(array.values).to.be.instanceOf(Float32Array);
      expect(Array.from(array.values)).to.deep.equal(Array.from(values));
    });

    it('int32 with negative values, and uint8 (numpy writes "|u1")', () => {
      const ints = Int32Array.from([-2147483648, -1, 0, 1, 2147483647, 42]);
      const i32 = readNpy(encodeNpy('<i4', [3, 2], ints), 'i.npy');
      expect([i32.dtype, i32.shape, Array.from(i32.values)]).to.deep.equal(['int32', [3, 2], Array.from(ints)]);
      const bytes = Uint8Array.from([0, 1, 127, 128, 255]);
      const u8 = readNpy(encodeNpy('|u1', [5], bytes), 'u.npy');
      expect([u8.dtype, u8.shape, Array.from(u8.values)]).to.deep.equal(['uint8', [5], [0, 1, 127, 128, 255]]);
    });

    it('format version 2.0 (4-byte header length), a scalar, and an empty axis', () => {
      const v2 = readNpy(encodeNpy('<f4', [1, 2], Float32Array.from([0.5, -0.25]), { version: 2 }), 'v2.npy');
      expect([v2.shape, Array.from(v2.values)]).to.deep.equal([
        [1, 2],
        [0.5, -0.25],
      ]);
      const scalar = readNpy(encodeNpy('<f4', [], Float32Array.from([3])), 's.npy');
      expect([scalar.shape, Array.from(scalar.values)]).to.deep.equal([[], [3]]);
      const empty = readNpy(encodeNpy('<f4', [0, 3], new Float32Array(0)), 'e.npy');
      expect([empty.shape, empty.values.length]).to.deep.equal([[0, 3], 0]);
    });

    it('reads a file whose bytes sit at an odd offset in their buffer', () => {
      const file = encodeNpy('<f4', [2], Float32Array.from([1.5, 2.5]));
      const shifted = new Uint8Array(file.length + 1);
      shifted.set(file, 1);
      expect(Array.from(readNpy(shifted.subarray(1), 'odd.npy').values)).to.deep.equal([1.5, 2.5]);
    });

    it('reads the header as numpy writes it for Python 2 (long integers) and with double quotes', () => {
      const header = `{"descr": "<i4", "fortran_order": False, "shape": (2L, 1L), }`;
      const array = readNpy(encodeNpy('<i4', [2, 1], Int32Array.from([7, 8]), { header }), 'py2.npy');
      expect([array.shape, Array.from(array.values)]).to.deep.equal([
        [2, 1],
        [7, 8],
      ]);
    });
  });

  describe('refuses, naming the file, what it holds and what to do', () => {
    const data = Float32Array.from([1, 2, 3, 4]);

    it('a file that is not a .npy', () => {
      const error = readError(Buffer.from('just some text, not numpy'));
      expect(error.message).to.equal(
        'x.npy: not a .npy file (it does not start with the NumPy magic "\\x93NUMPY"). Save the array with numpy.save.',
      );
    });

    it('float64, int64, big-endian float32 and bool arrays, with the conversion', () => {
      const cases: [string, string][] = [
        ['<f8', 'float64'],
        ['<i8', 'int64'],
        ['>f4', 'big-endian float32'],
        ['|b1', 'bool'],
        ['<f2', 'float16'],
      ];
      for (const [descr, words] of cases) {
        expect(readError(encodeNpy(descr, [4], data)).message, descr).to.equal(
          `x.npy: holds ${words} values (dtype '${descr}'); Kiln reads float32, int32 and uint8 arrays, little-endian. Convert it first, e.g. numpy.save(path, a.astype('<f4')).`,
        );
      }
    });

    it('a structured dtype, a header that is not a dict, and a header without a shape', () => {
      const structured = encodeNpy('', [1], data, { header: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }" });
      expect(readError(structured).message).to.match(/^x\.npy: the \.npy header cannot be read \(structured dtypes are not supported\)/);
      expect(readError(encodeNpy('', [1], data, { header: 'not a dict' })).message).to.match(
        /^x\.npy: the \.npy header cannot be read \(expected "\{" at character 0\)/,
      );
      expect(readError(encodeNpy('', [1], data, { header: "{'descr': '<f4', 'fortran_order': False}" })).message).to.match(
        /^x\.npy: the \.npy header cannot be read \(no 'shape' tuple\)/,
      );
    });

    it('Fortran order, with the fix', () => {
      expect(readError(encodeNpy('<f4', [2, 2], data, { fortranOrder: true })).message).to.equal(
        'x.npy: the array is stored in Fortran (column-major) order; Kiln reads C order. Save it as numpy.save(path, numpy.ascontiguousarray(a)).',
      );
    });

    it('data cut short, or bytes after the array', () => {
      expect(readError(encodeNpy('<f4', [2, 3], data)).message).to.equal(
        'x.npy: an array of shape [2, 3] of float32 takes 24 bytes of data, but the file has 16 (it is cut short).',
      );
      expect(readError(encodeNpy('<f4', [3], data)).message).to.equal(
        'x.npy: an array of shape [3] of float32 takes 12 bytes of data, but the file has 16 (bytes follow the array).',
      );
      const file = encodeNpy('<f4', [4], data);
      expect(readError(file.subarray(0, 20)).message).to.equal(
        'x.npy: the .npy header runs past the end of the file (the file is cut short).',
      );
    });

    it('a version it does not know', () => {
      const file = encodeNpy('<f4', [4], data);
      file[6] = 9;
      expect(readError(file).message).to.equal('x.npy: .npy format version 9.0 is not one Kiln reads (1.0 to 3.0).');
    });

    it('a missing file and a folder, under the name the caller gives', async () => {
      const missing = path.join(dir, 'missing.npy');
      await expectRejects(
        readNpyFile(missing),
        new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: no such file\\.$`),
        InputError,
      );
      await expectRejects(
        readNpyFile(missing, '--sample-input x=missing.npy'),
        /^--sample-input x=missing\.npy: no such file \(.*missing\.npy\)\.$/,
      );
      await expectRejects(readNpyFile(dir, '--sample-input x'), /^--sample-input x: is a folder \(.*\); give the path of a \.npy file\.$/);
    });
  });
});
