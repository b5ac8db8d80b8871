import type * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';

import { ModelFileError } from '../../src/core/errors.js';
import { dtypeByteWidth, elementCount, weightSpecByteLength, weightSpecsByteLength } from '../../src/io/index.js';
import { joinWeightData } from '../../src/io/weight-bytes.js';
import { expectRejects } from '../helpers/expect-rejects.js';

describe('io/weight-bytes', () => {
  it('knows the byte width of each stored dtype', () => {
    expect(['float32', 'int32', 'bool', 'uint8', 'float16', 'uint16'].map((d) => dtypeByteWidth(d, 'w'))).to.deep.equal([4, 4, 1, 1, 2, 2]);
  });

  it('sizes specs by shape and dtype, using the quantization dtype when present', () => {
    const spec = (extra: Partial<tf.io.WeightsManifestEntry>): tf.io.WeightsManifestEntry => ({
      name: 'w',
      shape: [3, 5],
      dtype: 'float32',
      ...extra,
    });
    expect(weightSpecByteLength(spec({}))).to.equal(60);
    expect(weightSpecByteLength(spec({ dtype: 'bool' }))).to.equal(15);
    expect(weightSpecByteLength(spec({ shape: [] }))).to.equal(4);
    expect(weightSpecByteLength(spec({ shape: [0, 7] }))).to.equal(0);
    expect(weightSpecByteLength(spec({ quantization: { dtype: 'uint8', scale: 1, min: 0 } }))).to.equal(15);
    expect(weightSpecByteLength(spec({ quantization: { dtype: 'uint16', scale: 1, min: 0 } }))).to.equal(30);
    expect(weightSpecByteLength(spec({ quantization: { dtype: 'float16' } }))).to.equal(30);
    expect(weightSpecsByteLength([spec({}), spec({ dtype: 'int32', shape: [2] })])).to.equal(68);
  });

  it('refuses string, unknown dtypes and bad shapes with the weight named', async () => {
    const run = (f: () => unknown) => Promise.resolve().then(f);
    await expectRejects(
      run(() => weightSpecByteLength({ name: 'names', shape: [2], dtype: 'string' }, 'm/model.json')),
      /weight 'names' in m\/model\.json has dtype 'string'.*not supported/,
      ModelFileError,
    );
    await expectRejects(
      run(() => dtypeByteWidth('float64', "weight 'x'")),
      /weight 'x' has unknown dtype 'float64'/,
      ModelFileError,
    );
    await expectRejects(
      run(() => elementCount([2, -1], "weight 'y'")),
      /weight 'y' has an invalid shape \[2,-1\]/,
      ModelFileError,
    );
  });

  it('joins weight data given as one buffer or a list of them, and none as an empty buffer', () => {
    const bytes = (...values: number[]): ArrayBuffer => Uint8Array.from(values).buffer;
    expect([...new Uint8Array(joinWeightData([bytes(1, 2), bytes(), bytes(3)]))]).to.deep.equal([1, 2, 3]);
    expect([...new Uint8Array(joinWeightData(bytes(4, 5)))]).to.deep.equal([4, 5]);
    expect(joinWeightData(undefined).byteLength).to.equal(0);
  });
});
