import Table from 'cli-table3';
import type { Decision, KilnReport } from '../core/pipeline/report.js';

const FIGURES: readonly [key: string, label: string, format: (v: number) => string][] = [
  ['speedup', 'speedup', (v) => `${v.toFixed(2)}x`],
  ['candidateMedianMs', 'median', (v) => `${v.toFixed(3)} ms`],
  ['coldMs', 'cold', (v) => `${v.toFixed(1)} ms`],
  ['maxAbsDiff', 'max|diff|', (v) => v.toExponential(1)],
  ['sizeGain', 'size', (v) => `${v.toFixed(2)}x smaller`],
  ['applyMs', 'apply', (v) => `${v.toFixed(0)} ms`],
];

/**
 * The decisions table and summary lines a person reads after `kiln optimize` / `kiln demo`;
 * for a shape profile, one such section per batch size, then how calls are routed.
 */
export function renderReport(report: KilnReport, width = process.stdout.columns ?? 120): string {
  const profile = report.profile;
  if (!profile) return renderRun(report, width);
  const sections = profile.entries.map((e) => [`=== batch ${e.batch} ===`, renderRun(e.report, width)].join('\n'));
  const summary = new Table({ head: ['batch', 'backend', 'runs', 'end to end'], style: { head: [], border: [] } });
  for (const e of profile.entries) {
    const end = e.report.endToEnd;
    summary.push([
      String(e.batch),
      e.report.backend,
      e.report.final,
      end ? `${end.speedup.toFixed(2)}x vs ${end.baseline.replace(/^plain tf\.js: /, '')}` : 'nothing kept',
    ]);
  }
  return [
    ...sections,
    `=== shape profile: batches ${profile.batches.join(', ')} ===`,
    summary.toString(),
    `Dispatch: ${profile.rule}.`,
  ].join('\n\n');
}

/** One pipeline run's table and summary lines. */
function renderRun(report: KilnReport, width: number): string {
  const reasonWidth = Math.max(30, Math.min(70, width - 70));
  const table = new Table({
    head: ['#', 'plugin', 'status', 'reason', 'figures'],
    colWidths: [4, 24, 13, reasonWidth, 28],
    wordWrap: true,
    style: { head: [], border: [] },
  });
  for (const d of report.decisions) table.push([String(d.slot), d.plugin, d.status, d.reason, figures(d)]);
  const lines = [
    `Model: ${report.model.displayName} (${report.model.format})`,
    table.toString(),
    `Backend that ran: ${report.backend} (${report.final})`,
  ];
  if (report.endToEnd) {
    const e = report.endToEnd;
    const verdict = (x: number) => (x >= 1 ? `${x.toFixed(2)}x faster` : `${(1 / x).toFixed(2)}x slower`);
    if (e.keptPlain) {
      lines.push(`End to end: Kiln's result is ${e.baseline} itself (nothing beyond the backend choice was faster): 1.00x against it`);
    } else {
      const interval = e.interval ? `, 95% interval ${e.interval.low.toFixed(2)}x-${e.interval.high.toFixed(2)}x` : '';
      lines.push(
        `End to end: ${verdict(e.speedup)} than ${e.baseline} (median ${e.baselineMedianMs.toFixed(3)} ms -> ${e.optimizedMedianMs.toFixed(3)} ms, ${e.iterations} interleaved runs${interval})`,
      );
    }
    for (const other of e.slowerPlain ?? []) {
      lines.push(
        `            ${verdict(other.speedup)} than ${other.baseline} (median ${other.baselineMedianMs.toFixed(3)} ms -> ${e.optimizedMedianMs.toFixed(3)} ms)`,
      );
    }
    if (e.versusCpu) {
      lines.push(
        `            ${verdict(e.versusCpu.speedup)} than ${e.versusCpu.baseline} (median ${e.versusCpu.baselineMedianMs.toFixed(3)} ms -> ${e.optimizedMedianMs.toFixed(3)} ms${e.versusCpu.timedIn ? `; cpu timed in ${e.versusCpu.timedIn}` : ''})`,
      );
    }
  } else if (report.decisions.some((d) => d.status === 'applied')) {
    lines.push('End to end: not measured (benchmark.endToEnd is false).');
  } else {
    lines.push('End to end: nothing was kept; the model runs as plain tf.js would run it.');
  }
  const budget = report.validation.budget;
  const under = budget
    ? `under the accuracy budget ${Object.entries(budget)
        .map(
          ([output, terms]) =>
            `${output}: ${Object.entries(terms)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}`,
        )
        .join('; ')} (outputs it does not cover: ${report.validation.check})`
    : `(${report.validation.check})`;
  lines.push(
    `Validated against the original on cpu ${under} on ${report.validation.inputSets.length} input sets: ${report.validation.inputSets.join(', ')}.`,
  );
  if (report.validation.rows) lines.push(`Rows compared: ${report.validation.rows}.`);
  for (const d of report.decisions) {
    for (const [name, rows] of Object.entries(d.tables ?? {}))
      if (rows.length) lines.push('', `${d.plugin} (${d.status}): ${name}`, renderRows(rows));
  }
  return lines.join('\n');
}

/** A plugin's table (rows of figures), its columns the keys of the rows in order of appearance. */
function renderRows(rows: readonly Record<string, string | number | boolean>[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const table = new Table({
    head: columns,
    style: { head: [], border: [], compact: true },
  });
  for (const row of rows) table.push(columns.map((c) => (row[c] === undefined ? '' : String(row[c]))));
  return table.toString();
}

function figures(d: Decision): string {
  return FIGURES.filter(([key]) => typeof d.metrics[key] === 'number')
    .map(([key, label, format]) => `${label} ${format(d.metrics[key] as number)}`)
    .join('\n');
}
