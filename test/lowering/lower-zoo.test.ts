/**
 * Every zoo model lowered to ONNX at batch 1 and run in onnxruntime-node: the outputs
 * match tf.js on cpu within the validator's default tolerance (1e-4 of each output's
 * scale), and a plain CNN converts its layout once per input and once per output.
 * Skipped, with the reason, where onnxruntime-node does not load.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { outputsAsArray } from '../../src/core/kiln-model.js';
import { DEFAULT_TOLERANCE } from '../../src/core/validation/tolerance.js';
import { layersModelFormat } from '../../src/formats/layers-model/layers-model-format.js';
import { lowerModel } from '../../src/lowering/index.js';
import { listZoo } from '../../src/zoo/index.js';
import { realModel, realModelInputs } from '../../bench/real-models.js';
import '../../src/formats/index.js';
import { loadStockModelFromDisk } from '../../src/io/load-stock-model.js';
import type { OrtModule } from '../../src/engines/onnxruntime/ort-api.js';
import { onnxRuntimeOrSkip, relativeToScale, runOnnx } from '../helpers/onnxruntime.js';

/** Layout transposes allowed: one per model input and output (the CNNs); none for models without convs. */
const MAX_TRANSPOSES: Record<string, number> = { 'shogi-resnet': 3, 'depthwise-cnn': 2, mlp: 0, 'attention-block': 0, 'custom-layer': 0 };

describe('lowering: every zoo model in onnxruntime-node at batch 1', function () {
  let ort: OrtModule;

  before(async function () {
    ort = await onnxRuntimeOrSkip(this);
  });

  for (const entry of listZoo()) {
    it(`${entry.name}: ONNX outputs match tf.js cpu within ${DEFAULT_TOLERANCE} of each output's scale`, async () => {
      const model = entry.build();
      const x = tf.randomNormal([1, ...entry.inputShape], 0, 1, 'float32', 7);
      const before = tf.memory().numTensors;
      try {
        const kiln = layersModelFormat.wrap(model, 'cpu', false);
        const lowered = lowerModel(kiln, [x]);
        expect(tf.memory().numTensors, 'tensors left behind by the lowering').to.equal(before);
        expect(lowered.inputNames).to.deep.equal(kiln.inputs.map((s) => s.name));
        expect(lowered.outputNames).to.deep.equal(kiln.outputNames);
        expect(lowered.layoutTransposes).to.be.at.most(MAX_TRANSPOSES[entry.name]!);
        const got = await runOnnx(ort, lowered.bytes, { [lowered.inputNames[0]!]: x });
        const expected = outputsAsArray(model.predict(x));
        lowered.outputNames.forEach((name, i) => {
          expect(got[name]!.length, name).to.equal(expected[i]!.size);
          expect(relativeToScale(expected[i]!.dataSync(), got[name]!), name).to.be.at.most(DEFAULT_TOLERANCE);
        });
        tf.dispose(expected);
      } finally {
        x.dispose();
        model.dispose();
      }
    });
  }
});

describe('lowering: a tf.GraphModel in onnxruntime-node (liveness, human-models, batch 1)', function () {
  let ort: OrtModule;

  before(async function () {
    ort = await onnxRuntimeOrSkip(this);
  });

  it(`lowers its kernels (the converter's fused convs and NHWC graph), converting the layout once each way; outputs within ${DEFAULT_TOLERANCE} of scale`, async () => {
    const real = realModel('liveness');
    const stock = await loadStockModelFromDisk(real.modelJson);
    const inputs = realModelInputs(real);
    try {
      const model = stock.format.wrap(stock.model, 'cpu', false);
      const lowered = lowerModel(model, inputs);
      expect(Object.keys(lowered.kernels)).to.include('FusedConv2D');
      expect(lowered.layoutTransposes).to.equal(2);
      const got = await runOnnx(ort, lowered.bytes, { [lowered.inputNames[0]!]: inputs[0]! });
      const expected = outputsAsArray(model.predict(inputs[0]!));
      expected.forEach((e, i) => expect(relativeToScale(e.dataSync(), got[lowered.outputNames[i]!]!)).to.be.at.most(DEFAULT_TOLERANCE));
      tf.dispose(expected);
    } finally {
      tf.dispose(inputs);
      stock.format.dispose(stock.model);
    }
  });
});
