import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';

const ROOT = path.resolve(__dirname, '../../..');
/** The package entry as a user's `require('tfjs-kiln')` sees it (Node's self-reference by package name). */
const kiln = createRequire(path.join(ROOT, 'package.json'))('tfjs-kiln') as Record<string, unknown>;

/**
 * Every runtime name of `tfjs-kiln`, sorted. A name added to or dropped from src/index.ts
 * fails here: change this list only on purpose, with the README and docs.
 */
const RUNTIME_EXPORTS = [
  'ANY_OUTPUT',
  'AVAILABLE',
  'BUILT_IN_ENGINES',
  'BackendConfig',
  'BackendPlugin',
  'Backends',
  'BenchmarkConfig',
  'Benchmarker',
  'CPU_ENGINE',
  'CandidateConfig',
  'CandidateRejectedError',
  'CompileStrictError',
  'CompiledModel',
  'ConfigError',
  'ConsoleLogger',
  'CpuBackendPlugin',
  'DEFAULT_BACKEND_PREFERENCE',
  'Description',
  'EXECUTION_ENGINE',
  'EngineManager',
  'EngineRegistry',
  'FUSION_PATTERN',
  'FormatRegistry',
  'GraphCompileOptions',
  'GraphCompilePlugin',
  'GraphKilnModel',
  'GraphTools',
  'InputError',
  'IsBooleanValue',
  'IsMapping',
  'IsNonEmptyString',
  'IsNumberInRange',
  'IsOneOfValues',
  'IsStringList',
  'KILN_CONFIG',
  'KILN_VERSION',
  'KilnConfig',
  'KilnError',
  'KilnSettings',
  'LOGGER',
  'LayersKilnModel',
  'MODEL_FORMAT',
  'MODULE_IMPORTER',
  'MixedPrecisionOptions',
  'MixedPrecisionPlugin',
  'Mode',
  'ModelFileError',
  'ONNXRUNTIME_ENGINE',
  'ONNX_OPSET',
  'OnnxRuntimeBackendPlugin',
  'OnnxRuntimeModel',
  'OpFusionOptions',
  'OpFusionPlugin',
  'OptimizationFailedError',
  'OptimizedModel',
  'OutputBudgetOptions',
  'PLUGIN_CLASS',
  'Pipeline',
  'PipelineSteps',
  'Plugin',
  'PluginError',
  'PluginRegistry',
  'Plugins',
  'QuantizedKilnModel',
  'RUN_CONTAINER',
  'SHOGI_INPUT_SHAPE',
  'SHOGI_POLICY_SIZE',
  'Setting',
  'ShapeDispatchModel',
  'SlotConfig',
  'TENSORFLOW_ENGINE',
  'THREAD_MEASUREMENT',
  'THREAD_SETTINGS',
  'TENSORFLOW_GPU_ENGINE',
  'TensorflowBackendPlugin',
  'TensorflowGpuBackendPlugin',
  'TfjsBackendEngine',
  'Tolerance',
  'TrainingMode',
  'UnsupportedKernelError',
  'ValidationConfig',
  'ValidationSession',
  'Validator',
  'WASM_ENGINE',
  'WASM_THREADS_ENGINE',
  'WasmBackendPlugin',
  'WasmThreadsBackendPlugin',
  'activateBackend',
  'allclose',
  'buildShogiResNet',
  'chooseWeightStorage',
  'cloneLayersModel',
  'compile',
  'compiled',
  'compiledFunctionOf',
  'configFromClass',
  'createRunContainer',
  'defineBackendPlugin',
  'describeOnnxSize',
  'diskModelIO',
  'explain',
  'graphModelFormat',
  'kilnJsonSchema',
  'layersModelFormat',
  'loadConfig',
  'loadGraphModelFromDisk',
  'loadLayersModelFromDisk',
  'loadModelFromDisk',
  'loadStockModelFromDisk',
  'lowerCall',
  'lowerModel',
  'nodeImporter',
  'optimize',
  'outputsAsArray',
  'pluginMetaOf',
  'registerEngine',
  'registerModelFormat',
  'runsSynchronously',
  'saveArtifactsToDisk',
  'saveModelToDisk',
  'seededWeightedSum',
  'stopWasmThreads',
  'summariseTimings',
  'unavailable',
  'validateConfig',
  'validationMessage',
  'wasmThreadsInfo',
  'withBackend',
  'withBackendAsync',
  'writeFileAtomic',
  'writeFilesAtomic',
];

/** Every runtime name of `tfjs-kiln/testing` (src/testing/index.ts), sorted: pinned like the package entry's. */
const TESTING_RUNTIME_EXPORTS = [
  'CONFORMANCE_CHECKS',
  'CONFORMANCE_CONFIG',
  'ConformanceError',
  'ConformanceSession',
  'MODEL_CHECK_IDS',
  'PLUGIN_CHECK_IDS',
  'ZOO',
  'describePluginConformance',
  'graphModelFixture',
  'listZoo',
  'runPluginConformance',
  'zooSampleInputs',
];

/** The names src/index.ts exports (values and types), read off its `export { ... } from` lists. */
function indexExportNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}\s*from/g)) {
    for (const item of m[1]!.split(',')) {
      const words = item
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/);
      if (words[0]) names.add(words.at(-1)!);
    }
  }
  return names;
}

/** The fenced blocks of one language in a markdown text. */
function codeBlocks(markdown: string, langs: readonly string[]): string[] {
  const blocks: string[] = [];
  for (const m of markdown.matchAll(/^ *```(\w*)\n([\s\S]*?)^ *```/gm)) if (langs.includes(m[1]!)) blocks.push(m[2]!);
  return blocks;
}

/** The user-facing pages: the README, docs/ and the examples' READMEs. */
function pages(): { file: string; text: string }[] {
  const files = ['README.md', 'examples/README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).map((f) => `docs/${f}`)];
  for (const dir of fs.readdirSync(path.join(ROOT, 'examples'))) files.push(`examples/${dir}/README.md`);
  return files
    .filter((f) => f.endsWith('.md') && fs.existsSync(path.join(ROOT, f)))
    .map((file) => ({ file, text: fs.readFileSync(path.join(ROOT, file), 'utf8') }));
}

describe('the public API of tfjs-kiln matches the README', function () {
  it('exports exactly the documented runtime names, no internals', () => {
    expect(Object.keys(kiln).sort()).to.deep.equal([...RUNTIME_EXPORTS].sort());
  });

  it('src/index.ts names every export (no `export *`), and every runtime name is among them', () => {
    const text = fs.readFileSync(path.join(ROOT, 'src/index.ts'), 'utf8');
    expect(text).to.not.match(/export\s+\*/);
    const names = indexExportNames(text);
    for (const name of Object.keys(kiln)) expect(names.has(name), name).to.equal(true);
  });

  it("every name the README's and docs' snippets import from 'tfjs-kiln' is exported (value or type)", () => {
    const types = indexExportNames(fs.readFileSync(path.join(ROOT, 'src/index.ts'), 'utf8'));
    const missing: string[] = [];
    let imported = 0;
    for (const { file, text } of pages()) {
      const names: string[] = [];
      for (const block of codeBlocks(text, ['ts', 'typescript'])) {
        for (const m of block.matchAll(/import\s*\{([^}]*)\}\s*from\s*'tfjs-kiln'/g)) {
          for (const item of m[1]!.split(',')) {
            const name = item
              .trim()
              .replace(/^type\s+/, '')
              .split(/\s+as\s+/)[0]!;
            if (name) names.push(name);
          }
        }
      }
      // Plain JavaScript snippets use the package as `kiln.<name>` (comments, which mention kiln.yaml, left out).
      for (const block of codeBlocks(text, ['js', 'javascript'])) {
        for (const m of block.replace(/\/\/.*$/gm, '').matchAll(/\bkiln\.([A-Za-z_$][\w$]*)/g)) names.push(m[1]!);
      }
      for (const name of names) {
        imported++;
        if (!(name in kiln) && !types.has(name)) missing.push(`${file}: ${name}`);
      }
    }
    expect(imported).to.be.greaterThan(20);
    expect(missing).to.deep.equal([]);
  });

  it('tfjs-kiln/testing exports exactly its documented runtime names, and every name the docs take from it', () => {
    const testing = createRequire(path.join(ROOT, 'package.json'))('tfjs-kiln/testing') as Record<string, unknown>;
    expect(Object.keys(testing).sort()).to.deep.equal([...TESTING_RUNTIME_EXPORTS].sort());
    const types = indexExportNames(fs.readFileSync(path.join(ROOT, 'src/testing/index.ts'), 'utf8'));
    const missing: string[] = [];
    let imported = 0;
    for (const { file, text } of pages()) {
      for (const block of codeBlocks(text, ['ts', 'typescript', 'js', 'javascript'])) {
        const lists = [
          ...block.matchAll(/import\s*\{([^}]*)\}\s*from\s*'tfjs-kiln\/testing'/g),
          ...block.matchAll(/const\s*\{([^}]*)\}\s*=\s*require\('tfjs-kiln\/testing'\)/g),
        ];
        for (const m of lists) {
          for (const item of m[1]!.split(',')) {
            const name = item
              .trim()
              .replace(/^type\s+/, '')
              .split(/\s+as\s+|\s*:\s*/)[0]!;
            if (!name) continue;
            imported++;
            if (!(name in testing) && !types.has(name)) missing.push(`${file}: ${name}`);
          }
        }
      }
    }
    expect(imported).to.be.greaterThan(2);
    expect(missing).to.deep.equal([]);
  });

  it("explain is the compiler's explain(model, [x]); the config-validation helper is validationMessage", () => {
    const explain = kiln.explain as (f: unknown, x: unknown, o: unknown) => { kernelsCaptured: number; text: string };
    const x = tf.ones([2, 3]);
    try {
      const e = explain((t: tf.Tensor) => t.mul(2).relu(), [x], { print: false });
      expect(e.kernelsCaptured).to.be.a('number').greaterThan(0);
      expect(e.text).to.match(/Kernels captured/);
    } finally {
      x.dispose();
    }
    const validationMessage = kiln.validationMessage as (problem: string, allowed: string) => unknown;
    expect(validationMessage('invalid value', 'one of: a, b')).to.deep.equal({
      message: 'invalid value',
      context: { allowed: 'one of: a, b' },
    });
  });

  it("the README's 'Use it from code' loads the model with loadModelFromDisk (tf.loadLayersModel on a file fails in Node)", () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Use it from code'), readme.indexOf('## Command line'));
    const [snippet] = codeBlocks(section, ['ts']);
    expect(snippet).to.match(/import \{[^}]*\bloadModelFromDisk\b[^}]*\} from 'tfjs-kiln'/);
    expect(snippet).to.match(/await loadModelFromDisk\(/);
    expect(snippet).to.not.match(/tf\.loadLayersModel/);
    expect(section).to.match(/`loadModelFromDisk\(/);
  });

  it("example 02's README gives its measured run time, not 'about a minute'", () => {
    const text = fs.readFileSync(path.join(ROOT, 'examples/02-train-with-decorators/README.md'), 'utf8');
    expect(text).to.not.match(/about a minute/);
    expect(text).to.match(/measured/);
  });
});
