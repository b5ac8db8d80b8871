import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { classesOf, configOf, rewriteAndVerify } from './helpers.js';

type Sym = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: Sym | Sym[]) => layer.apply(x) as Sym;
/** Large weights, so pre-activations fall well below 0 and above 6 and the clip really acts. */
const wide = (seed: number) => tf.initializers.randomUniform({ minval: -4, maxval: 4, seed });

function model(shape: number[], body: (x: Sym) => Sym | Sym[]): tf.LayersModel {
  const input = tf.input({ shape, name: 'x' });
  return tf.model({ inputs: input, outputs: body(input) });
}

/** Names of the kernels one predict runs (from tf.profile), with how often each ran. */
async function kernelsOf(m: tf.LayersModel, x: tf.Tensor): Promise<Map<string, number>> {
  const info = await tf.profile(() => m.predict(x) as tf.Tensor);
  const counts = new Map<string, number>();
  for (const k of info.kernels) counts.set(k.name, (counts.get(k.name) ?? 0) + 1);
  return counts;
}

describe('layer-rewrite: relu6-as-clipped-relu', () => {
  it("turns Activation('relu6') into a ReLU layer with maxValue 6 of the same name: no Minimum kernel, ClipByValue instead", async () => {
    const m = model([5, 5, 3], (x) =>
      apply(
        tf.layers.dense({ units: 2, kernelInitializer: wide(3), name: 'head' }),
        apply(
          tf.layers.activation({ activation: 'relu6', name: 'act' }),
          apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, kernelInitializer: wide(1), name: 'conv' }), x),
        ),
      ),
    );
    const x = tf.randomNormal([2, 5, 5, 3], 0, 2, 'float32', 5);
    const { model: out, report } = await rewriteAndVerify(m);
    try {
      const preActivation = tf.tidy(
        () => tf.model({ inputs: m.inputs, outputs: m.getLayer('conv').output as Sym }).predict(x) as tf.Tensor,
      );
      const [low, high] = [preActivation.min().dataSync()[0]!, preActivation.max().dataSync()[0]!];
      preActivation.dispose();
      expect(low, 'some pre-activations are negative').to.be.below(0);
      expect(high, 'some pre-activations are above 6').to.be.above(6);

      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Conv2D', 'ReLU', 'Dense']);
      expect(configOf(out, 'act')).to.include({ maxValue: 6 });
      expect(configOf(out, 'conv').activation).to.equal('linear');
      expect(report.applied).to.deep.equal([{ rule: 'relu6-as-clipped-relu', layers: ['act'] }]);
      expect(report.perRule['merge-activation']).to.deep.equal({ matched: 0, applied: 0 });

      const before = await kernelsOf(m, x);
      const after = await kernelsOf(out, x);
      expect(before.get('Minimum'), 'tfjs-layers relu6 runs a Minimum').to.equal(1);
      expect(after.has('Minimum'), 'no Minimum after the rewrite').to.equal(false);
      expect(after.get('ClipByValue')).to.equal(1);
    } finally {
      x.dispose();
      out.dispose();
      m.dispose();
    }
  });

  it('splits a Dense, Conv2D or DepthwiseConv2D with its own relu6 activation into the linear layer and a ReLU(maxValue 6) named <layer>_relu6', async () => {
    const m = model([6, 6, 3], (x) => {
      let y = apply(
        tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu6', kernelInitializer: wide(1), name: 'conv' }),
        x,
      );
      y = apply(tf.layers.depthwiseConv2d({ kernelSize: 3, activation: 'relu6', depthwiseInitializer: wide(2), name: 'dw' }), y);
      y = apply(tf.layers.flatten({ name: 'flat' }), y);
      y = apply(tf.layers.dense({ units: 5, activation: 'relu6', kernelInitializer: wide(3), name: 'fc' }), y);
      return apply(tf.layers.dense({ units: 2, kernelInitializer: wide(4), name: 'head' }), y);
    });
    const { model: out, report } = await rewriteAndVerify(m);
    try {
      expect(classesOf(out)).to.deep.equal([
        'InputLayer',
        'Conv2D',
        'ReLU',
        'DepthwiseConv2D',
        'ReLU',
        'Flatten',
        'Dense',
        'ReLU',
        'Dense',
      ]);
      for (const host of ['conv', 'dw', 'fc']) {
        expect(configOf(out, host).activation, host).to.equal('linear');
        expect(configOf(out, `${host}_relu6`), `${host}_relu6`).to.include({ maxValue: 6 });
      }
      expect(report.applied).to.deep.equal([
        { rule: 'relu6-as-clipped-relu', layers: ['conv', 'conv_relu6'] },
        { rule: 'relu6-as-clipped-relu', layers: ['dw', 'dw_relu6'] },
        { rule: 'relu6-as-clipped-relu', layers: ['fc', 'fc_relu6'] },
      ]);
    } finally {
      out.dispose();
      m.dispose();
    }
  });

  it('picks a free name when <layer>_relu6 is taken, and a layer read twice feeds both readers through the one ReLU', async () => {
    const m = model([4], (x) => {
      const fc = apply(tf.layers.dense({ units: 3, activation: 'relu6', kernelInitializer: wide(1), name: 'fc' }), x);
      const taken = apply(tf.layers.dense({ units: 3, kernelInitializer: wide(2), name: 'fc_relu6' }), fc);
      const other = apply(tf.layers.dense({ units: 3, kernelInitializer: wide(3), name: 'other' }), fc);
      return apply(tf.layers.add({ name: 'sum' }), [taken, other]);
    });
    const { model: out, report } = await rewriteAndVerify(m);
    try {
      expect(report.applied).to.deep.equal([{ rule: 'relu6-as-clipped-relu', layers: ['fc', 'fc_relu6_1'] }]);
      expect(out.getLayer('fc_relu6_1').getClassName()).to.equal('ReLU');
      for (const reader of ['fc_relu6', 'other']) {
        expect(
          out.getLayer(reader).inboundNodes[0]!.inboundLayers.map((l) => l.name),
          reader,
        ).to.deep.equal(['fc_relu6_1']);
      }
    } finally {
      out.dispose();
      m.dispose();
    }
  });

  it('leaves a relu6 layer that is a model output or is shared, with the reason', async () => {
    const shared = tf.layers.dense({ units: 3, activation: 'relu6', kernelInitializer: wide(1), name: 'shared' });
    const m = model([3], (x) => {
      const twice = apply(shared, apply(shared, x));
      const last = apply(tf.layers.dense({ units: 2, activation: 'relu6', kernelInitializer: wide(2), name: 'last' }), twice);
      return last;
    });
    const { model: out, report } = await rewriteAndVerify(m);
    try {
      expect(classesOf(out)).to.deep.equal(classesOf(m));
      expect(report.applied).to.deep.equal([]);
      expect(report.skipped).to.deep.equal([
        { rule: 'relu6-as-clipped-relu', layers: ['shared'], reason: 'shared (Dense) is a shared layer (called 2 times)' },
        {
          rule: 'relu6-as-clipped-relu',
          layers: ['last'],
          reason: 'last (Dense) is a model output; a ReLU layer after it would rename the output',
        },
      ]);
    } finally {
      out.dispose();
      m.dispose();
    }
  });
});
