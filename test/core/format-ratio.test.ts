import { expect } from 'chai';
import { formatRatio } from '../../src/core/pipeline/trial/format-ratio.js';

describe('ratios in decisions', () => {
  it('never read as equal to the threshold they missed or met', () => {
    expect(formatRatio(1.0467, 1.05)).to.equal('1.047');
    expect(formatRatio(1.04996, 1.05)).to.equal('1.04996');
    expect(formatRatio(1.0503, 1.05)).to.equal('1.0503');
    expect(formatRatio(0.93, 1.05)).to.equal('0.93');
    expect(formatRatio(1.05, 1.05)).to.equal('1.05');
    expect(formatRatio(11.654, 1.05)).to.equal('11.65');
  });
});
