/**
 * `kiln export --format onnx` end to end: spawns `node bin/kiln.js export ...` on models
 * saved to a temp folder. The written file runs in stock onnxruntime-node and gives what
 * the model gives in tf.js (where onnxruntime-node loads; the rest runs everywhere).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { onnx } from 'onnx-proto';
import { saveModelToDisk } from '../../src/io/model-files.js';
import { loadOnnxRuntime, relativeToScale, runOnnx } from '../helpers/onnxruntime.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';
import { describeRun, runKiln, type CliResult } from './run-cli.js';

function expectExit(result: CliResult, code: number): void {
  expect(result.code, describeRun(result)).to.equal(code);
}

describe('kiln export (end to end)', function () {
  let root: string;
  let cnnDir: string;
  let conv3dDir: string;
  let cnn: tf.Sequential;

  before(async () => {
    await tf.setBackend('cpu');
    root = await makeTempDir('kiln-export-test-');
    cnn = tf.sequential({ name: 'export_cnn' });
    cnn.add(
      tf.layers.conv2d({
        inputShape: [8, 8, 3],
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
      }),
    );
    cnn.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    cnn.add(tf.layers.flatten());
    cnn.add(tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }) }));
    cnnDir = path.join(root, 'cnn');
    await saveModelToDisk(cnn, cnnDir);
    const conv3d = tf.sequential({ name: 'export_conv3d' });
    conv3d.add(tf.layers.conv3d({ inputShape: [4, 4, 4, 1], filters: 2, kernelSize: 2, name: 'volume_conv' }));
    conv3dDir = path.join(root, 'conv3d');
    await saveModelToDisk(conv3d, conv3dDir);
    conv3d.dispose();
  });

  after(async () => {
    cnn?.dispose();
    await removeTempDir(root);
  });

  it('kiln export --help documents <model>, --format onnx, --out and --batch', async () => {
    const result = await runKiln(['export', '--help']);
    expectExit(result, 0);
    for (const text of ['<model>', '--format <format>', 'onnx', '--out <file>', '--batch <n>', '--input-shape'])
      expect(result.stdout).to.include(text);
  });

  it('writes model.onnx at --batch 3, atomically; it runs in onnxruntime-node and reproduces tf.js', async () => {
    const out = path.join(root, 'cnn.onnx');
    const result = await runKiln(['export', path.join(cnnDir, 'model.json'), '--format', 'onnx', '--out', out, '--batch', '3']);
    expectExit(result, 0);
    expect(result.stderr).to.match(
      /^wrote .*cnn\.onnx \(\d+\.\d+ (kB|MB); weights: \d+ float32 \([^)]*\)[^;]*; ONNX opset 17, \d+ nodes, 2 layout transposes; inputs \S+ \[3, 8, 8, 3\]; outputs \S+\)$/m,
    );
    expect(
      (await fs.readdir(root)).filter((n) => n.startsWith('.kiln-tmp-')),
      'temporary files left',
    ).to.deep.equal([]);
    const loaded = await loadOnnxRuntime();
    if (!('ort' in loaded)) {
      console.warn(`      (not run in onnxruntime: ${loaded.reason})`);
      return;
    }
    const x = tf.randomUniform([3, 8, 8, 3], -1, 1, 'float32', 5);
    const expected = cnn.predict(x) as tf.Tensor;
    try {
      const got = await runOnnx(loaded.ort, await fs.readFile(out), { [cnn.inputs[0]!.name]: x });
      const output = Object.values(got)[0]!;
      expect(output.length).to.equal(15);
      expect(relativeToScale(expected.dataSync(), output)).to.be.at.most(1e-4);
    } finally {
      tf.dispose([x, expected]);
    }
  });

  it('kiln optimize --out writes model.onnx beside the tfjs files where onnxruntime won, and a later run it did not win removes it', async function () {
    const loaded = await loadOnnxRuntime();
    if (!('ort' in loaded)) {
      console.warn(`      skipped: ${loaded.reason}`);
      this.skip();
    }
    const out = path.join(root, 'optimized-cnn');
    const model = path.join(cnnDir, 'model.json');
    const config = path.join(root, 'no-pipeline.yaml');
    await fs.writeFile(config, 'pipeline: []\nvalidation:\n  samples: 1\nbenchmark:\n  endToEnd: false\n  minSpeedup: 0.01\n');
    const fast = ['--config', config, '--batch', '2'];
    const won = await runKiln(['optimize', model, '--backend', 'onnxruntime,cpu', '--out', out, ...fast]);
    expectExit(won, 0);
    expect(won.stderr).to.match(/, \S+model\.onnx \(the ONNX file onnxruntime ran, \d+ bytes\) and /);
    expect((await fs.readdir(out)).sort()).to.include.members(['model.json', 'model.onnx', 'kiln-report.json']);
    const report = JSON.parse(await fs.readFile(path.join(out, 'kiln-report.json'), 'utf8')) as { backend: string };
    expect(report.backend).to.equal('onnxruntime');
    const x = tf.randomUniform([2, 8, 8, 3], -1, 1, 'float32', 6);
    const expected = cnn.predict(x) as tf.Tensor;
    try {
      const bytes = await fs.readFile(path.join(out, 'model.onnx'));
      const inputName = onnx.ModelProto.decode(bytes).graph!.input![0]!.name!;
      const got = await runOnnx(loaded.ort, bytes, { [inputName]: x });
      expect(relativeToScale(expected.dataSync(), Object.values(got)[0]!)).to.be.at.most(1e-4);
    } finally {
      tf.dispose([x, expected]);
    }
    // the same folder, a run onnxruntime is not in: the old model.onnx must not stay beside the new model
    const lost = await runKiln(['optimize', model, '--backend', 'cpu', '--out', out, ...fast]);
    expectExit(lost, 0);
    expect(await fs.readdir(out)).to.not.include('model.onnx');
    expect(await fs.readdir(out)).to.include.members(['model.json', 'kiln-report.json']);
  });

  it('a kernel without an ONNX mapping fails with exit 1, names the kernel and its layer, and writes nothing', async () => {
    const out = path.join(root, 'conv3d.onnx');
    const result = await runKiln(['export', conv3dDir, '--format', 'onnx', '--out', out]);
    expectExit(result, 1);
    expect(result.stderr).to.include('kiln: kernel Conv3D (layer volume_conv) cannot be lowered to ONNX: Kiln has no ONNX mapping for it');
    expect(await fs.stat(out).catch(() => undefined), 'no file written').to.equal(undefined);
  });

  it('without --format, or with a format it does not write, is a usage error (exit 2)', async () => {
    const missing = await runKiln(['export', cnnDir, '--out', path.join(root, 'x.onnx')]);
    expectExit(missing, 2);
    expect(missing.stderr).to.include("required option '--format <format>' not specified");
    const other = await runKiln(['export', cnnDir, '--format', 'tflite', '--out', path.join(root, 'x.onnx')]);
    expectExit(other, 2);
    expect(other.stderr).to.include('Allowed choices are onnx');
  });
});
