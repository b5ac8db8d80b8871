import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import type { Decision } from '../../src/core/pipeline/report.js';
import { renderHtmlReport, weightPrecisions, type ReportData } from '../../src/report/html-report.js';
import { writeHtmlReport } from '../../src/report/write-report.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';
import { benchResultWith } from '../bench/synthetic-result.js';
import { embeddedData } from './read-charts.js';
import { syntheticKilnReport, WEIGHT_ROWS } from './synthetic-report.js';

/** Everything in the page that could make a browser fetch something. */
function externalReferences(html: string): string[] {
  const withoutNamespace = html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '');
  return [/<link\b/i, /\ssrc=/i, /\shref=/i, /url\(/i, /@import/i, /https?:\/\//i, /<script(?![^>]*type="application\/json")/i]
    .filter((re) => re.test(withoutNamespace))
    .map(String);
}

const count = (html: string, needle: string) => html.split(needle).length - 1;

describe('HTML report (rendering)', () => {
  const bench: ReportData = {
    kind: 'bench',
    bench: benchResultWith([
      { model: 'mlp', backend: 'cpu', batch: 1, kiln: 2 },
      { model: 'mlp', backend: 'wasm', batch: 1, kiln: 3 },
    ]),
  };
  const optimize: ReportData = { kind: 'optimize', report: syntheticKilnReport(), model: 'model.json' };

  it('is one self-contained page: no scripts but its data, nothing fetched', () => {
    for (const data of [bench, optimize]) {
      const html = renderHtmlReport(data);
      expect(html.startsWith('<!DOCTYPE html>')).to.equal(true);
      expect(externalReferences(html)).to.deep.equal([]);
      expect(html).to.contain("default-src 'none'");
      expect(embeddedData(html)).to.deep.equal(JSON.parse(JSON.stringify(data)));
    }
  });

  it('escapes text from the run, and the embedded JSON cannot close its script element', () => {
    const html = renderHtmlReport(optimize);
    expect(html).not.to.contain('<script>alert(1)</script>');
    expect(html).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(count(html, '</script>'), 'only the data element closes a script').to.equal(1);
  });

  it('optimize with a shape profile: a row per batch size, the dispatch rule, and the decisions of each later size', () => {
    const one = syntheticKilnReport();
    const other = { ...syntheticKilnReport(), backend: 'wasm-threads', final: 'fused on wasm-threads <b>' };
    const report = {
      ...one,
      final: 'per batch size: 1 -> a; 32 -> b',
      profile: {
        batches: [1, 32],
        rule: 'each call runs the model kept at its batch',
        entries: [
          { batch: 1, report: one },
          { batch: 32, report: other },
        ],
      },
    };
    const html = renderHtmlReport({ kind: 'optimize', report, model: 'model.json' });
    expect(html).to.contain('Shape profile: batches 1, 32').and.to.contain('Dispatch: each call runs the model kept at its batch.');
    expect(count(html, 'data-batch=')).to.equal(2);
    expect(html).to.contain('Decisions at batch 1').and.to.contain('Decisions at batch 32');
    expect(html).to.contain('fused on wasm-threads &lt;b&gt;');
    expect(count(html, 'class="decisions"')).to.equal(3);
  });

  it('optimize: a decision timeline box per decision, speedup bars, latencies and the weight-precision map', () => {
    const html = renderHtmlReport(optimize);
    const report = syntheticKilnReport();
    expect(count(html, 'class="decision"')).to.equal(report.decisions.length);
    expect(html)
      .to.contain('data-chart="timeline"')
      .and.to.contain('data-chart="speedup"')
      .and.to.contain('data-chart="latency"')
      .and.to.contain('data-chart="precision"');
    expect(count(html, 'class="weight"')).to.equal(WEIGHT_ROWS.length);
    expect(html).to.contain(`data-end-to-end="${31.5 / 10.1}"`);
  });

  it('bench: speedup bars per model and a latency chart per cell', () => {
    const html = renderHtmlReport(bench);
    expect(count(html, '<section class="cell"')).to.equal(2);
    expect(html).to.contain('data-chart="speedup"').and.to.contain('data-chart="latency"');
    expect(html).not.to.contain('data-chart="precision"');
  });

  it('reads per-weight precisions tolerantly: a weights table, any table with precisions, or precision.* metrics', () => {
    const base: Decision = {
      slot: 0,
      plugin: 'mixed-precision',
      kind: 'precision',
      objective: 'size',
      status: 'applied',
      reason: '',
      metrics: {},
      notes: [],
    };
    expect(
      weightPrecisions({ ...base, tables: { weights: WEIGHT_ROWS } })!.map((w) => [w.weight, w.precision, w.bytesAfter]),
    ).to.deep.equal([
      ['conv/kernel', 'float16', 2304],
      ['conv/bias', 'float32', 64],
      ['dense/kernel', 'uint8', 2560],
    ]);
    expect(weightPrecisions({ ...base, tables: { perWeight: [{ name: 'w', precision: 'float16' }] } })).to.deep.equal([
      { weight: 'w', precision: 'float16', shape: undefined, bytesBefore: undefined, bytesAfter: undefined },
    ]);
    expect(weightPrecisions({ ...base, metrics: { 'precision.dense/kernel': 'uint8', applyMs: 3 } })).to.deep.equal([
      { weight: 'dense/kernel', precision: 'uint8' },
    ]);
    expect(weightPrecisions({ ...base, tables: { other: [{ a: 1 }] } })).to.equal(undefined);
    expect(weightPrecisions(base)).to.equal(undefined);
  });

  it('writes the page atomically', async () => {
    const dir = await makeTempDir('kiln-report-');
    try {
      const file = path.join(dir, 'report.html');
      await writeHtmlReport(file, optimize);
      expect(await fs.readFile(file, 'utf8')).to.equal(renderHtmlReport(optimize));
      expect(await fs.readdir(dir)).to.deep.equal(['report.html']);
    } finally {
      await removeTempDir(dir);
    }
  });
});
