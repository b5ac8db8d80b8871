import type { BenchResult, CellResult, VariantResult } from '../../src/bench/types.js';

/** A variant's figures from a list of timings (sorted percentiles, no outlier logic). */
export function variantFrom(name: string, timingsMs: number[], extra: Partial<VariantResult> = {}): VariantResult {
  const sorted = [...timingsMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.round((sorted.length - 1) * q)]!;
  return {
    name,
    ranOn: 'cpu',
    coldMs: sorted[sorted.length - 1]! * 3,
    medianMs: at(0.5),
    p10Ms: at(0.1),
    p90Ms: at(0.9),
    samples: sorted.length,
    outliersDropped: 0,
    timingsMs,
    gflops: 1,
    ...extra,
  };
}

/**
 * A made-up but consistent BenchResult: per cell, plain-tfjs, predict and kiln, with
 * kiln's median `kiln` times faster than predict's (the ratio the baseline stores).
 */
export function benchResultWith(
  cells: { model: string; backend: string; batch: number; kiln: number; plainOverPredict?: number }[],
): BenchResult {
  const out: CellResult[] = cells.map((c) => {
    const predict = 10 * c.batch;
    const spread = (m: number) => [0.9, 0.95, 1, 1, 1.05, 1.1, 1.3].map((f) => Math.round(m * f * 1000) / 1000);
    const plainMs = predict * (c.plainOverPredict ?? 4);
    const variants: VariantResult[] = [
      c.backend === 'cpu' ? { name: 'plain-tfjs', sameAs: 'predict' } : variantFrom('plain-tfjs', spread(plainMs)),
      variantFrom('predict', spread(predict), { ranOn: c.backend }),
      variantFrom('kiln', spread(predict / c.kiln), { ranOn: c.backend }),
    ];
    const withAlias = variants.map((v) =>
      v.sameAs ? { ...variants.find((x) => x.name === v.sameAs)!, name: v.name, sameAs: v.sameAs } : v,
    );
    const median = (n: string) => withAlias.find((v) => v.name === n)!.medianMs!;
    return {
      model: c.model,
      backend: c.backend,
      batch: c.batch,
      flops: 1e6 * c.batch,
      warmupRounds: 1,
      rounds: 7,
      variants: withAlias,
      vsPredict: Object.fromEntries(withAlias.map((v) => [v.name, v.name === 'kiln' ? c.kiln : median('predict') / v.medianMs!])),
      vsPlain: Object.fromEntries(withAlias.map((v) => [v.name, median('plain-tfjs') / v.medianMs!])),
    };
  });
  return {
    kind: 'kiln-bench',
    kilnVersion: '0.0.0-test',
    tfjsVersion: '4.22.0',
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 1234,
    machine: {
      cpu: 'Test CPU',
      cores: 2,
      memoryGiB: 8,
      platform: 'linux x64',
      node: 'v20',
      tfjs: '4.22.0',
      backendFlags: {},
      description: 'Test CPU, 2 cores',
    },
    settings: { budgetMs: 0, minRounds: 7, maxRounds: 7, warmupRounds: 1, outlierSigma: 3, seed: 0, slowCallMs: 1000 },
    bestBackend: 'wasm',
    unavailableBackends: {},
    variants: [
      { name: 'plain-tfjs', description: 'plain tf.js' },
      { name: 'predict', description: 'predict' },
      { name: 'kiln', description: 'kiln' },
    ],
    cells: out,
    optimizeRuns: [],
  };
}
