import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import {
  baselineFrom,
  BenchRegressionError,
  compareToBaseline,
  describeComparison,
  readBaseline,
  writeBaseline,
  type BaselineFile,
} from '../../src/bench/baseline.js';
import { ConfigError } from '../../src/core/errors.js';
import { expectRejects } from '../helpers/expect-rejects.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';
import { benchResultWith } from './synthetic-result.js';

function baseline(entries: BaselineFile['entries']): BaselineFile {
  return { kind: 'kiln-bench-baseline', version: 1, createdAt: '', machine: '', variant: 'kiln', reference: 'predict', entries };
}

describe('bench: baseline ratios', () => {
  const result = benchResultWith([
    { model: 'mlp', backend: 'cpu', batch: 1, kiln: 2.0 },
    { model: 'mlp', backend: 'cpu', batch: 32, kiln: 1.5 },
    { model: 'cnn', backend: 'wasm', batch: 1, kiln: 3.0 },
  ]);

  it('stores one kiln/predict ratio per cell', () => {
    const b = baselineFrom(result);
    expect(b).to.include({ kind: 'kiln-bench-baseline', variant: 'kiln', reference: 'predict' });
    expect(b.entries).to.deep.equal([
      { model: 'mlp', backend: 'cpu', batch: 1, ratio: 2.0 },
      { model: 'mlp', backend: 'cpu', batch: 32, ratio: 1.5 },
      { model: 'cnn', backend: 'wasm', batch: 1, ratio: 3.0 },
    ]);
  });

  it('flags a ratio that fell by more than the allowed percentage, and only that one', () => {
    const check = compareToBaseline(
      result,
      baseline([
        { model: 'mlp', backend: 'cpu', batch: 1, ratio: 2.5 }, // now 2.0: -20%
        { model: 'mlp', backend: 'cpu', batch: 32, ratio: 1.6 }, // now 1.5: -6.25%
        { model: 'cnn', backend: 'wasm', batch: 1, ratio: 2.0 }, // now 3.0: +50%
        { model: 'gone', backend: 'cpu', batch: 1, ratio: 9 }, // not measured now: ignored
      ]),
      10,
      'b.json',
    );
    expect(check.regressions).to.equal(1);
    expect(check.comparisons.map((c) => [c.model, c.batch, c.regressed])).to.deep.equal([
      ['mlp', 1, true],
      ['mlp', 32, false],
      ['cnn', 1, false],
    ]);
    expect(check.comparisons[0]).to.include({ then: 2.5, now: 2.0, changePct: -20 });
    expect(check.notInBaseline).to.deep.equal([]);
  });

  it('lists cells the baseline has no ratio for without failing them', () => {
    const check = compareToBaseline(result, baseline([{ model: 'mlp', backend: 'cpu', batch: 1, ratio: 2 }]), 10);
    expect(check.regressions).to.equal(0);
    expect(check.notInBaseline).to.deep.equal(['mlp on cpu at batch 32', 'cnn on wasm at batch 1']);
  });

  it('names the model, backend, batch and the ratio then and now', () => {
    const check = compareToBaseline(result, baseline([{ model: 'mlp', backend: 'cpu', batch: 1, ratio: 1000 }]), 10, '/x/b.json');
    const line = describeComparison(check.comparisons[0]!, 10);
    expect(line).to.equal(
      'regression: mlp on cpu at batch 1: kiln/predict ratio 1000.00x in the baseline, 2.00x now (-99.8%, more than the allowed 10%)',
    );
    const error = new BenchRegressionError(check);
    expect(error.message).to.contain('1 ratio(s) regressed against baseline /x/b.json').and.to.contain(line);
  });

  it('writes a baseline atomically and reads it back; refuses missing or malformed files with a usage error', async () => {
    const dir = await makeTempDir('kiln-baseline-');
    try {
      const file = path.join(dir, 'baseline.json');
      await writeBaseline(file, baselineFrom(result));
      expect((await readBaseline(file)).entries).to.have.length(3);
      expect(
        (await fs.readdir(dir)).filter((n) => n.startsWith('.kiln-tmp-')),
        'no temporary files left',
      ).to.deep.equal([]);

      const missing = await expectRejects(
        readBaseline(path.join(dir, 'nope.json')),
        /cannot read baseline .*nope\.json.*--update-baseline/,
      );
      expect(missing).to.be.instanceOf(ConfigError);

      await fs.writeFile(file, '{"kind": "kiln-bench-baseline", "entries": [{"model": "mlp", "backend": "cpu", "batch": 1, "ratio": -1}]}');
      await expectRejects(readBaseline(file), /entries\[0\] must be/);
      await fs.writeFile(file, '[1, 2');
      await expectRejects(readBaseline(file), /is not JSON/);
      await fs.writeFile(file, '{"entries": []}');
      await expectRejects(readBaseline(file), /is not a kiln bench baseline/);
    } finally {
      await removeTempDir(dir);
    }
  });
});
