import { ConfigError } from '../../../src/core/errors.js';
import { expectRejects } from '../../helpers/expect-rejects.js';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { saveModelToDisk } from '../../../src/io/model-files.js';
import { optimize } from '../../../src/optimize.js';
import { ZOO, zooSampleInputs, type ZooName } from '../../../src/zoo/index.js';
import { asList, expectTensorsClose, recordingLogger } from '../../compiler/api/compile-helpers.js';
import { expectSamePredictions } from '../../helpers/predictions.js';
import { makeTempDir, removeTempDir } from '../../helpers/temp-dir.js';

const config = (backend: string, options?: object, extra: object = {}) => ({
  backend: { preference: [backend] },
  pipeline: [{ name: 'op-fusion', ...(options ? { options } : {}) }],
  validation: { samples: 1 },
  benchmark: { warmup: 1, iterations: 5, minSpeedup: 0.01, endToEnd: false },
  ...extra,
});

/** Saves with Kiln's saveModelToDisk and loads back with plain tf.loadLayersModel over tf.io.fromMemory. */
async function saveAndLoadPlain(model: tf.LayersModel): Promise<tf.LayersModel> {
  const dir = await makeTempDir('kiln-op-fusion-');
  try {
    await saveModelToDisk(model, dir);
    const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as {
      modelTopology: object;
      weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    };
    const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => fs.readFile(path.join(dir, p))));
    const joined = Buffer.concat(shards);
    const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength);
    return await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData }),
    );
  } finally {
    await removeTempDir(dir);
  }
}

const decisionOf = (report: { decisions: readonly { plugin: string }[] }) =>
  report.decisions.find((d) => d.plugin === 'op-fusion') as
    { status: string; reason: string; metrics: Record<string, unknown>; notes: readonly string[] } | undefined;

const STOCK_AFTER_FUSION = new Set([
  'InputLayer',
  'Conv2D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'GlobalAveragePooling2D',
  'Dense',
  'Activation',
  'Add',
  'Flatten',
  'ReLU',
]);

describe('op-fusion plugin', () => {
  before(async () => {
    await import('@tensorflow/tfjs-backend-wasm');
  });
  after(async () => {
    await tf.setBackend('cpu');
  });

  for (const backend of ['cpu', 'wasm']) {
    for (const name of ['depthwise-cnn', 'shogi-resnet'] as ZooName[]) {
      it(`${name} (small) on ${backend}: both levels applied, fewer layers and kernels, a stock LayersModel that saves and loads back, no leaks`, async () => {
        await tf.setBackend('cpu');
        const entry = ZOO[name];
        const model = entry.build({ small: true });
        const [x] = zooSampleInputs(entry, 2, 3) as [tf.Tensor];
        const before = tf.memory().numTensors;
        const { model: optimized, report } = await optimize(model, {
          sampleInputs: [x],
          config: config(backend),
          logger: recordingLogger(),
        });
        try {
          const decision = decisionOf(report)!;
          expect(decision, JSON.stringify(report.decisions)).to.not.equal(undefined);
          expect(decision.status, decision.reason).to.equal('applied');
          const m = decision.metrics;
          expect(m.layersBefore as number).to.be.greaterThan(m.layersAfter as number);
          expect(m.kernelsBefore as number).to.be.greaterThan(m.kernelsAfter as number);
          expect(m['layers.fold-batchnorm'], 'every BatchNorm folds at the layer level').to.match(/^(\d+)\/\1 applied$/);
          expect(m.fusionMaxAbsDiff as number).to.be.at.most(1e-4);
          expect(report.final).to.include('fused');
          expect(report.final).to.include('compiled kernel graph');
          expect(report.backend).to.equal(backend);

          const fused = optimized.layersModel!;
          expect(fused).to.be.instanceOf(tf.LayersModel);
          expect(fused).to.not.equal(model);
          expect(fused.layers.length).to.equal(m.layersAfter);
          const classes = fused.layers.map((l) => l.getClassName());
          expect(
            classes.filter((c) => !STOCK_AFTER_FUSION.has(c)),
            classes.join(', '),
          ).to.deep.equal([]);
          expect(
            model.layers.some((l) => l.getClassName() === 'BatchNormalization'),
            "the user's model is untouched",
          ).to.equal(true);

          const expected = model.predict(x);
          const got = optimized.predict(x);
          expectTensorsClose(got, expected);
          const loaded = await saveAndLoadPlain(fused);
          const viaLoaded = loaded.predict(x);
          expectTensorsClose(viaLoaded, expected);
          tf.dispose([...asList(expected), ...asList(got), ...asList(viaLoaded)]);
          loaded.dispose();
        } finally {
          optimized.dispose();
        }
        await tf.setBackend('cpu');
        expect(tf.memory().numTensors, 'nothing left once the optimised model is disposed').to.equal(before);
        model.dispose();
        x.dispose();
      });
    }
  }

  it("options.disable: ['fold-batchnorm', 'nope'] is a config error naming the key path and the known names, before any model work", async () => {
    const entry = ZOO['depthwise-cnn'];
    const model = entry.build({ small: true });
    const before = tf.memory().numTensors;
    try {
      const error = await expectRejects(
        optimize(model, { config: config('cpu', { disable: ['fold-batchnorm', 'nope'] }) }),
        /^config object: pipeline\[0\]\.options\.disable: entry \[1\] "nope" is not one of: /,
        ConfigError,
      );
      expect(error.code).to.equal('CONFIG_INVALID');
      for (const known of [
        'fold-batchnorm',
        'merge-activation',
        'drop-inference-noops',
        'bias-add',
        'fused-activation',
        'collapse-reshape',
        'collapse-transpose',
      ]) {
        expect(error.message, known).to.include(known);
      }
      expect(tf.memory().numTensors).to.equal(before);
    } finally {
      model.dispose();
    }
  });

  it('disabling fold-batchnorm keeps every BatchNorm, at the layer level and in the kernel graph', async () => {
    const entry = ZOO['depthwise-cnn'];
    const model = entry.build({ small: true });
    const [x] = zooSampleInputs(entry, 2, 5) as [tf.Tensor];
    const bnLayers = model.layers.filter((l) => l.getClassName() === 'BatchNormalization').length;
    const run = async (options?: object) => {
      const { model: optimized, report } = await optimize(model, {
        sampleInputs: [x],
        config: config('cpu', options),
        logger: recordingLogger(),
      });
      const decision = decisionOf(report)!;
      expect(decision.status, decision.reason).to.equal('applied');
      return { optimized, decision };
    };
    const all = await run();
    const without = await run({ disable: ['fold-batchnorm'] });
    try {
      expect(without.decision.metrics['layers.fold-batchnorm']).to.equal(undefined);
      const graphFold = without.decision.metrics['graph.fold-batchnorm'];
      expect(graphFold === undefined || /^0\//.test(String(graphFold)), String(graphFold)).to.equal(true);
      const kept = (without.optimized.layersModel ?? model).layers.filter((l) => l.getClassName() === 'BatchNormalization').length;
      expect(kept).to.equal(bnLayers);
      // each BatchNorm stays a FusedBatchNorm kernel: the graph keeps more kernels than with folding
      expect(without.decision.metrics.kernelsAfter as number).to.be.at.least((all.decision.metrics.kernelsAfter as number) + bnLayers);
      expectSamePredictions(without.optimized, model, x);
    } finally {
      all.optimized.dispose();
      without.optimized.dispose();
      model.dispose();
      x.dispose();
    }
  });

  it('training mode: no layer rewrite (a note says why), gradients validated, the model matches', async () => {
    const entry = ZOO['shogi-resnet'];
    const model = entry.build({ small: true });
    const [x] = zooSampleInputs(entry, 2, 6) as [tf.Tensor];
    const before = tf.memory().numTensors;
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      config: config('cpu', undefined, { mode: 'training' }),
      logger: recordingLogger(),
    });
    try {
      expect(report.mode).to.equal('training');
      const decision = decisionOf(report)!;
      expect(decision.status, decision.reason).to.equal('applied');
      expect(
        decision.notes.some((n) => /^layers: no layer rewrite in training mode/.test(n)),
        decision.notes.join('\n'),
      ).to.equal(true);
      expect(decision.metrics.layersBefore).to.equal(undefined);
      expect(decision.metrics['graph.fold-batchnorm'], 'BatchNorm folding is not training-safe').to.equal(undefined);
      expect(decision.metrics.gradientMaxAbsDiff).to.be.a('number');
      expect(decision.metrics.gradientMaxAbsDiff as number).to.be.at.most(1e-3);
      expect(optimized.layersModel, 'training mode keeps the user model').to.equal(model);
      expectSamePredictions(optimized, model, x);
    } finally {
      optimized.dispose();
    }
    expect(tf.memory().numTensors).to.equal(before);
    model.dispose();
    x.dispose();
  });
});
