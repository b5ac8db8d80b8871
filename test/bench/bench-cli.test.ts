/**
 * `kiln bench` end to end: spawns `node bin/kiln.js bench ...` with tiny round counts
 * (a few timed calls per variant). Nothing here asserts on a time: only on the shape
 * of the output, exit codes and messages.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import type { BaselineFile } from '../../src/bench/baseline.js';
import type { BenchResult } from '../../src/bench/types.js';
import { realModel } from '../../bench/real-models.js';
import { describeRun, REPO_ROOT, runKiln, type CliResult } from '../cli/run-cli.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

const QUICK = ['--backend', 'cpu', '--batch', '1', '--rounds', '3', '--warmup', '0'];

function expectExit(result: CliResult, code: number): void {
  expect(result.code, describeRun(result)).to.equal(code);
}

describe('kiln bench (CLI)', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir('kiln-bench-test-');
  });
  after(async () => {
    await removeTempDir(dir);
  });

  it('--json prints per-variant figures and ratios; --baseline passes when no ratio fell; --update-baseline and --report write their files', async () => {
    const baselineFile = path.join(dir, 'baseline.json');
    const reportFile = path.join(dir, 'bench.html');
    const low: BaselineFile = {
      kind: 'kiln-bench-baseline',
      version: 1,
      createdAt: '2026-01-01T00:00:00Z',
      machine: 'synthetic',
      variant: 'kiln',
      reference: 'predict',
      entries: [{ model: 'shogi-resnet (small)', backend: 'cpu', batch: 1, ratio: 0.001 }],
    };
    await fs.writeFile(baselineFile, JSON.stringify(low));
    const run = await runKiln(
      [
        'bench',
        'zoo:shogi-resnet',
        '--small',
        ...QUICK,
        '--json',
        '--baseline',
        baselineFile,
        '--update-baseline',
        baselineFile,
        '--report',
        reportFile,
      ],
      { timeoutMs: 90_000 },
    );
    expectExit(run, 0);
    const result = JSON.parse(run.stdout) as BenchResult;
    expect(result.kind).to.equal('kiln-bench');
    expect(result.machine.cores).to.be.a('number');
    expect(result.cells).to.have.length(1);
    const cell = result.cells[0]!;
    expect(cell).to.include({ model: 'shogi-resnet (small)', backend: 'cpu', batch: 1, rounds: 3 });
    expect(cell.flops).to.be.greaterThan(0);
    expect(cell.variants.map((v) => v.name)).to.include.members([
      'plain-tfjs',
      'best-backend',
      'predict',
      'compiled',
      'layers-fused',
      'fused',
      'kiln',
    ]);
    for (const v of cell.variants.filter((x) => !x.error)) {
      for (const key of ['medianMs', 'p10Ms', 'p90Ms', 'coldMs', 'gflops'] as const) expect(v[key], `${v.name}.${key}`).to.be.a('number');
    }
    expect(cell.vsPredict.kiln).to.be.a('number');
    expect(cell.vsPlain.kiln).to.be.a('number');
    expect(result.optimizeRuns).to.have.length(1);
    expect(result.baseline).to.include({ maxRegressionPct: 10, regressions: 0 });
    expect(result.baseline!.comparisons).to.deep.equal([
      {
        model: 'shogi-resnet (small)',
        backend: 'cpu',
        batch: 1,
        variant: 'kiln',
        then: 0.001,
        now: cell.vsPredict.kiln,
        changePct: result.baseline!.comparisons[0]!.changePct,
        regressed: false,
      },
    ]);

    const baseline = JSON.parse(await fs.readFile(baselineFile, 'utf8')) as BaselineFile;
    expect(baseline.entries).to.deep.equal([{ model: 'shogi-resnet (small)', backend: 'cpu', batch: 1, ratio: cell.vsPredict.kiln }]);
    const html = await fs.readFile(reportFile, 'utf8');
    expect(html)
      .to.match(/^<!DOCTYPE html>/)
      .and.to.contain('id="kiln-data"');
  });

  it('exits 1 naming the model, the ratio then and now, when a ratio fell below a (synthetic) baseline', async () => {
    const file = path.join(dir, 'high-baseline.json');
    const synthetic: BaselineFile = {
      kind: 'kiln-bench-baseline',
      version: 1,
      createdAt: '2026-01-01T00:00:00Z',
      machine: 'synthetic',
      variant: 'kiln',
      reference: 'predict',
      entries: [{ model: 'mlp', backend: 'cpu', batch: 1, ratio: 1000 }],
    };
    await fs.writeFile(file, JSON.stringify(synthetic));
    const run = await runKiln(['bench', 'zoo:mlp', '--backend', 'cpu', '--batch', '1', '--rounds', '5', '--baseline', file], {
      timeoutMs: 90_000,
    });
    expectExit(run, 1);
    expect(run.stderr).to.match(/kiln: 1 ratio\(s\) regressed against baseline .*high-baseline\.json/);
    expect(run.stderr).to.match(
      /regression: mlp on cpu at batch 1: kiln\/predict ratio 1000\.00x in the baseline, \d+\.\d\dx now \(-\d+\.\d%, more than the allowed 10%\)/,
    );
    // The tables were printed before the verdict, with the comparison.
    expect(run.stdout).to.contain('Baseline ').and.to.contain('regression: mlp on cpu at batch 1');
  });

  it('benches a graph model.json: its own execute timed, the layers-only variant left out with the reason', async () => {
    const run = await runKiln(
      ['bench', realModel('liveness').modelJson, ...QUICK, '--rounds', '2', '--variants', 'predict,layers-fused', '--json'],
      { timeoutMs: 90_000 },
    );
    expectExit(run, 0);
    const result = JSON.parse(run.stdout) as BenchResult;
    const cell = result.cells[0]!;
    expect(cell).to.include({ model: 'liveness', backend: 'cpu', batch: 1, format: 'graph-model' });
    const [predict, fused] = cell.variants;
    expect(predict).to.include({ name: 'predict', ranOn: 'cpu' });
    expect(predict!.medianMs).to.be.a('number');
    expect(fused).to.deep.equal({
      name: 'layers-fused',
      skipped: "op-fusion's layer rewrite works on a tf.LayersModel; this model is a tf.GraphModel (graph-model)",
    });
  });

  it('exits 2 on usage errors, naming what is wrong', async () => {
    const unknown = await runKiln(['bench', 'zoo:nope', '--rounds', '1']);
    expectExit(unknown, 2);
    expect(unknown.stderr).to.contain('unknown zoo model "nope"').and.to.contain('zoo:shogi-resnet');
    const pct = await runKiln(['bench', 'zoo:mlp', '--max-regression', 'lots']);
    expectExit(pct, 2);
    expect(pct.stderr).to.contain('--max-regression');
    const missing = await runKiln(['bench', 'zoo:mlp', '--baseline', path.join(dir, 'missing.json')]);
    expectExit(missing, 2);
    expect(missing.stderr).to.match(/cannot read baseline .*missing\.json/);
  });

  describe('a model with free input dimensions (UpscalerJS ESRGAN x2)', () => {
    const ESRGAN = path.join(REPO_ROOT, 'node_modules/@upscalerjs/esrgan-slim/models/x2/model.json');
    const TINY = ['--backend', 'cpu', '--rounds', '2', '--warmup', '0', '--variants', 'predict'];

    it("--input-shape and --input-range: each cell at its --batch size (the shape's batch axis follows it)", async () => {
      const run = await runKiln(
        ['bench', ESRGAN, '--input-shape', 'LR:1x8x8x3', '--input-range', 'LR:0..255', '--batch', '1,2', ...TINY, '--json'],
        {
          timeoutMs: 90_000,
        },
      );
      expectExit(run, 0);
      const result = JSON.parse(run.stdout) as BenchResult;
      expect(result.cells.map((c) => c.batch)).to.deep.equal([1, 2]);
      for (const cell of result.cells) {
        const predict = cell.variants.find((v) => v.name === 'predict')!;
        expect(predict.error, `batch ${cell.batch}`).to.equal(undefined);
        expect(predict.medianMs, `batch ${cell.batch}`).to.be.a('number');
      }
    });

    it('exits 2 before measuring: no shape for a free dimension, an input no target has, flags for zoo models only', async () => {
      const none = await runKiln(['bench', ESRGAN, ...TINY]);
      expectExit(none, 2);
      expect(none.stderr).to.contain('Input "LR" has a free dimension at axis 1').and.to.contain('--input-shape LR:1x32x32x3');
      expect(none.stdout).to.equal('');
      const unknown = await runKiln(['bench', ESRGAN, '--input-shape', 'HR:1x8x8x3', ...TINY]);
      expectExit(unknown, 2);
      expect(unknown.stderr).to.contain(
        '--input-shape HR:1x8x8x3: no model among the targets has an input named "HR"; their inputs: x2: LR [null, null, null, 3]. Use one of these names.',
      );
      const zoo = await runKiln(['bench', 'zoo:mlp', '--input-shape', '1x16', ...TINY]);
      expectExit(zoo, 2);
      expect(zoo.stderr).to.contain('--input-shape 1x16: the input flags are for model files (model.json)');
    });
  });
});
