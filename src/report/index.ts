/** Self-contained HTML reports of `kiln optimize` and `kiln bench` runs. */
export { renderHtmlReport, weightPrecisions, type ReportData } from './html-report.js';
export { writeHtmlReport } from './write-report.js';
export { decisionTimeline, latencyChart, precisionMap, speedupBars, type Bar, type LatencyRow, type WeightPrecision } from './charts.js';
