import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import {
  buildAttentionBlock,
  buildCustomLayerModel,
  buildDepthwiseCnn,
  buildMlp,
  listZoo,
  ScaledSwish,
  SelfAttention,
  seedCounter,
  ZOO,
  zooSampleInputs,
  type ZooEntry,
  type ZooName,
} from '../../src/zoo/index.js';
import { comparePredictions } from '../helpers/predictions.js';

const asArray = (y: tf.Tensor | tf.Tensor[]): tf.Tensor[] => (Array.isArray(y) ? y : [y]);

async function saveToMemory(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  expect(saved, 'save handler was called').to.not.equal(undefined);
  return saved!;
}

/** originalName -> values of every weight, so two builds (whose variable names get uniquified) compare. */
function weightValues(model: tf.LayersModel): Map<string, number[]> {
  const out = new Map<string, number[]>();
  model.weights.forEach((w) => out.set(w.originalName, Array.from(w.read().dataSync())));
  return out;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

/** Softmax outputs (rows summing to 1) of each entry, by output index. */
const SOFTMAX_OUTPUTS: Record<ZooName, number[]> = {
  'shogi-resnet': [0],
  mlp: [0],
  'depthwise-cnn': [0],
  'attention-block': [],
  'custom-layer': [0],
};

describe('zoo: registry', () => {
  it('lists every entry once, keyed by its own name, with a description and shapes', () => {
    const names = listZoo().map((e) => e.name);
    expect(names).to.have.members(['shogi-resnet', 'mlp', 'depthwise-cnn', 'attention-block', 'custom-layer']);
    expect(names).to.have.length(5);
    for (const [key, entry] of Object.entries(ZOO)) {
      expect(entry.name).to.equal(key);
      expect(entry.description.length).to.be.greaterThan(10);
      expect(entry.inputShape.every((d) => Number.isInteger(d) && d > 0)).to.equal(true);
      expect(entry.outputShapes.length).to.be.greaterThan(0);
    }
    expect(ZOO.mlp.inputShape).to.deep.equal([784]);
    expect(ZOO['depthwise-cnn'].inputShape).to.deep.equal([32, 32, 3]);
    expect(ZOO['attention-block'].inputShape).to.deep.equal([16, 32]);
    expect(ZOO['shogi-resnet'].inputShape).to.deep.equal([9, 9, 46]);
  });

  it('zooSampleInputs is seeded (seed 0 included), shaped and disposable', () => {
    const before = tf.memory().numTensors;
    const a = zooSampleInputs(ZOO.mlp, 2, 0);
    const b = zooSampleInputs(ZOO.mlp, 2, 0);
    const c = zooSampleInputs(ZOO.mlp, 2, 1);
    expect(a).to.have.length(1);
    expect(a[0]!.shape).to.deep.equal([2, 784]);
    expect(Array.from(a[0]!.dataSync())).to.deep.equal(Array.from(b[0]!.dataSync()));
    expect(maxAbsDiff(a[0]!, c[0]!)).to.be.greaterThan(0.1);
    tf.dispose([...a, ...b, ...c]);
    expect(tf.memory().numTensors).to.equal(before);
  });

  it('seedCounter never yields 0 (tf.js treats seed 0 as unseeded)', () => {
    const s = seedCounter(-2);
    expect([s.next(), s.next(), s.next(), s.next()]).to.deep.equal([-2, -1, 1, 2]);
  });

  it('registers the custom layer classes for deserialisation', () => {
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    expect(map['KilnSelfAttention']?.[0]).to.equal(SelfAttention);
    expect(map['KilnScaledSwish']?.[0]).to.equal(ScaledSwish);
  });
});

for (const entry of listZoo()) {
  for (const small of [true, false]) {
    describe(`zoo: ${entry.name} (${small ? 'small' : 'full'})`, () => {
      const build = () => entry.build({ small });

      it('predicts at batch 1 and 3 with the expected shapes, finite values and batch-independent rows', () => {
        const model = build();
        expect(model.inputs).to.have.length(1);
        expect(model.inputs[0]!.shape).to.deep.equal([null, ...entry.inputShape]);
        const [x3] = zooSampleInputs(entry, 3, 5) as [tf.Tensor];
        const x1 = x3.slice(0, 1);
        const y3 = asArray(model.predict(x3));
        const y1 = asArray(model.predict(x1));
        expect(y3.map((t) => t.shape)).to.deep.equal(entry.outputShapes.map((s) => [3, ...s]));
        expect(y1.map((t) => t.shape)).to.deep.equal(entry.outputShapes.map((s) => [1, ...s]));
        y3.forEach((t) => expect(Array.from(t.dataSync()).every(Number.isFinite)).to.equal(true));
        // Row 0 of the batch-3 result is the batch-1 result: samples don't interact.
        y1.forEach((t, i) => expect(maxAbsDiff(t, y3[i]!.slice(0, 1))).to.be.below(1e-4));
        // Different samples give different outputs (the model is not constant).
        y3.forEach((t) => expect(maxAbsDiff(t.slice(0, 1), t.slice(1, 1))).to.be.greaterThan(0));
        for (const i of SOFTMAX_OUTPUTS[entry.name]) {
          Array.from(y3[i]!.sum(-1).dataSync()).forEach((s) => expect(s).to.be.closeTo(1, 1e-5));
        }
        tf.dispose([x3, x1, ...y3, ...y1]);
        model.dispose();
      });

      it('builds identical weights twice, and different weights with another seed', () => {
        const a = build();
        const b = build();
        const c = entry.build({ small, seed: 1234 });
        const wa = weightValues(a);
        const wb = weightValues(b);
        expect([...wa.keys()]).to.deep.equal([...wb.keys()]);
        expect(wa.size).to.be.greaterThan(0);
        for (const [name, values] of wa) expect(values, name).to.deep.equal(wb.get(name));
        // Every trainable kernel differs under another seed (zero-initialised biases may not).
        const wc = weightValues(c);
        const kernels = [...wa.keys()].filter((n) => /kernel|query|key|value|output|beta/.test(n.split('/').pop()!));
        expect(kernels.length).to.be.greaterThan(0);
        for (const name of kernels) expect(wc.get(name), name).to.not.deep.equal(wa.get(name));
        a.dispose();
        b.dispose();
        c.dispose();
      });

      it('saves to memory and loads back with the same topology and predictions', async () => {
        const model = build();
        const artifacts = await saveToMemory(model);
        expect(artifacts.weightSpecs!.length).to.equal(model.weights.length);
        const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
        expect(loaded.layers.map((l) => l.getClassName())).to.deep.equal(model.layers.map((l) => l.getClassName()));
        expect(loaded.layers.map((l) => l.name)).to.deep.equal(model.layers.map((l) => l.name));
        expect(loaded.countParams()).to.equal(model.countParams());
        const [x] = zooSampleInputs(entry, 3, 9) as [tf.Tensor];
        comparePredictions(model, loaded, x, (a, b) => {
          const y = asArray(a);
          const y2 = asArray(b);
          expect(y2.map((t) => t.shape)).to.deep.equal(y.map((t) => t.shape));
          y.forEach((t, i) => expect(maxAbsDiff(t, y2[i]!)).to.be.below(1e-6));
        });
        tf.dispose(x);
        model.dispose();
        loaded.dispose();
      });

      it('leaks no tensors over build, predict, save, load and dispose', async () => {
        const before = tf.memory().numTensors;
        const model = build();
        const [x] = zooSampleInputs(entry, 2, 3) as [tf.Tensor];
        const y = asArray(model.predict(x));
        const loaded = await tf.loadLayersModel(tf.io.fromMemory(await saveToMemory(model)));
        const y2 = asArray(loaded.predict(x));
        expect(tf.memory().numTensors).to.be.greaterThan(before);
        tf.dispose([x, ...y, ...y2]);
        model.dispose();
        loaded.dispose();
        expect(tf.memory().numTensors).to.equal(before);
      });
    });
  }
}

describe('zoo: model specifics', () => {
  it('MLP is Dense 784-512-512-10 (relu, relu, softmax) and honours `hidden`', () => {
    const model = buildMlp();
    const dense = model.layers.filter((l) => l.getClassName() === 'Dense');
    expect(dense.map((l) => (l.getConfig() as { units: number }).units)).to.deep.equal([512, 512, 10]);
    expect(dense.map((l) => (l.getConfig() as { activation: string }).activation)).to.deep.equal(['relu', 'relu', 'softmax']);
    expect(dense.map((l) => l.name)).to.deep.equal(['hidden1', 'hidden2', 'probs']);
    model.dispose();
    const narrow = buildMlp({ hidden: [8, 4, 2] });
    expect(narrow.layers.filter((l) => l.getClassName() === 'Dense').map((l) => l.outputShape)).to.deep.equal([
      [null, 8],
      [null, 4],
      [null, 2],
      [null, 10],
    ]);
    narrow.dispose();
  });

  it('depthwise CNN has bias-free depthwise/pointwise/separable convs, each followed by seeded non-trivial BatchNorm', () => {
    const model = buildDepthwiseCnn();
    const classes = model.layers.map((l) => l.getClassName());
    expect(classes.filter((c) => c === 'DepthwiseConv2D')).to.have.length(3);
    expect(classes.filter((c) => c === 'SeparableConv2D')).to.have.length(1);
    expect(classes.filter((c) => c === 'BatchNormalization')).to.have.length(1 + 3 * 2 + 1);
    expect(classes).to.include.members(['GlobalAveragePooling2D', 'Dropout']);
    model.layers.forEach((layer, i) => {
      const c = layer.getClassName();
      if (c === 'Conv2D' || c === 'DepthwiseConv2D' || c === 'SeparableConv2D') {
        expect((layer.getConfig() as { useBias: boolean }).useBias, layer.name).to.equal(false);
        expect(model.layers[i + 1]!.getClassName(), `${layer.name} is followed by BN`).to.equal('BatchNormalization');
        expect((model.layers[i + 2]!.getConfig() as { activation: string }).activation).to.equal('relu6');
      }
      if (c === 'BatchNormalization') {
        const [gamma, beta, mean, variance] = layer.getWeights().map((w) => Array.from(w.dataSync()));
        expect(gamma!.some((g) => g !== 1) && gamma!.every((g) => g >= 0.8 && g <= 1.2), `${layer.name} gamma`).to.equal(true);
        expect(
          beta!.some((b) => b !== 0),
          `${layer.name} beta`,
        ).to.equal(true);
        expect(
          mean!.some((m) => m !== 0),
          `${layer.name} mean`,
        ).to.equal(true);
        expect(variance!.every((v) => v >= 0.8 && v <= 1.2) && variance!.some((v) => v !== 1), `${layer.name} variance`).to.equal(true);
      }
    });
    // Stride 2 stem, then blocks of stride 1, 2, 2: 32 -> 16 -> 16 -> 8 -> 4.
    expect(model.getLayer('block2_pw').outputShape).to.deep.equal([null, 4, 4, 128]);
    expect(model.getLayer('sep_conv').outputShape).to.deep.equal([null, 4, 4, 128]);
    expect(model.getLayer('stem_conv').outputShape).to.deep.equal([null, 16, 16, 16]);
    model.dispose();
  });

  it('attention block computes scaled dot-product attention and is permutation-equivariant over the sequence', () => {
    const model = buildAttentionBlock();
    const attn = model.getLayer('self_attention') as SelfAttention;
    expect(attn.getClassName()).to.equal('KilnSelfAttention');
    expect(attn.weights.map((w) => w.originalName)).to.deep.equal([
      'self_attention/query',
      'self_attention/key',
      'self_attention/value',
      'self_attention/output',
    ]);
    const [x] = zooSampleInputs(ZOO['attention-block'], 2, 4) as [tf.Tensor3D];
    // Reference: softmax(x Wq (x Wk)^T / sqrt(d)) x Wv Wo, written independently with einsum-free ops.
    const [wq, wk, wv, wo] = attn.getWeights() as tf.Tensor2D[];
    const expected = tf.tidy(() => {
      const rows = tf.unstack(x).map((xi) => {
        const q = (xi as tf.Tensor2D).matMul(wq!);
        const k = (xi as tf.Tensor2D).matMul(wk!);
        const v = (xi as tf.Tensor2D).matMul(wv!);
        return q
          .matMul(k.transpose())
          .mul(1 / Math.sqrt(32))
          .softmax()
          .matMul(v)
          .matMul(wo!);
      });
      return tf.stack(rows);
    });
    const actual = attn.apply(x) as tf.Tensor;
    expect(maxAbsDiff(actual, expected)).to.be.below(1e-5);
    // Reversing the tokens reverses the block's output (no positional encoding).
    const y = model.predict(x) as tf.Tensor;
    const xr = tf.reverse(x, 1);
    const yr = model.predict(xr) as tf.Tensor;
    const yrBack = tf.reverse(yr, 1);
    expect(maxAbsDiff(y, yrBack)).to.be.below(1e-5);
    expect(attn.computeOutputShape([null, 16, 32])).to.deep.equal([null, 16, 32]);
    expect(attn.getConfig()).to.include({ name: 'self_attention', keyDim: null });
    tf.dispose([x, expected, actual, y, xr, yr, yrBack]);
    model.dispose();
  });

  it('ScaledSwish computes x * sigmoid(beta * x) with a per-channel trainable beta', () => {
    const model = buildCustomLayerModel();
    const swish = model.getLayer('scaled_swish') as ScaledSwish;
    expect(swish.getClassName()).to.equal('KilnScaledSwish');
    expect(swish.trainableWeights.map((w) => w.shape)).to.deep.equal([[64]]);
    const beta = Array.from(swish.getWeights()[0]!.dataSync());
    expect(beta.every((b) => b >= 0.5 && b <= 1.5)).to.equal(true);
    const x = tf.tensor2d([Array.from({ length: 64 }, (_, i) => (i - 32) / 8)]);
    const y = swish.apply(x) as tf.Tensor;
    const got = Array.from(y.dataSync());
    const xs = Array.from(x.dataSync());
    got.forEach((v, i) => expect(v).to.be.closeTo(xs[i]! / (1 + Math.exp(-beta[i]! * xs[i]!)), 1e-5));
    expect(swish.getConfig()).to.include({ perChannel: true, name: 'scaled_swish' });
    tf.dispose([x, y]);
    model.dispose();

    const shared = new ScaledSwish({ perChannel: false, seed: 3 });
    const z = tf.ones([2, 5]);
    const out = shared.apply(z) as tf.Tensor;
    expect(shared.weights.map((w) => w.shape)).to.deep.equal([[1]]);
    expect(out.shape).to.deep.equal([2, 5]);
    tf.dispose([z, out]);
    shared.dispose();
  });
});
