/**
 * `npm run bench`: the zoo suite, then the real suite, through the same engine as
 * `kiln bench` (src/bench/).
 *
 * - `zoo`: every zoo model on every backend that runs here, at batch 1, 16 and 32, each
 *   variant timed interleaved; prints the per-variant figures, the summary table and the
 *   same summary in Markdown (what README's Performance section shows). Flags are
 *   `kiln bench`'s: `npm run bench -- zoo --report bench.html --backend wasm`.
 * - `real`: the real published models of bench/real-models.ts at batch 1 on wasm: plain
 *   predict on wasm (and on cpu, timed in a few rounds), Kiln's optimised model, their
 *   ratio and what Kiln kept (bench/real-suite.ts). Flags: `npm run bench -- real
 *   --models liveness,selfie --report real.html` (see parseRealSuiteArgs).
 *
 * - `onnx`: the demo network at batch 1 and 32 on onnxruntime-node: stock ORT on the
 *   network written as ONNX by hand, Kiln's onnxruntime model and Kiln's best tf.js
 *   model, timed interleaved in one process (bench/onnx-suite.ts).
 *
 * `npm run bench` runs all three; flags given without a suite name go to the zoo suite, as
 * they always have, and the real suite runs with its defaults.
 */
import { exitCodeFor } from '../src/cli/exit-codes.js';
import { main } from '../src/cli/main.js';
import { describeError } from '../src/core/errors.js';
import { runOnnxSuite } from './onnx-suite.js';
import { parseRealSuiteArgs, runRealSuite } from './real-suite.js';

const SUITES = ['zoo', 'real', 'onnx', 'all'] as const;
type Suite = (typeof SUITES)[number];

async function zoo(extra: readonly string[]): Promise<number> {
  // batch 16 too: the op-fusion targets name it for the depthwise CNN
  const batches = extra.some((a) => a === '--batch' || a.startsWith('--batch=')) ? [] : ['--batch', '1,16,32'];
  return main(['node', 'kiln', 'bench', 'zoo', '--markdown', ...batches, ...extra]);
}

async function real(extra: readonly string[]): Promise<number> {
  try {
    await runRealSuite(parseRealSuiteArgs(extra));
    return 0;
  } catch (error) {
    process.stderr.write(`npm run bench -- real: ${describeError(error)}\n`);
    // Usage and configuration errors exit 2, as kiln's do; anything else 1.
    return exitCodeFor(error);
  }
}

async function onnxSuite(): Promise<number> {
  try {
    await runOnnxSuite();
    return 0;
  } catch (error) {
    process.stderr.write(`npm run bench -- onnx: ${describeError(error)}\n`);
    return 1;
  }
}

async function run(): Promise<number> {
  const args = process.argv.slice(2);
  const named = SUITES.includes(args[0] as Suite) ? (args[0] as Suite) : undefined;
  const suite = named ?? 'all';
  const extra = named ? args.slice(1) : args;
  const timings: string[] = [];
  let code = 0;
  for (const [name, go] of [
    ['zoo', () => zoo(extra)],
    ['real', () => real(suite === 'all' ? [] : extra)],
    ['onnx', () => onnxSuite()],
  ] as const) {
    if (suite !== 'all' && suite !== name) continue;
    const t0 = performance.now();
    code = Math.max(code, await go());
    timings.push(`${name} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  process.stderr.write(`npm run bench: ${timings.join(', ')}\n`);
  return code;
}

const started = performance.now();
run().then((code) => {
  process.stderr.write(`npm run bench: ${((performance.now() - started) / 1000).toFixed(1)} s in all\n`);
  process.exitCode = code;
});
