import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { getMetadataStorage } from 'class-validator';
import { parse } from 'yaml';
import * as kiln from '../../src/index.js';
import { Description, describedPropertiesOf, descriptionOf } from '../../src/config/description.js';
import {
  configClasses,
  configReference,
  formatDefault,
  kilnJsonSchema,
  objectRuleSchemasOf,
  objectRulesOf,
  pluginOptionClasses,
  renderConfigReference,
  toJsonValue,
  type JsonSchema,
  type SchemaPlugin,
} from '../../src/config/json-schema/index.js';
import { loadConfig } from '../../src/core/config-loading/load-config.js';
import { validate } from './mini-json-schema.js';

const ROOT = path.resolve(__dirname, '../../..');
const SCHEMA_FILE = path.join(ROOT, 'docs/kiln.schema.json');
const DOC_FILE = path.join(ROOT, 'docs/configuration.md');
const BEGIN = '<!-- BEGIN GENERATED REFERENCE (npm run schema) -->';
const END = '<!-- END GENERATED REFERENCE -->';
const REGENERATE = 'run `npm run schema` and commit the result';

/** The built-in plugins, as scripts/generate-schema.js finds them: every @Plugin class the package exports. */
const plugins: SchemaPlugin[] = Object.values(kiln)
  .map((value) => kiln.pluginMetaOf(value))
  .filter((m): m is kiln.PluginMeta => m !== undefined);

type Constructor = new () => object;

/** Straight from class-validator's storage, not through json-schema.ts: the properties that carry a validator. */
function validatedProperties(cls: Constructor): string[] {
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  return [...new Set(metadatas.map((m) => m.propertyName))];
}

/** The rows of the generated tables: `<plugin>:<key>` (or `<key>` outside plugin tables) -> default cell. */
function referenceRows(doc: string): Map<string, string> {
  const section = doc.slice(doc.indexOf(BEGIN), doc.indexOf(END));
  const rows = new Map<string, string>();
  let plugin: string | undefined;
  for (const line of section.split('\n')) {
    if (line.startsWith('### ')) plugin = /^### Plugin `([^`]+)`/.exec(line)?.[1];
    const m = /^\| `([^`]+)` \| [^|]+ \| ((?:[^|\\]|\\.)*) \|/.exec(line);
    if (m) rows.set(rowKey(plugin, m[1]!.replace(/\\\|/g, '|')), m[2]!.trim().replace(/\\\|/g, '|'));
  }
  return rows;
}

function rowKey(plugin: string | undefined, path: string): string {
  return plugin ? `${plugin}:${path}` : path;
}

/** Fails with the first line where `actual` departs from `expected`, instead of a diff of the whole file. */
function expectSameText(actual: string, expected: string, what: string): void {
  if (actual === expected) return;
  const a = actual.split('\n');
  const e = expected.split('\n');
  let i = 0;
  while (i < a.length && i < e.length && a[i] === e[i]) i++;
  expect.fail(
    `${what} is out of date (${REGENERATE}); first difference at line ${i + 1}:\n  committed: ${a[i] ?? '(end)'}\n  generated: ${e[i] ?? '(end)'}`,
  );
}

/** The schema's object for a class: the root for KilnConfig, else its definition. */
function schemaOf(schema: JsonSchema, cls: Function): JsonSchema {
  if (cls === kiln.KilnConfig) return schema;
  const definition = (schema.definitions as Record<string, JsonSchema>)[cls.name];
  expect(definition, `the schema has no definition for ${cls.name}; ${REGENERATE}`).to.not.equal(undefined);
  return definition!;
}

describe('JSON Schema and configuration reference', () => {
  const schema = kilnJsonSchema({ plugins });
  const classes = [...configClasses(), ...pluginOptionClasses(plugins)];

  it('docs/kiln.schema.json is what `npm run schema` generates from the config classes', () => {
    expectSameText(fs.readFileSync(SCHEMA_FILE, 'utf8'), `${JSON.stringify(schema, null, 2)}\n`, 'docs/kiln.schema.json');
  });

  it('the reference tables of docs/configuration.md are what `npm run schema` generates', () => {
    const doc = fs.readFileSync(DOC_FILE, 'utf8');
    expect(doc.indexOf(BEGIN), 'the generated-section markers are missing').to.be.greaterThan(-1);
    const committed = doc.slice(doc.indexOf(BEGIN) + BEGIN.length, doc.indexOf(END));
    expectSameText(committed.trim(), renderConfigReference({ plugins }).trim(), 'the reference in docs/configuration.md');
  });

  it('covers the config classes and the built-in plugin options', () => {
    const names = classes.map((c) => c.name);
    expect(names).to.include.members([
      'KilnConfig',
      'BackendConfig',
      'SlotConfig',
      'CandidateConfig',
      'ValidationConfig',
      'BenchmarkConfig',
    ]);
    expect(names).to.include.members(['GraphCompileOptions', 'OpFusionOptions', 'MixedPrecisionOptions', 'OutputBudgetOptions']);
    expect(plugins.map((p) => p.name)).to.include.members(['backend-cpu', 'backend-wasm', 'graph-compile', 'op-fusion', 'mixed-precision']);
  });

  it('every field with a default carries a validator (else kiln.yaml could never set it)', () => {
    for (const cls of classes) {
      const validated = validatedProperties(cls);
      const initialised = Object.keys(new cls()).filter((key) => (new cls() as Record<string, unknown>)[key] !== undefined);
      expect(validated, `${cls.name}: fields with a default but no validator`).to.include.members(initialised);
    }
  });

  it('every field of every config class is in the schema with its default, and the schema has no other key', () => {
    for (const cls of classes) {
      const fields = validatedProperties(cls);
      const properties = (schemaOf(schema, cls).properties ?? {}) as Record<string, JsonSchema>;
      expect(Object.keys(properties).sort(), `${cls.name} in the schema`).to.deep.equal([...fields].sort());
      const instance = new cls() as Record<string, unknown>;
      for (const field of fields) {
        const expected = toJsonValue(instance[field]);
        if (expected === undefined) expect(properties[field], `${cls.name}.${field}`).to.not.have.property('default');
        else expect(properties[field]!.default, `${cls.name}.${field} default`).to.deep.equal(expected);
      }
    }
  });

  it('every field of every config class is in docs/configuration.md with its default, and the reference has no other key', () => {
    const rows = referenceRows(fs.readFileSync(DOC_FILE, 'utf8'));
    const reference = configReference({ plugins });
    const pairs = reference.map((f) => `${f.owner.name}.${f.property}`);
    const expected = classes.flatMap((cls) => validatedProperties(cls).map((p) => `${cls.name}.${p}`));
    expect([...new Set(pairs)].sort(), 'the fields the reference lists').to.deep.equal([...new Set(expected)].sort());
    for (const field of reference) {
      const key = rowKey(field.plugin, field.path);
      expect(rows.has(key), `docs/configuration.md has no row for ${key}; ${REGENERATE}`).to.equal(true);
      expect(rows.get(key), `the default of ${key} in docs/configuration.md`).to.equal(formatDefault(field));
      const cell = rows.get(key)!;
      if (cell.startsWith('`')) {
        // The default as written reads back (as YAML) to the class's own default.
        expect(parse(cell.slice(1, -1)), `the default of ${field.path}`).to.deep.equal(
          toJsonValue((new (field.owner as Constructor)() as Record<string, unknown>)[field.property]),
        );
      }
    }
    const stale = [...rows.keys()].filter((key) => !reference.some((f) => rowKey(f.plugin, f.path) === key));
    expect(stale, `rows of docs/configuration.md that name no field; ${REGENERATE}`).to.deep.equal([]);
  });

  it('every field has a description, and every description names a field', () => {
    const missing = classes.flatMap((cls) =>
      validatedProperties(cls)
        .filter((p) => !descriptionOf(cls, p))
        .map((p) => `${cls.name}.${p}`),
    );
    expect(missing, 'give these fields a @Description(...) (src/config/description.ts), then run `npm run schema`').to.deep.equal([]);
    const stale = classes.flatMap((cls) =>
      describedPropertiesOf(cls)
        .filter((p) => !validatedProperties(cls).includes(p))
        .map((p) => `${cls.name}.${p}`),
    );
    expect(stale, '@Description on properties that carry no validator (so are no config key)').to.deep.equal([]);
  });

  it('a third-party options class gets its @Description texts in the schema and the reference', () => {
    class ThirdPartyOptions {
      @Description('How hard to squeeze.')
      @kiln.IsNumberInRange({ min: 0, max: 1 })
      factor = 0.5;

      @kiln.IsBooleanValue()
      verbose = false;
    }
    const mine: SchemaPlugin = { name: 'my-plugin', optionsClass: ThirdPartyOptions };
    const definition = schemaOf(kilnJsonSchema({ plugins: [mine] }), ThirdPartyOptions);
    const properties = definition.properties as Record<string, JsonSchema>;
    expect(properties.factor!.description).to.equal('How hard to squeeze.');
    expect(properties.verbose!.description, 'without one: the allowed words').to.equal('true or false');
    const rows = configReference({ plugins: [mine] }).filter((f) => f.plugin === 'my-plugin');
    expect(rows.map((f) => [f.path, f.description])).to.deep.equal([
      ['options.factor', 'How hard to squeeze.'],
      ['options.verbose', undefined],
    ]);
  });

  it('every whole-object rule of a config class has its schema fragment', () => {
    for (const cls of classes) {
      expect(
        objectRuleSchemasOf(cls).length,
        `${cls.name}: every ObjectRule (${objectRulesOf(cls).join(', ')}) carries its schema fragment`,
      ).to.equal(objectRulesOf(cls).length);
    }
  });

  describe('accepts and refuses what the loader does', () => {
    const accepted: [string, unknown][] = [
      ['an empty file', {}],
      [
        'every default written out',
        {
          plugins: [],
          backend: { preference: ['wasm', 'cpu'] },
          validation: { tolerance: 1e-4, samples: 4, seed: 0, largeMagnitude: 10, gradients: true },
          benchmark: {
            warmup: 10,
            iterations: 50,
            minIterations: 5,
            budgetMs: 10000,
            minSpeedup: 1.05,
            minSizeGain: 1.05,
            outlierSigma: 2,
            endToEnd: true,
          },
          fallback: true,
          mode: 'inference',
          timeLimitMs: 120000,
        },
      ],
      ['null sections', { backend: null, validation: null, benchmark: null }],
      ['an empty pipeline', { pipeline: [] }],
      [
        'slots of both shapes',
        {
          pipeline: [
            { name: 'graph-compile', timeLimitMs: 5 },
            { oneOf: [{ name: 'op-fusion', options: { level: 'graph' } }, { name: 'graph-compile' }] },
          ],
        },
      ],
      [
        'plugin options',
        { pipeline: [{ name: 'graph-compile', options: { executor: 'direct', disablePasses: ['cse'], recompileLimit: 64 } }] },
      ],
      [
        'mixed-precision budgets',
        {
          pipeline: [
            {
              name: 'mixed-precision',
              options: { policy: 'float16', budgets: { '*': { atol: 1e-3 }, policy: { argmaxAgreement: 0.99 } } },
            },
          ],
        },
      ],
      ['empty options for a plugin without options', { pipeline: [{ name: 'backend-cpu', options: {} }] }],
      ['training mode', { mode: 'training', validation: { gradients: false } }],
      ['a negative seed', { validation: { seed: -3 } }],
      [
        'sample-input shapes and ranges',
        { inputs: { LR: { shape: [1, 64, 64, 3], range: [0, 255] }, 'scope/ids:0': { range: [-1, 1.5] } } },
      ],
      ['an input with a shape only', { inputs: { x: { shape: [2, 8] } } }],
    ];
    const refused: [string, unknown][] = [
      ['an unknown top-level key', { fallbak: true }],
      ['an unknown section key', { validation: { tolerence: 1 } }],
      ['a negative scale-aware tolerance', { validation: { tolerance: -1 } }],
      ['a string for a number', { validation: { atol: '1e-5' } }],
      ['a negative tolerance', { validation: { rtol: -1 } }],
      ['too many samples', { validation: { samples: 65 } }],
      ['a fractional integer', { benchmark: { iterations: 2.5 } }],
      ['zero speed-up', { benchmark: { minSpeedup: 0 } }],
      ['"yes" for a boolean', { fallback: 'yes' }],
      ['an unknown mode', { mode: 'train' }],
      ['a time limit of 0', { timeLimitMs: 0 }],
      ['a list for a section', { backend: ['cpu'] }],
      ['an empty backend preference', { backend: { preference: [] } }],
      ['a duplicate backend', { backend: { preference: ['cpu', 'cpu'] } }],
      ['an upper-case backend', { backend: { preference: ['CPU'] } }],
      ['a blank plugin module', { plugins: ['  '] }],
      ['a slot with name and oneOf', { pipeline: [{ name: 'graph-compile', oneOf: [{ name: 'op-fusion' }] }] }],
      ['a slot with neither', { pipeline: [{ options: {} }] }],
      ['options on a oneOf slot', { pipeline: [{ oneOf: [{ name: 'op-fusion' }], options: {} }] }],
      ['an empty oneOf', { pipeline: [{ oneOf: [] }] }],
      ['a candidate without a name', { pipeline: [{ oneOf: [{ options: {} }] }] }],
      ['a blank plugin name', { pipeline: [{ name: ' ' }] }],
      ['an unknown option', { pipeline: [{ name: 'graph-compile', options: { fast: true } }] }],
      ['an option out of range', { pipeline: [{ name: 'graph-compile', options: { recompileLimit: 0 } }] }],
      ['an unknown pass', { pipeline: [{ oneOf: [{ name: 'graph-compile', options: { disablePasses: ['everything'] } }] }] }],
      ['options for a plugin without options', { pipeline: [{ name: 'backend-wasm', options: { threads: 2 } }] }],
      ['a budget without a term', { pipeline: [{ name: 'mixed-precision', options: { budgets: { '*': {} } } }] }],
      ['a null options', { pipeline: [{ name: 'op-fusion', options: null }] }],
      ['an input size of 0', { inputs: { LR: { shape: [1, 0, 8, 3] } } }],
      ['a fractional input size', { inputs: { LR: { shape: [1, 8.5] } } }],
      ['an input shape written as a string', { inputs: { LR: { shape: '1x8x8x3' } } }],
      ['a range of three numbers', { inputs: { LR: { range: [0, 1, 2] } } }],
      ['a range of one number', { inputs: { LR: { range: [255] } } }],
      ['an input entry with neither shape nor range', { inputs: { LR: {} } }],
      ['an unknown key in an input entry', { inputs: { LR: { shape: [1, 8], dtype: 'float32' } } }],
      ['a list for inputs', { inputs: [{ shape: [1, 8] }] }],
    ];

    async function loaderAccepts(raw: unknown): Promise<string | undefined> {
      try {
        await loadConfig(raw as object, { importPlugins: false });
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    }

    for (const [what, raw] of accepted) {
      it(`accepts ${what}`, async () => {
        expect(await loaderAccepts(raw), 'the loader').to.equal(undefined);
        expect(validate(schema, raw), 'the schema').to.deep.equal([]);
      });
    }
    for (const [what, raw] of refused) {
      it(`refuses ${what}`, async () => {
        expect(await loaderAccepts(raw), 'the loader').to.be.a('string');
        expect(validate(schema, raw), 'the schema').to.not.deep.equal([]);
      });
    }

    it('accepts a third-party plugin name with any options (the loader checks it once the module is imported)', () => {
      expect(validate(schema, { plugins: ['./mine.js'], pipeline: [{ name: 'my-plugin', options: { factor: 3 } }] })).to.deep.equal([]);
    });

    it('the "complete file with the defaults" in docs/configuration.md holds exactly the defaults', () => {
      const doc = fs.readFileSync(DOC_FILE, 'utf8');
      const block = /## A complete file with the defaults\s+```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
      expect(block, 'the section "A complete file with the defaults" is missing').to.be.a('string');
      expect(parse(block!)).to.deep.equal(toJsonValue(new kiln.KilnConfig()));
    });

    it('agrees with the loader on the YAML examples in docs/configuration.md', async () => {
      const doc = fs.readFileSync(DOC_FILE, 'utf8');
      const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1]!) as unknown).filter((v) => v !== null);
      expect(blocks.length).to.be.greaterThan(1);
      for (const raw of blocks) {
        expect(await loaderAccepts(raw), JSON.stringify(raw)).to.equal(undefined);
        expect(validate(schema, raw), JSON.stringify(raw)).to.deep.equal([]);
      }
    });
  });
});
