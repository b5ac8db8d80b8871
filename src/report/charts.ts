/**
 * The report's charts, each a pure function to an inline `<svg>` string. Every drawn
 * figure carries its number as a `data-*` attribute and as visible text, so a reader
 * (or a test) can check the picture against the JSON it came from.
 */
import type { Decision } from '../core/pipeline/report.js';
import { autoScale, colourOf, el, esc, logScale, num, PRECISION_COLOURS, STATUS_COLOURS, xAxis } from './svg.js';

const FONT_ROW = 20;

/** Figure a decision is summarised by in the timeline. */
function decisionFigure(d: Decision): string {
  const m = d.metrics;
  if (d.objective === 'size' && typeof m.sizeGain === 'number') return `${m.sizeGain.toFixed(2)}x smaller`;
  if (typeof m.speedup === 'number') return `${m.speedup.toFixed(2)}x`;
  if (typeof m.sizeGain === 'number') return `${m.sizeGain.toFixed(2)}x smaller`;
  return '';
}

/**
 * The pipeline's decisions in the order they were made: one column per candidate
 * tried, one lane per slot, coloured by status; the line joins the candidates that
 * were kept (the path the model took). Hover a box for the reason.
 */
export function decisionTimeline(decisions: readonly Decision[], title = 'Decision timeline'): string {
  const boxW = 150;
  const boxH = 50;
  const gap = 16;
  const left = 70;
  const top = 28;
  const slots = [...new Set(decisions.map((d) => d.slot))].sort((a, b) => a - b);
  const laneH = boxH + 22;
  const width = left + Math.max(1, decisions.length) * (boxW + gap) + 10;
  const height = top + slots.length * laneH + 34;
  const pos = (i: number, d: Decision) => ({ x: left + i * (boxW + gap), y: top + slots.indexOf(d.slot) * laneH });
  const lanes = slots.map((s, k) => el('text', { x: 8, y: top + k * laneH + boxH / 2 + 4, class: 'axis' }, `slot ${s}`));
  const kept = decisions.map((d, i) => ({ d, i })).filter(({ d }) => d.status === 'applied');
  const path =
    kept.length > 1
      ? el('polyline', {
          points: kept
            .map(({ d, i }) => {
              const p = pos(i, d);
              return `${num(p.x + boxW / 2)},${num(p.y + boxH / 2)}`;
            })
            .join(' '),
          class: 'kept-path',
        })
      : '';
  const boxes = decisions.map((d, i) => {
    const p = pos(i, d);
    const colour = STATUS_COLOURS[d.status] ?? '#999';
    const dark = d.status === 'skipped';
    const figure = decisionFigure(d);
    const applyMs = typeof d.metrics.applyMs === 'number' ? d.metrics.applyMs : undefined;
    return el(
      'g',
      {
        class: 'decision',
        'data-index': i,
        'data-slot': d.slot,
        'data-plugin': d.plugin,
        'data-status': d.status,
        'data-speedup': typeof d.metrics.speedup === 'number' ? d.metrics.speedup : undefined,
        'data-apply-ms': applyMs,
      },
      el('title', {}, esc(`${d.plugin}: ${d.status}: ${d.reason}`)),
      el('rect', { x: p.x, y: p.y, width: boxW, height: boxH, rx: 6, fill: colour }),
      el(
        'text',
        { x: p.x + 8, y: p.y + 17, class: dark ? 'box-label dark' : 'box-label' },
        esc(d.plugin.length > 22 ? `${d.plugin.slice(0, 21)}…` : d.plugin),
      ),
      el(
        'text',
        { x: p.x + 8, y: p.y + 35, class: dark ? 'box-figure dark' : 'box-figure' },
        esc(`${d.status}${figure ? ` · ${figure}` : ''}`),
      ),
      el(
        'text',
        { x: p.x + boxW / 2, y: p.y + boxH + 14, 'text-anchor': 'middle', class: 'axis' },
        esc(`#${i + 1}${applyMs !== undefined ? ` · apply ${applyMs.toFixed(0)} ms` : ''}`),
      ),
    );
  });
  const legend = Object.entries(STATUS_COLOURS).map(([s, c], k) =>
    el(
      'g',
      {},
      el('rect', { x: left + k * 110, y: height - 16, width: 12, height: 12, fill: c }),
      el('text', { x: left + k * 110 + 16, y: height - 6, class: 'axis' }, s),
    ),
  );
  return svg(width, height, title, 'timeline', lanes.join('') + path + boxes.join('') + legend.join(''));
}

/** One bar of a bar chart. */
export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly colour: string;
  /** Rows with the same group are drawn together under its heading. */
  readonly group?: string;
  readonly title?: string;
  /** Extra data-* attributes for the bar. */
  readonly data?: Record<string, string | number>;
}

/**
 * Ratios as horizontal bars on a log scale around 1x: right of the line is faster than
 * the reference, left is slower. Each bar is labelled with its value.
 */
export function speedupBars(bars: readonly Bar[], title: string, reference = 'predict'): string {
  const finite = bars.filter((b) => Number.isFinite(b.value) && b.value > 0);
  const lo = Math.min(0.5, ...finite.map((b) => b.value));
  const hi = Math.max(2, ...finite.map((b) => b.value));
  const left = 230;
  const right = 70;
  const width = 820;
  const scale = logScale(lo / 1.2, hi * 1.2, left, width - right);
  const one = scale(1);
  let y = 24;
  const parts: string[] = [];
  let group: string | undefined;
  for (const b of bars) {
    if (b.group !== undefined && b.group !== group) {
      group = b.group;
      y += 6;
      parts.push(el('text', { x: 6, y: y + 12, class: 'group-label' }, esc(b.group)));
      y += 18;
    }
    const ok = Number.isFinite(b.value) && b.value > 0;
    const x = ok ? scale(b.value) : one;
    // at least 1 px wide, and anchored at 1x on its own side: a bar below 1x ends there
    const width = Math.max(1, Math.abs(x - one));
    const barX = x < one ? one - width : one;
    parts.push(
      el(
        'g',
        { class: 'bar', 'data-label': b.label, 'data-group': b.group, 'data-value': ok ? b.value : undefined, ...(b.data ?? {}) },
        el('title', {}, esc(b.title ?? `${b.label}: ${ok ? `${b.value.toFixed(2)}x` : 'no figure'}`)),
        el('text', { x: left - 8, y: y + 13, 'text-anchor': 'end', class: 'bar-label' }, esc(b.label)),
        el('rect', { x: barX, y: y + 2, width, height: 14, fill: b.colour }),
        el('text', { x: Math.max(x, one) + 5, y: y + 13, class: 'value' }, ok ? `${b.value.toFixed(2)}x` : '–'),
      ),
    );
    y += FONT_ROW;
  }
  const height = y + 30;
  const axis = xAxis(scale, 14, y + 4, 'x');
  const line = el('line', { x1: one, x2: one, y1: 10, y2: y + 4, class: 'one' });
  const note = el('text', { x: one + 4, y: 12, class: 'axis' }, esc(`1x = ${reference}`));
  return svg(width, height, title, 'speedup', axis + line + note + parts.join(''));
}

/** One row of a latency chart: a variant's timings. */
export interface LatencyRow {
  readonly label: string;
  readonly colour: string;
  readonly medianMs: number;
  readonly p10Ms: number;
  readonly p90Ms: number;
  /** Every timed call (dots); absent when only the summary is known. */
  readonly timingsMs?: readonly number[];
  readonly coldMs?: number;
  /** A second marker, e.g. the baseline a candidate was compared with. */
  readonly referenceMs?: number;
  readonly note?: string;
}

/**
 * Latency distributions, one row per variant: every timed call as a dot, the p10-p90
 * range as a box, the median as a bar with its value, the cold call as a hollow
 * diamond. The x axis is logarithmic when the rows span more than 8x.
 */
export function latencyChart(rows: readonly LatencyRow[], title: string): string {
  const values = rows
    .flatMap((r) => [
      r.p10Ms,
      r.p90Ms,
      r.medianMs,
      ...(r.timingsMs ?? []),
      ...(r.coldMs !== undefined ? [r.coldMs] : []),
      ...(r.referenceMs !== undefined ? [r.referenceMs] : []),
    ])
    .filter((v) => Number.isFinite(v) && v > 0);
  const left = 150;
  const right = 150;
  const width = 820;
  const rowH = 30;
  const scale = autoScale(Math.min(...values, 1e9), Math.max(...values, 1e-9), left, width - right);
  const top = 10;
  const parts = rows.map((r, k) => {
    const y = top + k * rowH;
    const mid = y + rowH / 2;
    const dots = (r.timingsMs ?? []).map((t, i) =>
      el('circle', { cx: scale(t), cy: mid + (((i * 7919) % 11) - 5) * 1.1, r: 1.8, fill: r.colour, class: 'dot' }),
    );
    return el(
      'g',
      {
        class: 'variant',
        'data-variant': r.label,
        'data-median': r.medianMs,
        'data-p10': r.p10Ms,
        'data-p90': r.p90Ms,
        'data-cold': r.coldMs,
        'data-count': r.timingsMs?.length,
      },
      el(
        'title',
        {},
        esc(
          `${r.label}: median ${msLabel(r.medianMs)} ms, p10 ${msLabel(r.p10Ms)} ms, p90 ${msLabel(r.p90Ms)} ms${r.coldMs !== undefined ? `, cold ${msLabel(r.coldMs)} ms` : ''}${r.timingsMs ? `, ${r.timingsMs.length} timed calls` : ''}${r.note ? ` (${r.note})` : ''}`,
        ),
      ),
      el('text', { x: left - 8, y: mid + 4, 'text-anchor': 'end', class: 'bar-label' }, esc(r.label)),
      el('rect', {
        x: scale(r.p10Ms),
        y: mid - 8,
        width: Math.max(1.5, scale(r.p90Ms) - scale(r.p10Ms)),
        height: 16,
        fill: r.colour,
        'fill-opacity': 0.22,
        stroke: r.colour,
        class: 'box',
      }),
      ...dots,
      el('line', { x1: scale(r.medianMs), x2: scale(r.medianMs), y1: mid - 10, y2: mid + 10, stroke: r.colour, class: 'median' }),
      r.referenceMs !== undefined
        ? el('line', { x1: scale(r.referenceMs), x2: scale(r.referenceMs), y1: mid - 10, y2: mid + 10, class: 'reference' })
        : '',
      r.coldMs !== undefined ? el('path', { d: diamond(scale(r.coldMs), mid), class: 'cold', stroke: r.colour }) : '',
      el('text', { x: width - right + 8, y: mid + 4, class: 'value median-value' }, esc(`${msLabel(r.medianMs)} ms`)),
    );
  });
  const bottom = top + rows.length * rowH;
  return svg(width, bottom + 24, title, 'latency', xAxis(scale, top, bottom, ' ms') + parts.join(''));
}

/** A latency as the charts print it: four significant figures at most. */
export function msLabel(ms: number): string {
  return ms >= 100 ? ms.toFixed(1) : ms >= 10 ? ms.toFixed(2) : ms.toFixed(3);
}

function diamond(x: number, y: number): string {
  return `M${num(x)},${num(y - 6)} L${num(x + 5)},${num(y)} L${num(x)},${num(y + 6)} L${num(x - 5)},${num(y)} Z`;
}

/** One weight of a model, as mixed precision stored it. */
export interface WeightPrecision {
  readonly weight: string;
  readonly precision: string;
  readonly shape?: string;
  readonly bytesBefore?: number;
  readonly bytesAfter?: number;
}

/**
 * Which precision each weight is stored at: one row per weight, the bar's length its
 * float32 size (relative to the largest), its filled part the bytes stored, its colour
 * the precision. A stacked bar on top sums the bytes per precision.
 */
export function precisionMap(weights: readonly WeightPrecision[], title = 'Weight precision'): string {
  const left = 240;
  const width = 820;
  const barMax = width - left - 190;
  const maxBytes = Math.max(1, ...weights.map((w) => w.bytesBefore ?? 0));
  const totals = new Map<string, number>();
  for (const w of weights) totals.set(w.precision, (totals.get(w.precision) ?? 0) + (w.bytesAfter ?? w.bytesBefore ?? 0));
  const sum = [...totals.values()].reduce((a, b) => a + b, 0) || 1;
  let x = left;
  const stack = [...totals.entries()].map(([p, bytes]) => {
    const w = (bytes / sum) * barMax;
    const part = el(
      'g',
      { class: 'precision-total', 'data-precision': p, 'data-bytes': bytes },
      el('title', {}, esc(`${p}: ${bytes} bytes stored`)),
      el('rect', { x, y: 8, width: Math.max(1, w), height: 16, fill: PRECISION_COLOURS[p] ?? '#777' }),
    );
    x += w;
    return part;
  });
  const legend = [...totals.entries()].map(([p, bytes], k) =>
    el(
      'g',
      {},
      el('rect', { x: left + k * 150, y: 30, width: 12, height: 12, fill: PRECISION_COLOURS[p] ?? '#777' }),
      el('text', { x: left + k * 150 + 16, y: 40, class: 'axis' }, esc(`${p} ${formatBytes(bytes)}`)),
    ),
  );
  const top = 56;
  const rows = weights.map((w, k) => {
    const y = top + k * 18;
    const full = w.bytesBefore !== undefined ? (w.bytesBefore / maxBytes) * barMax : barMax;
    const stored = w.bytesBefore !== undefined && w.bytesAfter !== undefined ? (w.bytesAfter / maxBytes) * barMax : full;
    const colour = PRECISION_COLOURS[w.precision] ?? '#777';
    return el(
      'g',
      {
        class: 'weight',
        'data-weight': w.weight,
        'data-precision': w.precision,
        'data-bytes-before': w.bytesBefore,
        'data-bytes-after': w.bytesAfter,
      },
      el(
        'title',
        {},
        esc(
          `${w.weight}${w.shape ? ` [${w.shape}]` : ''}: ${w.precision}${w.bytesBefore !== undefined ? `, ${w.bytesBefore} -> ${w.bytesAfter ?? w.bytesBefore} bytes` : ''}`,
        ),
      ),
      el(
        'text',
        { x: left - 8, y: y + 11, 'text-anchor': 'end', class: 'bar-label' },
        esc(w.weight.length > 34 ? `…${w.weight.slice(-33)}` : w.weight),
      ),
      el('rect', { x: left, y: y + 1, width: Math.max(1, full), height: 12, fill: 'none', stroke: colour, 'stroke-opacity': 0.5 }),
      el('rect', { x: left, y: y + 1, width: Math.max(1, stored), height: 12, fill: colour }),
      el(
        'text',
        { x: left + barMax + 8, y: y + 11, class: 'value' },
        esc(`${w.precision}${w.bytesBefore !== undefined ? ` · ${formatBytes(w.bytesAfter ?? w.bytesBefore)}` : ''}`),
      ),
    );
  });
  return svg(width, top + weights.length * 18 + 10, title, 'precision', stack.join('') + legend.join('') + rows.join(''));
}

export function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

function svg(width: number, height: number, title: string, chart: string, body: string): string {
  return el(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      viewBox: `0 0 ${num(width)} ${num(height)}`,
      width: num(width),
      role: 'img',
      'aria-label': title,
      'data-chart': chart,
      class: `chart chart-${chart}`,
    },
    el('title', {}, esc(title)),
    body,
  );
}

/** Colour of a variant among all of a run's. */
export { colourOf };
