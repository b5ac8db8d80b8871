import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { LAYER_REWRITE_RULE_NAMES, rewriteLayers, SerializationGapError } from '../../../../src/plugins/op-fusion/layer-rewrite/index.js';
import { expectRejects } from '../../../helpers/expect-rejects.js';
import { classesOf, configOf, predictValues, randomInputs, rewriteAndVerify, seedBatchNorms, weightNamesOf } from './helpers.js';

type Sym = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: Sym | Sym[]) => layer.apply(x) as Sym;
const he = (seed: number) => tf.initializers.heNormal({ seed });

/** conv-BN-relu stem, a residual block (conv-BN-relu-conv-BN, Add, relu), dropout, dense head. */
function residualModel(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3], name: 'image' });
  const cbr = (x: Sym, p: string, seed: number, relu = true) => {
    const y = apply(
      tf.layers.batchNormalization({ name: `${p}_bn` }),
      apply(
        tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: he(seed), name: `${p}_conv` }),
        x,
      ),
    );
    return relu ? apply(tf.layers.activation({ activation: 'relu', name: `${p}_relu` }), y) : y;
  };
  const stem = cbr(input, 'stem', 1);
  const z = cbr(cbr(stem, 'b1', 2), 'b2', 3, false);
  const res = apply(tf.layers.activation({ activation: 'relu', name: 'res_relu' }), apply(tf.layers.add({ name: 'res_add' }), [stem, z]));
  const pooled = apply(tf.layers.dropout({ rate: 0.25, name: 'drop' }), apply(tf.layers.globalAveragePooling2d({ name: 'gap' }), res));
  const out = apply(tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: he(4), name: 'probs' }), pooled);
  const model = tf.model({ inputs: input, outputs: out, name: 'residual' });
  seedBatchNorms(model, 300);
  return model;
}

describe('layer-rewrite: rewriteLayers', () => {
  it('rewrites a functional model with a residual Add; the relu after the Add stays', async () => {
    const model = residualModel();
    const { model: out, report } = await rewriteAndVerify(model);
    try {
      expect(classesOf(model)).to.have.length(14);
      expect(classesOf(out)).to.deep.equal([
        'InputLayer',
        'Conv2D',
        'Conv2D',
        'Conv2D',
        'Add',
        'Activation',
        'GlobalAveragePooling2D',
        'Dense',
      ]);
      expect(report).to.deep.include({ layersBefore: 14, layersAfter: 8 });
      expect(report.perRule).to.deep.equal({
        'drop-inference-noops': { matched: 1, applied: 1 },
        'fold-batchnorm': { matched: 3, applied: 3 },
        'relu6-as-clipped-relu': { matched: 0, applied: 0 },
        'merge-activation': { matched: 3, applied: 2 },
      });
      expect(report.skipped).to.deep.equal([
        {
          rule: 'merge-activation',
          layers: ['res_add', 'res_relu'],
          reason: 'producer res_add (Add) has no output activation to merge into',
        },
      ]);
      expect(configOf(out, 'stem_conv').activation).to.equal('relu');
      expect(configOf(out, 'b1_conv').activation).to.equal('relu');
      expect(configOf(out, 'b2_conv')).to.include({ activation: 'linear', useBias: true });
      expect(weightNamesOf(out)).to.deep.equal([
        'b1_conv/bias',
        'b1_conv/kernel',
        'b2_conv/bias',
        'b2_conv/kernel',
        'probs/bias',
        'probs/kernel',
        'stem_conv/bias',
        'stem_conv/kernel',
      ]);
    } finally {
      out.dispose();
      model.dispose();
    }
  });

  it('rewrites a Sequential model into a functional one with the same input name', async () => {
    const model = tf.sequential({ name: 'seq' });
    model.add(
      tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 4, kernelSize: 3, useBias: false, kernelInitializer: he(1), name: 'conv' }),
    );
    model.add(tf.layers.batchNormalization({ name: 'bn' }));
    model.add(tf.layers.activation({ activation: 'relu6', name: 'act' }));
    model.add(tf.layers.dropout({ rate: 0.5, name: 'drop' }));
    model.add(tf.layers.flatten({ name: 'flat' }));
    model.add(tf.layers.dense({ units: 3, kernelInitializer: he(2), name: 'fc' }));
    model.add(tf.layers.batchNormalization({ name: 'fc_bn', scale: false }));
    model.add(tf.layers.activation({ activation: 'softmax', name: 'probs' }));
    seedBatchNorms(model, 400);
    const { model: out, report } = await rewriteAndVerify(model);
    try {
      expect(out).to.not.be.instanceOf(tf.Sequential);
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Conv2D', 'ReLU', 'Flatten', 'Dense']);
      expect(out.inputs[0]!.sourceLayer.name).to.equal(model.inputs[0]!.sourceLayer.name);
      expect(configOf(out, 'conv')).to.include({ activation: 'linear', useBias: true });
      expect(configOf(out, 'act')).to.include({ maxValue: 6 });
      expect(configOf(out, 'fc')).to.include({ activation: 'softmax', useBias: true });
      // The Sequential's 8 layers plus its implicit InputLayer.
      expect(report).to.deep.include({ layersBefore: 9, layersAfter: 5 });
      expect(report.applied).to.deep.equal([
        { rule: 'drop-inference-noops', layers: ['drop'] },
        { rule: 'fold-batchnorm', layers: ['conv', 'bn'] },
        { rule: 'fold-batchnorm', layers: ['fc', 'fc_bn'] },
        { rule: 'relu6-as-clipped-relu', layers: ['act'] },
        { rule: 'merge-activation', layers: ['fc', 'probs'] },
      ]);
    } finally {
      out.dispose();
      model.dispose();
    }
  });

  it('rewrites a Sequential that starts with an explicit InputLayer', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.inputLayer({ inputShape: [5], name: 'features' }),
        tf.layers.dense({ units: 4, kernelInitializer: he(3), name: 'fc' }),
        tf.layers.batchNormalization({ name: 'bn' }),
        tf.layers.activation({ activation: 'elu', name: 'act' }),
      ],
    });
    seedBatchNorms(model, 500);
    const { model: out } = await rewriteAndVerify(model);
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Dense']);
      expect(out.inputs[0]!.sourceLayer.name).to.equal('features');
    } finally {
      out.dispose();
      model.dispose();
    }
  });

  it('passes a nested model through untouched and does not fold a BN that follows it', async () => {
    const inner = tf.sequential({
      name: 'inner',
      layers: [
        tf.layers.dense({ inputShape: [6], units: 4, kernelInitializer: he(5), name: 'inner_fc' }),
        tf.layers.batchNormalization({ name: 'inner_bn' }),
      ],
    });
    seedBatchNorms(inner, 600);
    const input = tf.input({ shape: [6], name: 'x' });
    const y = apply(tf.layers.batchNormalization({ name: 'outer_bn' }), apply(inner, input));
    const model = tf.model({ inputs: input, outputs: apply(tf.layers.dropout({ rate: 0.1, name: 'drop' }), y) });
    seedBatchNorms(model, 700);
    const { model: out, report } = await rewriteAndVerify(model);
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Sequential', 'BatchNormalization']);
      expect(report.skipped).to.deep.equal([
        { rule: 'fold-batchnorm', layers: ['inner', 'outer_bn'], reason: 'producer inner (Sequential) is a nested model' },
      ]);
      expect(weightNamesOf(out)).to.deep.equal(weightNamesOf(model));
    } finally {
      out.dispose();
      model.dispose();
    }
  });

  it('with every rule disabled returns an equal copy; a rewritten model rewrites to itself', async () => {
    const model = residualModel();
    const none = await rewriteAndVerify(model, { disabled: [...LAYER_REWRITE_RULE_NAMES] });
    try {
      expect(classesOf(none.model)).to.deep.equal(classesOf(model));
      expect(none.report.applied).to.deep.equal([]);
      expect(none.report.skipped).to.deep.equal([]);
      expect(Object.values(none.report.perRule)).to.deep.equal(LAYER_REWRITE_RULE_NAMES.map(() => ({ matched: 0, applied: 0 })));
      expect(LAYER_REWRITE_RULE_NAMES).to.have.length(4);
      expect(none.report.layersBefore).to.equal(none.report.layersAfter);
    } finally {
      none.model.dispose();
    }

    const once = await rewriteLayers(model);
    try {
      const twice = await rewriteAndVerify(once.model);
      try {
        expect(twice.report.applied).to.deep.equal([]);
        expect(classesOf(twice.model)).to.deep.equal(classesOf(once.model));
      } finally {
        twice.model.dispose();
      }
    } finally {
      once.model.dispose();
      model.dispose();
    }
  });

  it('ignores names in disabled that are not layer rules (graph pattern names share the list)', async () => {
    const model = residualModel();
    const { model: out, report } = await rewriteAndVerify(model, { disabled: ['fused-activation', 'merge-activation'] });
    try {
      expect(report.perRule['fold-batchnorm']).to.deep.equal({ matched: 3, applied: 3 });
      expect(report.perRule['merge-activation']).to.deep.equal({ matched: 0, applied: 0 });
      expect(Object.keys(report.perRule)).to.deep.equal([...LAYER_REWRITE_RULE_NAMES]);
    } finally {
      out.dispose();
      model.dispose();
    }
  });

  it('refuses, naming the layers, models tfjs 4.22 cannot rebuild from their own saved artifacts', async () => {
    const input = tf.input({ shape: [6, 6, 2], name: 'x' });
    const sep = apply(tf.layers.separableConv2d({ filters: 3, kernelSize: 3, depthMultiplier: 2, name: 'sep' }), input);
    const gelu = apply(tf.layers.activation({ activation: 'gelu_new', name: 'act' }), sep);
    const model = tf.model({ inputs: input, outputs: gelu, name: 'gappy' });
    const before = tf.memory().numTensors;
    try {
      const error = await expectRejects(
        rewriteLayers(model),
        /Cannot rewrite model "gappy": it does not survive a tfjs-layers save\/load round trip/,
      );
      expect(error).to.be.instanceOf(SerializationGapError);
      expect((error as SerializationGapError).gaps).to.deep.equal([
        'sep (SeparableConv2D) has depth multiplier 2, which tfjs-layers does not save (it reloads with 1)',
        'act (Activation) uses activation "gelu_new", which tfjs-layers cannot load back (it looks the name up camel-cased)',
      ]);
      expect(tf.memory().numTensors).to.equal(before);
    } finally {
      model.dispose();
    }
  });

  it('leaks no tensors, and the source keeps working after the result is disposed', async () => {
    const model = residualModel();
    const sequential = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [3], units: 2, name: 'fc' }), tf.layers.batchNormalization({ name: 'bn' })],
    });
    const x = randomInputs(model, 2, 9);
    const expected = predictValues(model, x);
    const before = tf.memory().numTensors;
    for (const source of [model, sequential]) {
      const { model: out } = await rewriteLayers(source);
      out.dispose();
    }
    expect(tf.memory().numTensors).to.equal(before);
    expect(predictValues(model, x)).to.deep.equal(expected);
    tf.dispose(x);
    model.dispose();
    sequential.dispose();
  });
});
