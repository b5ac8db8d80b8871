/**
 * What the charts of a report page show, read back from the DOM in the browser (as
 * script text: the test code has no DOM typings). Geometry comes from the SVG
 * elements' own attributes, numbers from their data-* attributes and visible text.
 */

export interface PageBar {
  chart: number;
  label: string;
  model?: string;
  backend?: string;
  batch?: number;
  variant?: string;
  reference?: string;
  plugin?: string;
  value: number;
  text: string;
  x: number;
  width: number;
  oneX: number;
}

export interface PageLatencyRow {
  chart: number;
  cell?: { model: string; backend: string; batch: number };
  variant: string;
  median: number;
  p10: number;
  p90: number;
  text: string;
  medianX: number;
  boxX: number;
  boxWidth: number;
  dots: number;
}

export interface PageDecision {
  chart: number;
  plugin: string;
  status: string;
  text: string;
}

export interface PageWeight {
  weight: string;
  precision: string;
  bytesBefore?: number;
  bytesAfter?: number;
}

export interface PageCharts {
  data: unknown;
  bars: PageBar[];
  latency: PageLatencyRow[];
  decisions: PageDecision[];
  weights: PageWeight[];
  /** Charts drawn with no size (broken layout). */
  emptyCharts: number;
}

export const READ_CHARTS = `(() => {
  const num = (v) => (v === undefined || v === null || v === '' ? undefined : Number(v));
  const charts = (kind) => [...document.querySelectorAll('svg[data-chart="' + kind + '"]')];
  const bars = charts('speedup').flatMap((svg, chart) => {
    const one = svg.querySelector('line.one');
    return [...svg.querySelectorAll('g.bar')].map((g) => {
      const rect = g.querySelector('rect');
      return {
        chart, label: g.dataset.label, model: g.dataset.model, backend: g.dataset.backend, batch: num(g.dataset.batch),
        variant: g.dataset.variant, reference: g.dataset.reference, plugin: g.dataset.plugin,
        value: Number(g.dataset.value), text: g.querySelector('text.value').textContent,
        x: rect.x.baseVal.value, width: rect.width.baseVal.value, oneX: one.x1.baseVal.value,
      };
    });
  });
  const latency = charts('latency').flatMap((svg, chart) => {
    const section = svg.closest('section.cell');
    const cell = section ? { model: section.dataset.model, backend: section.dataset.backend, batch: Number(section.dataset.batch) } : undefined;
    return [...svg.querySelectorAll('g.variant')].map((g) => ({
      chart, cell, variant: g.dataset.variant,
      median: Number(g.dataset.median), p10: Number(g.dataset.p10), p90: Number(g.dataset.p90),
      text: g.querySelector('text.median-value').textContent,
      medianX: g.querySelector('line.median').x1.baseVal.value,
      boxX: g.querySelector('rect.box').x.baseVal.value, boxWidth: g.querySelector('rect.box').width.baseVal.value,
      dots: g.querySelectorAll('circle.dot').length,
    }));
  });
  const decisions = charts('timeline').flatMap((svg, chart) => [...svg.querySelectorAll('g.decision')].map((g) => ({
    chart, plugin: g.dataset.plugin, status: g.dataset.status, text: g.querySelector('text.box-figure').textContent,
  })));
  const weights = [...document.querySelectorAll('svg[data-chart="precision"] g.weight')].map((g) => ({
    weight: g.dataset.weight, precision: g.dataset.precision, bytesBefore: num(g.dataset.bytesBefore), bytesAfter: num(g.dataset.bytesAfter),
  }));
  const emptyCharts = [...document.querySelectorAll('svg.chart')].filter((s) => { const r = s.getBoundingClientRect(); return r.width < 10 || r.height < 10; }).length;
  return { data: JSON.parse(document.getElementById('kiln-data').textContent), bars, latency, decisions, weights, emptyCharts };
})()`;

/** The JSON a page embeds (`<script type="application/json" id="kiln-data">`), parsed from its text. */
export function embeddedData(html: string): unknown {
  const match = html.match(/<script type="application\/json" id="kiln-data">([\s\S]*?)<\/script>/);
  if (!match) throw new Error('the page embeds no kiln-data');
  return JSON.parse(match[1]!);
}
