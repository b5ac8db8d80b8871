/**
 * `npm run test:real`: the command line on real published models, as the issues'
 * acceptance runs it: `kiln optimize <model.json> --out DIR --json` on a human-models
 * graph model, and on an UpscalerJS ESRGAN model with a free input size given by
 * `--input-shape`. The written folder loads with plain tf.js and computes what the
 * original does.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';

import { realModel, realModelInputs } from '../../bench/real-models.js';
import { diskModelIO } from '../../src/io/model-files.js';
import { loadStockModelFromDisk } from '../../src/io/load-stock-model.js';
import { describeRun, runKiln } from '../cli/run-cli.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';
import { probeTfjsNode } from '../helpers/tfjs-node.js';
import { loadOnnxRuntime, onnxRuntimeLoads, runOnnx } from '../helpers/onnxruntime.js';
import type { OrtModule } from '../../src/engines/onnxruntime/ort-api.js';
import { maxAbsDiff, outputValues, tolerance } from './compare.js';

interface Report {
  model: { format: string };
  backend: string;
  final: string;
  decisions: { plugin: string; status: string; reason: string }[];
}

describe('kiln optimize on real published models (the CLI, default config)', function () {
  let tmp: string | undefined;

  before(async () => {
    await tf.setBackend('cpu');
    tmp = await makeTempDir('kiln-real-cli-');
  });

  after(() => removeTempDir(tmp));

  /** Runs `kiln optimize` and checks the folder it wrote against the original on cpu; returns the report. */
  async function optimizeAndReload(name: string, extra: string[]): Promise<Report> {
    const real = realModel(name);
    const out = path.join(tmp!, name);
    const result = await runKiln(['optimize', real.modelJson, '--out', out, '--json', ...extra], { timeoutMs: 20 * 60_000 });
    expect(result.code, describeRun(result)).to.equal(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.model.format, 'the report names the format').to.equal(real.format);

    const original = await loadStockModelFromDisk(real.modelJson);
    const inputs = realModelInputs(real);
    try {
      const reference = outputValues(original.format.wrap(original.model, 'cpu', false).predict(inputs[0]!));
      // Plain tf.js, as a user loads what Kiln wrote.
      const written =
        real.format === 'graph-model'
          ? await tf.loadGraphModel(diskModelIO(out)).then((g) => {
              const y = outputValues(g.execute(inputs[0]!));
              g.dispose();
              return y;
            })
          : await tf.loadLayersModel(diskModelIO(out)).then((l) => {
              const y = outputValues(l.predict(inputs[0]!));
              l.dispose();
              return y;
            });
      expect(maxAbsDiff(written, reference)).to.be.at.most(tolerance(reference));
      // Where onnxruntime won, the model.onnx beside the tfjs files, in stock onnxruntime-node.
      const names = await fs.readdir(out);
      expect(names.includes('model.onnx'), `model.onnx in ${names.join(', ')}`).to.equal(report.backend === 'onnxruntime');
      if (report.backend === 'onnxruntime') {
        const ort = (await loadOnnxRuntime()) as { ort: OrtModule };
        const bytes = new Uint8Array(await fs.readFile(path.join(out, 'model.onnx')));
        const session = await ort.ort.InferenceSession.create(bytes);
        const got = await runOnnx(ort.ort, bytes, { [session.inputNames[0]!]: inputs[0]! });
        await session.release();
        const fromOnnx = session.outputNames.map((n) => Float32Array.from(got[n]!));
        expect(maxAbsDiff(fromOnnx, reference), 'stock onnxruntime on model.onnx vs original').to.be.at.most(tolerance(reference));
      }
    } finally {
      tf.dispose(inputs);
      original.format.dispose(original.model);
    }
    return report;
  }

  it('a graph model: selfie.json --out --json succeeds, names the format, and plain tf.loadGraphModel reproduces it', async () => {
    await optimizeAndReload('selfie', []);
  });

  it('ESRGAN x4 with --input-shape 1x32x32x3 keeps onnxruntime where it loads (else a wasm backend, or tensorflow where tfjs-node loads; not cpu) and writes a model stock tf.js loads', async () => {
    const report = await optimizeAndReload('esrgan-slim-x4', ['--input-shape', '1x32x32x3', '--input-range', '0..255']);
    const lines = report.decisions.map((d) => `${d.plugin}: ${d.status} (${d.reason})`).join('\n');
    if (await onnxRuntimeLoads()) expect(report.backend, lines).to.equal('onnxruntime');
    else expect(report.backend, lines).to.match(probeTfjsNode().loads ? /^(wasm|tensorflow$)/ : /^wasm/);
  });
});
