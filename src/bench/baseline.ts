import { promises as fs } from 'node:fs';
import { ConfigError, describeError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { BaselineCheck, BenchResult, RatioComparison } from './types.js';
import { KILN, PREDICT } from './variants.js';

/**
 * A stored baseline: per model, backend and batch size, the ratio median(predict) /
 * median(kiln) measured in one run (how many times faster Kiln's optimised model was
 * than LayersModel.predict on the same backend). Only ratios are stored: absolute
 * times are never compared across runs.
 */
export interface BaselineFile {
  readonly kind: 'kiln-bench-baseline';
  readonly version: 1;
  readonly createdAt: string;
  /** The machine the ratios were measured on (for people; not compared). */
  readonly machine: string;
  /** The variant whose ratio is stored, and the one it is taken against. */
  readonly variant: string;
  readonly reference: string;
  readonly entries: readonly BaselineEntry[];
}

export interface BaselineEntry {
  readonly model: string;
  readonly backend: string;
  readonly batch: number;
  /** median(reference) / median(variant): higher is faster. */
  readonly ratio: number;
}

/** The baseline a run would store: one ratio per cell where both variants have figures. */
export function baselineFrom(result: BenchResult, variant = KILN): BaselineFile {
  const entries: BaselineEntry[] = [];
  for (const c of result.cells) {
    const ratio = c.vsPredict[variant];
    if (ratio !== undefined && Number.isFinite(ratio)) entries.push({ model: c.model, backend: c.backend, batch: c.batch, ratio });
  }
  return {
    kind: 'kiln-bench-baseline',
    version: 1,
    createdAt: new Date().toISOString(),
    machine: result.machine.description,
    variant,
    reference: PREDICT,
    entries,
  };
}

/** Writes a baseline file atomically (a crash leaves the old one or the new one, never half). */
export async function writeBaseline(file: string, baseline: BaselineFile): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(baseline, null, 2)}\n`);
}

/** Reads and checks a baseline file; a missing or malformed one is a usage error (exit 2) naming the file and what is wrong. */
export async function readBaseline(file: string): Promise<BaselineFile> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read baseline ${file}: ${describeError(error)} (write one with --update-baseline ${file})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`baseline ${file} is not JSON: ${describeError(error)}`);
  }
  const b = raw as Partial<BaselineFile>;
  if (!b || typeof b !== 'object' || b.kind !== 'kiln-bench-baseline' || !Array.isArray(b.entries)) {
    throw new ConfigError(
      `baseline ${file} is not a kiln bench baseline (expected {"kind": "kiln-bench-baseline", "entries": [...]}, as --update-baseline writes)`,
    );
  }
  b.entries.forEach((e, i) => {
    const ok =
      e &&
      typeof e.model === 'string' &&
      typeof e.backend === 'string' &&
      Number.isInteger(e.batch) &&
      typeof e.ratio === 'number' &&
      e.ratio > 0;
    if (!ok)
      throw new ConfigError(
        `baseline ${file}: entries[${i}] must be {model: string, backend: string, batch: integer, ratio: number > 0}, got ${JSON.stringify(e)}`,
      );
  });
  return { variant: KILN, reference: PREDICT, machine: '', createdAt: '', version: 1, ...b } as BaselineFile;
}

/**
 * Compares each ratio of this run with the baseline's for the same model, backend and
 * batch. A ratio regressed when it fell by more than `maxRegressionPct` percent of the
 * baseline's (now < then x (1 - pct/100)). Cells the baseline lacks are listed, not
 * failed; baseline entries this run did not measure are ignored.
 */
export function compareToBaseline(result: BenchResult, baseline: BaselineFile, maxRegressionPct: number, file = ''): BaselineCheck {
  const comparisons: RatioComparison[] = [];
  const notInBaseline: string[] = [];
  for (const c of result.cells) {
    const now = c.vsPredict[baseline.variant];
    if (now === undefined) continue;
    const then = baseline.entries.find((e) => e.model === c.model && e.backend === c.backend && e.batch === c.batch)?.ratio;
    if (then === undefined) {
      notInBaseline.push(`${c.model} on ${c.backend} at batch ${c.batch}`);
      continue;
    }
    const changePct = ((now - then) / then) * 100;
    comparisons.push({
      model: c.model,
      backend: c.backend,
      batch: c.batch,
      variant: baseline.variant,
      then,
      now,
      changePct: Math.round(changePct * 10) / 10,
      regressed: now < then * (1 - maxRegressionPct / 100),
    });
  }
  return { file, maxRegressionPct, comparisons, notInBaseline, regressions: comparisons.filter((c) => c.regressed).length };
}

/** One line per comparison: "regression: mlp on cpu at batch 1: kiln/predict 1.52x in the baseline, 1.21x now (-20.4%, more than the allowed 10%)". */
export function describeComparison(c: RatioComparison, maxRegressionPct: number): string {
  const change = `${c.changePct >= 0 ? '+' : ''}${c.changePct.toFixed(1)}%`;
  const verdict = c.regressed ? `more than the allowed ${maxRegressionPct}%` : `within ${maxRegressionPct}%`;
  return `${c.regressed ? 'regression' : 'ok'}: ${c.model} on ${c.backend} at batch ${c.batch}: ${c.variant}/${PREDICT} ratio ${c.then.toFixed(2)}x in the baseline, ${c.now.toFixed(2)}x now (${change}, ${verdict})`;
}

/** Raised after the results are printed when a ratio regressed: exit code 1. */
export class BenchRegressionError extends Error {
  constructor(readonly check: BaselineCheck) {
    const lines = check.comparisons.filter((c) => c.regressed).map((c) => describeComparison(c, check.maxRegressionPct));
    super(`${check.regressions} ratio(s) regressed against baseline ${check.file}:\n${lines.join('\n')}`);
    this.name = 'BenchRegressionError';
  }
}
