import 'reflect-metadata';
import * as path from 'node:path';

import { expect } from 'chai';
import { Allow, IsInt, IsString, Min } from 'class-validator';

import { ConfigError, PluginError } from '../../../src/core/errors.js';
import type { KilnMode } from '../../../src/core/plugin.js';
import {
  Backends,
  configFromClass,
  KilnSettings,
  kilnSettingsOf,
  Mode,
  PipelineSteps,
  Plugins,
  Setting,
  settingFieldsOf,
  Tolerance,
  TrainingMode,
} from '../../../src/core/config-loading/config-class.js';
import { KilnConfig, ValidationConfig } from '../../../src/config/kiln-config.js';
import { loadConfig } from '../../../src/core/config-loading/load-config.js';
import { IsNumberInRange } from '../../../src/config/validators.js';
import { expectRejects } from '../../helpers/expect-rejects.js';
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';
import { fakePluginContainer, writeFile } from '../../config/helpers.js';

/** The config as plain data (the class's own fields are non-enumerable, so they drop out). */
function plain(config: object): unknown {
  return JSON.parse(JSON.stringify(config));
}

/** The lines of a ConfigError with each line's source (`<source>: `) taken off. */
function linesWithoutSource(error: Error, source: string): string[] {
  return error.message.split('\n').map((line) => {
    expect(line.startsWith(`${source}: `), `"${line}" names ${source}`).to.equal(true);
    return line.slice(source.length + 2);
  });
}

async function rejection(promise: Promise<unknown>, type: new (...args: never[]) => Error = ConfigError): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(type);
    return error as Error;
  }
  throw new Error('expected a ConfigError, but the promise resolved');
}

@KilnSettings()
class TrainingSettings {
  mode: KilnMode = 'training';
  validation = { atol: 1e-4, rtol: 1e-3 };
  @Backends('wasm', 'cpu') backends!: string[];

  @IsNumberInRange({ greaterThan: 0 }) learningRate = 0.01;
  @IsInt() @Min(1) epochs = 5;
}

describe('configFromClass', () => {
  let dir: string | undefined;
  beforeEach(async () => {
    dir = await makeTempDir('kiln-config-test-');
  });
  afterEach(async () => {
    await removeTempDir(dir);
    dir = undefined;
  });

  describe('defaults', () => {
    it('an empty class gives exactly the defaults of an empty kiln.yaml', async () => {
      class Empty {}
      const fromClass = await configFromClass(Empty);
      const fromFile = await loadConfig(await writeFile(dir!, 'kiln.yaml', ''));
      expect(fromClass).to.be.instanceOf(KilnConfig);
      expect(plain(fromClass)).to.deep.equal(plain(fromFile));
      expect(fromClass.pipeline).to.equal(undefined);
      expect(fromClass.configDir).to.equal(process.cwd());
    });

    it('a subclass of KilnConfig gives the defaults, and its initialisers override them', async () => {
      expect(plain(await configFromClass(class extends KilnConfig {}))).to.deep.equal(plain(await loadConfig()));
      class Fast extends KilnConfig {
        override mode: KilnMode = 'training';
        override fallback = false;
        constructor() {
          super();
          this.benchmark.iterations = 7;
        }
      }
      const config = await configFromClass(Fast);
      expect(config.mode).to.equal('training');
      expect(config.fallback).to.equal(false);
      expect(config.benchmark.iterations).to.equal(7);
      expect(config.benchmark.warmup).to.equal(10);
    });

    it('equals the kiln.yaml that says the same thing', async () => {
      const yaml = await writeFile(
        dir!,
        'kiln.yaml',
        'mode: training\nvalidation: { atol: 1e-4, rtol: 1e-3 }\nbackend: { preference: [wasm, cpu] }\n',
      );
      const fromClass = await configFromClass(TrainingSettings);
      expect(plain(fromClass)).to.deep.equal(plain(await loadConfig(yaml)));
      expect(fromClass.validation).to.be.instanceOf(ValidationConfig);
      expect(fromClass.validation.samples).to.equal(4); // the rest of the section: defaults
    });
  });

  describe('decorators', () => {
    it('only record metadata', () => {
      @KilnSettings({ name: 'Recorded', file: 'somewhere.yaml' })
      class Recorded {
        @Tolerance({ atol: 0.5 }) tolerance!: object;
        @Setting('benchmark.iterations') iterations = 3;
      }
      expect(kilnSettingsOf(Recorded)).to.deep.equal({ name: 'Recorded', file: 'somewhere.yaml' });
      expect(settingFieldsOf(Recorded)).to.deep.equal([
        { property: 'tolerance', path: ['validation'], hasDefault: true, defaultValue: { atol: 0.5 } },
        { property: 'iterations', path: ['benchmark', 'iterations'], hasDefault: false, defaultValue: undefined },
      ]);
    });

    it("set their keys; a field value wins over the decorator's; decorated fields merge over named ones", async () => {
      class Decorated {
        validation = { atol: 0.25, samples: 2 };
        @Tolerance({ atol: 0.5, rtol: 0.1 }) tolerance!: { atol?: number; rtol?: number };
        @TrainingMode() training!: KilnMode;
        @Backends('wasm') backends = ['cpu'];
        @Setting('benchmark.iterations') iterations = 3;
        @PipelineSteps([{ name: 'graph-compile' }, { oneOf: [{ name: 'mixed-precision', options: { policy: 'float16' } }] }])
        steps!: unknown;
      }
      const config = await configFromClass(Decorated, { container: fakePluginContainer() });
      expect(config.validation.atol).to.equal(0.5);
      expect(config.validation.rtol).to.equal(0.1);
      expect(config.validation.samples).to.equal(2);
      expect(config.mode).to.equal('training');
      expect(config.backend.preference).to.deep.equal(['cpu']);
      expect(config.benchmark.iterations).to.equal(3);
      expect(config.pipeline!.map((s) => s.name ?? s.oneOf![0]!.name)).to.deep.equal(['graph-compile', 'mixed-precision']);
      // read back from the final config, as the field's shape
      expect(config.tolerance).to.deep.equal({ atol: 0.5, rtol: 0.1 });
      expect(config.iterations).to.equal(3);
      expect(config.backends).to.deep.equal(['cpu']);
    });

    it("@Mode and a field named mode agree with kiln.yaml's mode", async () => {
      class M {
        @Mode('inference') m!: KilnMode;
      }
      expect((await configFromClass(M)).mode).to.equal('inference');
    });
  });

  describe('validation: one schema, the same words', () => {
    const cases: { what: string; yaml: string; make: () => object }[] = [
      { what: 'a negative tolerance', yaml: 'validation: { atol: -1 }', make: () => ({ validation: { atol: -1 } }) },
      { what: 'a fraction where an integer goes', yaml: 'validation: { samples: 1.5 }', make: () => ({ validation: { samples: 1.5 } }) },
      { what: 'a string where a number goes', yaml: 'timeLimitMs: "10"', make: () => ({ timeLimitMs: '10' }) },
      { what: 'an empty backend list', yaml: 'backend: { preference: [] }', make: () => ({ backend: { preference: [] } }) },
      { what: 'a bad mode', yaml: 'mode: train', make: () => ({ mode: 'train' }) },
      {
        what: 'a slot with name and oneOf',
        yaml: 'pipeline: [{ name: a, oneOf: [{ name: b }] }]',
        make: () => ({ pipeline: [{ name: 'a', oneOf: [{ name: 'b' }] }] }),
      },
      {
        what: 'several problems at once',
        yaml: 'validation: { atol: -1, rtol: x }\nfallback: 1',
        make: () => ({ validation: { atol: -1, rtol: 'x' }, fallback: 1 }),
      },
      { what: 'an unknown top-level key (a typo)', yaml: 'fallbak: false', make: () => ({ fallbak: false }) },
      { what: 'an unknown key in a section', yaml: 'validation: { atoll: 1 }', make: () => ({ validation: { atoll: 1 } }) },
    ];
    for (const c of cases) {
      it(`${c.what}: the class's message is kiln.yaml's, naming the class instead of the file`, async () => {
        const file = await writeFile(dir!, 'kiln.yaml', `${c.yaml}\n`);
        const fromYaml = await rejection(loadConfig(file));
        class BadSettings {
          constructor() {
            Object.assign(this, c.make());
          }
        }
        const fromClass = await rejection(configFromClass(BadSettings));
        expect((fromClass as ConfigError).code).to.equal((fromYaml as ConfigError).code);
        expect(linesWithoutSource(fromClass, 'BadSettings')).to.deep.equal(linesWithoutSource(fromYaml, file));
      });
    }

    it('the same through the shorthand decorators (they set the same key paths)', async () => {
      class Bad {
        @Tolerance({ atol: -1 }) t!: object;
        @Backends() none!: string[];
      }
      const file = await writeFile(dir!, 'kiln.yaml', 'validation: { atol: -1 }\nbackend: { preference: [] }\n');
      const fromYaml = await rejection(loadConfig(file));
      expect(linesWithoutSource(await rejection(configFromClass(Bad)), 'Bad')).to.deep.equal(linesWithoutSource(fromYaml, file));
    });

    it('names the class as @KilnSettings({ name }) says', async () => {
      @KilnSettings({ name: 'train.ts settings' })
      class Named {
        mode = 'train';
      }
      await expectRejects(
        configFromClass(Named),
        /^train\.ts settings: mode: invalid value \(got "train"\); allowed: one of: inference, training$/,
        ConfigError,
      );
    });

    it('an unknown plugin in the pipeline is refused as for a config object', async () => {
      class P {
        @PipelineSteps([{ name: 'no-such-plugin' }]) steps!: unknown;
      }
      const container = fakePluginContainer();
      const fromObject = await rejection(loadConfig({ pipeline: [{ name: 'no-such-plugin' }] }, { container }), PluginError);
      const fromClass = await rejection(configFromClass(P, { container }), PluginError);
      expect(fromClass.message).to.equal(fromObject.message);
      expect(fromClass.message).to.match(/no-such-plugin/);
    });
  });

  describe("the user's own fields", () => {
    it("are validated with their class-validator decorators, together with Kiln's keys", async () => {
      const settings = new TrainingSettings();
      settings.learningRate = -1;
      settings.epochs = 0;
      settings.mode = 'train' as KilnMode;
      const error = await rejection(configFromClass(settings));
      expect(error.message.split('\n')).to.deep.equal([
        'TrainingSettings: mode: invalid value (got "train"); allowed: one of: inference, training',
        'TrainingSettings: learningRate: out of range (got -1); allowed: a number > 0',
        'TrainingSettings: epochs: must not be less than 1 (got 0)',
      ]);
    });

    it('stay accessible on the config, but out of its schema (JSON, loadConfig)', async () => {
      const config = await configFromClass(TrainingSettings);
      expect(config.learningRate).to.equal(0.01);
      expect(config.epochs).to.equal(5);
      expect(Object.keys(config)).not.to.include('learningRate');
      expect(plain(config)).not.to.have.property('learningRate');
      // the config goes back through loadConfig unchanged
      expect(plain(await loadConfig(config))).to.deep.equal(plain(config));
    });

    it("a field without any decorator is a key for Kiln, so a typo is an unknown key; @Allow() makes it the user's", async () => {
      class Typo {
        fallbak = false;
      }
      await expectRejects(
        configFromClass(Typo),
        /^Typo: fallbak: unknown key "fallbak" \(got false\); allowed: plugins, backend, pipeline, inputs, shapes, validation, benchmark, fallback, mode, timeLimitMs$/,
        ConfigError,
      );
      class Mine {
        @Allow() notes = { anything: true };
        @IsString() @Allow() runName = 'baseline';
      }
      const config = await configFromClass(Mine);
      expect(config.notes).to.deep.equal({ anything: true });
      expect(config.runName).to.equal('baseline');
    });

    it('an instance carries values set at run time (e.g. from command-line arguments)', async () => {
      const settings = new TrainingSettings();
      settings.backends = ['cpu'];
      settings.learningRate = 0.5;
      const config = await configFromClass(settings);
      expect(config.backend.preference).to.deep.equal(['cpu']);
      expect(config.learningRate).to.equal(0.5);
      expect(config.backends).to.deep.equal(['cpu']);
    });
  });

  describe('a kiln.yaml over the class', () => {
    it('the file wins: mappings key by key, lists replace; the decorated fields read the final values', async () => {
      const file = await writeFile(dir!, 'sub/kiln.yaml', 'validation: { atol: 0.01 }\nbackend: { preference: [cpu] }\n');
      const config = await configFromClass(TrainingSettings, { file });
      expect(config.validation.atol).to.equal(0.01);
      expect(config.validation.rtol).to.equal(1e-3); // from the class
      expect(config.mode).to.equal('training'); // from the class
      expect(config.backend.preference).to.deep.equal(['cpu']);
      expect(config.backends).to.deep.equal(['cpu']);
      expect(config.learningRate).to.equal(0.01);
      expect(config.configDir).to.equal(path.dirname(file));
    });

    it('@KilnSettings({ file }) names a default file; the option replaces it; false drops it', async () => {
      const a = await writeFile(dir!, 'a.yaml', 'benchmark: { iterations: 11 }\n');
      const b = await writeFile(dir!, 'b.yaml', 'benchmark: { iterations: 22 }\n');
      @KilnSettings({ file: a })
      class WithFile {
        benchmark = { iterations: 5 };
      }
      expect((await configFromClass(WithFile)).benchmark.iterations).to.equal(11);
      expect((await configFromClass(WithFile, { file: b })).benchmark.iterations).to.equal(22);
      expect((await configFromClass(WithFile, { file: false })).benchmark.iterations).to.equal(5);
    });

    it('overrides win over the file; errors in each name where they are', async () => {
      const file = await writeFile(dir!, 'kiln.yaml', 'benchmark: { iterations: 11 }\n');
      const config = await configFromClass(TrainingSettings, { file, overrides: { benchmark: { iterations: 2 } } });
      expect(config.benchmark.iterations).to.equal(2);
      await expectRejects(
        configFromClass(TrainingSettings, { file, overrides: { benchmark: { iterations: 0 } } }),
        /^overrides: benchmark\.iterations: out of range/,
        ConfigError,
      );
    });

    it("a bad file gives exactly loadConfig(file)'s error", async () => {
      for (const text of ['validation: { atol: -1 }\nfallbak: true\n', 'validation: [\n', 'mode: 3\n']) {
        const file = await writeFile(dir!, 'kiln.yaml', text);
        const fromYaml = await rejection(loadConfig(file));
        const fromClass = await rejection(configFromClass(TrainingSettings, { file }));
        expect(fromClass.message).to.equal(fromYaml.message);
        expect((fromClass as ConfigError).code).to.equal((fromYaml as ConfigError).code);
      }
      await expectRejects(
        configFromClass(TrainingSettings, { file: path.join(dir!, 'missing.yaml') }),
        /Config file not found/,
        ConfigError,
      );
    });

    it("relative plugin paths: the file's against its folder, the class's against baseDir", async () => {
      const g = globalThis as { kilnConfigClassTest?: string[] };
      g.kilnConfigClassTest = [];
      await writeFile(dir!, 'conf/from-file.cjs', "globalThis.kilnConfigClassTest.push('file');\n");
      await writeFile(dir!, 'code/from-class.cjs', "globalThis.kilnConfigClassTest.push('class');\n");
      const file = await writeFile(dir!, 'conf/kiln.yaml', 'plugins: [./from-file.cjs]\n');
      class WithPlugins {
        @Plugins('./from-class.cjs') modules!: string[];
      }
      await configFromClass(WithPlugins, { baseDir: path.join(dir!, 'code') });
      expect(g.kilnConfigClassTest).to.deep.equal(['class']);
      const config = await configFromClass(WithPlugins, { file });
      expect(g.kilnConfigClassTest).to.deep.equal(['class', 'file']);
      expect(config.plugins).to.deep.equal(['./from-file.cjs']);
      delete g.kilnConfigClassTest;
    });
  });
});
