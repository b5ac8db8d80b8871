/**
 * End-to-end tests of the `kiln` command: each spawns `node bin/kiln.js ...` (the
 * compiled dist/ code) with cwd = the repository root and checks its exit code and
 * what it printed. Benchmarking runs use tiny settings (samples 1, warmup 1,
 * iterations 5) to keep the suite short.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';

import type { PluginListing } from '../../src/cli/commands/plugins-command.js';
import { diskModelIO, loadLayersModelFromDisk, saveModelToDisk } from '../../src/io/model-files.js';
import { encodeNpy } from '../helpers/npy-writer.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';
import { onnxRuntimeLoads } from '../helpers/onnxruntime.js';
import { probeTfjsNode } from '../helpers/tfjs-node.js';
import { describeRun, REPO_ROOT, runKiln, type CliResult } from './run-cli.js';

interface ReportDecision {
  slot: number;
  plugin: string;
  status: string;
  reason: string;
  metrics: Record<string, unknown>;
}
interface Report {
  backend: string;
  final: string;
  decisions: ReportDecision[];
  endToEnd?: { baseline: string; versusCpu?: { baseline: string } };
}

const SMALL_RUN = 'validation: { samples: 1 }\nbenchmark: { warmup: 1, iterations: 5 }\n';
const DECISION_STATUSES = ['applied', 'rejected', 'failed', 'unavailable', 'skipped'];

/**
 * The backends the demo may run on: onnxruntime where the optional onnxruntime-node loads
 * (first in the default preference; it beats every tf.js backend on the demo network by
 * several times), else a wasm one (wasm-threads comes first and wins only where its threads
 * beat single-threaded wasm, on a quiet multi-core machine), or tensorflow where the
 * optional @tensorflow/tfjs-node is installed and loads (it comes before both).
 */
const TFJS_DEMO_BACKENDS = probeTfjsNode().loads ? ['tensorflow', 'wasm-threads', 'wasm'] : ['wasm-threads', 'wasm'];
let ortLoads = false;
let DEMO_BACKENDS = TFJS_DEMO_BACKENDS;

function expectExit(result: CliResult, code: number): void {
  expect(result.code, describeRun(result)).to.equal(code);
}

/** stdout parsed as one JSON document; fails with the whole run in the message otherwise. */
function parseStdout<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch (error) {
    throw new Error(`stdout is not one JSON document (${(error as Error).message})\n${describeRun(result)}`);
  }
}

/** Asserts the report shape every run prints: decisions with plugin, status, reason, metrics. */
function expectReportShape(report: Report): void {
  expect(report.decisions, 'decisions').to.be.an('array').that.is.not.empty;
  for (const d of report.decisions) {
    expect(d.plugin, 'decision.plugin').to.be.a('string').that.is.not.empty;
    expect(DECISION_STATUSES, `status of ${d.plugin}`).to.include(d.status);
    expect(d.reason, `reason of ${d.plugin}`).to.be.a('string');
    expect(d.metrics, `metrics of ${d.plugin}`).to.be.an('object');
  }
}

describe('kiln CLI (end to end)', function () {
  before(async () => {
    ortLoads = await onnxRuntimeLoads();
    DEMO_BACKENDS = ortLoads ? ['onnxruntime'] : TFJS_DEMO_BACKENDS;
  });
  let root: string; // temp folder for the whole suite
  let modelDir: string; // a tiny dense model saved with saveModelToDisk
  let smallConfig: string;
  let probe: tf.Tensor;
  let expectedOutput: number[];

  /** Writes `text` to `<root>/<name>` and returns the path. */
  async function writeTemp(name: string, text: string): Promise<string> {
    const file = path.join(root, name);
    await fs.writeFile(file, text);
    return file;
  }

  before(async () => {
    await tf.setBackend('cpu');
    probe = tf.tensor2d([[0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8]]);
    root = await makeTempDir('kiln-cli-test-');
    // Plugin modules written below are CommonJS whatever the folders above say.
    await fs.writeFile(path.join(root, 'package.json'), '{ "type": "commonjs" }\n');
    smallConfig = await writeTemp('small.yaml', SMALL_RUN);

    const model = tf.sequential({ name: 'cli_tiny_dense' });
    model.add(
      tf.layers.dense({ inputShape: [8], units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }) }),
    );
    model.add(tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({ seed: 4 }) }));
    try {
      modelDir = path.join(root, 'model');
      await saveModelToDisk(model, modelDir);
      const out = model.predict(probe) as tf.Tensor;
      expectedOutput = Array.from(await out.data());
      out.dispose();
    } finally {
      model.dispose();
    }

    await writeTemp(
      'failing-plugin.js',
      [
        `const kiln = require(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'src', 'index.js'))});`,
        "kiln.Plugin({ name: 'always-fails', kind: 'test', objective: 'latency', description: 'throws from apply on purpose' })(",
        '  class AlwaysFails {',
        '    isAvailable() { return kiln.AVAILABLE; }',
        "    async apply() { throw new Error('deliberate failure'); }",
        '  },',
        ');',
        '',
      ].join('\n'),
    );
    await writeTemp('broken-plugin.js', "throw new Error('this module is broken on purpose');\n");
  });

  after(async () => {
    probe?.dispose();
    await removeTempDir(root);
  });

  describe('help', () => {
    it('kiln --help exits 0 and lists the optimize, plugins and demo commands', async () => {
      const result = await runKiln(['--help']);
      expectExit(result, 0);
      expect(result.stdout, describeRun(result)).to.match(/^Usage: kiln/m);
      for (const command of ['optimize', 'plugins', 'demo'])
        expect(result.stdout, describeRun(result)).to.match(new RegExp(`^\\s+${command}\\b`, 'm'));
    });

    it('kiln optimize --help exits 0 and documents <model>, --out, --config, --json and the run flags', async () => {
      const result = await runKiln(['optimize', '--help']);
      expectExit(result, 0);
      expect(result.stdout, describeRun(result)).to.include('Usage: kiln optimize [options] <model>');
      for (const flag of [
        '--out <dir>',
        '--config <file>',
        '--json',
        '--no-fallback',
        '--iterations <n>',
        '--batch <sizes>',
        '--backend <list>',
      ]) {
        expect(result.stdout, describeRun(result)).to.include(flag);
      }
    });

    it('kiln --version prints the version from package.json', async () => {
      const pkg = JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
      const result = await runKiln(['--version']);
      expectExit(result, 0);
      expect(result.stdout.trim()).to.equal(pkg.version);
    });
  });

  describe('kiln plugins', () => {
    it('--json prints an array of {name, kind, available, reason}: wasm available, tensorflow as installed here', async () => {
      const result = await runKiln(['plugins', '--json']);
      expectExit(result, 0);
      const listings = parseStdout<PluginListing[]>(result);
      expect(listings).to.be.an('array').that.is.not.empty;
      for (const p of listings) {
        expect(p.name).to.be.a('string').that.is.not.empty;
        expect(p.kind).to.be.a('string').that.is.not.empty;
        expect(p.available).to.be.a('boolean');
        expect(p.reason).to.be.a('string');
        if (p.available) expect(p.reason, `${p.name} is available, so no reason`).to.equal('');
      }
      const byName = new Map(listings.map((p) => [p.name, p]));
      expect(byName.get('backend-wasm'), 'backend-wasm listed').to.include({ kind: 'backend', available: true });
      expect(byName.get('backend-cpu'), 'backend-cpu listed').to.include({ kind: 'backend', available: true });
      const tensorflow = byName.get('backend-tensorflow');
      const tfjsNode = probeTfjsNode();
      expect(tensorflow, 'backend-tensorflow listed').to.include({ kind: 'backend', available: tfjsNode.loads });
      if (!tfjsNode.installed) expect(tensorflow!.reason).to.match(/package not installed/);
      else if (!tfjsNode.loads) expect(tensorflow!.reason).to.match(/is installed but failed to load/);
    });

    it('--config lists the plugins the config imports as well', async () => {
      const config = await writeTemp('plugins-list.yaml', 'plugins: [./failing-plugin.js]\n');
      const result = await runKiln(['plugins', '--json', '--config', config]);
      expectExit(result, 0);
      const listings = parseStdout<PluginListing[]>(result);
      expect(listings.find((p) => p.name === 'always-fails')).to.deep.include({
        kind: 'test',
        objective: 'latency',
        available: true,
        reason: '',
      });
      expect(listings.map((p) => p.name)).to.include('backend-wasm');
    });

    it('without --json prints a table with each plugin and whether it is available', async () => {
      const result = await runKiln(['plugins']);
      expectExit(result, 0);
      expect(result.stdout, describeRun(result)).to.match(/│ backend-wasm\s+│ backend\s+│ latency\s+│ yes\s+│/);
      const tensorflowRow = probeTfjsNode().loads
        ? /│ backend-tensorflow\s+│ backend\s+│ latency\s+│ yes\s+│/
        : /│ backend-tensorflow\s+│ backend\s+│ latency\s+│ no\s+│ package /;
      expect(result.stdout, describeRun(result)).to.match(tensorflowRow);
    });
  });

  describe('kiln demo', () => {
    it('--json prints exactly one JSON report with decisions, and onnxruntime (where it loads) or a wasm backend (or tensorflow, where tfjs-node loads) ran', async () => {
      const result = await runKiln(['demo', '--json', '--iterations', '5']);
      expectExit(result, 0);
      const text = result.stdout.trim();
      expect(text.startsWith('{') && text.endsWith('}'), `stdout is one JSON object:\n${result.stdout}`).to.equal(true);
      const report = parseStdout<Report>(result); // throws if anything else is on stdout
      expectReportShape(report);
      expect(report.backend).to.be.oneOf(DEMO_BACKENDS);
      const ran = report.decisions.find((d) => d.plugin === `backend-${report.backend}`);
      expect(ran, `a decision for backend-${report.backend}`).to.not.equal(undefined);
      expect(['applied', 'rejected']).to.include(ran!.status);
      expect(ran!.metrics).to.have.property('candidateMedianMs').that.is.a('number');
      const tensorflow = report.decisions.find((d) => d.plugin === 'backend-tensorflow');
      if (ortLoads) {
        // kept before tensorflow was tried; the headline is against plain tf.js on the fastest tf.js backend it could run on
        expect(tensorflow).to.include({ status: 'skipped' });
        const e2e = report.endToEnd!;
        expect(e2e.baseline).to.match(probeTfjsNode().loads ? / on (wasm|tensorflow)$/ : / on wasm$/);
        expect(e2e.versusCpu?.baseline).to.match(/ on cpu$/);
      } else if (!probeTfjsNode().loads) expect(tensorflow).to.include({ status: 'unavailable' });
      else expect(['applied', 'rejected'], tensorflow!.reason).to.include(tensorflow!.status);
      expect(result.stderr, 'tf.js banner silenced').to.not.include('Hi, looks like you are running TensorFlow.js');
    });

    it('without --json prints the decisions table and the backend that ran', async () => {
      const result = await runKiln(['demo', '--config', smallConfig, '--iterations', '5']);
      expectExit(result, 0);
      expect(result.stderr, describeRun(result)).to.match(/^demo: shogi_resnet, \d+ parameters, batch 1$/m);
      expect(result.stdout, describeRun(result)).to.match(/│ #\s+│ plugin\s+│ status\s+│ reason\s+│ figures\s+│/);
      // The backend that ran is a wasm one (or tensorflow where tfjs-node loads), and its row in the table says it was applied.
      const ran = /^Backend that ran: ([a-z-]+) \(/m.exec(result.stdout);
      expect(ran, describeRun(result)).to.not.equal(null);
      expect(DEMO_BACKENDS, describeRun(result)).to.include(ran![1]);
      expect(result.stdout, describeRun(result)).to.match(new RegExp(`│ backend-${ran![1]}\\s+│ applied\\s+│`));
      // single-threaded wasm: skipped once a backend before it was kept; wasm-threads: tried and not kept when plain wasm ran
      const other = ran![1] === 'wasm' ? /│ backend-wasm-threads\s+│ (rejected|failed|unavailable)\s+│/ : /│ backend-wasm\s+│ skipped\s+│/;
      expect(result.stdout, describeRun(result)).to.match(other);
      expect(result.stdout, describeRun(result)).to.match(/^Validated against the original on cpu/m);
    });
  });

  describe('kiln optimize', () => {
    async function expectOptimisedFolder(out: string): Promise<Report> {
      const names = await fs.readdir(out);
      expect(names).to.include.members(['model.json', 'kiln-report.json']);
      expect(
        names.some((n) => /^group\d+-shard\d+of\d+\.bin$/.test(n)),
        `a weight shard in ${names.join(', ')}`,
      ).to.equal(true);
      const leftovers = [...names, ...(await fs.readdir(path.dirname(out)))].filter((n) => n.startsWith('.kiln-tmp-'));
      expect(leftovers, 'temporary files left behind').to.deep.equal([]);

      const report = JSON.parse(await fs.readFile(path.join(out, 'kiln-report.json'), 'utf8')) as Report;
      expectReportShape(report);

      // The saved model loads back and computes what the original computed.
      const reloaded = await loadLayersModelFromDisk(out);
      try {
        const y = reloaded.predict(probe) as tf.Tensor;
        const actual = Array.from(await y.data());
        y.dispose();
        expect(actual).to.have.lengthOf(expectedOutput.length);
        actual.forEach((v, i) => expect(v).to.be.closeTo(expectedOutput[i]!, 1e-5));
      } finally {
        reloaded.dispose();
      }
      return report;
    }

    it('optimises <dir>/model.json into --out: model.json, a shard and kiln-report.json, no temp files', async () => {
      const out = path.join(root, 'out-json');
      const result = await runKiln(['optimize', path.join(modelDir, 'model.json'), '--out', out, '--config', smallConfig]);
      expectExit(result, 0);
      expect(result.stdout, describeRun(result)).to.match(/^Backend that ran: /m);
      // Which layers are written depends on what the pipeline kept (timing-dependent); the message says which.
      expect(result.stderr, describeRun(result)).to.include(`wrote ${path.join(out, 'model.json')} (the `);
      expect(result.stderr, describeRun(result)).to.match(
        /\((the optimised layers|the original layers \(no plugin rewrote them; the runtime choices are in the report\))\)(, \S+model\.onnx \(the ONNX file onnxruntime ran, \d+ bytes\))? and /,
      );
      expect(result.stderr, describeRun(result)).to.include(` and ${path.join(out, 'kiln-report.json')}`);
      const report = await expectOptimisedFolder(out);
      expect(report.decisions.map((d) => d.plugin)).to.include('backend-wasm');
      // where onnxruntime won (it loads here, and comes first), the ONNX file it ran is written beside the tfjs files
      const wroteOnnx = (await fs.readdir(out)).includes('model.onnx');
      expect(wroteOnnx, describeRun(result)).to.equal(report.backend === 'onnxruntime');
    });

    it('--batch 1,4 optimises at each batch size and reports both, with the dispatch rule', async () => {
      const result = await runKiln(['optimize', modelDir, '--batch', '1,4', '--config', smallConfig, '--json']);
      expectExit(result, 0);
      const report = parseStdout<Report & { profile: { batches: number[]; rule: string; entries: { batch: number; report: Report }[] } }>(
        result,
      );
      expect(report.profile.batches).to.deep.equal([1, 4]);
      expect(report.profile.entries.map((e) => e.batch)).to.deep.equal([1, 4]);
      for (const e of report.profile.entries) expectReportShape(e.report);
      expect(report.final).to.match(/^per batch size: 1 -> .*; 4 -> /);
      expect(report.profile.rule).to.match(/nearest profile batch/);
    });

    it('accepts the model folder instead of model.json, and --json prints the same report it writes', async () => {
      const out = path.join(root, 'out-folder');
      const result = await runKiln(['optimize', modelDir, '--out', out, '--config', smallConfig, '--json']);
      expectExit(result, 0);
      const printed = parseStdout<Report>(result);
      const written = await expectOptimisedFolder(out);
      expect(printed).to.deep.equal(written);
    });
  });

  describe('a model with free input dimensions (UpscalerJS ESRGAN x2, input "LR" [null, null, null, 3])', () => {
    const ESRGAN = path.join(REPO_ROOT, 'node_modules/@upscalerjs/esrgan-slim/models/x2/model.json');
    // Backend selection only (wasm, else cpu), a few timed runs: the run is about the inputs.
    const BACKEND_ONLY =
      'backend: { preference: [wasm, cpu] }\npipeline: []\nvalidation: { samples: 1 }\nbenchmark: { warmup: 1, iterations: 5, endToEnd: false }\n';
    let config: string;
    before(async () => {
      config = await writeTemp('esrgan.yaml', BACKEND_ONLY);
    });

    it('--input-shape 1x16x16x3 --out: runs, and writes a model that tf.loadLayersModel loads and that upscales as the original', async () => {
      const out = path.join(root, 'esrgan-out');
      const result = await runKiln(['optimize', ESRGAN, '--input-shape', '1x16x16x3', '--out', out, '--config', config]);
      expectExit(result, 0);
      expect(result.stdout, describeRun(result)).to.match(/^Backend that ran: /m);
      expect(result.stderr, describeRun(result)).to.include(`wrote ${path.join(out, 'model.json')}`);
      const written = await tf.loadLayersModel(diskModelIO(out));
      const original = await loadLayersModelFromDisk(ESRGAN);
      const x = tf.randomUniform([1, 16, 16, 3], 0, 255, 'float32', 7);
      try {
        const [a, b] = [written.predict(x) as tf.Tensor, original.predict(x) as tf.Tensor];
        expect(a.shape).to.deep.equal([1, 32, 32, 3]);
        expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).to.equal(0);
        tf.dispose([a, b]);
      } finally {
        tf.dispose(x);
        written.dispose();
        original.dispose();
      }
    });

    it("kiln.yaml's inputs: { LR: { shape, range } } does the same", async () => {
      const withInputs = await writeTemp('esrgan-inputs.yaml', `${BACKEND_ONLY}inputs:\n  LR: { shape: [1, 8, 8, 3], range: [0, 255] }\n`);
      const result = await runKiln(['optimize', ESRGAN, '--config', withInputs, '--json']);
      expectExit(result, 0);
      expectReportShape(parseStdout<Report>(result));
    });

    it('--sample-input LR=file.npy runs on the rows of the file (2 rows: the batch-doubled set has 4)', async () => {
      const file = path.join(root, 'lr-u8.npy');
      await fs.writeFile(
        file,
        encodeNpy(
          '|u1',
          [2, 8, 8, 3],
          Uint8Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => (i * 37) % 256),
        ),
      );
      const result = await runKiln(['optimize', ESRGAN, '--sample-input', `LR=${file}`, '--config', config, '--json']);
      expectExit(result, 0);
      const report = parseStdout<Report & { validation: { inputSets: string[] } }>(result);
      expect(report.validation.inputSets).to.include('batch 4');
    });

    it('without a shape: exit 2, asking for --input-shape with an example', async () => {
      const result = await runKiln(['optimize', ESRGAN, '--config', config]);
      expectExit(result, 2);
      expect(result.stderr, describeRun(result)).to.include('Input "LR" has a free dimension at axis 1 (shape [null, null, null, 3])');
      expect(result.stderr, describeRun(result)).to.include('`--input-shape LR:1x32x32x3` to the kiln CLI');
      expect(result.stdout, describeRun(result)).to.equal('');
    });

    for (const [what, args, message] of [
      [
        'an unknown input name (lists the inputs)',
        ['--input-shape', 'HR:1x16x16x3'],
        '--input-shape HR:1x16x16x3: the model has no input named "HR"; its inputs: LR [null, null, null, 3]. Use one of these names.',
      ],
      [
        'the wrong rank',
        ['--input-shape', 'LR:1x16x16'],
        'but the shape given is [1, 16, 16]: 3 axes for 4. Give one size per axis, e.g. LR:1x32x32x3.',
      ],
      ['a size that contradicts a fixed one', ['--input-shape', '1x16x16x4'], 'axis 3 is 4, but the model fixes it at 3'],
      ['a size of 0', ['--input-shape', 'LR:1x0x16x3'], 'the size at axis 1 is 0; every size must be a whole number >= 1'],
      ['bad syntax', ['--input-shape', 'LR:1*16*16*3'], 'is not a size. Sizes are whole numbers >= 1 joined by "x"'],
      [
        'a --batch that contradicts the shape',
        ['--input-shape', '1x16x16x3', '--batch', '2'],
        '--batch 2 contradicts --input-shape 1x16x16x3',
      ],
      ['a range the wrong way round', ['--input-range', '255..0'], 'the minimum (255) must be below the maximum (0)'],
    ] as const) {
      it(`${what}: exit 2, naming the fault and the fix`, async () => {
        const result = await runKiln(['optimize', ESRGAN, '--config', config, ...args]);
        expectExit(result, 2);
        expect(result.stderr, describeRun(result)).to.include(message);
        expect(result.stdout, describeRun(result)).to.equal('');
      });
    }

    it('a .npy whose shape contradicts the model: exit 2, naming the file', async () => {
      const file = path.join(root, 'lr-4-channels.npy');
      await fs.writeFile(file, encodeNpy('<f4', [1, 8, 8, 4], new Float32Array(8 * 8 * 4)));
      const result = await runKiln(['optimize', ESRGAN, '--config', config, '--sample-input', file]);
      expectExit(result, 2);
      expect(result.stderr, describeRun(result)).to.include(
        `--sample-input ${file}: input "LR" has shape [null, null, null, 3] (null: any size), but the file holds an array of shape [1, 8, 8, 4]: axis 3 is 4, but the model fixes it at 3.`,
      );
    });

    it("a bad shape in kiln.yaml's inputs: exit 2, naming the key path", async () => {
      const bad = await writeTemp('esrgan-bad-inputs.yaml', `${BACKEND_ONLY}inputs: { LR: { shape: [1, 0, 8, 3] } }\n`);
      const result = await runKiln(['optimize', ESRGAN, '--config', bad]);
      expectExit(result, 2);
      expect(result.stderr, describeRun(result)).to.include(
        'inputs.LR.shape: entry [1] (0) is not an integer >= 1 (got [1,0,8,3]); allowed: a list of at least 1 sizes (each an integer >= 1)',
      );
    });
  });

  describe('usage and configuration errors exit 2 and name the problem', () => {
    const modelJson = () => path.join(modelDir, 'model.json');

    it('an unknown config key', async () => {
      const config = await writeTemp('unknown-key.yaml', 'validation: { foo: 1 }\n');
      const result = await runKiln(['optimize', modelJson(), '--config', config]);
      expectExit(result, 2);
      expect(result.stderr, describeRun(result)).to.include('validation.foo');
      expect(result.stderr, describeRun(result)).to.include(config);
      expect(result.stdout, describeRun(result)).to.equal('');
    });

    it('a YAML syntax error (with line and column)', async () => {
      const config = await writeTemp('bad-syntax.yaml', 'validation:\n  samples: [1, 2\nbenchmark: {\n');
      const result = await runKiln(['optimize', modelJson(), '--config', config]);
      expectExit(result, 2);
      expect(result.stderr, describeRun(result)).to.match(/line \d+, column \d+/);
      expect(result.stderr, describeRun(result)).to.include(config);
    });

    it('an unknown plugin in pipeline: (lists the registered plugins)', async () => {
      const config = await writeTemp('unknown-plugin.yaml', 'pipeline: [{ name: no-such-plugin }]\n');
      const result = await runKiln(['optimize', modelJson(), '--config', config]);
      expectExit(result, 2);
      expect(result.stderr, describeRun(result)).to.include('no-such-plugin');
      expect(result.stderr, describeRun(result)).to.include('pipeline[0].name');
      expect(result.stderr, describeRun(result)).to.match(/Registered plugins: .*backend-wasm/);
    });

    it('a plugin module that throws when imported', async () => {
      const config = await writeTemp('broken-plugin.yaml', 'plugins: [./broken-plugin.js]\n');
      const result = await runKiln(['optimize', modelJson(), '--config', config]);
      expectExit(result, 2);
      expect(result.stderr, describeRun(result)).to.include('./broken-plugin.js');
      expect(result.stderr, describeRun(result)).to.include('this module is broken on purpose');
    });

    it('a config file that does not exist', async () => {
      const config = path.join(root, 'no-such-config.yaml');
      const result = await runKiln(['optimize', modelJson(), '--config', config]);
      expectExit(result, 2);
      expect(result.stderr, describeRun(result)).to.include(config);
    });

    it('a missing model file (names the path)', async () => {
      const missing = path.join(root, 'no-such-model', 'model.json');
      const result = await runKiln(['optimize', missing, '--config', smallConfig]);
      expectExit(result, 2);
      expect(result.stderr, describeRun(result)).to.include(missing);
      expect(result.stderr, describeRun(result)).to.match(/not found|missing|does not exist/i);
    });

    it('a missing required argument', async () => {
      const result = await runKiln(['optimize']);
      expectExit(result, 2);
      expect(result.stderr, describeRun(result)).to.match(/missing required argument 'model'/);
    });

    it('--batch 0', async () => {
      const result = await runKiln(['optimize', modelJson(), '--batch', '0']);
      expectExit(result, 2);
      expect(result.stderr, describeRun(result)).to.match(/--batch <sizes>.*'0' is invalid/);
      expect(result.stderr, describeRun(result)).to.include('whole numbers >= 1');
    });

    it('--batch 16,1 (a profile not smallest first)', async () => {
      const result = await runKiln(['optimize', modelJson(), '--batch', '16,1']);
      expectExit(result, 2);
      expect(result.stderr, describeRun(result)).to.match(/batch sizes go smallest first, each once \(got 16,1\); e\.g\. 1,16/);
    });

    it('an unknown command', async () => {
      const result = await runKiln(['frobnicate']);
      expectExit(result, 2);
      expect(result.stderr, describeRun(result)).to.match(/unknown command 'frobnicate'/);
    });
  });

  describe('output paths and model files are checked before any model work (exit 2)', () => {
    const modelJson = () => path.join(modelDir, 'model.json');
    const filesOf = async (dir: string) =>
      Object.fromEntries(
        await Promise.all((await fs.readdir(dir)).sort().map(async (f) => [f, (await fs.readFile(path.join(dir, f))).toString('base64')])),
      );

    for (const [what, out, message] of [
      [
        '--out ending in .json (the input model.json itself)',
        () => modelJson(),
        /--out .*model\.json: --out is the folder to write model\.json, its shards and kiln-report\.json into, not a \.json file/,
      ],
      [
        '--out equal to the input model folder',
        () => modelDir,
        /--out .* is the folder of the input model .*: writing there would replace the model being read/,
      ],
      ['--out that holds the input model folder', () => root, /--out .* holds the folder of the input model/],
    ] as const) {
      it(`${what}: refused, the input model untouched`, async () => {
        const before = await filesOf(modelDir);
        const result = await runKiln(['optimize', modelJson(), '--config', smallConfig, '--out', out()]);
        expectExit(result, 2);
        expect(result.stderr, describeRun(result)).to.match(message);
        expect(await filesOf(modelDir)).to.deep.equal(before);
      });
    }

    it('--out that is an existing file, and --report under a file, fail before the run', async () => {
      const file = await writeTemp('not-a-folder.txt', 'x');
      const out = await runKiln(['optimize', modelJson(), '--config', smallConfig, '--out', file]);
      expectExit(out, 2);
      expect(out.stderr, describeRun(out)).to.match(/--out .*not-a-folder\.txt is a file\. Pass a folder path/);
      const report = await runKiln(['optimize', modelJson(), '--config', smallConfig, '--report', path.join(file, 'report.html')]);
      expectExit(report, 2);
      expect(report.stderr, describeRun(report)).to.match(
        /--report .*report\.html: .*not-a-folder\.txt is a file, so nothing can be written under it/,
      );
      expect(report.stdout, 'no decision table: the run never started').to.equal('');
    });

    for (const [what, json, message] of [
      [
        'a model.json of {}',
        '{}',
        /model\.json is a model\.json without a modelTopology, which Kiln cannot load: it takes tf\.LayersModel/,
      ],
      ['a model.json that is a list', '[]', /does not hold a JSON object/],
      ['a model.json without weightsManifest', null, /has no weightsManifest, so the model's weights are missing/],
    ] as const) {
      it(`${what}: says what is missing`, async () => {
        const dir = path.join(root, `bad-${what.replace(/\W+/g, '-')}`);
        await fs.mkdir(dir, { recursive: true });
        const original = JSON.parse(await fs.readFile(modelJson(), 'utf8')) as Record<string, unknown>;
        const text = json ?? JSON.stringify({ ...original, weightsManifest: undefined });
        await fs.writeFile(path.join(dir, 'model.json'), text);
        const result = await runKiln(['optimize', path.join(dir, 'model.json'), '--config', smallConfig]);
        expectExit(result, 2);
        expect(result.stderr, describeRun(result)).to.match(message);
      });
    }
  });

  describe('a candidate that fails', () => {
    const failingConfig = (fallback: boolean) =>
      [
        'plugins: [./failing-plugin.js]',
        'backend: { preference: [cpu] }',
        'pipeline: [{ name: always-fails }]',
        `fallback: ${fallback}`,
        SMALL_RUN,
      ].join('\n');
    const failureMessage = 'always-fails failed: apply threw: deliberate failure';

    it('exits 1 and names the plugin and its error when fallback: false', async () => {
      const config = await writeTemp('fallback-off.yaml', failingConfig(false));
      const out = path.join(root, 'out-fallback-off');
      const result = await runKiln(['optimize', path.join(modelDir, 'model.json'), '--config', config, '--out', out]);
      expectExit(result, 1);
      expect(result.stderr, describeRun(result)).to.include(failureMessage);
      await fs.access(out).then(
        () => expect.fail(`${out} should not be written when the run fails`),
        (error: NodeJS.ErrnoException) => expect(error.code).to.equal('ENOENT'),
      );
    });

    it('exits 1 under the --no-fallback flag even though the config says fallback: true', async () => {
      const config = await writeTemp('fallback-on-flag.yaml', failingConfig(true));
      const result = await runKiln(['optimize', path.join(modelDir, 'model.json'), '--config', config, '--no-fallback']);
      expectExit(result, 1);
      expect(result.stderr, describeRun(result)).to.include(failureMessage);
    });

    it('exits 0 with fallback: true, and the table shows always-fails as failed', async () => {
      const config = await writeTemp('fallback-on.yaml', failingConfig(true));
      const result = await runKiln(['optimize', path.join(modelDir, 'model.json'), '--config', config]);
      expectExit(result, 0);
      expect(result.stdout, describeRun(result)).to.match(/│ always-fails\s+│ failed\s+│ apply threw: deliberate failure/);
      expect(result.stdout, describeRun(result)).to.match(/^Backend that ran: cpu /m);
      expect(result.stdout, describeRun(result)).to.include('End to end: nothing was kept');
    });

    it('--json with fallback: true reports the failed decision', async () => {
      const config = await writeTemp('fallback-on-json.yaml', failingConfig(true));
      const result = await runKiln(['optimize', path.join(modelDir, 'model.json'), '--config', config, '--json']);
      expectExit(result, 0);
      const report = parseStdout<Report>(result);
      expectReportShape(report);
      const failed = report.decisions.find((d) => d.plugin === 'always-fails');
      expect(failed).to.deep.include({ status: 'failed', reason: 'apply threw: deliberate failure' });
      expect(report.backend).to.equal('cpu');
    });
  });
});
