import { expect } from 'chai';
import { buildAttentionBlock, buildCustomLayerModel, buildDepthwiseCnn, buildMlp, buildShogiResNet } from '../../../../src/zoo/index.js';
import { classesOf, countOf, rewriteAndVerify } from './helpers.js';

describe('layer-rewrite: zoo models', () => {
  it('depthwise CNN: all 8 BN and the Dropout go, all 8 relu6 Activations become ReLU(maxValue 6) layers (28 -> 19 layers)', async () => {
    const model = buildDepthwiseCnn();
    expect(countOf(model, 'BatchNormalization')).to.equal(8);
    expect(countOf(model, 'Activation')).to.equal(8);
    const { model: out, report } = await rewriteAndVerify(model, undefined, 2);
    try {
      expect(report).to.deep.include({ layersBefore: 28, layersAfter: 19 });
      expect(classesOf(out)).to.deep.equal([
        'InputLayer',
        ...['Conv2D', 'DepthwiseConv2D', 'Conv2D', 'DepthwiseConv2D', 'Conv2D', 'DepthwiseConv2D', 'Conv2D', 'SeparableConv2D'].flatMap(
          (conv) => [conv, 'ReLU'],
        ),
        'GlobalAveragePooling2D',
        'Dense',
      ]);
      expect(out.layers.filter((l) => l.getClassName().includes('Conv')).every((l) => l.getConfig().activation === 'linear')).to.equal(
        true,
      );
      expect(out.layers.filter((l) => l.getClassName() === 'ReLU').every((l) => l.getConfig().maxValue === 6)).to.equal(true);
      expect(report.perRule).to.deep.equal({
        'drop-inference-noops': { matched: 1, applied: 1 },
        'fold-batchnorm': { matched: 8, applied: 8 },
        'relu6-as-clipped-relu': { matched: 8, applied: 8 },
        'merge-activation': { matched: 0, applied: 0 },
      });
      expect(report.skipped).to.deep.equal([]);
      expect(report.applied).to.deep.include({ rule: 'fold-batchnorm', layers: ['sep_conv', 'sep_bn'] });
      expect(report.applied).to.deep.include({ rule: 'relu6-as-clipped-relu', layers: ['block1_dw_relu6'] });
    } finally {
      out.dispose();
      model.dispose();
    }
  });

  it('shogi ResNet (1 block, 16 channels): BN and conv-following relus go; the residual relu and the softmax after Flatten stay (22 -> 13)', async () => {
    const model = buildShogiResNet({ blocks: 1, channels: 16 });
    const { model: out, report } = await rewriteAndVerify(model, undefined, 2);
    try {
      expect(report).to.deep.include({ layersBefore: 22, layersAfter: 13 });
      expect(countOf(out, 'BatchNormalization')).to.equal(0);
      expect(out.layers.filter((l) => l.getClassName() === 'Activation').map((l) => l.name)).to.deep.equal(['block0_relu2', 'policy']);
      expect(report.perRule).to.deep.equal({
        'drop-inference-noops': { matched: 0, applied: 0 },
        'fold-batchnorm': { matched: 5, applied: 5 },
        'relu6-as-clipped-relu': { matched: 0, applied: 0 },
        'merge-activation': { matched: 6, applied: 4 },
      });
      expect(report.skipped).to.deep.equal([
        {
          rule: 'merge-activation',
          layers: ['block0_add', 'block0_relu2'],
          reason: 'producer block0_add (Add) has no output activation to merge into',
        },
        {
          rule: 'merge-activation',
          layers: ['policy_flatten', 'policy'],
          reason: 'producer policy_flatten (Flatten) has no output activation to merge into',
        },
      ]);
      expect(out.outputs).to.have.length(2);
    } finally {
      out.dispose();
      model.dispose();
    }
  });

  for (const [name, build] of [
    ['attention block (custom KilnSelfAttention)', buildAttentionBlock],
    ['custom-layer model (custom KilnScaledSwish)', buildCustomLayerModel],
    ['MLP', () => buildMlp({ hidden: [32] })],
  ] as const) {
    it(`${name}: nothing to rewrite, custom layers pass through, same layers and weights`, async () => {
      const model = build();
      const { model: out, report } = await rewriteAndVerify(model, undefined, 2);
      try {
        expect(classesOf(out)).to.deep.equal(classesOf(model));
        expect(report.applied).to.deep.equal([]);
        expect(report.layersBefore).to.equal(model.layers.length);
        expect(report.layersAfter).to.equal(model.layers.length);
        expect(out.weights.map((w) => w.originalName)).to.have.members(model.weights.map((w) => w.originalName));
      } finally {
        out.dispose();
        model.dispose();
      }
    });
  }
});
