import Table from 'cli-table3';
import { describeComparison } from './baseline.js';
import type { BenchResult, CellResult, VariantResult } from './types.js';
import { KILN, PLAIN_TFJS, PREDICT } from './variants.js';

/** Milliseconds with about four significant figures. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  return ms >= 100 ? ms.toFixed(1) : ms >= 10 ? ms.toFixed(2) : ms.toFixed(3);
}

function formatRatio(r: number | undefined): string {
  return r === undefined || !Number.isFinite(r) ? '-' : `${r.toFixed(2)}x`;
}

function formatGflops(g: number | undefined): string {
  return g === undefined || !Number.isFinite(g) ? '-' : g >= 10 ? g.toFixed(1) : g.toFixed(2);
}

function formatMflop(flops: number): string {
  if (!Number.isFinite(flops)) return '-';
  const m = flops / 1e6;
  return m >= 100 ? m.toFixed(0) : m >= 0.1 ? m.toFixed(2) : String(Number(m.toPrecision(2)));
}

/** Variant names in table order. */
function variantNames(result: BenchResult): string[] {
  return result.variants.map((v) => v.name);
}

/** The variants whose ratio to predict the summary shows: those after predict (ways of running on the cell's backend). */
function ratioColumns(result: BenchResult): string[] {
  const names = variantNames(result);
  return names.slice(names.indexOf(PREDICT) + 1);
}

interface Grid {
  head: string[];
  rows: string[][];
}

/** One row per cell: every variant's median, the ratios to predict, Kiln's ratio to plain tf.js and its GFLOP/s. */
export function summaryGrid(result: BenchResult): Grid {
  const names = variantNames(result);
  const ratios = ratioColumns(result);
  const hasKiln = names.includes(KILN);
  const head = ['model', 'backend', 'batch', 'MFLOP', ...names.map((n) => `${n} ms`), ...ratios.map((n) => `${n} / predict`)];
  if (hasKiln && names.includes(PLAIN_TFJS)) head.push(`${KILN} / ${PLAIN_TFJS}`);
  if (hasKiln) head.push(`${KILN} GFLOP/s`);
  head.push('rounds');
  const rows = result.cells.map((c) => {
    const v = (n: string) => c.variants.find((x) => x.name === n);
    const row = [
      c.model,
      c.backend,
      String(c.batch),
      formatMflop(c.flops),
      ...names.map((n) => formatMs(v(n)?.medianMs)),
      ...ratios.map((n) => formatRatio(c.vsPredict[n])),
    ];
    if (hasKiln && names.includes(PLAIN_TFJS)) row.push(formatRatio(c.vsPlain[KILN]));
    if (hasKiln) row.push(formatGflops(v(KILN)?.gflops));
    row.push(String(c.rounds));
    return row;
  });
  return { head, rows };
}

/** One row per variant per cell: median, p10-p90, cold call, GFLOP/s, ratios, and what it ran on. */
export function detailGrid(result: BenchResult): Grid {
  const head = [
    'model',
    'backend',
    'batch',
    'variant',
    'ran on',
    'median ms',
    'p10-p90 ms',
    'cold ms',
    'GFLOP/s',
    '/ predict',
    '/ plain-tfjs',
  ];
  const rows: string[][] = [];
  for (const c of result.cells) {
    for (const v of c.variants) rows.push([c.model, c.backend, String(c.batch), v.name, ...variantFigures(c, v)]);
  }
  return { head, rows };
}

function variantFigures(c: CellResult, v: VariantResult): string[] {
  if (v.error && !v.sameAs)
    return [v.ranOn ?? '-', `error: ${v.error.length > 60 ? `${v.error.slice(0, 57)}...` : v.error}`, '', '', '', '', ''];
  if (v.skipped) return ['-', 'skipped (slow cell)', '', '', '', '', ''];
  const same = v.sameAs ? ` (= ${v.sameAs})` : '';
  return [
    `${v.ranOn ?? '-'}${same}`,
    formatMs(v.medianMs),
    `${formatMs(v.p10Ms)}-${formatMs(v.p90Ms)}`,
    formatMs(v.coldMs),
    formatGflops(v.gflops),
    formatRatio(c.vsPredict[v.name]),
    formatRatio(c.vsPlain[v.name]),
  ];
}

export function renderGrid(grid: Grid): string {
  const table = new Table({ head: grid.head, style: { head: [], border: [], compact: true } });
  for (const row of grid.rows) table.push(row);
  return table.toString();
}

export function renderMarkdown(grid: Grid): string {
  const escape = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${grid.head.map(escape).join(' | ')} |`,
    `|${grid.head.map(() => '---').join('|')}|`,
    ...grid.rows.map((r) => `| ${r.map(escape).join(' | ')} |`),
  ].join('\n');
}

function schedule(result: BenchResult): string {
  const s = result.settings;
  if (s.budgetMs === 0 || s.minRounds === s.maxRounds) return `${s.minRounds} timed rounds`;
  return `at least ${s.minRounds} timed rounds, and on until ${s.budgetMs} ms are spent (at most ${s.maxRounds})`;
}

/** Lines under the tables: the machine, how ratios read, the variants, and Kiln's decisions. */
export function renderNotes(result: BenchResult): string {
  const lines = [
    `Machine: ${result.machine.description}`,
    `Best backend here: ${result.bestBackend}${
      Object.keys(result.unavailableBackends).length
        ? ` (not available: ${Object.entries(result.unavailableBackends)
            .map(([b, why]) => `${b}: ${why}`)
            .join('; ')})`
        : ''
    }`,
    `Ratios: median of the reference / median of the variant, all timed interleaved in one run (higher is faster); absolute times are for context only.`,
    `Schedule per cell: cold call, up to ${result.settings.warmupRounds} warm-up round(s), then ${schedule(result)}; outliers beyond ${result.settings.outlierSigma} sd dropped. Took ${(result.durationMs / 1000).toFixed(1)} s.`,
    'MFLOP: one call at that batch, counted from the traced kernels (2 per multiply-accumulate in convolutions and matrix products, 1 per element elsewhere); GFLOP/s = that count / median.',
    'Variants:',
    ...result.variants.map((v) => `  ${v.name}: ${v.description}`),
  ];
  if (result.optimizeRuns.length) {
    lines.push('Kiln kept:');
    for (const run of result.optimizeRuns) {
      const kept = run.report.decisions.filter((d) => d.status === 'applied').map((d) => d.plugin);
      lines.push(
        `  ${run.model} on ${run.backend}: ${kept.length ? kept.join(', ') : 'nothing'}; runs ${run.report.final} (optimize() ${(run.report.durationMs / 1000).toFixed(1)} s)`,
      );
    }
  }
  if (result.baseline) {
    const b = result.baseline;
    lines.push(
      `Baseline ${b.file}: ${b.comparisons.length} ratio(s) compared, ${b.regressions} regressed by more than ${b.maxRegressionPct}%.`,
    );
    for (const c of b.comparisons) lines.push(`  ${describeComparison(c, b.maxRegressionPct)}`);
    for (const n of b.notInBaseline) lines.push(`  not in the baseline: ${n}`);
  }
  return lines.join('\n');
}

/** What `kiln bench` prints: the per-variant figures, the summary table and the notes. */
export function renderBench(result: BenchResult, options: { markdown?: boolean; detail?: boolean } = {}): string {
  const parts: string[] = [];
  if (options.detail !== false) parts.push(renderGrid(detailGrid(result)), '');
  parts.push(renderGrid(summaryGrid(result)), '', renderNotes(result));
  if (options.markdown) parts.push('', renderMarkdown(summaryGrid(result)));
  return parts.join('\n');
}
