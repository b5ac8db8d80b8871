import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { optimize } from '../../../src/optimize.js';

const ESRGAN_X2 = path.resolve(__dirname, '../../../../node_modules/@upscalerjs/esrgan-slim/models/x2');

/** A layers model from a folder of model.json and weight files. */
async function loadFolder(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const all = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p)))));
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData }),
  );
}

describe("mixed-precision's default budget on outputs in the hundreds (ESRGAN slim x2)", () => {
  let model: tf.LayersModel;
  let x: tf.Tensor;
  before(async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    // initialised, as Kiln's backend selection leaves it: the search then runs on wasm
    await tf.setBackend('wasm');
    await tf.setBackend('cpu');
    model = await loadFolder(ESRGAN_X2);
    x = tf.randomUniform([1, 8, 8, 3], 0, 255, 'float32', 1);
  });
  after(async () => {
    model.dispose();
    x.dispose();
    await tf.setBackend('cpu');
  });

  const run = (options: object) =>
    optimize(model, {
      sampleInputs: [x],
      config: {
        backend: { preference: ['cpu'] },
        validation: { samples: 1 },
        benchmark: { warmup: 1, iterations: 3, endToEnd: false },
        pipeline: [{ name: 'mixed-precision', options }],
      },
    });

  it('float16 under the default (1e-3 of the output scale) is kept, and the reason says what was compared', async () => {
    const { model: optimized, report } = await run({ policy: 'float16' });
    try {
      const d = report.decisions.find((r) => r.plugin === 'mixed-precision')!;
      expect(d.status, d.reason).to.equal('applied');
      expect(d.reason).to.match(
        /within budget: SR max \|diff\| [\d.]+e-\d = [\d.]+e-\d of the output scale \d+ \(allowed 0\.001 of scale\)$/,
      );
      expect(d.metrics['budget.SR.scaledMaxAbsDiff']).to.be.below(1e-3);
      expect(d.metrics.searchBackend).to.equal('wasm');
      expect(report.validation.budget).to.deep.equal({ '*': { tolerance: 1e-3 } });
    } finally {
      optimized.dispose();
    }
  });

  it('the former default, an absolute 1e-3, cannot be met by float16 on outputs in the hundreds', async () => {
    const { model: optimized, report } = await run({ policy: 'float16', budgets: { '*': { atol: 1e-3 } } });
    optimized.dispose();
    const d = report.decisions.find((r) => r.plugin === 'mixed-precision')!;
    expect(d.status).to.equal('rejected');
    expect(d.reason).to.match(/output "SR" differs by/);
  });
});
