import { expect } from 'chai';
import { allclose, unravelIndex } from '../../src/core/validation/allclose.js';

describe('allclose', () => {
  it('passes within atol + rtol * |expected| and names the closest element', () => {
    const c = allclose([1, 100, -3], [1 + 1e-6, 100.005, -3], 1e-5, 1e-4);
    expect(c.ok).to.equal(true);
    expect(c.worst!.index).to.equal(1);
    expect(c.maxAbsDiff).to.be.closeTo(0.005, 1e-9);
  });

  it('fails just past the bound, with the worst element relative to its tolerance', () => {
    const c = allclose([0, 1000], [2e-5, 1000.05], 1e-5, 1e-4);
    expect(c.ok).to.equal(false);
    expect(c.worst).to.include({ index: 0, expected: 0, actual: 2e-5 });
  });

  it('fails on NaN or Inf where the reference is finite, and accepts matching non-finite values', () => {
    expect(allclose([1, 2], [1, NaN], 1, 1).nonFinite).to.include({ index: 1, expected: 2 });
    expect(allclose([1, 2], [Infinity, 2], 1, 1).ok).to.equal(false);
    expect(allclose([NaN, -Infinity], [NaN, -Infinity], 0, 0).ok).to.equal(true);
    expect(allclose([Infinity], [-Infinity], 0, 0).ok).to.equal(false);
    expect(allclose([NaN], [0], 0, 0).ok).to.equal(false);
  });

  it('fails on arrays of different length', () => {
    expect(allclose([1, 2], [1], 1, 1)).to.deep.include({ ok: false, mismatchedLength: { expected: 2, actual: 1 } });
  });

  it('unravels a flat index row-major', () => {
    expect(unravelIndex(17, [2, 3, 4])).to.deep.equal([1, 1, 1]);
    expect(unravelIndex(0, [1, 2187])).to.deep.equal([0, 0]);
    expect(unravelIndex(2186, [1, 2187])).to.deep.equal([0, 2186]);
  });
});
