import { spawn } from 'node:child_process';
import { promises as fs, realpathSync } from 'node:fs';
import * as path from 'node:path';

import { expect } from 'chai';

import type { CustomPluginResult } from '../../examples/03-custom-plugin/run.js';
import { REPO_ROOT } from './repo-root.js';

const EXAMPLE = path.join(REPO_ROOT, 'examples', '03-custom-plugin');
const PACKAGE = path.join(EXAMPLE, 'kiln-plugin-example');

/** Runs `node <args>` in `cwd`, in its own process (a plugin it loads registers in that process's Kiln only). */
function runNode(args: string[], cwd = REPO_ROOT): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('examples/03-custom-plugin (smoke)', () => {
  let result: CustomPluginResult;

  before(async () => {
    const run = await runNode([path.join(REPO_ROOT, 'dist', 'examples', '03-custom-plugin', 'run.js'), '--small', '--json']);
    expect(run.code, run.stderr).to.equal(0);
    result = JSON.parse(run.stdout) as CustomPluginResult;
  });

  it('the plugin package registers with the same Kiln that runs the pipeline (one tfjs-kiln module)', () => {
    expect(result.registeredWithThisKiln).to.equal(true);
    expect(result.pluginSeesKilnAt).to.equal(realpathSync(path.join(REPO_ROOT, 'dist', 'src', 'index.js')));
  });

  it('is accepted on the model whose small weights are noise, with its figures', () => {
    const d = result.sparseModel;
    expect(d.plugin).to.equal('prune-small-weights');
    expect(d.status, d.reason).to.equal('applied');
    expect(d.reason).to.match(/x smaller/);
    expect(d.metrics.sparsity as number).to.be.greaterThan(0.8);
  });

  it('is rejected on the dense model, with the reason', () => {
    const d = result.denseModel;
    expect(d.status, d.reason).to.equal('rejected');
    expect(d.reason).to.match(/^numerical mismatch: output "probs" differs by/);
  });

  it("the package is plain CommonJS on the public API: it requires only tfjs-kiln and tf.js, nothing from Kiln's src/", async () => {
    const pkg = JSON.parse(await fs.readFile(path.join(PACKAGE, 'package.json'), 'utf8')) as {
      main: string;
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies['tfjs-kiln']).to.equal('file:../../..');
    const source = await fs.readFile(path.join(PACKAGE, pkg.main), 'utf8');
    const required = [...source.matchAll(/require\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
    expect(required.sort()).to.deep.equal(['@tensorflow/tfjs', 'tfjs-kiln']);
    expect(source).not.to.match(/\bimport\b.*from|src\//);
    const test = await fs.readFile(path.join(PACKAGE, 'test', 'conformance.test.js'), 'utf8');
    expect([...test.matchAll(/require\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]).sort()).to.deep.equal(['..', 'tfjs-kiln/testing']);
  });

  it("its own test, written with tfjs-kiln/testing's conformance kit, passes (npm test in the package)", async () => {
    // mocha from the repository's node_modules, as the package's devDependency would provide it
    const run = await runNode(
      [
        path.join(REPO_ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js'),
        '--no-config',
        '--reporter',
        'json',
        '--timeout',
        '120000',
        'test/conformance.test.js',
      ],
      PACKAGE,
    );
    const json = run.stdout.slice(run.stdout.indexOf('{'));
    const { stats, failures } = JSON.parse(json) as {
      stats: { passes: number; failures: number };
      failures: { fullTitle: string; err: { message: string } }[];
    };
    expect(
      failures.map((f) => `${f.fullTitle}: ${f.err.message}`),
      run.stderr,
    ).to.deep.equal([]);
    expect(run.code).to.equal(0);
    expect(stats.passes).to.be.greaterThan(10);
  });
});
