/** Small helpers to write inline SVG and HTML as strings (no DOM, no dependencies). */

/** Escapes text for HTML/SVG content and attribute values. */
export function esc(value: unknown): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export type Attrs = Record<string, string | number | boolean | undefined>;

/** `<tag a="b">children</tag>`; attributes with undefined or false values are left out. */
export function el(tag: string, attrs: Attrs = {}, ...children: (string | undefined | false)[]): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined && v !== false)
    // Coordinates are rounded; data-* attributes keep the exact figure, to be checked against the JSON.
    .map(([k, v]) => (v === true ? ` ${k}` : ` ${k}="${esc(typeof v === 'number' && !k.startsWith('data-') ? num(v) : v)}"`))
    .join('');
  const body = children.filter((c): c is string => typeof c === 'string').join('');
  return `<${tag}${a}>${body}</${tag}>`;
}

/** A number for an SVG coordinate (2 decimals, no exponent). */
export function num(v: number): string {
  if (!Number.isFinite(v)) return '0';
  return String(Math.round(v * 100) / 100);
}

/** A scale from data to pixels. */
export interface Scale {
  (v: number): number;
  readonly ticks: readonly number[];
  readonly log: boolean;
}

/** Linear scale over [lo, hi] (lo = 0 unless given) onto [a, b], with 1-2-5 ticks. */
export function linearScale(lo: number, hi: number, a: number, b: number): Scale {
  if (!(hi > lo)) hi = lo + 1;
  const step = niceStep((hi - lo) / 5);
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  const f = ((v: number) => a + ((v - start) / (end - start)) * (b - a)) as Scale;
  const ticks: number[] = [];
  for (let t = start; t <= end + step / 2; t += step) ticks.push(Math.round(t / step) * step);
  return Object.assign(f, { ticks, log: false });
}

/** Log-10 scale over [lo, hi] (both > 0) onto [a, b], with 1-2-5 ticks (thinned when crowded). */
export function logScale(lo: number, hi: number, a: number, b: number): Scale {
  lo = Math.max(lo, 1e-9);
  if (!(hi > lo)) hi = lo * 10;
  const l0 = Math.log10(lo);
  const l1 = Math.log10(hi);
  const f = ((v: number) => a + ((Math.log10(Math.max(v, 1e-12)) - l0) / (l1 - l0)) * (b - a)) as Scale;
  let ticks: number[] = [];
  for (let e = Math.floor(l0); e <= Math.ceil(l1); e++) for (const m of [1, 2, 5]) ticks.push(m * 10 ** e);
  ticks = ticks.filter((t) => t >= lo * 0.999 && t <= hi * 1.001);
  if (ticks.length > 8) ticks = ticks.filter((t) => Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9);
  return Object.assign(f, { ticks, log: true });
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/** A tick label: 0.001 .. 10000 without exponent noise. */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 1000) return `${Math.round(v / 100) / 10}k`.replace('.0k', 'k');
  if (abs >= 1) return String(Math.round(v * 100) / 100);
  return String(Number(v.toPrecision(2)));
}

/** A scale that fits [lo, hi]: log when the values span more than `span` times. */
export function autoScale(lo: number, hi: number, a: number, b: number, span = 8): Scale {
  return lo > 0 && hi / lo > span ? logScale(lo / 1.15, hi * 1.15, a, b) : linearScale(0, hi * 1.05, a, b);
}

/** Vertical grid lines and labels of an x axis. */
export function xAxis(scale: Scale, top: number, bottom: number, unit: string): string {
  const parts = scale.ticks.map((t) =>
    el(
      'g',
      { class: 'tick' },
      el('line', { x1: scale(t), x2: scale(t), y1: top, y2: bottom, class: 'grid' }),
      el('text', { x: scale(t), y: bottom + 14, 'text-anchor': 'middle', class: 'axis' }, esc(`${tickLabel(t)}${unit}`)),
    ),
  );
  return el('g', { class: 'x-axis' }, ...parts);
}

/** Colours of decision statuses. */
export const STATUS_COLOURS: Readonly<Record<string, string>> = {
  applied: '#2e7d32',
  rejected: '#ef6c00',
  failed: '#c62828',
  unavailable: '#9e9e9e',
  skipped: '#cfd8dc',
};

const PALETTE = ['#546e7a', '#8d6e63', '#1565c0', '#6a1b9a', '#00838f', '#ad1457', '#2e7d32', '#f9a825', '#4e342e'];

/** A stable colour per variant name, by position in the list of all names. */
export function colourOf(name: string, all: readonly string[]): string {
  const i = all.indexOf(name);
  return PALETTE[(i < 0 ? all.length : i) % PALETTE.length]!;
}

/** Colours of stored weight precisions. */
export const PRECISION_COLOURS: Readonly<Record<string, string>> = {
  float32: '#1565c0',
  float16: '#43a047',
  uint16: '#7cb342',
  uint8: '#fb8c00',
  int8: '#fb8c00',
};
