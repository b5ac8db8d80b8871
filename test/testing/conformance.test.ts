// Kiln's own plugins against the plugin author's kit, through the package's public
// entry points, exactly as a third-party plugin's tests use them.
import { expect } from 'chai';
import * as kiln from 'tfjs-kiln';
import { describePluginConformance, type DescribeConformanceOptions } from 'tfjs-kiln/testing';

/**
 * Which small zoo models each built-in plugin is checked on (the subset keeps the run
 * short; each exercises something the plugin does). A built-in plugin not listed here
 * is checked on the MLP.
 */
const SETTINGS: Record<string, DescribeConformanceOptions> = {
  'backend-cpu': { models: ['mlp', 'attention-block'], backend: 'wasm' }, // starts on wasm, so it copies onto cpu
  'backend-wasm': { models: ['mlp', 'depthwise-cnn'] },
  'backend-tensorflow': { models: ['mlp'] }, // unavailable without tfjs-node: reported, not failed
  'backend-tensorflow-gpu': { models: ['mlp'] },
  // outside tf.js: its models run only through predictAsync, which the kit awaits; unavailable without onnxruntime-node
  'backend-onnxruntime': { models: ['mlp', 'depthwise-cnn'] },
  'graph-compile': { models: ['mlp', 'shogi-resnet', 'custom-layer', 'attention-block'] },
  'op-fusion': { models: ['shogi-resnet', 'depthwise-cnn', 'mlp'] },
  'mixed-precision': { models: ['mlp', 'shogi-resnet', 'custom-layer'] }, // custom-layer: nothing to store below float32
};

const builtIns = Object.values(kiln)
  .map((value) => kiln.pluginMetaOf(value))
  .filter((meta): meta is kiln.PluginMeta => meta !== undefined)
  .sort((a, b) => a.name.localeCompare(b.name));

/** The plugin classes among the package's exports; the suite below is built from them, so it must not be empty. */
const BUILT_IN_NAMES = [
  'backend-cpu',
  'backend-onnxruntime',
  'backend-tensorflow',
  'backend-tensorflow-gpu',
  'backend-wasm',
  'backend-wasm-threads',
  'graph-compile',
  'mixed-precision',
  'op-fusion',
];

describe('built-in plugins pass the conformance kit (tfjs-kiln/testing)', () => {
  it(`finds the ${BUILT_IN_NAMES.length} built-in plugin classes among the exports of tfjs-kiln`, () => {
    expect(builtIns).to.have.length(BUILT_IN_NAMES.length);
    expect(builtIns.map((meta) => meta.name)).to.deep.equal(BUILT_IN_NAMES);
    expect(
      Object.keys(SETTINGS).filter((name) => !BUILT_IN_NAMES.includes(name)),
      'settings for plugins that were not found',
    ).to.deep.equal([]);
  });

  // strictTolerance: Kiln's own plugins keep within the tolerance themselves, not only through the pipeline's rejection.
  for (const meta of builtIns) describePluginConformance(meta.name, { models: ['mlp'], strictTolerance: true, ...SETTINGS[meta.name] });
});
