/**
 * The real suite's pieces that need no timing: its flags, its variants and its sources
 * (bench/real-suite.ts). The suite itself runs with `npm run bench -- real`.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { parseRealSuiteArgs, REAL_SUITE_KILN_VARIANT, REAL_SUITE_VARIANTS, realModelSource } from '../../bench/real-suite.js';
import { realModel } from '../../bench/real-models.js';
import { KILN, PLAIN_TFJS, PLAIN_WASM, PREDICT } from '../../src/bench/variants.js';
import { ConfigError } from '../../src/core/errors.js';

describe('bench: the real suite (flags, variants, sources)', () => {
  it('measures the stock predicts on wasm and cpu, predict and Kiln, Kiln with its own backend preference', () => {
    expect(REAL_SUITE_VARIANTS).to.deep.equal([PLAIN_TFJS, PLAIN_WASM, PREDICT, KILN]);
    expect(REAL_SUITE_KILN_VARIANT.name).to.equal(KILN);
    expect(REAL_SUITE_KILN_VARIANT.description).to.contain("Kiln's default backend preference");
  });

  it('reads its flags, and refuses unknown ones and bad counts as usage errors', () => {
    expect(parseRealSuiteArgs(['--models', 'liveness,selfie', '--rounds', '3', '--json', '--no-detail'])).to.deep.include({
      models: ['liveness', 'selfie'],
      settings: { minRounds: 3, maxRounds: 3, budgetMs: 0 },
      json: true,
      detail: false,
    });
    expect(parseRealSuiteArgs([]).settings).to.deep.equal({});
    expect(() => parseRealSuiteArgs(['--batch', '32'])).to.throw(ConfigError, /--batch/);
    expect(() => parseRealSuiteArgs(['--rounds', 'many'])).to.throw(ConfigError, /--rounds expects a whole number >= 1/);
  });

  it('builds a real model as a StockModel of its format, fed seeded inputs over its range at any batch', async () => {
    const source = realModelSource(realModel('liveness'));
    const stock = await source.build();
    try {
      expect(stock.format.name).to.equal('graph-model');
      const inputs = source.sampleInputs(stock, 2, 7);
      try {
        expect(inputs.map((t) => [t.shape, t.dtype])).to.deep.equal([[[2, 32, 32, 3], 'float32']]);
        const values = inputs[0]!.dataSync();
        expect(Math.min(...values)).to.be.at.least(0);
        expect(Math.max(...values)).to.be.at.most(1);
      } finally {
        tf.dispose(inputs);
      }
    } finally {
      stock.format.dispose(stock.model);
    }
  });
});
