import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { ScaledSwish } from '../../../../src/zoo/index.js';
import { classesOf, configOf, rewriteAndVerify } from './helpers.js';

type Sym = tf.SymbolicTensor;
type ActivationName = Parameters<typeof tf.layers.activation>[0]['activation'];
const apply = (layer: tf.layers.Layer, x: Sym | Sym[]) => layer.apply(x) as Sym;
const glorot = (seed: number) => tf.initializers.glorotUniform({ seed });
const biasInit = (seed: number) => tf.initializers.randomUniform({ minval: -0.3, maxval: 0.3, seed });

/**
 * Every activation tfjs-layers 4.22 registers, by its serialised name (the class
 * names in tfjs-layers/src/activations.ts). `logSoftmax` is registered but missing
 * from the ActivationIdentifier type. `gelu_new` is registered too but no model using it
 * loads back in tfjs 4.22 (see the rewrite-layers tests).
 */
const ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'elu',
  'selu',
  'sigmoid',
  'hardSigmoid',
  'tanh',
  'softplus',
  'softsign',
  'softmax',
  'logSoftmax',
  'swish',
  'mish',
  'gelu',
] as const;

function model(shape: number[], body: (x: Sym) => Sym | Sym[]): tf.LayersModel {
  const input = tf.input({ shape, name: 'x' });
  return tf.model({ inputs: input, outputs: body(input) });
}

describe('layer-rewrite: merge-activation', () => {
  for (const activation of ACTIVATIONS) {
    it(`merges Activation('${activation}') into the Dense before it`, async () => {
      const m = model([6], (x) =>
        apply(
          tf.layers.dense({ units: 2, kernelInitializer: glorot(2), name: 'head' }),
          apply(
            tf.layers.activation({ activation: activation as ActivationName, name: 'act' }),
            apply(tf.layers.dense({ units: 5, kernelInitializer: glorot(1), biasInitializer: biasInit(3), name: 'fc' }), x),
          ),
        ),
      );
      // relu6 normally becomes a ReLU layer first (relu6-as-clipped-relu); merging it is still tested with that rule off.
      const { model: out, report } = await rewriteAndVerify(m, { disabled: ['relu6-as-clipped-relu'] });
      try {
        expect(classesOf(out)).to.deep.equal(['InputLayer', 'Dense', 'Dense']);
        expect(configOf(out, 'fc').activation).to.equal(activation);
        expect(report.applied).to.deep.equal([{ rule: 'merge-activation', layers: ['fc', 'act'] }]);
      } finally {
        out.dispose();
        m.dispose();
      }
    });
  }

  it('merges into Conv2D, Conv1D, DepthwiseConv2D, SeparableConv2D and Conv2DTranspose', async () => {
    const conv2d = model([6, 6, 3], (x) => {
      let y = apply(
        tf.layers.conv2d({
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          kernelInitializer: glorot(1),
          biasInitializer: biasInit(2),
          name: 'c2',
        }),
        x,
      );
      y = apply(tf.layers.activation({ activation: 'elu', name: 'a1' }), y);
      y = apply(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthwiseInitializer: glorot(3), name: 'dw' }), y);
      y = apply(tf.layers.activation({ activation: 'sigmoid', name: 'a2' }), y);
      y = apply(
        tf.layers.separableConv2d({
          filters: 3,
          kernelSize: 3,
          padding: 'same',
          depthwiseInitializer: glorot(4),
          pointwiseInitializer: glorot(5),
          name: 'sep',
        }),
        y,
      );
      y = apply(tf.layers.activation({ activation: 'softmax', name: 'a3' }), y);
      y = apply(
        tf.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: glorot(6), name: 'up' }),
        y,
      );
      return apply(tf.layers.activation({ activation: 'swish', name: 'a4' }), y);
    });
    const conv1d = model([10, 3], (x) =>
      apply(
        tf.layers.activation({ activation: 'relu', name: 'a' }),
        apply(tf.layers.conv1d({ filters: 4, kernelSize: 3, kernelInitializer: glorot(7), name: 'c1' }), x),
      ),
    );
    for (const [m, expected, hosts] of [
      [
        conv2d,
        ['InputLayer', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv2DTranspose'],
        { c2: 'elu', dw: 'sigmoid', sep: 'softmax', up: 'swish' },
      ],
      [conv1d, ['InputLayer', 'Conv1D'], { c1: 'relu' }],
    ] as const) {
      const { model: out, report } = await rewriteAndVerify(m);
      try {
        expect(classesOf(out)).to.deep.equal(expected);
        for (const [name, act] of Object.entries(hosts)) expect(configOf(out, name).activation, name).to.equal(act);
        expect(report.perRule['merge-activation']).to.deep.equal({
          matched: Object.keys(hosts).length,
          applied: Object.keys(hosts).length,
        });
      } finally {
        out.dispose();
        m.dispose();
      }
    }
  });

  it('merges a final softmax Activation that is the model output; the output is then the Dense', async () => {
    const m = model([8], (x) =>
      apply(
        tf.layers.activation({ activation: 'softmax', name: 'probs' }),
        apply(tf.layers.dense({ units: 4, kernelInitializer: glorot(9), name: 'logits' }), x),
      ),
    );
    const { model: out } = await rewriteAndVerify(m);
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Dense']);
      expect(out.outputs[0]!.sourceLayer.name).to.equal('logits');
      expect(configOf(out, 'logits').activation).to.equal('softmax');
    } finally {
      out.dispose();
      m.dispose();
    }
  });

  it('skips, with reasons, a producer that already has an activation, one read elsewhere, an Add, a custom layer and a recurrent layer', async () => {
    const m = model([5, 4], (x) => {
      const a = apply(
        tf.layers.activation({ activation: 'sigmoid', name: 'act_after_relu' }),
        apply(tf.layers.dense({ units: 4, activation: 'relu', kernelInitializer: glorot(1), name: 'fc_relu' }), x),
      );
      const b = apply(tf.layers.dense({ units: 4, kernelInitializer: glorot(2), name: 'fc_shared_out' }), a);
      const bAct = apply(tf.layers.activation({ activation: 'tanh', name: 'act_branch' }), b);
      const sum = apply(tf.layers.add({ name: 'add' }), [b, bAct]);
      const c = apply(tf.layers.activation({ activation: 'relu', name: 'act_after_add' }), sum);
      const d = apply(
        tf.layers.activation({ activation: 'elu', name: 'act_after_custom' }),
        apply(new ScaledSwish({ seed: 3, name: 'custom' }), c),
      );
      const e = apply(
        tf.layers.simpleRNN({
          units: 3,
          activation: 'linear',
          returnSequences: true,
          kernelInitializer: glorot(4),
          recurrentInitializer: glorot(5),
          name: 'rnn',
        }),
        d,
      );
      return apply(tf.layers.activation({ activation: 'tanh', name: 'act_after_rnn' }), e);
    });
    const { model: out, report } = await rewriteAndVerify(m);
    try {
      expect(report.perRule['merge-activation']).to.deep.equal({ matched: 5, applied: 0 });
      const reasons = Object.fromEntries(report.skipped.map((s) => [s.layers[s.layers.length - 1], s.reason]));
      expect(reasons).to.deep.equal({
        act_after_relu: 'producer fc_relu (Dense) already has activation "relu"',
        act_branch: 'output of producer fc_shared_out (Dense) is also read by add',
        act_after_add: 'producer add (Add) has no output activation to merge into',
        act_after_custom: 'producer custom (KilnScaledSwish) has no output activation to merge into',
        act_after_rnn: 'producer rnn (SimpleRNN) has no output activation to merge into',
      });
      expect(classesOf(out)).to.deep.equal(classesOf(m));
    } finally {
      out.dispose();
      m.dispose();
    }
  });

  it('is not applied when disabled', async () => {
    const m = model([6], (x) =>
      apply(
        tf.layers.activation({ activation: 'relu', name: 'act' }),
        apply(tf.layers.dense({ units: 3, kernelInitializer: glorot(1), name: 'fc' }), x),
      ),
    );
    const { model: out, report } = await rewriteAndVerify(m, { disabled: ['merge-activation'] });
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Dense', 'Activation']);
      expect(configOf(out, 'fc').activation).to.equal('linear');
      expect(report.perRule['merge-activation']).to.deep.equal({ matched: 0, applied: 0 });
      expect(report.applied).to.deep.equal([]);
    } finally {
      out.dispose();
      m.dispose();
    }
  });
});
