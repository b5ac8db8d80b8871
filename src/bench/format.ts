import Table from 'cli-table3';
import { describeComparison } from './baseline.js';
import type { BenchResult, CellResult, VariantResult } from './types.js';
import { KILN, PLAIN_TFJS, PLAIN_WASM, PREDICT } from './variants.js';

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

/** Variants that repeat another in every cell (plain-wasm in a run of wasm cells): the summary leaves out their columns. */
function aliasedEverywhere(result: BenchResult): Set<string> {
  const names = variantNames(result).filter(
    (n) => result.cells.length > 0 && result.cells.every((c) => c.variants.find((v) => v.name === n)?.sameAs !== undefined),
  );
  return new Set(names);
}

/** The headline ratios: Kiln against the stock model's own predict on wasm, then on cpu (plain tf.js's default), where measured. */
function headlineColumns(result: BenchResult): { head: string; ratio: (c: CellResult) => number | undefined }[] {
  const names = variantNames(result);
  if (!names.includes(KILN)) return [];
  const columns: { head: string; ratio: (c: CellResult) => number | undefined }[] = [];
  if (names.includes(PLAIN_WASM)) columns.push({ head: `${KILN} / ${PLAIN_WASM}`, ratio: (c) => c.vsPlainWasm?.[KILN] });
  if (names.includes(PLAIN_TFJS)) columns.push({ head: `${KILN} / ${PLAIN_TFJS} (cpu)`, ratio: (c) => c.vsPlain[KILN] });
  return columns;
}

/**
 * What Kiln kept for the kiln variant of a cell (the applied decisions of its optimize()
 * run; under a shape profile, those of the run at the cell's batch), or undefined without a run.
 */
export function keptBy(result: BenchResult, model: string, backend: string, batch?: number): string | undefined {
  const run = result.optimizeRuns.find((r) => r.model === model && r.backend === backend);
  if (!run) return undefined;
  const report = run.report.profile?.entries.find((e) => e.batch === batch)?.report ?? run.report;
  const kept = report.decisions.filter((d) => d.status === 'applied').map((d) => d.plugin);
  return kept.length ? kept.join(', ') : 'nothing';
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

/**
 * One row per cell: every variant's median (but those that repeat another in every
 * cell), the headline ratios (Kiln against the stock predict on wasm, then on cpu), the
 * ratios to predict on the cell's backend, Kiln's GFLOP/s and what Kiln kept.
 */
export function summaryGrid(result: BenchResult): Grid {
  const aliased = aliasedEverywhere(result);
  const names = variantNames(result).filter((n) => !aliased.has(n));
  const ratios = ratioColumns(result);
  const headline = headlineColumns(result);
  const hasKiln = names.includes(KILN);
  const hasKept = hasKiln && result.optimizeRuns.length > 0;
  const head = [
    'model',
    'backend',
    'batch',
    'MFLOP',
    ...names.map((n) => `${n} ms`),
    ...headline.map((h) => h.head),
    ...ratios.map((n) => `${n} / predict`),
  ];
  if (hasKiln) head.push(`${KILN} GFLOP/s`);
  if (hasKept) head.push(`${KILN} kept`);
  head.push('rounds');
  const rows = result.cells.map((c) => {
    const v = (n: string) => c.variants.find((x) => x.name === n);
    const row = [
      c.model,
      c.backend,
      String(c.batch),
      formatMflop(c.flops),
      ...names.map((n) => formatMs(v(n)?.medianMs)),
      ...headline.map((h) => formatRatio(h.ratio(c))),
      ...ratios.map((n) => formatRatio(c.vsPredict[n])),
    ];
    if (hasKiln) row.push(formatGflops(v(KILN)?.gflops));
    if (hasKept) row.push(keptBy(result, c.model, c.backend, c.batch) ?? '-');
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
    '/ plain-wasm',
    '/ plain-tfjs',
  ];
  const rows: string[][] = [];
  for (const c of result.cells) {
    for (const v of c.variants) rows.push([c.model, c.backend, String(c.batch), v.name, ...variantFigures(c, v)]);
  }
  return { head, rows };
}

function clip(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function variantFigures(c: CellResult, v: VariantResult): string[] {
  if (v.error && !v.sameAs) return [v.ranOn ?? '-', `error: ${clip(v.error)}`, '', '', '', '', '', ''];
  if (v.skipped) return ['-', `skipped: ${clip(v.skipped)}`, '', '', '', '', '', ''];
  const same = v.sameAs ? ` (= ${v.sameAs})` : '';
  const capped = v.capped ? ` (${v.samples ?? 0} timed)` : '';
  return [
    `${v.ranOn ?? '-'}${same}`,
    `${formatMs(v.medianMs)}${capped}`,
    `${formatMs(v.p10Ms)}-${formatMs(v.p90Ms)}`,
    formatMs(v.coldMs),
    formatGflops(v.gflops),
    formatRatio(c.vsPredict[v.name]),
    formatRatio(c.vsPlainWasm?.[v.name]),
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
    `Ratios: median of the reference / median of the variant, all timed interleaved in one run (higher is faster); absolute times are for context only. The headline, ${KILN} / ${PLAIN_WASM}, is Kiln against the model's own predict on wasm, the best a plain tf.js user has in Node without tfjs-node; ${KILN} / ${PLAIN_TFJS} (cpu) is against plain tf.js's default backend.`,
    `Schedule per cell: cold call, up to ${result.settings.warmupRounds} warm-up round(s), then ${schedule(result)}; outliers beyond ${result.settings.outlierSigma} sd dropped. Took ${(result.durationMs / 1000).toFixed(1)} s.`,
    'MFLOP: one call at that batch, counted from the traced kernels (2 per multiply-accumulate in convolutions and matrix products, 1 per element elsewhere); GFLOP/s = that count / median.',
    'Variants:',
    ...result.variants.map((v) => `  ${v.name}: ${v.description}`),
  ];
  const leftOut = cellNotes(result);
  if (leftOut.length) lines.push('Cells:', ...leftOut.map((l) => `  ${l}`));
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

/** Per cell, what the tables only hint at: unknown FLOP counts, variants left out, timed less or run otherwise than named, and why. */
function cellNotes(result: BenchResult): string[] {
  const lines: string[] = [];
  for (const c of result.cells) {
    const where = `${c.model} on ${c.backend} at batch ${c.batch}`;
    if (c.flopsUnknown) lines.push(`${where}: MFLOP unknown: ${c.flopsUnknown}`);
    for (const v of c.variants) {
      if (v.skipped && !v.skipped.startsWith('slow cell')) lines.push(`${where}: ${v.name} left out: ${v.skipped}`);
      if (v.capped) lines.push(`${where}: ${v.name} ${v.capped}`);
      // Kiln's own description (what it kept) is in "Kiln kept"; others say e.g. that a compiled graph runs eagerly.
      if (v.description && v.name !== KILN && !v.sameAs) lines.push(`${where}: ${v.name} ${v.description}`);
    }
  }
  return lines;
}

/** What `kiln bench` prints: the per-variant figures, the summary table and the notes. */
export function renderBench(result: BenchResult, options: { markdown?: boolean; detail?: boolean } = {}): string {
  const parts: string[] = [];
  if (options.detail !== false) parts.push(renderGrid(detailGrid(result)), '');
  parts.push(renderGrid(summaryGrid(result)), '', renderNotes(result));
  if (options.markdown) parts.push('', renderMarkdown(summaryGrid(result)));
  return parts.join('\n');
}
