/**
 * The HTML reports in a real headless Chromium: the page loads with no console error
 * and no request, and every chart carries the numbers of the JSON it was drawn from,
 * in its data-* attributes, its visible labels and its geometry. No timing assertion:
 * the bench figures are whatever this machine measured.
 */
import * as path from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { DEFAULT_BENCH_SETTINGS, runBench } from '../../src/bench/engine.js';
import { benchOptimizeConfig } from '../../src/bench/setup.js';
import { resolveSources } from '../../src/bench/sources.js';
import type { BenchResult } from '../../src/bench/types.js';
import { BUILT_IN_VARIANTS, KILN, PLAIN_TFJS, PLAIN_WASM, PREDICT } from '../../src/bench/variants.js';
import { msLabel } from '../../src/report/charts.js';
import { writeHtmlReport } from '../../src/report/write-report.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';
import { chromiumInstalled, launchChromium, openFile, skipWithoutChromium } from './browser.js';
import { READ_CHARTS, type PageBar, type PageCharts, type PageLatencyRow } from './read-charts.js';
import { syntheticKilnReport, WEIGHT_ROWS } from './synthetic-report.js';

const CPU = { name: 'cpu', tfName: 'cpu' };

/** Bars sit on the 1x line, right of it when faster, left when slower, their length |log(value)| to one scale per chart. */
function expectBarGeometry(bars: readonly PageBar[]): void {
  for (const b of bars) {
    if (b.value >= 1) expect(b.x, `${b.label} starts at 1x`).to.be.closeTo(b.oneX, 0.5);
    else expect(b.x + b.width, `${b.label} ends at 1x`).to.be.closeTo(b.oneX, 0.5);
  }
  for (const chart of new Set(bars.map((b) => b.chart))) {
    const scaled = bars
      .filter((b) => b.chart === chart && Math.abs(Math.log(b.value)) > 0.05 && b.width > 3)
      .map((b) => b.width / Math.abs(Math.log(b.value)));
    for (const s of scaled)
      expect(s, `chart ${chart}: bar length proportional to |log ratio|`).to.be.closeTo(scaled[0]!, 0.03 * scaled[0]!);
  }
}

/** The median mark lies in its p10-p90 box, and medians are ordered left to right as their values. */
function expectLatencyGeometry(rows: readonly PageLatencyRow[]): void {
  for (const r of rows) {
    expect(r.medianX, `${r.variant} median inside its box`).to.be.within(r.boxX - 0.5, r.boxX + r.boxWidth + 0.5);
  }
  for (const chart of new Set(rows.map((r) => r.chart))) {
    const inChart = rows.filter((r) => r.chart === chart);
    const byValue = [...inChart].sort((a, b) => a.median - b.median).map((r) => r.medianX);
    expect(byValue, `chart ${chart}: positions follow the medians`).to.deep.equal([...byValue].sort((a, b) => a - b));
  }
}

describe('HTML report in headless Chromium', () => {
  let browser: Browser | undefined;
  let dir: string;

  before(async function () {
    dir = await makeTempDir('kiln-chromium-');
    if (chromiumInstalled()) browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await removeTempDir(dir);
  });

  it("bench report: no console errors, no requests; bars, latency rows and decisions carry the JSON's numbers", async function () {
    skipWithoutChromium(this);
    const result: BenchResult = await runBench({
      sources: await resolveSources(['zoo:shogi-resnet'], { small: true }),
      backends: [CPU],
      bestBackend: CPU,
      batches: [1, 2],
      variants: BUILT_IN_VARIANTS,
      settings: { ...DEFAULT_BENCH_SETTINGS, budgetMs: 0, minRounds: 4, maxRounds: 4, warmupRounds: 1 },
      optimizeConfig: (b) => benchOptimizeConfig(undefined, [b.name]),
    });
    const file = path.join(dir, 'bench.html');
    await writeHtmlReport(file, { kind: 'bench', bench: result });
    const { page, errors, requests } = await openFile(browser!, file);
    const charts = (await page.evaluate(READ_CHARTS)) as PageCharts;
    await page.close();

    expect(errors, 'console errors').to.deep.equal([]);
    expect(requests, 'requests').to.deep.equal([]);
    expect(charts.emptyCharts).to.equal(0);
    expect(charts.data).to.deep.equal(JSON.parse(JSON.stringify({ kind: 'bench', bench: result })));

    // Speedup bars: one per variant per cell against predict, and kiln against plain tf.js on wasm (where it ran) and on cpu.
    const expected: { model: string; backend: string; batch: number; variant: string; reference: string; value: number }[] = [];
    for (const c of result.cells) {
      for (const v of c.variants) {
        if (v.name !== PREDICT && !v.sameAs && c.vsPredict[v.name] !== undefined)
          expected.push({
            model: c.model,
            backend: c.backend,
            batch: c.batch,
            variant: v.name,
            reference: PREDICT,
            value: c.vsPredict[v.name]!,
          });
      }
      if (c.vsPlainWasm?.[KILN] !== undefined)
        expected.push({
          model: c.model,
          backend: c.backend,
          batch: c.batch,
          variant: KILN,
          reference: PLAIN_WASM,
          value: c.vsPlainWasm[KILN],
        });
      if (c.vsPlain[KILN] !== undefined)
        expected.push({
          model: c.model,
          backend: c.backend,
          batch: c.batch,
          variant: KILN,
          reference: PLAIN_TFJS,
          value: c.vsPlain[KILN]!,
        });
    }
    expect(expected.length).to.be.greaterThan(4);
    expect(
      charts.bars.map((b) => ({
        model: b.model,
        backend: b.backend,
        batch: b.batch,
        variant: b.variant,
        reference: b.reference,
        value: b.value,
      })),
    ).to.deep.equal(expected);
    for (const b of charts.bars) expect(b.text).to.equal(`${b.value.toFixed(2)}x`);
    expectBarGeometry(charts.bars);

    // Latency: a row per timed variant per cell, with its median, p10/p90 and every timing as a dot.
    const rows = result.cells.flatMap((c) =>
      c.variants
        .filter((v) => !v.sameAs && v.medianMs !== undefined)
        .map((v) => ({
          cell: { model: c.model, backend: c.backend, batch: c.batch },
          variant: v.name,
          median: v.medianMs!,
          p10: v.p10Ms!,
          p90: v.p90Ms!,
          dots: v.timingsMs!.length,
        })),
    );
    expect(
      charts.latency.map((r) => ({ cell: r.cell, variant: r.variant, median: r.median, p10: r.p10, p90: r.p90, dots: r.dots })),
    ).to.deep.equal(rows);
    for (const r of charts.latency) expect(r.text).to.equal(`${msLabel(r.median)} ms`);
    expectLatencyGeometry(charts.latency);

    // Kiln's decisions for the kiln variant, in order.
    expect(charts.decisions.map((d) => [d.plugin, d.status])).to.deep.equal(
      result.optimizeRuns.flatMap((r) => r.report.decisions.map((d) => [d.plugin, d.status])),
    );
  });

  it("optimize report: the decision timeline, speedups, latencies and weight-precision map carry the report's numbers", async function () {
    skipWithoutChromium(this);
    const report = syntheticKilnReport();
    const file = path.join(dir, 'optimize.html');
    await writeHtmlReport(file, { kind: 'optimize', report, model: 'model.json' });
    const { page, errors, requests } = await openFile(browser!, file);
    const charts = (await page.evaluate(READ_CHARTS)) as PageCharts;
    await page.close();

    expect(errors, 'console errors').to.deep.equal([]);
    expect(requests, 'requests').to.deep.equal([]);
    expect(charts.emptyCharts).to.equal(0);
    expect(charts.decisions.map((d) => [d.plugin, d.status])).to.deep.equal(report.decisions.map((d) => [d.plugin, d.status]));
    expect(charts.decisions.find((d) => d.plugin === 'backend-wasm')!.text).to.equal('applied · 3.10x');
    expect(charts.decisions.find((d) => d.plugin === 'mixed-precision')!.text).to.equal('applied · 2.94x smaller');

    const timed = report.decisions.filter((d) => typeof d.metrics.speedup === 'number');
    expect(charts.bars.map((b) => [b.plugin, b.value])).to.deep.equal([
      ...timed.map((d) => [d.plugin, d.metrics.speedup]),
      ['end-to-end', report.endToEnd!.speedup],
    ]);
    expectBarGeometry(charts.bars);

    expect(charts.latency.map((r) => [r.variant, r.median, r.p10, r.p90])).to.deep.equal([
      ...timed.map((d) => [
        `#${report.decisions.indexOf(d) + 1} ${d.plugin}`,
        d.metrics.candidateMedianMs,
        d.metrics.candidateP10Ms ?? d.metrics.candidateMedianMs,
        d.metrics.candidateP90Ms ?? d.metrics.candidateMedianMs,
      ]),
      ['plain tf.js', report.endToEnd!.baselineMedianMs, report.endToEnd!.baselineMedianMs, report.endToEnd!.baselineMedianMs],
      ['Kiln', report.endToEnd!.optimizedMedianMs, report.endToEnd!.optimizedMedianMs, report.endToEnd!.optimizedMedianMs],
    ]);
    for (const r of charts.latency) expect(r.text).to.equal(`${msLabel(r.median)} ms`);
    expectLatencyGeometry(charts.latency);

    expect(charts.weights).to.deep.equal(
      WEIGHT_ROWS.map((w) => ({ weight: w.weight, precision: w.precision, bytesBefore: w.bytesBefore, bytesAfter: w.bytesAfter })),
    );
  });
});
