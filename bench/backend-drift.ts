/**
 * `npm run bench:drift`: how far stock tf.js backends (and stored float16/uint8 weights)
 * drift from the cpu float32 reference on real outputs, the measurement behind the
 * default `validation.tolerance` and mixed precision's default budget. Not part of
 * `npm test`.
 *
 * For every zoo model (full size, Kiln's synthetic standard-normal sample) and the
 * ESRGAN slim models x2/x3/x4/x8 (@upscalerjs/esrgan-slim, input 1x32x32x3 uniform in
 * 0..255), it builds the validation input sets exactly as Kiln does (the sample, 4
 * perturbations, the sample x10, the sample at batch 2), runs the model on cpu (the
 * reference) and on every other variant, and prints per model and output: the largest
 * |diff| over every set, max |reference|, the std of the reference, and the drift
 * relative to the scale (max |diff| / max |reference|), pooled over the sets and on
 * the worst set alone (each set against its own max |reference|).
 *
 * Variants: `wasm` and `wasm-threads` (2 threads) against cpu; `float16` and
 * `uint8` (every weight of >= 1024 elements stored so, nearest rounding, computed on
 * cpu) against cpu float32.
 *
 * `node dist/bench/backend-drift.js [--markdown] [--only name,name]`
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { buildValidationInputs, syntheticSampleInputs } from '../src/core/validation/validation-inputs.js';
import { nodeImporter } from '../src/core/tokens.js';
import { startWasmThreads } from '../src/engines/tfjs/wasm-threads/threaded-wasm.js';
import { decodeWithTfjs, encodeWeight } from '../src/plugins/mixed-precision/quantize.js';
import { listZoo } from '../src/zoo/index.js';

interface Subject {
  readonly name: string;
  build(): Promise<tf.LayersModel>;
  samples(): tf.Tensor[];
}

interface Row {
  readonly model: string;
  readonly output: string;
  readonly variant: string;
  readonly maxAbsDiff: number;
  readonly maxAbsRef: number;
  readonly stdRef: number;
  /** max |diff| / max |ref|, pooled over every set. */
  readonly relative: number;
  /** max |diff| / std(ref), pooled. */
  readonly relativeToStd: number;
  /** The worst set's own max |diff| / max |ref|, and which set. */
  readonly worstSet: number;
  readonly worstSetLabel: string;
}

const ESRGAN_DIR = path.resolve(__dirname, '../../node_modules/@upscalerjs/esrgan-slim/models');

function esrganSubject(scale: string): Subject {
  return {
    name: `esrgan-slim ${scale}`,
    async build() {
      const dir = path.join(ESRGAN_DIR, scale);
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
        modelTopology: object;
        weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
      };
      const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
      const all = Buffer.concat(buffers);
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
      return tf.loadLayersModel(
        tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData }),
      );
    },
    samples: () => [tf.randomUniform([1, 32, 32, 3], 0, 255, 'float32', 1)],
  };
}

const SUBJECTS: Subject[] = [
  ...listZoo().map((entry): Subject => ({
    name: entry.name,
    build: async () => entry.build(),
    samples: () => syntheticSampleInputs([{ name: 'input', shape: [null, ...entry.inputShape], dtype: 'float32' }], 0),
  })),
  ...['x2', 'x3', 'x4', 'x8'].map(esrganSubject),
];

type Outputs = Float32Array[][];

function run(model: tf.LayersModel, sets: tf.Tensor[][]): Outputs {
  return sets.map((inputs) =>
    tf.tidy(() => {
      const out = model.predict(inputs.length === 1 ? inputs[0]! : inputs);
      return (Array.isArray(out) ? out : [out]).map((t) => Float32Array.from(t.dataSync()));
    }),
  );
}

function stats(
  ref: Float32Array[],
  got: Float32Array[],
): Omit<Row, 'model' | 'output' | 'variant' | 'worstSetLabel'> & { worstIndex: number } {
  let maxAbsDiff = 0;
  let maxAbsRef = 0;
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  let worstSet = 0;
  let worstIndex = 0;
  ref.forEach((r, s) => {
    const g = got[s]!;
    let setDiff = 0;
    let setMax = 0;
    for (let i = 0; i < r.length; i++) {
      const d = Math.abs(g[i]! - r[i]!);
      setDiff = Math.max(setDiff, Number.isNaN(d) ? Infinity : d);
      setMax = Math.max(setMax, Math.abs(r[i]!));
      sum += r[i]!;
      sumSq += r[i]! * r[i]!;
      n++;
    }
    maxAbsDiff = Math.max(maxAbsDiff, setDiff);
    maxAbsRef = Math.max(maxAbsRef, setMax);
    const rel = setMax > 0 ? setDiff / setMax : setDiff > 0 ? Infinity : 0;
    if (rel > worstSet) {
      worstSet = rel;
      worstIndex = s;
    }
  });
  const mean = sum / n;
  const stdRef = Math.sqrt(Math.max(0, sumSq / n - mean * mean));
  return {
    maxAbsDiff,
    maxAbsRef,
    stdRef,
    relative: maxAbsRef > 0 ? maxAbsDiff / maxAbsRef : 0,
    relativeToStd: stdRef > 0 ? maxAbsDiff / stdRef : 0,
    worstSet,
    worstIndex,
  };
}

/** Every weight of >= 1024 elements as tf.js decodes it stored at `precision` (nearest rounding). */
function storedWeights(model: tf.LayersModel, precision: 'float16' | 'uint8'): tf.Tensor[] {
  return model.getWeights().map((w, i) => {
    if (w.dtype !== 'float32' || w.size < 1024) return w.clone();
    const values = w.dataSync() as Float32Array;
    return decodeWithTfjs(encodeWeight({ name: `w${i}`, shape: [...w.shape], dtype: 'float32' }, values, precision));
  });
}

async function measure(subject: Subject, threads: boolean): Promise<Row[]> {
  await tf.setBackend('cpu');
  const model = await subject.build();
  const samples = subject.samples();
  const specs = model.inputs.map((t, i) => ({ name: `input ${i}`, shape: t.shape, dtype: 'float32' as const }));
  const sets = buildValidationInputs(samples, specs, { samples: 4, seed: 0, largeMagnitude: 10 });
  const labels = sets.map((s) => s.label);
  const inputs = sets.map((s) => s.inputs);
  const reference = run(model, inputs);
  const variants: [string, Outputs][] = [];

  for (const backend of ['wasm', ...(threads ? ['wasm-threads'] : [])]) {
    await tf.setBackend(backend);
    variants.push([backend, run(model, inputs)]);
  }
  await tf.setBackend('cpu');
  const original = model.getWeights().map((w) => w.clone());
  for (const precision of ['float16', 'uint8'] as const) {
    const stored = storedWeights(model, precision);
    model.setWeights(stored);
    tf.dispose(stored);
    variants.push([precision, run(model, inputs)]);
    model.setWeights(original);
  }
  tf.dispose(original);

  const outputNames = model.outputNames;
  const rows: Row[] = [];
  for (const [variant, outputs] of variants) {
    for (let o = 0; o < outputNames.length; o++) {
      const s = stats(
        reference.map((set) => set[o]!),
        outputs.map((set) => set[o]!),
      );
      const { worstIndex, ...rest } = s;
      rows.push({ model: subject.name, output: outputNames[o]!, variant, ...rest, worstSetLabel: labels[worstIndex]! });
    }
  }
  sets.forEach((s) => tf.dispose(s.inputs));
  tf.dispose(samples);
  model.dispose();
  return rows;
}

function e(x: number): string {
  return x === 0 ? '0' : x.toExponential(1);
}

function g(x: number): string {
  return Number(x.toPrecision(3)).toString();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const markdown = args.includes('--markdown');
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? args[onlyAt + 1]!.split(',') : undefined;
  const threads = await startWasmThreads({ threads: 2, importModule: nodeImporter });
  if (!threads.available) process.stderr.write(`wasm-threads not measured: ${threads.reason}\n`);
  await tf.ready();
  const header = ['model', 'output', 'variant', 'max |diff|', 'max |ref|', 'std ref', 'diff / max|ref|', 'diff / std', 'worst set alone'];
  const rows: string[][] = [];
  for (const subject of SUBJECTS) {
    if (only && !only.some((o) => subject.name.includes(o))) continue;
    const started = performance.now();
    for (const r of await measure(subject, threads.available)) {
      rows.push([
        r.model,
        r.output,
        r.variant,
        e(r.maxAbsDiff),
        g(r.maxAbsRef),
        g(r.stdRef),
        e(r.relative),
        e(r.relativeToStd),
        `${e(r.worstSet)} (${r.worstSetLabel})`,
      ]);
    }
    process.stderr.write(`${subject.name}: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  if (markdown) {
    process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => ' --- ').join('|')}|\n`);
    for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
  } else {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    process.stdout.write(`${line(header)}\n`);
    for (const r of rows) process.stdout.write(`${line(r)}\n`);
  }
  process.exit(0);
}

void main();
