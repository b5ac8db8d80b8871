/**
 * `npm run bench`: the whole zoo suite, through the same engine as `kiln bench`
 * (src/bench/): every zoo model on every backend that runs here, at batch 1, 16 and 32,
 * each variant timed interleaved; prints the per-variant figures, the summary table
 * and the same summary in Markdown (what README's Performance section shows).
 * Extra arguments are passed on: `npm run bench -- --report bench.html --backend wasm`.
 */
import { main } from '../src/cli/main.js';

const started = performance.now();
const extra = process.argv.slice(2);
// batch 16 too: the op-fusion targets name it for the depthwise CNN
const batches = extra.some((a) => a === '--batch' || a.startsWith('--batch=')) ? [] : ['--batch', '1,16,32'];
main(['node', 'kiln', 'bench', 'zoo', '--markdown', ...batches, ...extra]).then((code) => {
  process.stderr.write(`npm run bench: ${((performance.now() - started) / 1000).toFixed(1)} s in all\n`);
  process.exitCode = code;
});
