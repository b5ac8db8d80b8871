/**
 * 01 - Quickstart: optimise a model in five lines and print the report.
 *
 *   npm run build && node dist/examples/01-quickstart/quickstart.js [--small]     (or KILN_EXAMPLES_SMALL=1)
 *
 * It imports Kiln as your own project would, `from 'tfjs-kiln'` (inside this repository
 * that name resolves to the package itself, through package.json's `exports`).
 */
import * as tf from '@tensorflow/tfjs';
import { buildShogiResNet, optimize, type KilnReport } from 'tfjs-kiln';

export interface QuickstartOptions {
  /** A smaller network and a short benchmark (the smoke test's sizes). */
  readonly small?: boolean;
  /** Print the report (default true). */
  readonly print?: boolean;
}

export async function main(options: QuickstartOptions = {}): Promise<KilnReport> {
  const config = options.small ? { benchmark: { warmup: 2, iterations: 8 }, validation: { samples: 1 } } : undefined;

  // The five lines:
  const model = buildShogiResNet(options.small ? { blocks: 1, channels: 16 } : {}); // or: await tf.loadLayersModel(...)
  const x = tf.randomNormal([1, 9, 9, 46], 0, 1, 'float32', 1); // one sample input per model input
  const { model: fast, report } = await optimize(model, { sampleInputs: [x], config }); // validated, benchmarked, fall-back-safe
  const [policy, value] = fast.predict(x) as tf.Tensor[]; // same contract as model.predict
  if (options.print !== false) printReport(report);

  tf.dispose([policy!, value!, x]);
  fast.dispose(); // frees Kiln's copies, never your model
  model.dispose();
  return report;
}

/** One line per candidate the pipeline tried, then what ran and how much faster it is. */
export function printReport(report: KilnReport): void {
  console.table(report.decisions.map((d) => ({ plugin: d.plugin, status: d.status, reason: d.reason })));
  console.log(`Backend that ran: ${report.backend} (${report.final})`);
  const e = report.endToEnd;
  if (e)
    console.log(
      `End to end: ${e.speedup.toFixed(2)}x against ${e.baseline} (median ${e.baselineMedianMs.toFixed(3)} -> ${e.optimizedMedianMs.toFixed(3)} ms)`,
    );
}

if (require.main === module) {
  tf.env().set('PROD', true); // silences tf.js's "install tfjs-node" banner
  main({ small: process.argv.includes('--small') || process.env.KILN_EXAMPLES_SMALL === '1' }).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
