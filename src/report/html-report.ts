import { summaryGrid } from '../bench/format.js';
import type { BenchResult, CellResult } from '../bench/types.js';
import { KILN, PLAIN_TFJS, PLAIN_WASM, PREDICT } from '../bench/variants.js';
import type { Decision, KilnReport, MetricValue, ShapeProfileReport } from '../core/pipeline/report.js';
import {
  colourOf,
  decisionTimeline,
  latencyChart,
  precisionMap,
  speedupBars,
  type Bar,
  type LatencyRow,
  type WeightPrecision,
} from './charts.js';
import { el, esc } from './svg.js';

/** What a report shows: one `kiln optimize` run, or one `kiln bench` run. */
export type ReportData =
  | { readonly kind: 'optimize'; readonly report: KilnReport; /** The model's name or path, for the title. */ readonly model?: string }
  | { readonly kind: 'bench'; readonly bench: BenchResult };

/**
 * A self-contained HTML page for a Kiln run: inline CSS and SVG, no script but the
 * data itself, nothing fetched. The JSON it was drawn from is embedded as
 * `<script type="application/json" id="kiln-data">`, and every chart's numbers are in
 * its `data-*` attributes and text, so the page can be checked against it.
 *
 * - optimize: the decision timeline, speedup and latency per candidate, the end-to-end
 *   figure, the weight-precision map of mixed precision (when a decision carries
 *   per-weight rows), and every decision with its reason and notes;
 * - bench: the summary table, speedup bars per model, latency distributions per cell
 *   and variant, Kiln's decisions per model and backend, and the baseline check.
 */
export function renderHtmlReport(data: ReportData): string {
  const title = data.kind === 'optimize' ? `Kiln optimisation report${data.model ? `: ${data.model}` : ''}` : 'Kiln benchmark report';
  const body = data.kind === 'optimize' ? optimizeBody(data.report) : benchBody(data.bench);
  const json = JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // No network: nothing below may be fetched (the policy makes a slip an error, not a request).
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    el('h1', {}, esc(title)),
    body,
    `<script type="application/json" id="kiln-data">${json}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #212121; margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #e0e0e0; padding-bottom: 4px; } h3 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: #616161; margin: 2px 0; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 16px 0; }
.card { border: 1px solid #e0e0e0; border-radius: 8px; padding: 10px 14px; min-width: 160px; }
.card .k { color: #757575; font-size: 12px; } .card .v { font-size: 20px; font-weight: 600; }
svg.chart { max-width: 100%; height: auto; display: block; margin: 6px 0 14px; font-family: inherit; }
svg .axis { font-size: 11px; fill: #757575; } svg .grid { stroke: #eeeeee; } svg .one { stroke: #424242; stroke-dasharray: 3 3; }
svg .bar-label { font-size: 12px; fill: #424242; } svg .value { font-size: 12px; fill: #212121; } svg .group-label { font-size: 12px; font-weight: 600; fill: #212121; }
svg .box-label { font-size: 12px; font-weight: 600; fill: #fff; } svg .box-figure { font-size: 11px; fill: #fff; } svg .dark { fill: #37474f; }
svg .kept-path { fill: none; stroke: #2e7d32; stroke-width: 3; stroke-opacity: 0.35; }
svg .median { stroke-width: 3; } svg .reference { stroke: #424242; stroke-width: 2; stroke-dasharray: 2 2; } svg .cold { fill: none; stroke-width: 1.5; } svg .dot { fill-opacity: 0.55; }
table { border-collapse: collapse; font-size: 12px; margin: 8px 0; } th, td { border-bottom: 1px solid #eeeeee; padding: 3px 8px; text-align: right; vertical-align: top; }
th { background: #fafafa; } td.l, th.l { text-align: left; } .status { font-weight: 600; } .errors { color: #c62828; font-size: 12px; }
details { margin: 4px 0; } summary { cursor: pointer; color: #424242; } .notes { color: #616161; font-size: 12px; margin: 2px 0 0 16px; }
.legend { font-size: 12px; color: #616161; } .scroll { overflow-x: auto; }
`;

function card(key: string, value: string, attrs: Record<string, string | number | undefined> = {}): string {
  return el('div', { class: 'card', ...attrs }, el('div', { class: 'k' }, esc(key)), el('div', { class: 'v' }, esc(value)));
}

// ---------------------------------------------------------------- optimize

function optimizeBody(report: KilnReport): string {
  const parts: string[] = [];
  parts.push(
    el(
      'p',
      { class: 'meta' },
      esc(
        `Kiln ${report.kilnVersion}, @tensorflow/tfjs ${report.tfjsVersion}, ${report.mode} mode, started ${report.startedAt}, took ${(report.durationMs / 1000).toFixed(1)} s`,
      ),
    ),
  );
  const e = report.endToEnd;
  parts.push(
    el(
      'div',
      { class: 'cards' },
      card('backend that ran', report.backend, { 'data-backend': report.backend }),
      card('kept', String(report.decisions.filter((d) => d.status === 'applied').length), {}),
      e
        ? card(`end to end vs ${e.baseline}`, `${e.speedup.toFixed(2)}x`, { 'data-end-to-end': e.speedup })
        : card('end to end', 'not measured'),
    ),
  );
  parts.push(el('p', { class: 'meta' }, esc(`Final model: ${report.final}`)));

  parts.push(el('h2', {}, 'Decision timeline'));
  parts.push(
    el(
      'p',
      { class: 'legend' },
      'Every candidate in the order it was tried, one lane per pipeline slot; the line joins what was kept. Hover a box for the reason.',
    ),
  );
  parts.push(decisionTimeline(report.decisions));

  const timed = report.decisions.filter((d) => typeof d.metrics.speedup === 'number');
  if (timed.length || e) {
    parts.push(el('h2', {}, 'Speedup'));
    const bars: Bar[] = timed.map((d) => ({
      label: `#${report.decisions.indexOf(d) + 1} ${d.plugin}`,
      value: d.metrics.speedup as number,
      colour: STATUS_COLOUR(d.status),
      group: 'each candidate against what it would replace',
      data: { 'data-plugin': d.plugin, 'data-status': d.status },
    }));
    if (e)
      bars.push({
        label: 'Kiln vs plain tf.js',
        value: e.speedup,
        colour: '#1565c0',
        group: `end to end (${e.iterations} interleaved runs)`,
        data: { 'data-plugin': 'end-to-end' },
      });
    parts.push(speedupBars(bars, 'Speedup per candidate', 'what it replaced'));
  }

  const latency: LatencyRow[] = timed
    .filter((d) => typeof d.metrics.candidateMedianMs === 'number')
    .map((d) => ({
      label: `#${report.decisions.indexOf(d) + 1} ${d.plugin}`,
      colour: STATUS_COLOUR(d.status),
      medianMs: d.metrics.candidateMedianMs as number,
      p10Ms: numberOr(d.metrics.candidateP10Ms, d.metrics.candidateMedianMs as number),
      p90Ms: numberOr(d.metrics.candidateP90Ms, d.metrics.candidateMedianMs as number),
      coldMs: typeof d.metrics.coldMs === 'number' ? d.metrics.coldMs : undefined,
      referenceMs: typeof d.metrics.baselineMedianMs === 'number' ? d.metrics.baselineMedianMs : undefined,
    }));
  if (e) {
    latency.push({
      label: 'plain tf.js',
      colour: '#757575',
      medianMs: e.baselineMedianMs,
      p10Ms: e.baselineMedianMs,
      p90Ms: e.baselineMedianMs,
    });
    latency.push({
      label: 'Kiln',
      colour: '#1565c0',
      medianMs: e.optimizedMedianMs,
      p10Ms: e.optimizedMedianMs,
      p90Ms: e.optimizedMedianMs,
    });
  }
  if (latency.length) {
    parts.push(el('h2', {}, 'Latency'));
    parts.push(
      el(
        'p',
        { class: 'legend' },
        'Per candidate: p10-p90 box, median bar (value on the right), cold first call as a hollow diamond, and the median of what it would replace as a dashed bar.',
      ),
    );
    parts.push(latencyChart(latency, 'Latency per candidate'));
  }

  for (const d of report.decisions) {
    const weights = weightPrecisions(d);
    if (!weights) continue;
    parts.push(el('h2', {}, esc(`Weight precision: ${d.plugin} (${d.status})`)));
    parts.push(
      el(
        'p',
        { class: 'legend' },
        esc(
          d.status === 'applied'
            ? 'The precision each weight is stored at; bar length is its float32 size, the filled part what is stored.'
            : `Not kept (${d.reason}); the precisions it found are shown for reference.`,
        ),
      ),
    );
    parts.push(precisionMap(weights, `Weight precision of ${d.plugin}`));
  }

  parts.push(el('h2', {}, report.profile ? `Decisions at batch ${report.profile.batches[0]}` : 'Decisions'));
  parts.push(decisionsTable(report.decisions));
  parts.push(
    el(
      'p',
      { class: 'meta' },
      esc(
        `Validated against the original on cpu (${report.validation.check}) on ${report.validation.inputSets.length} input sets: ${report.validation.inputSets.join(', ')}.`,
      ),
    ),
  );
  if (report.profile) parts.push(profileSection(report.profile));
  return parts.join('\n');
}

/** A shape profile: what each batch size kept, how calls are routed, and each later size's decisions. */
function profileSection(profile: ShapeProfileReport): string {
  const head = el('tr', {}, ...['batch', 'backend', 'runs', 'end to end'].map((h) => el('th', { class: 'l' }, h)));
  const rows = profile.entries.map((e) =>
    el(
      'tr',
      { 'data-batch': e.batch },
      el('td', { class: 'l' }, String(e.batch)),
      el('td', { class: 'l' }, esc(e.report.backend)),
      el('td', { class: 'l' }, esc(e.report.final)),
      el(
        'td',
        { class: 'l' },
        esc(e.report.endToEnd ? `${e.report.endToEnd.speedup.toFixed(2)}x vs ${e.report.endToEnd.baseline}` : 'nothing kept'),
      ),
    ),
  );
  return [
    el('h2', {}, esc(`Shape profile: batches ${profile.batches.join(', ')}`)),
    el('table', { class: 'decisions' }, head, ...rows),
    el('p', { class: 'meta' }, esc(`Dispatch: ${profile.rule}.`)),
    ...profile.entries.slice(1).flatMap((e) => [el('h2', {}, `Decisions at batch ${e.batch}`), decisionsTable(e.report.decisions)]),
  ].join('\n');
}

function STATUS_COLOUR(status: string): string {
  return ({ applied: '#2e7d32', rejected: '#ef6c00', failed: '#c62828' } as Record<string, string>)[status] ?? '#9e9e9e';
}

function numberOr(v: MetricValue | undefined, fallback: number): number {
  return typeof v === 'number' ? v : fallback;
}

/**
 * Per-weight precisions a decision carries, read tolerantly: a table (named `weights`,
 * or any whose rows have a precision) with rows naming the weight (`weight` or `name`)
 * and its `precision`, bytes optional; or metrics `precision.<weight>` = precision.
 */
export function weightPrecisions(d: Decision): WeightPrecision[] | undefined {
  const tables = d.tables ?? {};
  const rows = tables.weights ?? Object.values(tables).find((t) => t.some((r) => typeof r.precision === 'string'));
  if (rows?.length) {
    const out = rows
      .filter((r) => typeof r.precision === 'string' && (typeof r.weight === 'string' || typeof r.name === 'string'))
      .map((r) => ({
        weight: String(r.weight ?? r.name),
        precision: String(r.precision),
        shape: typeof r.shape === 'string' ? r.shape : undefined,
        bytesBefore: typeof r.bytesBefore === 'number' ? r.bytesBefore : undefined,
        bytesAfter: typeof r.bytesAfter === 'number' ? r.bytesAfter : undefined,
      }));
    if (out.length) return out;
  }
  const fromMetrics = Object.entries(d.metrics)
    .filter(([k, v]) => k.startsWith('precision.') && typeof v === 'string')
    .map(([k, v]) => ({ weight: k.slice('precision.'.length), precision: String(v) }));
  return fromMetrics.length ? fromMetrics : undefined;
}

function decisionsTable(decisions: readonly Decision[]): string {
  const head = el(
    'tr',
    {},
    ...['#', 'slot', 'plugin', 'status', 'reason', 'figures'].map((h, i) => el('th', { class: i >= 2 ? 'l' : undefined }, h)),
  );
  const rows = decisions.map((d, i) => {
    const figures = Object.entries(d.metrics)
      .filter(([, v]) => typeof v !== 'string' || v.length < 40)
      .slice(0, 12)
      .map(([k, v]) => `${k} ${typeof v === 'number' ? Number(v.toPrecision(4)) : v}`)
      .join(', ');
    const notes = d.notes.length
      ? el('details', {}, el('summary', {}, `${d.notes.length} note(s)`), ...d.notes.map((n) => el('div', { class: 'notes' }, esc(n))))
      : '';
    return el(
      'tr',
      { 'data-plugin': d.plugin, 'data-status': d.status },
      el('td', {}, String(i + 1)),
      el('td', {}, String(d.slot)),
      el('td', { class: 'l' }, esc(d.plugin)),
      el('td', { class: 'l status', style: `color:${STATUS_COLOUR(d.status)}` }, esc(d.status)),
      el('td', { class: 'l' }, esc(d.reason), notes),
      el('td', { class: 'l' }, esc(figures)),
    );
  });
  return el('table', { class: 'decisions' }, head, ...rows);
}

// ---------------------------------------------------------------- bench

function benchBody(bench: BenchResult): string {
  const parts: string[] = [];
  const names = bench.variants.map((v) => v.name);
  parts.push(el('p', { class: 'meta', 'data-machine': bench.machine.description }, esc(`Machine: ${bench.machine.description}`)));
  parts.push(
    el(
      'p',
      { class: 'meta' },
      esc(
        `Kiln ${bench.kilnVersion}, @tensorflow/tfjs ${bench.tfjsVersion}, started ${bench.startedAt}, took ${(bench.durationMs / 1000).toFixed(1)} s; best backend here: ${bench.bestBackend}.`,
      ),
    ),
  );
  parts.push(
    el(
      'p',
      { class: 'legend' },
      esc(
        'Ratios are medians of the reference over medians of the variant, timed interleaved in one run (higher is faster). Absolute times are for context only.',
      ),
    ),
  );

  parts.push(el('h2', {}, 'Summary'));
  const grid = summaryGrid(bench);
  parts.push(
    el(
      'div',
      { class: 'scroll' },
      el(
        'table',
        { class: 'summary' },
        el('tr', {}, ...grid.head.map((h, i) => el('th', { class: i < 2 ? 'l' : undefined }, esc(h)))),
        ...grid.rows.map((r) => el('tr', {}, ...r.map((c, i) => el('td', { class: i < 2 ? 'l' : undefined }, esc(c))))),
      ),
    ),
  );
  parts.push(
    el(
      'details',
      {},
      el('summary', {}, 'What each variant is'),
      ...bench.variants.map((v) => el('div', { class: 'notes' }, el('b', {}, esc(v.name)), esc(`: ${v.description}`))),
    ),
  );

  if (bench.baseline) parts.push(baselineSection(bench));

  parts.push(el('h2', {}, 'Speedup per model'));
  parts.push(
    el(
      'p',
      { class: 'legend' },
      esc(
        `Each variant against ${PREDICT} on the same backend and batch (log scale; right of the dashed line is faster), and ${KILN} against ${PLAIN_WASM} (the stock predict on wasm, the headline) and ${PLAIN_TFJS} (on cpu).`,
      ),
    ),
  );
  for (const model of [...new Set(bench.cells.map((c) => c.model))]) {
    const bars: Bar[] = [];
    for (const c of bench.cells.filter((x) => x.model === model)) {
      const group = `${c.backend} · batch ${c.batch}`;
      const cellData = { 'data-model': c.model, 'data-backend': c.backend, 'data-batch': c.batch };
      for (const v of c.variants) {
        if (v.name === PREDICT || v.sameAs || c.vsPredict[v.name] === undefined) continue;
        bars.push({
          label: `${v.name} / ${PREDICT}`,
          value: c.vsPredict[v.name]!,
          colour: colourOf(v.name, names),
          group,
          data: { ...cellData, 'data-variant': v.name, 'data-reference': PREDICT },
        });
      }
      if (c.vsPlainWasm?.[KILN] !== undefined && names.includes(PLAIN_WASM)) {
        bars.push({
          label: `${KILN} / ${PLAIN_WASM}`,
          value: c.vsPlainWasm[KILN],
          colour: '#1b5e20',
          group,
          data: { ...cellData, 'data-variant': KILN, 'data-reference': PLAIN_WASM },
        });
      }
      if (c.vsPlain[KILN] !== undefined && names.includes(PLAIN_TFJS)) {
        bars.push({
          label: `${KILN} / ${PLAIN_TFJS}`,
          value: c.vsPlain[KILN]!,
          colour: '#0d47a1',
          group,
          data: { ...cellData, 'data-variant': KILN, 'data-reference': PLAIN_TFJS },
        });
      }
    }
    parts.push(el('h3', {}, esc(model)));
    parts.push(speedupBars(bars, `Speedup: ${model}`));
  }

  parts.push(el('h2', {}, 'Latency distributions'));
  parts.push(
    el(
      'p',
      { class: 'legend' },
      'Every timed call as a dot, p10-p90 as a box, the median as a bar (value on the right), the cold first call as a hollow diamond. Variants that repeat another in a cell are left out.',
    ),
  );
  for (const c of bench.cells) parts.push(cellLatency(c, names));

  if (bench.optimizeRuns.length) {
    parts.push(el('h2', {}, "Kiln's decisions"));
    parts.push(el('p', { class: 'legend' }, esc('What optimize() tried and kept for the kiln variant, per model and backend.')));
    for (const run of bench.optimizeRuns) {
      parts.push(el('h3', {}, esc(`${run.model} on ${run.backend}: ${run.report.final}`)));
      parts.push(decisionTimeline(run.report.decisions, `Decisions: ${run.model} on ${run.backend}`));
    }
  }
  return parts.join('\n');
}

function cellLatency(c: CellResult, names: readonly string[]): string {
  const rows: LatencyRow[] = c.variants
    .filter((v) => !v.sameAs && v.medianMs !== undefined)
    .map((v) => ({
      label: v.name,
      colour: colourOf(v.name, names),
      medianMs: v.medianMs!,
      p10Ms: v.p10Ms ?? v.medianMs!,
      p90Ms: v.p90Ms ?? v.medianMs!,
      timingsMs: v.timingsMs,
      coldMs: v.coldMs,
      note: [v.ranOn ? `ran on ${v.ranOn}` : '', v.gflops !== undefined ? `${v.gflops} GFLOP/s` : ''].filter(Boolean).join(', '),
    }));
  const errors = c.variants
    .filter((v) => v.error && !v.sameAs)
    .map((v) => el('div', { class: 'errors', 'data-variant': v.name }, esc(`${v.name}: ${v.error}`)));
  const same = c.variants.filter((v) => v.sameAs).map((v) => `${v.name} = ${v.sameAs}`);
  const skipped = c.variants
    .filter((v) => v.skipped)
    .map((v) => el('div', { class: 'legend', 'data-skipped': v.name }, esc(`${v.name}: ${v.skipped}`)));
  return el(
    'section',
    { class: 'cell', 'data-model': c.model, 'data-backend': c.backend, 'data-batch': c.batch },
    el(
      'h3',
      {},
      esc(`${c.model} · ${c.backend} · batch ${c.batch}`),
      el(
        'span',
        { class: 'legend' },
        esc(
          ` — ${c.rounds} rounds${Number.isFinite(c.flops) ? `, ${(c.flops / 1e6).toFixed(2)} MFLOP per call` : ''}${same.length ? `; ${same.join(', ')}` : ''}`,
        ),
      ),
    ),
    rows.length ? latencyChart(rows, `Latency: ${c.model} on ${c.backend}, batch ${c.batch}`) : '',
    ...errors,
    ...skipped,
  );
}

function baselineSection(bench: BenchResult): string {
  const b = bench.baseline!;
  const head = el(
    'tr',
    {},
    ...['model', 'backend', 'batch', 'ratio then', 'ratio now', 'change', 'verdict'].map((h, i) =>
      el('th', { class: i < 2 ? 'l' : undefined }, h),
    ),
  );
  const rows = b.comparisons.map((c) =>
    el(
      'tr',
      {
        class: 'comparison',
        'data-model': c.model,
        'data-backend': c.backend,
        'data-batch': c.batch,
        'data-then': c.then,
        'data-now': c.now,
        'data-regressed': String(c.regressed),
      },
      el('td', { class: 'l' }, esc(c.model)),
      el('td', { class: 'l' }, esc(c.backend)),
      el('td', {}, String(c.batch)),
      el('td', {}, `${c.then.toFixed(2)}x`),
      el('td', {}, `${c.now.toFixed(2)}x`),
      el('td', {}, `${c.changePct >= 0 ? '+' : ''}${c.changePct.toFixed(1)}%`),
      el('td', { class: 'l status', style: `color:${c.regressed ? '#c62828' : '#2e7d32'}` }, c.regressed ? 'regressed' : 'ok'),
    ),
  );
  return [
    el('h2', {}, 'Baseline check'),
    el(
      'p',
      { class: 'legend' },
      esc(
        `${b.file}: ${b.comparisons.length} ${KILN}/${PREDICT} ratio(s) compared; a fall of more than ${b.maxRegressionPct}% is a regression (${b.regressions} found).${b.notInBaseline.length ? ` Not in the baseline: ${b.notInBaseline.join('; ')}.` : ''}`,
      ),
    ),
    el('table', { class: 'baseline' }, head, ...rows),
  ].join('\n');
}
