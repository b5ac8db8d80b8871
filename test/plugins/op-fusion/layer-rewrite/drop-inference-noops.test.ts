import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { classesOf, rewriteAndVerify } from './helpers.js';

type Sym = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: Sym | Sym[], kwargs?: Record<string, unknown>) => layer.apply(x, kwargs) as Sym;
const glorot = (seed: number) => tf.initializers.glorotUniform({ seed });

function model(shape: number[], body: (x: Sym) => Sym | Sym[]): tf.LayersModel {
  const input = tf.input({ shape, name: 'x' });
  return tf.model({ inputs: input, outputs: body(input) });
}

describe('layer-rewrite: drop-inference-noops', () => {
  it('removes Dropout, GaussianNoise, GaussianDropout and AlphaDropout in the middle of a model', async () => {
    const m = model([8], (x) => {
      let y = apply(tf.layers.dense({ units: 6, activation: 'relu', kernelInitializer: glorot(1), name: 'fc1' }), x);
      y = apply(tf.layers.dropout({ rate: 0.5, seed: 1, name: 'drop' }), y);
      y = apply(tf.layers.gaussianNoise({ stddev: 0.3, name: 'noise' }), y);
      y = apply(tf.layers.dense({ units: 6, activation: 'selu', kernelInitializer: glorot(2), name: 'fc2' }), y);
      y = apply(tf.layers.gaussianDropout({ rate: 0.4, name: 'gdrop' }), y);
      y = apply(tf.layers.alphaDropout({ rate: 0.2, name: 'adrop' }), y);
      return apply(tf.layers.dense({ units: 3, kernelInitializer: glorot(3), name: 'out' }), y);
    });
    expect(classesOf(m)).to.deep.equal([
      'InputLayer',
      'Dense',
      'Dropout',
      'GaussianNoise',
      'Dense',
      'GaussianDropout',
      'AlphaDropout',
      'Dense',
    ]);
    const { model: out, report } = await rewriteAndVerify(m);
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Dense', 'Dense', 'Dense']);
      expect(report.perRule['drop-inference-noops']).to.deep.equal({ matched: 4, applied: 4 });
      expect(report.applied.map((a) => a.layers)).to.deep.equal([['drop'], ['noise'], ['gdrop'], ['adrop']]);
      expect(report.layersBefore - report.layersAfter).to.equal(4);
    } finally {
      out.dispose();
      m.dispose();
    }
  });

  // tfjs-layers 4.22 has SpatialDropout1D only (no SpatialDropout2D/3D classes).
  it('removes SpatialDropout1D between Conv1D layers', async () => {
    const m = model([12, 3], (x) =>
      apply(
        tf.layers.conv1d({ filters: 2, kernelSize: 3, kernelInitializer: glorot(5), name: 'c2' }),
        apply(
          tf.layers.spatialDropout1d({ rate: 0.5, name: 'sdrop' }),
          apply(tf.layers.conv1d({ filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: glorot(4), name: 'c1' }), x),
        ),
      ),
    );
    const { model: out, report } = await rewriteAndVerify(m);
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Conv1D', 'Conv1D']);
      expect(report.applied).to.deep.equal([{ rule: 'drop-inference-noops', layers: ['sdrop'] }]);
    } finally {
      out.dispose();
      m.dispose();
    }
  });

  it('removes a Dropout that is a model output and one that feeds two layers', async () => {
    const m = model([6], (x) => {
      const h = apply(tf.layers.dense({ units: 4, kernelInitializer: glorot(6), name: 'fc' }), x);
      const d = apply(tf.layers.dropout({ rate: 0.3, name: 'fan_out_drop' }), h);
      const a = apply(tf.layers.dense({ units: 2, kernelInitializer: glorot(7), name: 'a' }), d);
      const b = apply(tf.layers.dense({ units: 2, kernelInitializer: glorot(8), name: 'b' }), d);
      return [apply(tf.layers.dropout({ rate: 0.3, name: 'out_drop' }), apply(tf.layers.add({ name: 'sum' }), [a, b])), b];
    });
    const { model: out, report } = await rewriteAndVerify(m);
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Dense', 'Dense', 'Dense', 'Add']);
      expect(out.outputs.map((o) => o.sourceLayer.name)).to.deep.equal(['sum', 'b']);
      expect(report.perRule['drop-inference-noops']).to.deep.equal({ matched: 2, applied: 2 });
    } finally {
      out.dispose();
      m.dispose();
    }
  });

  it('skips a Dropout called with training=true (Monte-Carlo dropout) and one whose removal would duplicate a model output', async () => {
    const m = model([6], (x) => {
      const h = apply(tf.layers.dense({ units: 4, kernelInitializer: glorot(9), name: 'fc' }), x);
      const mc = apply(tf.layers.dropout({ rate: 0.3, name: 'mc_drop' }), h, { training: true });
      return [h, apply(tf.layers.dropout({ rate: 0.3, name: 'dup_drop' }), mc)];
    });
    // Predict runs in inference mode (tfjs ignores the stored call kwargs there), so outputs still compare.
    const { model: out, report } = await rewriteAndVerify(m);
    try {
      expect(report.perRule['drop-inference-noops']).to.deep.equal({ matched: 2, applied: 1 });
      expect(report.applied).to.deep.equal([{ rule: 'drop-inference-noops', layers: ['dup_drop'] }]);
      expect(report.skipped).to.have.length(1);
      expect(report.skipped[0]!.layers).to.deep.equal(['mc_drop']);
      expect(report.skipped[0]!.reason).to.match(/training=true/);
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Dense', 'Dropout']);
    } finally {
      out.dispose();
      m.dispose();
    }

    const dup = model([6], (x) => {
      const h = apply(tf.layers.dense({ units: 4, kernelInitializer: glorot(10), name: 'fc' }), x);
      return [h, apply(tf.layers.dropout({ rate: 0.3, name: 'drop' }), h)];
    });
    const second = await rewriteAndVerify(dup);
    try {
      expect(second.report.skipped).to.deep.equal([
        {
          rule: 'drop-inference-noops',
          layers: ['drop'],
          reason: 'drop (Dropout) is a model output whose input fc is also a model output',
        },
      ]);
      expect(classesOf(second.model)).to.deep.equal(['InputLayer', 'Dense', 'Dropout']);
    } finally {
      second.model.dispose();
      dup.dispose();
    }
  });

  it('lets a conv -> Dropout -> BN -> relu chain fold and merge completely', async () => {
    const m = model([6, 6, 3], (x) =>
      apply(
        tf.layers.activation({ activation: 'relu', name: 'relu' }),
        apply(
          tf.layers.batchNormalization({
            name: 'bn',
            movingMeanInitializer: tf.initializers.constant({ value: 0.2 }),
            gammaInitializer: tf.initializers.constant({ value: 1.7 }),
          }),
          apply(
            tf.layers.dropout({ rate: 0.5, name: 'drop' }),
            apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, kernelInitializer: glorot(11), name: 'conv' }), x),
          ),
        ),
      ),
    );
    const { model: out, report } = await rewriteAndVerify(m);
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Conv2D']);
      expect(report.applied.map((a) => a.rule)).to.deep.equal(['drop-inference-noops', 'fold-batchnorm', 'merge-activation']);
    } finally {
      out.dispose();
      m.dispose();
    }
  });

  it('is not applied when disabled', async () => {
    const m = model([6], (x) =>
      apply(
        tf.layers.dense({ units: 2, kernelInitializer: glorot(12), name: 'fc' }),
        apply(tf.layers.dropout({ rate: 0.5, name: 'drop' }), x),
      ),
    );
    const { model: out, report } = await rewriteAndVerify(m, { disabled: ['drop-inference-noops'] });
    try {
      expect(classesOf(out)).to.deep.equal(['InputLayer', 'Dropout', 'Dense']);
      expect(report.perRule['drop-inference-noops']).to.deep.equal({ matched: 0, applied: 0 });
    } finally {
      out.dispose();
      m.dispose();
    }
  });
});
