import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { classesOf, configOf, countOf, rewriteAndVerify, seedBatchNorms, weightNamesOf } from './helpers.js';

type Sym = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: Sym | Sym[], kwargs?: Record<string, unknown>) => layer.apply(x, kwargs) as Sym;
const he = (seed: number) => tf.initializers.heNormal({ seed });
const biasInit = (seed: number) => tf.initializers.randomUniform({ minval: -0.3, maxval: 0.3, seed });

/** input -> body -> output, with BN statistics seeded. */
function build(shape: number[], body: (x: Sym) => Sym | Sym[], seed = 100): tf.LayersModel {
  const input = tf.input({ shape, name: 'x' });
  const model = tf.model({ inputs: input, outputs: body(input) });
  seedBatchNorms(model, seed);
  return model;
}

describe('layer-rewrite: fold-batchnorm', () => {
  it('Conv2D (no bias) + BN + relu becomes one Conv2D with a bias and relu', async () => {
    const model = build([8, 8, 3], (x) =>
      apply(
        tf.layers.activation({ activation: 'relu', name: 'relu' }),
        apply(
          tf.layers.batchNormalization({ name: 'bn' }),
          apply(
            tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: he(1), name: 'conv' }),
            x,
          ),
        ),
      ),
    );
    expect(classesOf(model)).to.deep.equal(['InputLayer', 'Conv2D', 'BatchNormalization', 'Activation']);
    const { model: out, report } = await rewriteAndVerify(model);
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Conv2D']);
      expect(configOf(out, 'conv')).to.include({ useBias: true, activation: 'relu' });
      expect(weightNamesOf(out)).to.deep.equal(['conv/bias', 'conv/kernel']);
      expect(out.getLayer('conv').getWeights()[1]!.shape).to.deep.equal([6]);
      expect(report.layersBefore).to.equal(4);
      expect(report.layersAfter).to.equal(2);
      expect(report.perRule['fold-batchnorm']).to.deep.equal({ matched: 1, applied: 1 });
      expect(report.perRule['merge-activation']).to.deep.equal({ matched: 1, applied: 1 });
      expect(report.applied).to.deep.equal([
        { rule: 'fold-batchnorm', layers: ['conv', 'bn'] },
        { rule: 'merge-activation', layers: ['conv', 'relu'] },
      ]);
      expect(report.skipped).to.deep.equal([]);
    } finally {
      out.dispose();
      model.dispose();
    }
  });

  it('Conv2D with a bias + BN folds into the existing bias', async () => {
    const model = build([7, 7, 4], (x) =>
      apply(
        tf.layers.batchNormalization({ name: 'bn' }),
        apply(
          tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, kernelInitializer: he(2), biasInitializer: biasInit(3), name: 'conv' }),
          x,
        ),
      ),
    );
    const { model: out, report } = await rewriteAndVerify(model);
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Conv2D']);
      expect(configOf(out, 'conv')).to.include({ useBias: true, activation: 'linear' });
      expect(weightNamesOf(out)).to.deep.equal(['conv/bias', 'conv/kernel']);
      expect(report.applied).to.deep.equal([{ rule: 'fold-batchnorm', layers: ['conv', 'bn'] }]);
    } finally {
      out.dispose();
      model.dispose();
    }
  });

  it('DepthwiseConv2D (depth multiplier 2) + BN + relu6 becomes one DepthwiseConv2D with relu6 (merged when relu6-as-clipped-relu is off)', async () => {
    const model = build([6, 6, 3], (x) =>
      apply(
        tf.layers.activation({ activation: 'relu6', name: 'act' }),
        apply(
          tf.layers.batchNormalization({ name: 'bn' }),
          apply(
            tf.layers.depthwiseConv2d({
              kernelSize: 3,
              depthMultiplier: 2,
              padding: 'same',
              useBias: false,
              depthwiseInitializer: he(4),
              name: 'dw',
            }),
            x,
          ),
        ),
      ),
    );
    const { model: out, report } = await rewriteAndVerify(model, { disabled: ['relu6-as-clipped-relu'] });
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'DepthwiseConv2D']);
      expect(configOf(out, 'dw')).to.include({ useBias: true, activation: 'relu6' });
      expect(weightNamesOf(out)).to.deep.equal(['dw/bias', 'dw/depthwise_kernel']);
      expect(out.getLayer('dw').getWeights()[1]!.shape).to.deep.equal([6]);
      expect(report.perRule['fold-batchnorm']).to.deep.equal({ matched: 1, applied: 1 });
      expect(report.perRule['merge-activation']).to.deep.equal({ matched: 1, applied: 1 });
    } finally {
      out.dispose();
      model.dispose();
    }
  });

  // depthMultiplier stays 1: tfjs-layers 4.22 does not save SeparableConv2D's depth_multiplier (see the rewrite-layers tests).
  it('SeparableConv2D + BN folds into the pointwise kernel and bias (depthwise kernel untouched)', async () => {
    const model = build([6, 6, 3], (x) =>
      apply(
        tf.layers.batchNormalization({ name: 'bn' }),
        apply(
          tf.layers.separableConv2d({
            filters: 4,
            kernelSize: 3,
            padding: 'same',
            depthwiseInitializer: he(5),
            pointwiseInitializer: he(6),
            biasInitializer: biasInit(7),
            name: 'sep',
          }),
          x,
        ),
      ),
    );
    const depthwiseBefore = Array.from(model.getLayer('sep').getWeights()[0]!.dataSync());
    const { model: out, report } = await rewriteAndVerify(model);
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'SeparableConv2D']);
      expect(weightNamesOf(out)).to.deep.equal(['sep/bias', 'sep/depthwise_kernel', 'sep/pointwise_kernel']);
      expect(Array.from(out.getLayer('sep').getWeights()[0]!.dataSync())).to.deep.equal(depthwiseBefore);
      expect(report.applied).to.deep.equal([{ rule: 'fold-batchnorm', layers: ['sep', 'bn'] }]);
    } finally {
      out.dispose();
      model.dispose();
    }
  });

  it('SeparableConv2D without a bias gets one', async () => {
    const model = build([5, 5, 2], (x) =>
      apply(
        tf.layers.batchNormalization({ name: 'bn' }),
        apply(
          tf.layers.separableConv2d({
            filters: 3,
            kernelSize: 3,
            useBias: false,
            depthwiseInitializer: he(8),
            pointwiseInitializer: he(9),
            name: 'sep',
          }),
          x,
        ),
      ),
    );
    const { model: out } = await rewriteAndVerify(model);
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'SeparableConv2D']);
      expect(configOf(out, 'sep')).to.include({ useBias: true });
      expect(weightNamesOf(out)).to.deep.equal(['sep/bias', 'sep/depthwise_kernel', 'sep/pointwise_kernel']);
    } finally {
      out.dispose();
      model.dispose();
    }
  });

  it('Dense + BN(axis -1) + tanh becomes one Dense with tanh', async () => {
    const model = build([10], (x) =>
      apply(
        tf.layers.activation({ activation: 'tanh', name: 'act' }),
        apply(
          tf.layers.batchNormalization({ axis: -1, name: 'bn' }),
          apply(tf.layers.dense({ units: 7, kernelInitializer: he(10), biasInitializer: biasInit(11), name: 'fc' }), x),
        ),
      ),
    );
    const { model: out, report } = await rewriteAndVerify(model);
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Dense']);
      expect(configOf(out, 'fc')).to.include({ useBias: true, activation: 'tanh' });
      expect(report.applied.map((a) => a.rule)).to.deep.equal(['fold-batchnorm', 'merge-activation']);
    } finally {
      out.dispose();
      model.dispose();
    }
  });

  it('BN with center and scale off (no gamma/beta) folds into a bias-free Dense on a rank-3 input, axis given as rank - 1', async () => {
    const model = build([4, 6], (x) =>
      apply(
        tf.layers.batchNormalization({ axis: 2, center: false, scale: false, name: 'bn' }),
        apply(tf.layers.dense({ units: 5, useBias: false, kernelInitializer: he(12), name: 'fc' }), x),
      ),
    );
    expect(weightNamesOf(model)).to.deep.equal(['bn/moving_mean', 'bn/moving_variance', 'fc/kernel']);
    const { model: out, report } = await rewriteAndVerify(model);
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Dense']);
      expect(weightNamesOf(out)).to.deep.equal(['fc/bias', 'fc/kernel']);
      expect(report.perRule['fold-batchnorm']).to.deep.equal({ matched: 1, applied: 1 });
    } finally {
      out.dispose();
      model.dispose();
    }
  });

  it('also folds into Conv1D, and a BN right after a folded BN folds too', async () => {
    const model = build([12, 3], (x) =>
      apply(
        tf.layers.batchNormalization({ name: 'bn2', epsilon: 0.01 }),
        apply(
          tf.layers.batchNormalization({ name: 'bn1' }),
          apply(tf.layers.conv1d({ filters: 4, kernelSize: 3, kernelInitializer: he(13), name: 'conv' }), x),
        ),
      ),
    );
    const { model: out, report } = await rewriteAndVerify(model);
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Conv1D']);
      expect(report.applied).to.deep.equal([
        { rule: 'fold-batchnorm', layers: ['conv', 'bn1'] },
        { rule: 'fold-batchnorm', layers: ['conv', 'bn2'] },
      ]);
    } finally {
      out.dispose();
      model.dispose();
    }
  });

  it('skips, with reasons, a BN on a non-last axis, after a non-linear or multi-consumer or unfoldable producer, or shared', async () => {
    const model = build([6, 6, 4], (x) => {
      // BN over axis 1 (rows), not channels.
      const a = apply(
        tf.layers.batchNormalization({ axis: 1, name: 'bn_rows' }),
        apply(tf.layers.conv2d({ filters: 4, kernelSize: 1, kernelInitializer: he(20), name: 'conv_a' }), x),
      );
      // Producer with relu already.
      const b = apply(
        tf.layers.batchNormalization({ name: 'bn_after_relu' }),
        apply(tf.layers.conv2d({ filters: 4, kernelSize: 1, activation: 'relu', kernelInitializer: he(21), name: 'conv_b' }), a),
      );
      // Producer output also read by an Add.
      const c = apply(tf.layers.conv2d({ filters: 4, kernelSize: 1, kernelInitializer: he(22), name: 'conv_c' }), b);
      const cBn = apply(tf.layers.batchNormalization({ name: 'bn_branch' }), c);
      const sum = apply(tf.layers.add({ name: 'add' }), [c, cBn]);
      // Producer is an Add.
      const d = apply(tf.layers.batchNormalization({ name: 'bn_after_add' }), sum);
      // One BN layer called twice.
      const shared = tf.layers.batchNormalization({ name: 'bn_shared' });
      const e1 = apply(shared, apply(tf.layers.conv2d({ filters: 4, kernelSize: 1, kernelInitializer: he(23), name: 'conv_e1' }), d));
      const e2 = apply(shared, apply(tf.layers.conv2d({ filters: 4, kernelSize: 1, kernelInitializer: he(24), name: 'conv_e2' }), d));
      return apply(tf.layers.add({ name: 'out' }), [e1, e2]);
    });
    const { model: out, report } = await rewriteAndVerify(model);
    try {
      expect(countOf(out, 'BatchNormalization')).to.equal(5);
      expect(report.perRule['fold-batchnorm']).to.deep.equal({ matched: 5, applied: 0 });
      const reasons = Object.fromEntries(
        report.skipped.filter((s) => s.rule === 'fold-batchnorm').map((s) => [s.layers[s.layers.length - 1], s.reason]),
      );
      expect(reasons.bn_rows).to.match(/axis 1 of a rank-4 input, not the last/);
      expect(reasons.bn_after_relu).to.match(/conv_b \(Conv2D\) has activation "relu"/);
      expect(reasons.bn_branch).to.match(/output of producer conv_c \(Conv2D\) is also read by add/);
      expect(reasons.bn_after_add).to.match(/producer add \(Add\) is not one of Dense, Conv1D, Conv2D/);
      expect(reasons.bn_shared).to.match(/shared layer \(called 2 times\)/);
    } finally {
      out.dispose();
      model.dispose();
    }
  });

  it('skips a BN called with training=true', async () => {
    const model = build([5], (x) =>
      apply(tf.layers.batchNormalization({ name: 'bn' }), apply(tf.layers.dense({ units: 3, kernelInitializer: he(30), name: 'fc' }), x), {
        training: true,
      }),
    );
    const { model: out, report } = await rewriteAndVerify(model);
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Dense', 'BatchNormalization']);
      expect(report.skipped).to.have.length(1);
      expect(report.skipped[0]!.reason).to.match(/training=true/);
    } finally {
      out.dispose();
      model.dispose();
    }
  });

  it('is not applied when disabled (and the activation then has no linear producer to merge into)', async () => {
    const model = build([6, 6, 2], (x) =>
      apply(
        tf.layers.activation({ activation: 'relu', name: 'relu' }),
        apply(
          tf.layers.batchNormalization({ name: 'bn' }),
          apply(tf.layers.conv2d({ filters: 3, kernelSize: 3, kernelInitializer: he(31), name: 'conv' }), x),
        ),
      ),
    );
    const { model: out, report } = await rewriteAndVerify(model, { disabled: ['fold-batchnorm'] });
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Conv2D', 'BatchNormalization', 'Activation']);
      expect(report.perRule['fold-batchnorm']).to.deep.equal({ matched: 0, applied: 0 });
      expect(report.applied).to.deep.equal([]);
      expect(report.skipped).to.deep.equal([
        {
          rule: 'merge-activation',
          layers: ['bn', 'relu'],
          reason: 'producer bn (BatchNormalization) has no output activation to merge into',
        },
      ]);
    } finally {
      out.dispose();
      model.dispose();
    }
  });
});
