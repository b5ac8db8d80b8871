/**
 * `kiln optimize ... --report FILE` end to end: one real run (tiny settings), its
 * page checked as text and, where Chromium is installed, in the browser.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import type { KilnReport } from '../../src/core/pipeline/report.js';
import { saveModelToDisk } from '../../src/io/model-files.js';
import { describeRun, runKiln, type CliResult } from '../cli/run-cli.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';
import { tinyConvModel } from '../helpers/tiny-models.js';
import { launchChromium, openFile, skipWithoutChromium } from './browser.js';
import { embeddedData, READ_CHARTS, type PageCharts } from './read-charts.js';

describe('kiln optimize --report', () => {
  let dir: string;
  let run: CliResult;
  let reportFile: string;

  before(async () => {
    dir = await makeTempDir('kiln-report-cli-');
    const model = tinyConvModel(3);
    try {
      await saveModelToDisk(model, path.join(dir, 'model'));
    } finally {
      model.dispose();
    }
    await fs.writeFile(path.join(dir, 'kiln.yaml'), 'validation: { samples: 1 }\nbenchmark: { warmup: 1, iterations: 5 }\n');
    reportFile = path.join(dir, 'out', 'report.html');
    await fs.mkdir(path.dirname(reportFile));
    run = await runKiln(
      [
        'optimize',
        path.join(dir, 'model'),
        '--config',
        path.join(dir, 'kiln.yaml'),
        '--backend',
        'wasm,cpu',
        '--json',
        '--report',
        reportFile,
      ],
      { timeoutMs: 90_000 },
    );
  });
  after(async () => {
    await removeTempDir(dir);
  });

  it('writes a self-contained page that embeds the report --json printed', async () => {
    expect(run.code, describeRun(run)).to.equal(0);
    expect(run.stderr).to.contain(`wrote report ${reportFile}`);
    const printed = JSON.parse(run.stdout) as KilnReport;
    const html = await fs.readFile(reportFile, 'utf8');
    expect(embeddedData(html)).to.deep.equal({ kind: 'optimize', report: printed, model: path.join(dir, 'model') });
    expect(html).to.contain('data-chart="timeline"');
    expect((await fs.readdir(path.dirname(reportFile))).filter((n) => n.startsWith('.kiln-tmp-'))).to.deep.equal([]);
  });

  it('shows every decision of the run in the timeline, with no console error, in Chromium', async function () {
    skipWithoutChromium(this);
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const { page, errors, requests } = await openFile(browser, reportFile);
      const charts = (await page.evaluate(READ_CHARTS)) as PageCharts;
      const printed = JSON.parse(run.stdout) as KilnReport;
      expect(errors).to.deep.equal([]);
      expect(requests).to.deep.equal([]);
      expect(charts.decisions.map((d) => [d.plugin, d.status])).to.deep.equal(printed.decisions.map((d) => [d.plugin, d.status]));
      const timed = printed.decisions.filter((d) => typeof d.metrics.speedup === 'number');
      expect(charts.bars.filter((b) => b.plugin !== 'end-to-end').map((b) => [b.plugin, b.value])).to.deep.equal(
        timed.map((d) => [d.plugin, d.metrics.speedup]),
      );
    } finally {
      await browser?.close();
    }
  });
});
