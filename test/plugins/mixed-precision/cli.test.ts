import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { saveModelToDisk } from '../../../src/io/model-files.js';
import { weightSpecsByteLength } from '../../../src/io/weight-bytes.js';
import { buildShogiResNet } from '../../../src/zoo/shogi-resnet.js';
import { describeRun, runKiln } from '../../cli/run-cli.js';
import { comparePredictions } from '../../helpers/predictions.js';
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';
import { plainLoad } from './helpers.js';

const CONFIG = `backend: { preference: [wasm] }
validation: { samples: 1 }
benchmark: { warmup: 1, iterations: 5, endToEnd: false }
pipeline:
  - name: mixed-precision
    options:
      policy: auto
      budgets:
        policy: { argmaxAgreement: 0.99 }
        value: { atol: 0.01 }
`;

interface Report {
  decisions: {
    plugin: string;
    status: string;
    reason: string;
    metrics: Record<string, unknown>;
    tables?: { weights?: Record<string, unknown>[] };
  }[];
  validation: { budget?: object };
}

describe('kiln optimize with a mixed-precision pipeline (end to end)', function () {
  let root: string;
  let model: tf.LayersModel;

  before(async () => {
    root = await makeTempDir('kiln-mixed-precision-cli-');
    model = buildShogiResNet({ blocks: 1, channels: 16 });
    await saveModelToDisk(model, path.join(root, 'model'));
    await fs.writeFile(path.join(root, 'kiln.yaml'), CONFIG);
  });
  after(async () => {
    model.dispose();
    await removeTempDir(root);
  });

  it('writes the quantised model.json and shards atomically next to kiln-report.json, and prints the per-weight table', async () => {
    const out = path.join(root, 'out');
    const result = await runKiln([
      'optimize',
      path.join(root, 'model', 'model.json'),
      '--out',
      out,
      '--config',
      path.join(root, 'kiln.yaml'),
    ]);
    expect(result.code, describeRun(result)).to.equal(0);
    expect(result.stdout, describeRun(result)).to.match(/│ mixed-precision\s+│ applied\s+│/);
    expect(result.stdout, describeRun(result)).to.match(/^mixed-precision \(applied\): weights$/m);
    expect(result.stdout, describeRun(result)).to.match(
      /│ stem_conv\/kernel\s+│ 3x3x46x16\s+│ (uint16|float16|uint8)\s+│ (nearest|error-feedback)\s+│ 26496\s+│/,
    );
    expect(result.stdout, describeRun(result)).to.match(
      /^Validated against the original on cpu under the accuracy budget policy: argmaxAgreement 0\.99; value: atol 0\.01 /m,
    );
    expect(result.stderr, describeRun(result)).to.include(
      `wrote ${path.join(out, 'model.json')} (the optimised layers, weights stored as the report says)`,
    );

    const names = await fs.readdir(out);
    expect(names).to.include.members(['model.json', 'kiln-report.json', 'group1-shard1of1.bin']);
    expect(
      [...names, ...(await fs.readdir(root))].filter((n) => n.startsWith('.kiln-tmp-')),
      'temporary files left behind',
    ).to.deep.equal([]);

    const report = JSON.parse(await fs.readFile(path.join(out, 'kiln-report.json'), 'utf8')) as Report;
    const d = report.decisions.find((x) => x.plugin === 'mixed-precision')!;
    expect(d.status, d.reason).to.equal('applied');
    expect(d.metrics['budget.policy.argmaxAgreement']).to.be.at.least(0.99);
    expect(d.metrics['budget.value.maxAbsDiff']).to.be.at.most(0.01);
    expect(report.validation.budget).to.deep.equal({ policy: { argmaxAgreement: 0.99 }, value: { atol: 0.01 } });
    const rows = d.tables!.weights!;
    expect(rows).to.have.lengthOf(model.weights.length);

    // The manifest carries the chosen quantisation, and the shard holds exactly the bytes it describes.
    const json = JSON.parse(await fs.readFile(path.join(out, 'model.json'), 'utf8')) as {
      weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
    };
    const specs = json.weightsManifest.flatMap((g) => g.weights);
    const quantised = specs.filter((s) => s.quantization);
    expect(quantised.length).to.be.greaterThan(0);
    for (const s of quantised) expect(rows.find((r) => r.weight === s.name)!.precision).to.equal(s.quantization!.dtype);
    const shardBytes = (await fs.stat(path.join(out, 'group1-shard1of1.bin'))).size;
    expect(shardBytes).to.equal(weightSpecsByteLength(specs)).and.to.equal(d.metrics.bytesAfter);

    // Plain tf.js loads it, and it keeps to the budget on a fresh input.
    const plain = await plainLoad(out);
    const probe = tf.randomNormal([4, 9, 9, 46], 0, 1, 'float32', 99);
    comparePredictions<tf.Tensor[]>(model, plain, probe, ([p0, v0], [p1, v1]) => {
      expect(Array.from(tf.argMax(p1!, 1).dataSync())).to.deep.equal(Array.from(tf.argMax(p0!, 1).dataSync()));
      expect(tf.max(tf.abs(tf.sub(v0!, v1!))).dataSync()[0]).to.be.at.most(0.01);
    });
    tf.dispose(probe);
    plain.dispose();
  });
});
