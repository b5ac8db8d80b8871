import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import Table from 'cli-table3';
import { Command } from 'commander';
import { summariseTimings } from '../src/core/benchmark/timing-stats.js';
import { outputsAsArray, type KilnModel } from '../src/core/kiln-model.js';
import { listZoo, zooSampleInputs, type ZooEntry } from '../src/zoo/index.js';
import { describeMachine } from './machine.js';
import { VARIANTS } from './variants.js';

interface Cell {
  model: string;
  backend: string;
  batch: number;
  medians: Record<string, number>;
  ratios: Record<string, number>;
  rounds: number;
}

/**
 * The zoo suite: every model, backend and batch size; each variant timed interleaved
 * with the others in one process (warm-up, then rounds A B A B ... until the cell's
 * time budget is spent, at least `minRounds`), so that ratios hold on a noisy machine.
 * Absolute times are printed for context; only the ratios are comparable across runs.
 */
async function main(): Promise<void> {
  const options = new Command('bench')
    .option('--models <list>', 'zoo models (comma separated)', (v) => v.split(','))
    .option('--backends <list>', 'backends', (v) => v.split(','), ['wasm', 'cpu'])
    .option('--batches <list>', 'batch sizes', (v) => v.split(',').map(Number), [1, 32])
    .option('--budget-ms <n>', 'time budget per cell', Number, 4000)
    .option('--min-rounds <n>', 'timed rounds at least', Number, 15)
    .option('--max-rounds <n>', 'timed rounds at most', Number, 200)
    .parse()
    .opts<{ models?: string[]; backends: string[]; batches: number[]; budgetMs: number; minRounds: number; maxRounds: number }>();
  tf.env().set('PROD', true);
  await import('@tensorflow/tfjs-backend-wasm');
  const zoo = listZoo().filter((e) => !options.models || options.models.includes(e.name));
  const cells: Cell[] = [];
  for (const backend of options.backends) {
    await tf.setBackend(backend);
    for (const entry of zoo) for (const batch of options.batches) cells.push(await measureCell(entry, backend, batch, options));
  }
  await tf.setBackend('cpu');
  print(cells, await describeMachine());
}

async function measureCell(entry: ZooEntry, backend: string, batch: number, o: { budgetMs: number; minRounds: number; maxRounds: number }): Promise<Cell> {
  const model = entry.build();
  const samples = zooSampleInputs(entry, batch, 1);
  const variants: { v: (typeof VARIANTS)[number]; model: KilnModel }[] = [];
  for (const v of VARIANTS) variants.push({ v, model: await v.build(model, backend, samples) });
  const feed = samples.length === 1 ? samples[0]! : samples;
  const timings = variants.map(() => [] as number[]);
  const once = (m: KilnModel) => {
    const t0 = performance.now();
    const out = outputsAsArray(m.predict(feed));
    for (const t of out) t.dataSync();
    const dt = performance.now() - t0;
    tf.dispose(out);
    return dt;
  };
  for (let i = 0; i < 3; i++) for (const { model: m } of variants) once(m);
  const start = performance.now();
  let rounds = 0;
  while (rounds < o.maxRounds && (rounds < o.minRounds || performance.now() - start < o.budgetMs)) {
    const order = rounds % 2 === 0 ? variants.map((_, k) => k) : variants.map((_, k) => variants.length - 1 - k);
    for (const k of order) timings[k]!.push(once(variants[k]!.model));
    rounds++;
  }
  const medians: Record<string, number> = {};
  variants.forEach(({ v }, k) => (medians[v.name] = summariseTimings(timings[k]!, 2).medianMs));
  const base = medians[VARIANTS.find((v) => v.baseline)!.name]!;
  const ratios = Object.fromEntries(Object.entries(medians).map(([k, m]) => [k, base / m]));
  for (const { model: m } of variants) m.dispose();
  tf.dispose(samples);
  model.dispose();
  const cell = { model: entry.name, backend, batch, medians, ratios, rounds };
  process.stderr.write(`${entry.name} ${backend} b${batch}: ${Object.entries(medians).map(([k, m]) => `${k} ${m.toFixed(3)} ms`).join(', ')} (${rounds} rounds)\n`);
  return cell;
}

function print(cells: Cell[], machine: string): void {
  const names = VARIANTS.map((v) => v.name);
  const others = names.filter((n) => !VARIANTS.find((v) => v.name === n)!.baseline);
  const head = ['model', 'backend', 'batch', ...names.map((n) => `${n} ms`), ...others.map((n) => `${n} / predict`), 'rounds'];
  const table = new Table({ head, style: { head: [], border: [] } });
  const md = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const c of cells) {
    const row = [c.model, c.backend, String(c.batch), ...names.map((n) => c.medians[n]!.toFixed(3)), ...others.map((n) => `${c.ratios[n]!.toFixed(2)}x`), String(c.rounds)];
    table.push(row);
    md.push(`| ${row.join(' | ')} |`);
  }
  console.log(table.toString());
  console.log(`\nMachine: ${machine}\nRatio: median of predict / median of the variant, measured interleaved in one run (higher is faster).`);
  for (const v of VARIANTS) console.log(`  ${v.name}: ${v.description}`);
  console.log('');
  console.log(md.join('\n'));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
