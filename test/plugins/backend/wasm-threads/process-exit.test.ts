import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as path from 'node:path';

/** The repository root (this file runs from dist/test/plugins/backend/wasm-threads/). */
const ROOT = path.resolve(__dirname, '../../../../..');

/**
 * A script that uses the candidate and returns: no stopWasmThreads(), no process.exit().
 * It prints one JSON line when its work is done; the process must then exit by itself.
 */
const SCRIPT = `
require('reflect-metadata');
const tf = require('@tensorflow/tfjs');
tf.env().set('PROD', true);
const { optimize } = require('./dist/src/index.js');
(async () => {
  const input = tf.input({ shape: [6, 6, 4] });
  const conv = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: 1 }) }).apply(input);
  const out = tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }) }).apply(tf.layers.flatten().apply(conv));
  const model = tf.model({ inputs: input, outputs: out });
  const x = tf.randomNormal([4, 6, 6, 4], 0, 1, 'float32', 3);
  const config = { backend: { preference: ['wasm-threads'] }, pipeline: [], validation: { samples: 1 }, benchmark: { warmup: 1, iterations: 3, minSpeedup: 0.01, endToEnd: false } };
  const { model: fast, report } = await optimize(model, { sampleInputs: [x], config });
  const y = fast.predict(x);
  y.dataSync();
  const d = report.decisions.find((e) => e.plugin === 'backend-wasm-threads');
  console.log(JSON.stringify({ done: true, backend: report.backend, status: d.status, reason: d.reason, threads: d.metrics.threads }));
})();
`;

describe('backend-wasm-threads in a process of its own', () => {
  it('lets a process that used it and returned exit by itself within a few seconds', async function () {
    const child = spawn(process.execPath, ['-e', SCRIPT], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let doneAt: number | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (doneAt === undefined && stdout.includes('"done":true')) doneAt = performance.now();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 80_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(killer);
    const exitedAt = performance.now();
    expect(doneAt, `the script finished its work\nstdout: ${stdout}\nstderr: ${stderr}`).to.be.a('number');
    expect(code, stderr).to.equal(0);
    const line = JSON.parse(stdout.split('\n').find((l) => l.includes('"done":true'))!) as {
      backend: string;
      status: string;
      reason: string;
      threads: number;
    };
    expect(line.status, line.reason).to.equal('applied');
    expect(line.backend).to.equal('wasm-threads');
    expect(line.threads).to.be.at.least(2);
    expect(exitedAt - doneAt!, 'ms from the last output to the exit').to.be.below(3000);
  });
});
