import 'reflect-metadata';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import { plainToInstance } from 'class-transformer';
import { expect } from 'chai';

import { ConfigError, PluginError } from '../../../src/core/errors.js';
import { PluginRegistry } from '../../../src/core/plugin-registry.js';
import { KilnConfig } from '../../../src/config/kiln-config.js';
import { loadConfig } from '../../../src/core/config-loading/load-config.js';
import { resolvePipeline } from '../../../src/core/config-loading/resolve-pipeline.js';
import { expectRejects } from '../../helpers/expect-rejects.js';
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';
import { EXAMPLE_YAML, fakePluginContainer, FakePrecisionOptions, recordingImporter, writeFile } from '../../config/helpers.js';

const DEFAULTS = {
  plugins: [],
  backend: { preference: ['onnxruntime', 'tensorflow-gpu', 'tensorflow', 'wasm-threads', 'wasm', 'cpu'] },
  // no tolerance, atol or rtol: the scale-aware default check (validation.tolerance 1e-4) is in force
  validation: { samples: 4, seed: 0, largeMagnitude: 10, gradients: true },
  benchmark: {
    warmup: 10,
    iterations: 50,
    minIterations: 5,
    budgetMs: 4000,
    minSpeedup: 1.05,
    minSizeGain: 1.05,
    outlierSigma: 2,
    endToEnd: true,
  },
  fallback: true,
  mode: 'inference',
  timeLimitMs: 120000,
};

/** The config as plain data (drops class identity; `pipeline` only when set). */
function plain(config: object): unknown {
  return JSON.parse(JSON.stringify(config));
}

describe('loadConfig', () => {
  let dir: string | undefined;

  beforeEach(async () => {
    dir = await makeTempDir('kiln-config-test-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
    dir = undefined;
  });

  describe('defaults', () => {
    it('gives every default for undefined', async () => {
      const config = await loadConfig();
      expect(config).to.be.instanceOf(KilnConfig);
      expect(plain(config)).to.deep.equal(DEFAULTS);
      expect(config.pipeline).to.equal(undefined);
      expect(config.configDir).to.equal(process.cwd());
    });

    it('gives every default for {}', async () => {
      const config = await loadConfig({});
      expect(plain(config)).to.deep.equal(DEFAULTS);
      // left unset, so that the validator can tell the user's element-wise check from the default
      expect([config.validation.tolerance, config.validation.atol, config.validation.rtol]).to.deep.equal([
        undefined,
        undefined,
        undefined,
      ]);
    });

    it("gives every default for an empty file, and keeps the file's folder", async () => {
      const file = await writeFile(dir!, 'sub/kiln.yaml', '');
      const config = await loadConfig(file);
      expect(plain(config)).to.deep.equal(DEFAULTS);
      expect(config.configDir).to.equal(path.dirname(file));
      expect(Object.keys(config)).not.to.include('configDir');
    });

    it('gives every default for a file of comments only', async () => {
      const file = await writeFile(dir!, 'kiln.yaml', '# nothing here\n');
      expect(plain(await loadConfig(file))).to.deep.equal(DEFAULTS);
    });

    it('fills in missing keys of a section and a section left empty', async () => {
      const file = await writeFile(dir!, 'kiln.yaml', 'validation:\n  atol: 0.5\nbenchmark:\n');
      const config = await loadConfig(file);
      expect(plain(config.validation)).to.deep.equal({ ...DEFAULTS.validation, atol: 0.5 });
      expect(plain(config.benchmark)).to.deep.equal(DEFAULTS.benchmark);
    });

    it('plainToInstance on {} gives a fully defaulted config', () => {
      const config = plainToInstance(KilnConfig, {}, { exposeDefaultValues: true });
      expect(plain(config)).to.deep.equal(DEFAULTS);
    });
  });

  describe('the example file', () => {
    it('parses with its values and resolves its plugins and options', async () => {
      const file = await writeFile(dir!, 'kiln.yaml', EXAMPLE_YAML);
      const { importer, specifiers } = recordingImporter();
      const child = fakePluginContainer(importer);
      const config = await loadConfig(file, { container: child });

      expect(specifiers).to.deep.equal(['./my-plugin.js']);
      expect(config.plugins).to.deep.equal(['./my-plugin.js']);
      expect(config.backend.preference).to.deep.equal(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
      expect(config.validation.atol).to.equal(1e-5);
      expect(config.validation.atol).to.be.a('number');
      expect(config.validation.rtol).to.equal(1e-4);
      expect(config.validation.samples).to.equal(4);
      expect(config.benchmark.warmup).to.equal(10);
      expect(config.benchmark.iterations).to.equal(50);
      expect(config.benchmark.minSpeedup).to.equal(1.05);
      expect(config.benchmark.outlierSigma).to.equal(2);
      expect(config.fallback).to.equal(true);
      expect(config.pipeline).to.have.length(3);
      expect(config.pipeline![0]!.name).to.equal('graph-compile');
      expect(config.pipeline![2]!.oneOf!.map((c) => c.options)).to.deep.equal([{ policy: 'auto' }, { policy: 'float16' }]);

      const slots = resolvePipeline(config, new PluginRegistry(child), file);
      expect(slots.map((s) => s.index)).to.deep.equal([0, 1, 2]);
      expect(slots[0]!.candidates).to.deep.equal([{ name: 'graph-compile', options: {}, path: 'pipeline[0]' }]);
      const [auto, f16] = slots[2]!.candidates;
      expect(auto!.path).to.equal('pipeline[2].oneOf[0]');
      expect(f16!.path).to.equal('pipeline[2].oneOf[1]');
      expect(auto!.options).to.be.instanceOf(FakePrecisionOptions);
      expect((f16!.options as FakePrecisionOptions).policy).to.equal('float16');
    });

    it('loads with importPlugins: false without importing anything', async () => {
      const file = await writeFile(dir!, 'kiln.yaml', EXAMPLE_YAML);
      const config = await loadConfig(file, { container: fakePluginContainer(), importPlugins: false });
      expect(config.pipeline).to.have.length(3);
    });

    it('gives a plugin its options class defaults when options are left out, and timeLimitMs as written', async () => {
      const child = fakePluginContainer();
      const config = await loadConfig({ pipeline: [{ name: 'mixed-precision', timeLimitMs: 500 }] }, { container: child });
      const [slot] = resolvePipeline(config, new PluginRegistry(child));
      expect(slot!.candidates[0]!.timeLimitMs).to.equal(500);
      expect((slot!.candidates[0]!.options as FakePrecisionOptions).policy).to.equal('auto');
    });

    it('resolves no slots when the config has no pipeline', async () => {
      const child = fakePluginContainer();
      expect(resolvePipeline(await loadConfig({}, { container: child }), new PluginRegistry(child))).to.deep.equal([]);
    });
  });

  describe('overrides', () => {
    it('win over the file: mappings merge, lists replace', async () => {
      const file = await writeFile(
        dir!,
        'kiln.yaml',
        'backend: { preference: [wasm, cpu] }\nvalidation: { atol: 0.1, rtol: 0.2 }\nmode: training\n',
      );
      const config = await loadConfig(file, {
        overrides: { backend: { preference: ['cpu'] }, validation: { atol: 0.5 }, benchmark: { iterations: 7 }, mode: undefined },
      });
      expect(config.backend.preference).to.deep.equal(['cpu']);
      expect(config.validation.atol).to.equal(0.5);
      expect(config.validation.rtol).to.equal(0.2);
      expect(config.benchmark.iterations).to.equal(7);
      expect(config.benchmark.warmup).to.equal(10);
      expect(config.mode).to.equal('training');
    });

    it('are validated too, and a bad one is named as coming from the overrides', async () => {
      const file = await writeFile(dir!, 'kiln.yaml', 'validation: { atol: 0.1 }\n');
      const error = await expectRejects(
        loadConfig(file, { overrides: { benchmark: { iterations: -3 } } }),
        /^overrides: benchmark\.iterations: out of range \(got -3\); allowed: an integer from 1 to 100000$/,
        ConfigError,
      );
      expect(error.code).to.equal('CONFIG_INVALID');
    });
  });

  describe('validation errors', () => {
    it('rejects an unknown top-level key, listing the allowed keys', async () => {
      const file = await writeFile(dir!, 'kiln.yaml', 'pipline: []\n');
      const error = await expectRejects(
        loadConfig(file),
        /: pipline: unknown key "pipline" \(got \[\]\); allowed: plugins, backend, pipeline, inputs, shapes, validation, benchmark, fallback, mode, timeLimitMs/,
        ConfigError,
      );
      expect(error.code).to.equal('CONFIG_INVALID');
      expect(error.message.startsWith(`${file}: `)).to.equal(true);
    });

    it('rejects an unknown nested key, naming validation.foo and the allowed keys of that section', async () => {
      const file = await writeFile(dir!, 'kiln.yaml', 'validation:\n  foo: 1\n');
      await expectRejects(
        loadConfig(file),
        /validation\.foo: unknown key "foo" \(got 1\); allowed: tolerance, atol, rtol, samples, seed, largeMagnitude, gradients/,
        ConfigError,
      );
    });

    it('does not accept configDir as a key', async () => {
      await expectRejects(loadConfig({ configDir: '/tmp' }), /^config object: configDir: unknown key "configDir"/, ConfigError);
    });

    it('rejects a value of the wrong type (a string is never converted to a number)', async () => {
      const file = await writeFile(dir!, 'kiln.yaml', 'validation:\n  atol: "abc"\n  rtol: "1e-4"\n');
      const error = await expectRejects(loadConfig(file), /validation\.atol/, ConfigError);
      expect(error.message.split('\n')).to.deep.equal([
        `${file}: validation.atol: wrong type (got "abc"); allowed: a number >= 0`,
        `${file}: validation.rtol: wrong type (got "1e-4"); allowed: a number >= 0`,
      ]);
    });

    it('rejects out-of-range values, listing every problem', async () => {
      const file = await writeFile(dir!, 'kiln.yaml', 'benchmark:\n  iterations: 0\nvalidation:\n  samples: 1000\n');
      const error = await expectRejects(loadConfig(file), /out of range/, ConfigError);
      expect(error.message).to.include(`${file}: benchmark.iterations: out of range (got 0); allowed: an integer from 1 to 100000`);
      expect(error.message).to.include(`${file}: validation.samples: out of range (got 1000); allowed: an integer from 0 to 64`);
      expect(error.message.split('\n')).to.have.length(2);
    });

    it('names the allowed values of mode, and rejects "yes" for a boolean', async () => {
      const error = await expectRejects(loadConfig({ mode: 'train', fallback: 'yes' }), /mode/, ConfigError);
      expect(error.message).to.include('config object: mode: invalid value (got "train"); allowed: one of: inference, training');
      expect(error.message).to.include('config object: fallback: wrong type (got "yes"); allowed: true or false');
    });

    it('checks backend names: pattern, duplicates, at least one', async () => {
      await expectRejects(
        loadConfig({ backend: { preference: ['cpu', 'cpu'] } }),
        /backend\.preference: duplicate entry "cpu"/,
        ConfigError,
      );
      await expectRejects(
        loadConfig({ backend: { preference: ['Tensor Flow'] } }),
        /backend\.preference: entry \[0\] "Tensor Flow" is not allowed/,
        ConfigError,
      );
      await expectRejects(
        loadConfig({ backend: { preference: [] } }),
        /backend\.preference: too few entries \(got \[\]\); allowed: a list of at least 1/,
        ConfigError,
      );
    });

    it('rejects a slot with both name and oneOf, naming the slot', async () => {
      const file = await writeFile(
        dir!,
        'kiln.yaml',
        'pipeline:\n  - name: graph-compile\n  - name: op-fusion\n    oneOf:\n      - name: graph-compile\n',
      );
      await expectRejects(
        loadConfig(file, { container: fakePluginContainer() }),
        /: pipeline\[1\]: has both "name" and "oneOf" \(got .*\); allowed: either \{ name, options\?, timeLimitMs\? \} or \{ oneOf: \[candidates\] \}/,
        ConfigError,
      );
    });

    it('rejects a slot with neither, an empty oneOf, a candidate without a name and a slot that is not a mapping', async () => {
      const error = await expectRejects(
        loadConfig({ pipeline: [{}, { oneOf: [] }, { oneOf: [{ options: { policy: 'auto' } }] }, 'graph-compile'] }),
        /pipeline\[0\]/,
        ConfigError,
      );
      expect(error.message).to.include('config object: pipeline[0]: needs "name" or "oneOf"');
      expect(error.message).to.include('config object: pipeline[1].oneOf: too few entries (got [])');
      expect(error.message).to.include('config object: pipeline[2].oneOf[0].name: missing; allowed: a plugin name');
      expect(error.message).to.include('config object: pipeline[3]: wrong type (got "graph-compile")');
    });

    it('rejects options that are not a mapping', async () => {
      await expectRejects(
        loadConfig({ pipeline: [{ name: 'mixed-precision', options: 'float16' }] }),
        /^config object: pipeline\[0\]\.options: wrong type \(got "float16"\); allowed: a mapping of option names to values$/,
        ConfigError,
      );
    });

    it('rejects a YAML document that is not a mapping', async () => {
      const file = await writeFile(dir!, 'kiln.yaml', '- graph-compile\n');
      const error = await expectRejects(loadConfig(file), /wrong type \(got \["graph-compile"\]\); allowed: a mapping/, ConfigError);
      expect(error.code).to.equal('CONFIG_INVALID');
    });
  });

  describe('files', () => {
    it('reports a YAML syntax error with file, line and column', async () => {
      const file = await writeFile(dir!, 'kiln.yaml', 'fallback: true\nbackend:\n  preference: [wasm, cpu\nmode: inference\n');
      const error = await expectRejects(loadConfig(file), /line 4, column 1/, ConfigError);
      expect(error.code).to.equal('CONFIG_SYNTAX');
      expect(error.message).to.include(`Invalid YAML in ${file} at line 4, column 1:`);
    });

    it('reports a duplicate key as a syntax error', async () => {
      const file = await writeFile(dir!, 'kiln.yaml', 'fallback: true\nfallback: false\n');
      const error = await expectRejects(loadConfig(file), /at line 2, column 1: Map keys must be unique/, ConfigError);
      expect(error.code).to.equal('CONFIG_SYNTAX');
    });

    it('reports a missing file, naming its path', async () => {
      const file = path.join(dir!, 'nope', 'kiln.yaml');
      const error = await expectRejects(
        loadConfig(file),
        new RegExp(`not found: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
        ConfigError,
      );
      expect(error.code).to.equal('CONFIG_NOT_FOUND');
    });
  });

  describe('plugins in the pipeline', () => {
    it('rejects an unknown plugin name, listing the registered ones', async () => {
      const file = await writeFile(
        dir!,
        'kiln.yaml',
        'pipeline:\n  - name: graph-compile\n  - oneOf:\n      - name: op-fusion\n      - name: op-fuson\n',
      );
      const error = await expectRejects(
        loadConfig(file, { container: fakePluginContainer() }),
        /Unknown plugin "op-fuson"\. Registered plugins: /,
        PluginError,
      );
      for (const name of ['graph-compile', 'op-fusion', 'mixed-precision'])
        expect(error.message).to.match(new RegExp(`Registered plugins: [^.]*\\b${name}\\b`));
      expect(error.code).to.equal('PLUGIN_UNKNOWN');
      expect(error.message.startsWith(`${file}: pipeline[1].oneOf[1].name: Unknown plugin`)).to.equal(true);
    });

    it("validates options against the plugin's options class, naming the option by path", async () => {
      const file = await writeFile(
        dir!,
        'kiln.yaml',
        'pipeline:\n  - oneOf:\n      - name: mixed-precision\n        options: { policy: auto }\n      - name: mixed-precision\n        options: { policy: float8, extra: 1 }\n',
      );
      const error = await expectRejects(loadConfig(file, { container: fakePluginContainer() }), /policy/, ConfigError);
      expect(error.code).to.equal('CONFIG_INVALID');
      expect(error.message).to.include(
        `${file}: pipeline[0].oneOf[1].options.policy: invalid value (got "float8"); allowed: one of: auto, float16, float32`,
      );
      expect(error.message).to.include(`${file}: pipeline[0].oneOf[1].options.extra: unknown key "extra" (got 1); allowed: policy`);
    });

    it('accepts no options for a plugin without an options class', async () => {
      await loadConfig({ pipeline: [{ name: 'op-fusion', options: {} }] }, { container: fakePluginContainer() });
      await expectRejects(
        loadConfig({ pipeline: [{ name: 'op-fusion', options: { level: 2 } }] }, { container: fakePluginContainer() }),
        /^config object: pipeline\[0\]\.options: this plugin takes no options \(got \{"level":2\}\)/,
        ConfigError,
      );
    });
  });

  describe('plugin modules', () => {
    afterEach(() => {
      const g = globalThis as Record<string, unknown>;
      delete g.__kilnTestImported;
      delete g.__kilnTestNotImported;
      delete g.__kilnTestPackage;
    });

    it('imports a relative module named under plugins:, and nothing else', async () => {
      await writeFile(dir!, 'plugins/named.js', 'globalThis.__kilnTestImported = true;\n');
      await writeFile(dir!, 'plugins/unnamed.js', 'globalThis.__kilnTestNotImported = true;\n');
      const file = await writeFile(dir!, 'conf/kiln.yaml', 'plugins: [../plugins/named.js]\n');
      await loadConfig(file);
      const g = globalThis as Record<string, unknown>;
      expect(g.__kilnTestImported).to.equal(true);
      expect(g.__kilnTestNotImported).to.equal(undefined);
    });

    it('finds a package installed next to the config file', async () => {
      await writeFile(dir!, 'node_modules/kiln-test-plugin/package.json', '{ "name": "kiln-test-plugin", "main": "main.js" }\n');
      await writeFile(dir!, 'node_modules/kiln-test-plugin/main.js', 'globalThis.__kilnTestPackage = "loaded";\n');
      const file = await writeFile(dir!, 'kiln.yaml', 'plugins: [kiln-test-plugin]\n');
      await loadConfig(file);
      expect((globalThis as Record<string, unknown>).__kilnTestPackage).to.equal('loaded');
    });

    it('reports a module that throws while importing, naming it and the config', async () => {
      await writeFile(dir!, 'bad.js', 'throw new Error("bad plugin module");\n');
      const file = await writeFile(dir!, 'kiln.yaml', 'plugins: [./bad.js]\n');
      const error = await expectRejects(loadConfig(file), /bad plugin module/, PluginError);
      expect(error.code).to.equal('PLUGIN_IMPORT');
      expect(error.message).to.equal(
        `Could not import plugin module "./bad.js" (plugins[0] in ${file}): bad plugin module. ` +
          'Check that the path is relative to the config file, or that the package is installed.',
      );
    });

    it('reports a module that does not exist', async () => {
      const file = await writeFile(dir!, 'kiln.yaml', 'plugins: [./good.js, ./missing.js]\n');
      await writeFile(dir!, 'good.js', '\n');
      await expectRejects(loadConfig(file), /^Could not import plugin module "\.\/missing\.js" \(plugins\[1\] in /, PluginError);
    });

    it('goes through MODULE_IMPORTER when the container has one, in order, with the entries as written', async () => {
      const { importer, specifiers } = recordingImporter();
      await loadConfig({ plugins: ['./a.js', 'some-package', '/abs/b.js'] }, { container: fakePluginContainer(importer) });
      expect(specifiers).to.deep.equal(['./a.js', 'some-package', '/abs/b.js']);
    });

    it('reports a failure of the injected importer for a config object', async () => {
      const child = fakePluginContainer(async (specifier) => {
        throw new Error(`no such module ${specifier}`);
      });
      await expectRejects(
        loadConfig({ plugins: ['./x.js'] }, { container: child }),
        /^Could not import plugin module "\.\/x\.js" \(plugins\[0\] in config object\): no such module \.\/x\.js\. Check/,
        PluginError,
      );
    });

    it('imports nothing when importPlugins is false', async () => {
      const { importer, specifiers } = recordingImporter();
      await loadConfig({ plugins: ['./a.js'] }, { container: fakePluginContainer(importer), importPlugins: false });
      expect(specifiers).to.deep.equal([]);
    });

    it("resolves relative paths against the config file's folder", async () => {
      const { resolvePluginSpecifier } = await import('../../../src/core/config-loading/plugin-modules.js');
      expect(resolvePluginSpecifier('./p.js', dir!)).to.equal(pathToFileURL(path.join(dir!, 'p.js')).href);
      expect(resolvePluginSpecifier('not-installed-anywhere-kiln', dir!)).to.equal('not-installed-anywhere-kiln');
    });
  });
});
