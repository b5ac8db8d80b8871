import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';

import { buildShogiResNet, loadLayersModelFromDisk } from '../../src/index.js';
import { main, type CliExampleResult } from '../../examples/04-cli/cli.js';
import { comparePredictions } from '../helpers/predictions.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

describe('examples/04-cli (smoke)', () => {
  let dir: string;
  let result: CliExampleResult;

  before(async () => {
    dir = await makeTempDir('kiln-example-04-test-');
    result = await main({ small: true, dir, print: false });
  });
  after(async () => {
    await removeTempDir(dir);
  });

  it('kiln optimize exits 0 and prints the decisions table', () => {
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(result.command.slice(0, 1)).to.deep.equal(['optimize']);
    expect(result.stdout).to.match(/backend-wasm/);
    expect(result.stdout).to.match(/Backend that ran: /);
  });

  it('writes the model files and kiln-report.json into --out, and nothing else', () => {
    const names = result.files.map((f) => f.file);
    expect(names).to.include.members(['model.json', 'kiln-report.json']);
    expect(names.filter((n) => n.endsWith('.bin')).length).to.be.greaterThan(0);
    expect(names.filter((n) => !n.endsWith('.bin')).sort()).to.deep.equal(['kiln-report.json', 'model.json']);
    expect(result.report!.decisions.length).to.be.greaterThan(0);
    expect(result.report!.decisions.every((d) => d.status !== 'failed')).to.equal(true);
  });

  it('the written model loads back and predicts what the original does', async () => {
    const original = buildShogiResNet({ blocks: 1, channels: 16 });
    const written = await loadLayersModelFromDisk(result.outDir);
    const x = tf.randomNormal([2, 9, 9, 46], 0, 1, 'float32', 5);
    try {
      comparePredictions<tf.Tensor[]>(original, written, x, (a, b) =>
        a.forEach((t, i) => expect(tf.tidy(() => tf.max(tf.abs(tf.sub(t, b[i]!))).dataSync()[0]!)).to.be.at.most(1e-4)),
      );
    } finally {
      tf.dispose(x);
      original.dispose();
      written.dispose();
    }
  });
});
