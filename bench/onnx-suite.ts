/**
 * The `onnx` suite of `npm run bench`: the demo network (src/zoo/shogi-resnet.ts) at
 * batch 1 and 32, in one process, medians after dropping timings beyond 2 sigma, in two
 * loops of rounds (each subject timed 3 times a round after 20 ms idle, which lets the
 * previous subject's spinning onnxruntime threads go to sleep, and 2 untimed calls; the
 * order alternates round by round): the onnxruntime subjects together, then Kiln's two models together:
 *
 * - `ort hand-written NCHW`: stock onnxruntime-node running the network written as ONNX
 *   by hand (bench/onnx/hand-written-shogi.ts: NCHW, the same weights), fed NCHW data
 *   made outside the timed call, with 1 and with 2 intra-op threads; the faster is the
 *   reference;
 * - `kiln onnxruntime`: the model optimize() returns with `backend.preference:
 *   [onnxruntime, cpu]`, called with tf.js tensors (NHWC) through its synchronous
 *   predict, the outputs read back;
 * - `kiln best tf.js`: the model optimize() returns with the tf.js backends of Kiln's
 *   default preference (onnxruntime left out) and the default pipeline (wasm-threads,
 *   wasm, cpu here; graph-compile, op-fusion).
 *
 * It prints the medians and the ratios the ONNX issue's acceptance names: Kiln's
 * onnxruntime model against the hand-written ONNX (>= 0.9x) and against Kiln's best
 * tf.js path (>= 2x), and the same as a Markdown table.
 */
import * as tf from '@tensorflow/tfjs';
import { summariseTimings } from '../src/core/benchmark/timing-stats.js';
import { describeMachine } from '../src/bench/machine.js';
import { outputsAsArray } from '../src/core/kiln-model.js';
import { DEFAULT_BACKEND_PREFERENCE, optimize, type OptimizedModel } from '../src/index.js';
import { buildShogiResNet, SHOGI_INPUT_SHAPE } from '../src/zoo/shogi-resnet.js';
import { handWrittenShogiOnnx } from './onnx/hand-written-shogi.js';

/** What the suite runs: batches and timed rounds per batch. */
export interface OnnxSuiteOptions {
  readonly batches: readonly number[];
  readonly rounds: number;
}

interface OrtLike {
  readonly InferenceSession: {
    create(
      bytes: Uint8Array,
      options: object,
    ): Promise<{ run(feeds: object): Promise<Record<string, { data: unknown }>>; release(): Promise<void> }>;
  };
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => object;
  readonly env?: { readonly versions?: Readonly<Record<string, string>> };
}

const BENCH_CONFIG = { validation: { samples: 2 }, benchmark: { budgetMs: 3000 } };
/** Kiln's default preference without onnxruntime: its best tf.js path. */
const TFJS_PREFERENCE = DEFAULT_BACKEND_PREFERENCE.filter((b) => b !== 'onnxruntime');

export async function runOnnxSuite(options: OnnxSuiteOptions = { batches: [1, 32], rounds: 48 }): Promise<void> {
  let ort: OrtLike;
  try {
    ort = (await import('onnxruntime-node')) as unknown as OrtLike;
  } catch (error) {
    process.stdout.write(`onnx suite skipped: onnxruntime-node cannot be loaded here (${(error as Error).message.split('\n')[0]})\n`);
    return;
  }
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  const model = buildShogiResNet();
  const rows: string[] = [];
  try {
    for (const batch of options.batches) {
      const x = tf.randomNormal([batch, ...SHOGI_INPUT_SHAPE], 0, 1, 'float32', batch);
      const nchw = tf.tidy(() => tf.transpose(x, [0, 3, 1, 2]));
      const hand = handWrittenShogiOnnx(model, batch);
      const sessions = await Promise.all(
        [1, 2].map((n) =>
          ort.InferenceSession.create(hand, {
            graphOptimizationLevel: 'all',
            intraOpNumThreads: n,
            interOpNumThreads: 1,
            executionMode: 'sequential',
          }),
        ),
      );
      const nchwData = nchw.dataSync() as Float32Array;
      const feed = () => ({ board_nchw: new ort.Tensor('float32', nchwData, nchw.shape) });
      const kept: OptimizedModel[] = [];
      try {
        const { model: kilnOrt, report: ortReport } = await optimize(model, {
          sampleInputs: [x],
          config: { ...BENCH_CONFIG, backend: { preference: ['onnxruntime', 'cpu'] } },
        });
        kept.push(kilnOrt);
        const { model: kilnTfjs, report: tfjsReport } = await optimize(model, {
          sampleInputs: [x],
          config: { ...BENCH_CONFIG, backend: { preference: TFJS_PREFERENCE } },
        });
        kept.push(kilnTfjs);
        if (ortReport.backend !== 'onnxruntime') throw new Error(`Kiln did not keep onnxruntime at batch ${batch}: ${ortReport.final}`);
        await agree(sessions[0]!, feed(), kilnOrt, x, batch);
        const call = (m: OptimizedModel) => () => {
          const y = outputsAsArray(m.predict(x));
          for (const t of y) t.dataSync();
          tf.dispose(y);
        };
        const hand1 = () => sessions[0]!.run(feed());
        const hand2 = () => sessions[1]!.run(feed());
        // two loops: onnxruntime against onnxruntime, then Kiln's two models; a stock
        // session's spinning threads would otherwise take the cores from tf.js between calls
        const [h1, h2, kilnA] = await timeInterleaved([hand1, hand2, call(kilnOrt)], options.rounds);
        const [kilnB, best] = await timeInterleaved([call(kilnOrt), call(kilnTfjs)], options.rounds);
        const handBest = Math.min(h1!, h2!);
        process.stdout.write(
          `batch ${batch} (${options.rounds} rounds per loop, each subject timed 3 times a round after 20 ms idle and 2 untimed calls):\n` +
            `  loop 1: ort hand-written NCHW 1 thread ${h1!.toFixed(3)} ms, 2 threads ${h2!.toFixed(3)} ms; kiln onnxruntime ${kilnA!.toFixed(3)} ms\n` +
            `  loop 2: kiln onnxruntime ${kilnB!.toFixed(3)} ms; kiln best tf.js ${best!.toFixed(3)} ms\n` +
            `  kiln onnxruntime kept: ${ortReport.final}\n  kiln best tf.js kept: ${tfjsReport.final}\n` +
            `  kiln onnxruntime / hand-written ONNX (faster of 1 and 2 threads): ${(handBest / kilnA!).toFixed(2)}x (>= 0.9x wanted)\n` +
            `  kiln onnxruntime vs kiln best tf.js: ${(best! / kilnB!).toFixed(2)}x faster (>= 2x wanted)\n`,
        );
        rows.push(
          `| ${batch} | ${h1!.toFixed(3)} | ${h2!.toFixed(3)} | ${kilnA!.toFixed(3)} | ${(handBest / kilnA!).toFixed(2)}x | ${kilnB!.toFixed(3)} | ${best!.toFixed(3)} | ${(best! / kilnB!).toFixed(2)}x |`,
        );
      } finally {
        for (const m of kept) m.dispose();
        await Promise.all(sessions.map((s) => s.release()));
        tf.dispose([x, nchw]);
      }
    }
  } finally {
    model.dispose();
  }
  const machine = await describeMachine();
  process.stdout.write(
    `\nMarkdown (onnxruntime-node ${ort.env?.versions?.node ?? '?'}; ${machine.description}):\n\n` +
      '| batch | ORT hand-written, 1 thread (ms) | 2 threads (ms) | Kiln onnxruntime (ms) | Kiln ORT / hand-written | Kiln onnxruntime, loop 2 (ms) | Kiln best tf.js (ms) | Kiln ORT vs best tf.js |\n' +
      '|---|---|---|---|---|---|---|---|\n' +
      rows.join('\n') +
      '\n',
  );
}

/** Idle time before each subject's block: longer than onnxruntime's worker threads spin after a run. */
const IDLE_BEFORE_BLOCK_MS = 20;

/**
 * Medians (outliers beyond 2 sigma dropped) of `rounds` rounds of `subjects` timed in
 * blocks: each round waits IDLE_BEFORE_BLOCK_MS before each subject, runs it twice
 * untimed, then times it 3 times; the order is reversed every other round. The wait lets
 * the previous subject's spinning onnxruntime threads go to sleep, so no subject is timed
 * against another's threads holding the cores.
 */
async function timeInterleaved(subjects: readonly (() => unknown)[], rounds: number): Promise<number[]> {
  const times = subjects.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    const order = subjects.map((_, i) => i);
    if (r % 2) order.reverse();
    for (const i of order) {
      await new Promise((resolve) => setTimeout(resolve, IDLE_BEFORE_BLOCK_MS));
      for (let k = 0; k < 5; k++) {
        const t0 = performance.now();
        await subjects[i]!();
        if (k >= 2) times[i]!.push(performance.now() - t0);
      }
    }
  }
  return times.map((t) => summariseTimings(t, 2).medianMs);
}

/** Throws unless the hand-written ONNX and Kiln's onnxruntime model agree with the network (a wrong reference would make the ratio meaningless). */
async function agree(
  session: Awaited<ReturnType<OrtLike['InferenceSession']['create']>>,
  feed: object,
  kiln: OptimizedModel,
  x: tf.Tensor,
  batch: number,
): Promise<void> {
  const hand = await session.run(feed);
  const got = outputsAsArray(kiln.predict(x));
  ['policy', 'value'].forEach((name, i) => {
    const a = hand[name]!.data as Float32Array;
    const b = got[i]!.dataSync();
    let diff = 0;
    for (let k = 0; k < a.length; k++) diff = Math.max(diff, Math.abs(a[k]! - b[k]!));
    if (a.length !== b.length || diff > 1e-4)
      throw new Error(`batch ${batch}: the hand-written ONNX and Kiln's onnxruntime model differ on ${name} by ${diff}`);
  });
  tf.dispose(got);
}
