import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { expect } from 'chai';

const ROOT = path.resolve(__dirname, '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  main: string;
  types: string;
  bin: Record<string, string>;
  files: string[];
  exports: Record<string, string | { types: string; default: string }>;
};
/** Resolves as a module inside the package does (Node's self-reference by package name). */
const requireHere = createRequire(path.join(ROOT, 'package.json'));

describe('package entry points (package.json exports)', function () {
  it('tfjs-kiln and tfjs-kiln/testing resolve to the built modules, each with its type declarations', () => {
    expect(requireHere.resolve('tfjs-kiln')).to.equal(path.join(ROOT, 'dist/src/index.js'));
    expect(requireHere.resolve('tfjs-kiln/testing')).to.equal(path.join(ROOT, 'dist/src/testing/index.js'));
    expect(requireHere.resolve('tfjs-kiln/package.json')).to.equal(path.join(ROOT, 'package.json'));
    expect(requireHere.resolve('tfjs-kiln/kiln.schema.json')).to.equal(path.join(ROOT, 'docs/kiln.schema.json'));
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      const files = typeof target === 'string' ? [target] : [target.types, target.default];
      for (const file of files) expect(fs.existsSync(path.join(ROOT, file)), `${subpath}: ${file}`).to.equal(true);
    }
  });

  it('keeps main and types, which agree with the "." export', () => {
    const dot = pkg.exports['.'] as { types: string; default: string };
    expect(path.normalize(pkg.main)).to.equal(path.normalize(dot.default));
    expect(path.normalize(pkg.types)).to.equal(path.normalize(dot.types));
  });

  it('ships what the exports name', () => {
    expect(pkg.files).to.include.members(['dist/src', 'bin', 'docs/kiln.schema.json']);
  });

  it('hides the internals: a deep import is refused', () => {
    expect(() => requireHere.resolve('tfjs-kiln/dist/src/core/plugin.js')).to.throw(/is not defined by "exports"/);
  });

  it('loads from ESM and from CommonJS, as one module (one plugin registry)', () => {
    const script = [
      "import * as kiln from 'tfjs-kiln';",
      "import * as testing from 'tfjs-kiln/testing';",
      "import { createRequire } from 'node:module';",
      "const cjs = createRequire(import.meta.url)('tfjs-kiln');",
      'console.log(JSON.stringify({ optimize: typeof kiln.optimize, describe: typeof testing.describePluginConformance, same: cjs.Plugin === kiln.Plugin }));',
    ].join('\n');
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).to.deep.equal({ optimize: 'function', describe: 'function', same: true });
  });

  it('bin/kiln.js still runs', () => {
    const run = spawnSync(process.execPath, [path.join(ROOT, pkg.bin.kiln!), '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/Usage: kiln/);
  });
});
