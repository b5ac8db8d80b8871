import type { Decision, KilnReport, MetricValue } from '../../src/core/pipeline/report.js';

/** Per-weight rows as the mixed-precision plugin reports them (its `weights` table). */
export const WEIGHT_ROWS: Record<string, MetricValue>[] = [
  { weight: 'conv/kernel', shape: '3x3x8x16', precision: 'float16', bytesBefore: 4608, bytesAfter: 2304, errorContribution: 0.1 },
  { weight: 'conv/bias', shape: '16', precision: 'float32', bytesBefore: 64, bytesAfter: 64, note: '16 elements, under minElements 1024' },
  { weight: 'dense/kernel', shape: '256x10', precision: 'uint8', bytesBefore: 10240, bytesAfter: 2560, errorContribution: 0.4 },
];

/** A made-up KilnReport with every kind of decision, a mixed-precision table and an end-to-end figure. */
export function syntheticKilnReport(): KilnReport {
  const decisions: Decision[] = [
    {
      slot: 0,
      plugin: 'backend-tensorflow',
      kind: 'backend',
      objective: 'latency',
      status: 'unavailable',
      reason: 'package not installed',
      metrics: {},
      notes: [],
    },
    {
      slot: 0,
      plugin: 'backend-wasm',
      kind: 'backend',
      objective: 'latency',
      status: 'applied',
      reason: '3.10x faster',
      metrics: {
        applyMs: 12,
        coldMs: 40.5,
        speedup: 3.1,
        baselineMedianMs: 31,
        candidateMedianMs: 10,
        candidateP10Ms: 9.5,
        candidateP90Ms: 11.25,
      },
      notes: [],
    },
    {
      slot: 0,
      plugin: 'backend-cpu',
      kind: 'backend',
      objective: 'latency',
      status: 'skipped',
      reason: 'slot backend already uses backend-wasm',
      metrics: {},
      notes: [],
    },
    {
      slot: 1,
      plugin: 'graph-compile',
      kind: 'compile',
      objective: 'latency',
      status: 'rejected',
      reason: 'not faster: 0.98x <script>alert(1)</script>',
      metrics: { applyMs: 50, speedup: 0.98, baselineMedianMs: 10, candidateMedianMs: 10.2, candidateP10Ms: 9.9, candidateP90Ms: 12 },
      notes: ['executor: replay'],
    },
    {
      slot: 2,
      plugin: 'op-fusion',
      kind: 'fusion',
      objective: 'latency',
      status: 'failed',
      reason: 'threw: boom',
      metrics: { applyMs: 3 },
      notes: [],
    },
    {
      slot: 3,
      plugin: 'mixed-precision',
      kind: 'precision',
      objective: 'size',
      status: 'applied',
      reason: '2.94x smaller',
      metrics: {
        applyMs: 200,
        speedup: 0.99,
        sizeGain: 2.94,
        baselineMedianMs: 10,
        candidateMedianMs: 10.1,
        'weights.float16': 1,
        'weights.uint8': 1,
      },
      notes: ['conv/kernel: float16'],
      tables: { weights: WEIGHT_ROWS },
    },
  ];
  return {
    kilnVersion: '0.0.0-test',
    tfjsVersion: '4.22.0',
    mode: 'inference',
    model: { format: 'layers-model', displayName: 'tf.LayersModel' },
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 4321,
    backend: 'wasm',
    final: 'LayersModel.predict on wasm, weights stored as 1 float32, 1 float16, 1 uint8',
    decisions,
    endToEnd: {
      baseline: 'plain tf.js: LayersModel.predict on cpu',
      baselineMedianMs: 31.5,
      optimizedMedianMs: 10.1,
      speedup: 31.5 / 10.1,
      iterations: 50,
    },
    validation: {
      tolerance: 1e-4,
      check: 'max |diff| <= 0.0001 x the output scale (max |original|)',
      inputSets: ['sample', 'perturbed #1'],
    },
  };
}
