import { expect } from 'chai';
import { percentile, summariseTimings } from '../../src/core/benchmark/timing-stats.js';

describe('timing statistics', () => {
  it('drops outliers beyond k sigma before summarising', () => {
    const timings = [...Array.from({ length: 20 }, (_, i) => 10 + (i % 5) * 0.1), 100];
    const s = summariseTimings(timings, 2);
    expect(s.outliersDropped).to.equal(1);
    expect(s.samples).to.equal(20);
    expect(s.maxMs).to.be.closeTo(10.4, 1e-9);
    expect(s.medianMs).to.be.closeTo(10.2, 1e-9);
    expect(s.meanMs).to.be.closeTo(10.2, 1e-9);
  });

  it('keeps everything when all timings are equal', () => {
    const s = summariseTimings([5, 5, 5], 2);
    expect(s).to.include({ medianMs: 5, sdMs: 0, outliersDropped: 0, samples: 3 });
  });

  it('interpolates percentiles between ranks', () => {
    expect(percentile([1, 2, 3, 4, 5], 0.5)).to.equal(3);
    expect(percentile([1, 2, 3, 4], 0.5)).to.equal(2.5);
    expect(percentile([0, 10], 0.1)).to.be.closeTo(1, 1e-12);
    expect(percentile([7], 0.9)).to.equal(7);
  });

  it('refuses an empty set', () => {
    expect(() => summariseTimings([], 2)).to.throw(/at least one timing/);
  });
});
