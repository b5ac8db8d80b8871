/**
 * 04 - The command line: save a model to disk, run `kiln optimize` on it with --out,
 * and list the files it writes (the optimised model and kiln-report.json).
 *
 *   npm run build && node dist/examples/04-cli/cli.js [--small] [--dir DIR]
 *
 * The same by hand, once a model is on disk:
 *
 *   npx kiln optimize path/to/model --config examples/04-cli/kiln.yaml --out optimized/
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildShogiResNet, saveModelToDisk, type KilnReport } from 'tfjs-kiln';

const REPO_ROOT = path.resolve(__dirname, '../../..');
export const KILN_BIN = path.join(REPO_ROOT, 'bin', 'kiln.js');
export const KILN_YAML = path.join(REPO_ROOT, 'examples', '04-cli', 'kiln.yaml');

export interface CliExampleOptions {
  /** A smaller model and fewer timed runs (the smoke test's sizes). */
  readonly small?: boolean;
  /** Folder to work in (default: a new temporary folder, kept so you can look at it). */
  readonly dir?: string;
  readonly print?: boolean;
}

export interface CliExampleResult {
  readonly command: readonly string[];
  readonly exitCode: number | null;
  /** What `kiln optimize` printed: the decisions table. */
  readonly stdout: string;
  readonly stderr: string;
  /** Files under the --out folder, relative to it, with their sizes. */
  readonly files: readonly { readonly file: string; readonly bytes: number }[];
  readonly report?: KilnReport;
  readonly modelDir: string;
  readonly outDir: string;
}

export async function main(options: CliExampleOptions = {}): Promise<CliExampleResult> {
  const log = options.print === false ? () => undefined : (line: string) => console.log(line);
  const dir = options.dir ? path.resolve(options.dir) : await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-example-04-'));
  const modelDir = path.join(dir, 'model');
  const outDir = path.join(dir, 'optimized');

  // 1. A model on disk: model.json and its weight shards, as tf.js writes them.
  const model = buildShogiResNet(options.small ? { blocks: 1, channels: 16 } : { blocks: 2, channels: 32 });
  try {
    await saveModelToDisk(model, modelDir);
  } finally {
    model.dispose();
  }
  log(`saved ${model.name} to ${modelDir}: ${(await listFiles(modelDir)).map((f) => f.file).join(', ')}`);

  // 2. kiln optimize, as a user types it.
  const command = ['optimize', modelDir, '--config', KILN_YAML, '--out', outDir, ...(options.small ? ['--iterations', '5'] : [])];
  log(`$ kiln ${command.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}`);
  const run = await runNode([KILN_BIN, ...command], REPO_ROOT);
  log(run.stdout.trimEnd());
  if (run.stderr.trim()) log(run.stderr.trimEnd());
  log(`exit code ${run.code}`);

  // 3. What it wrote.
  const files = run.code === 0 ? await listFiles(outDir) : [];
  log(`files written to ${outDir}:`);
  for (const f of files) log(`  ${f.file.padEnd(24)} ${f.bytes} bytes`);
  let report: KilnReport | undefined;
  if (files.some((f) => f.file === 'kiln-report.json')) {
    report = JSON.parse(await fs.readFile(path.join(outDir, 'kiln-report.json'), 'utf8')) as KilnReport;
    const kept = report.decisions.filter((d) => d.status === 'applied').map((d) => d.plugin);
    log(
      `kiln-report.json: ${report.decisions.length} decisions, kept ${kept.length ? kept.join(', ') : 'nothing'}; backend ${report.backend}${report.endToEnd ? `; ${report.endToEnd.speedup.toFixed(2)}x end to end` : ''}`,
    );
  }
  return { command, exitCode: run.code, stdout: run.stdout, stderr: run.stderr, files, report, modelDir, outDir };
}

/** Every file under `dir` (relative paths, sorted) and its size. */
async function listFiles(dir: string): Promise<{ file: string; bytes: number }[]> {
  const out: { file: string; bytes: number }[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out.push({ file: path.relative(dir, full), bytes: (await fs.stat(full)).size });
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

function runNode(args: readonly string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

if (require.main === module) {
  tf.env().set('PROD', true); // silences tf.js's "install tfjs-node" banner
  const dirAt = process.argv.indexOf('--dir');
  main({
    small: process.argv.includes('--small') || process.env.KILN_EXAMPLES_SMALL === '1',
    dir: dirAt > 0 ? process.argv[dirAt + 1] : undefined,
  })
    .then((result) => {
      if (result.exitCode !== 0) process.exitCode = result.exitCode ?? 1;
    })
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    });
}
