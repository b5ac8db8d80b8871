import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { container, type DependencyContainer } from 'tsyringe';
import { MODULE_IMPORTER, type ModuleImporter } from '../../../src/core/tokens.js';
import { nodeImporter } from '../../../src/core/tokens.js';
import { optimize } from '../../../src/optimize.js';
import type { Decision } from '../../../src/core/pipeline/report.js';
import { comparePredictions } from '../../helpers/predictions.js';
import { FAST_CONFIG, tinyConvModel, tinyDenseModel } from '../../helpers/tiny-models.js';
import {
  moduleNotFound,
  realTensorflowBackendLoaded,
  registerStandInTensorflowBackend,
  removeStandInBackend,
} from '../../helpers/stand-in-backends.js';
import { skipIfTfjsNodeInstalled, skipUnlessTfjsNodeLoads } from '../../helpers/tfjs-node.js';

/** minSpeedup near 0: these tests check selection and validation, not speed. */
const config = (preference: string[]) => ({
  ...FAST_CONFIG,
  backend: { preference },
  benchmark: { ...FAST_CONFIG.benchmark, minSpeedup: 0.01 },
  pipeline: [],
});

function withImporter(importer: ModuleImporter): DependencyContainer {
  const child = container.createChildContainer();
  child.register(MODULE_IMPORTER, { useValue: importer });
  return child;
}

const decision = (decisions: Decision[], plugin: string) => decisions.find((d) => d.plugin === plugin)!;

/** The stand-ins cannot stand in where the real @tensorflow/tfjs-node has registered "tensorflow" in this process. */
function skipIfRealTensorflowLoaded(context: Mocha.Context): void {
  if (!realTensorflowBackendLoaded()) return;
  console.log('      skipped: the real @tensorflow/tfjs-node is loaded in this process, so a stand-in cannot be imported in its place');
  context.skip();
}

describe('backend selection', () => {
  let model: tf.LayersModel;
  let x: tf.Tensor;
  beforeEach(() => {
    model = tinyConvModel(5);
    x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 3);
  });
  afterEach(async () => {
    tf.dispose([x]);
    model.dispose();
    await removeStandInBackend();
  });

  it('reports tfjs-node and tfjs-node-gpu as not installed, and runs on wasm from the files in its package', async function () {
    skipIfTfjsNodeInstalled(this);
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      config: config(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']),
    });
    expect(decision(report.decisions, 'backend-tensorflow-gpu')).to.include({
      status: 'unavailable',
      reason: 'package not installed (npm install @tensorflow/tfjs-node-gpu to enable it)',
    });
    expect(decision(report.decisions, 'backend-tensorflow')).to.include({
      status: 'unavailable',
      reason: 'package not installed (npm install @tensorflow/tfjs-node to enable it)',
    });
    const wasm = decision(report.decisions, 'backend-wasm');
    expect(wasm.status).to.equal('applied');
    expect(wasm.metrics.maxAbsDiff).to.be.a('number').below(1e-4);
    expect(decision(report.decisions, 'backend-cpu').status).to.equal('skipped');
    expect(report.backend).to.equal('wasm');
    expect(optimized.backend).to.equal('wasm');
    optimized.dispose();
  });

  it('in training mode validates the gradients on wasm against the cpu reference', async () => {
    const dense = tinyDenseModel(6);
    const input = tf.randomNormal([4, 8], 0, 1, 'float32', 2);
    const { model: optimized, report } = await optimize(dense, {
      sampleInputs: [input],
      config: { ...config(['wasm']), mode: 'training' },
    });
    const wasm = decision(report.decisions, 'backend-wasm');
    expect(wasm.status).to.equal('applied');
    expect(wasm.metrics.gradientMaxAbsDiff).to.be.a('number').below(1e-4);
    expect(optimized.trainableVariables()).to.have.length(dense.trainableWeights.length);
    optimized.dispose();
    dense.dispose();
    input.dispose();
  });

  it('in training mode rolls wasm back for a conv net, whose backward kernels wasm lacks', async () => {
    const n = tf.memory().numTensors;
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      config: { ...config(['wasm', 'cpu']), mode: 'training' },
    });
    const wasm = decision(report.decisions, 'backend-wasm');
    expect(wasm.status).to.equal('failed');
    expect(wasm.reason).to.equal(
      "validation could not run it: gradients could not be computed: Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'",
    );
    expect(wasm.notes).to.deep.equal([]);
    expect(report.backend).to.equal('cpu');
    optimized.dispose();
    expect(tf.memory().numTensors).to.equal(n);
  });

  it('loads a present tfjs-node (an injected stand-in) and reports the backend that ran', async function () {
    skipIfRealTensorflowLoaded(this);
    const imported: string[] = [];
    const child = withImporter(async (spec) => {
      imported.push(spec);
      if (spec !== '@tensorflow/tfjs-node') throw moduleNotFound(spec);
      registerStandInTensorflowBackend();
      return {};
    });
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      container: child,
      config: config(['tensorflow', 'cpu']),
    });
    expect(imported).to.deep.equal(['@tensorflow/tfjs-node']);
    expect(decision(report.decisions, 'backend-tensorflow').status).to.equal('applied');
    expect(report.backend).to.equal('tensorflow');
    comparePredictions<tf.Tensor[]>(optimized, model, x, (y, want) =>
      expect(Array.from(y[0]!.dataSync())).to.deep.equal(Array.from(want[0]!.dataSync())),
    );
    optimized.dispose();
  });

  const broken: [string, ModuleImporter, RegExp][] = [
    [
      'throws on import',
      async () => {
        throw new Error('libtensorflow.so.2: cannot open shared object file');
      },
      /^package @tensorflow\/tfjs-node is installed but failed to load: libtensorflow\.so\.2: cannot open shared object file$/,
    ],
    ['registers no backend', async () => ({}), /loaded but registered no "tensorflow" backend with Kiln's @tensorflow\/tfjs 4\.22\.0/],
    [
      'has a backend that fails to initialise',
      async () => {
        registerStandInTensorflowBackend(() => {
          throw new Error('CUDA driver version is insufficient');
        });
        return {};
      },
      /the "tensorflow" backend failed to initialise/,
    ],
  ];
  for (const [what, importer, reason] of broken) {
    it(`a present but broken tfjs-node that ${what} is unavailable with the reason, and the pipeline goes on`, async function () {
      skipIfRealTensorflowLoaded(this);
      const { model: optimized, report } = await optimize(model, {
        sampleInputs: [x],
        container: withImporter(importer),
        config: config(['tensorflow', 'wasm']),
      });
      const tfNode = decision(report.decisions, 'backend-tensorflow');
      expect(tfNode.status).to.equal('unavailable');
      expect(tfNode.reason).to.match(reason);
      expect(decision(report.decisions, 'backend-wasm').status).to.equal('applied');
      expect(report.backend).to.equal('wasm');
      optimized.dispose();
    });
  }

  it('the default importer answers a missing package with MODULE_NOT_FOUND', async function () {
    skipIfTfjsNodeInstalled(this);
    let code: unknown;
    await nodeImporter('@tensorflow/tfjs-node').catch((e: { code?: string }) => {
      code = e.code;
    });
    expect(code).to.be.oneOf(['MODULE_NOT_FOUND', 'ERR_MODULE_NOT_FOUND']);
  });

  // Last: once the real package is loaded, the stand-ins above cannot stand in for it in this process.
  it('runs on the real tfjs-node where it loads: validated against cpu, and the model it returns runs on tensorflow', async function () {
    skipUnlessTfjsNodeLoads(this);
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      config: config(['tensorflow', 'cpu']),
    });
    const tfNode = decision(report.decisions, 'backend-tensorflow');
    expect(tfNode.status, tfNode.reason).to.equal('applied');
    expect(tfNode.metrics.maxAbsDiff).to.be.a('number').below(1e-4);
    expect(report.backend).to.equal('tensorflow');
    expect(optimized.backend).to.equal('tensorflow');
    comparePredictions<tf.Tensor[]>(optimized, model, x, (y, want) => {
      const got = y[0]!.dataSync();
      const diff = Math.max(...Array.from(want[0]!.dataSync(), (v, i) => Math.abs(v - got[i]!)));
      expect(diff).to.be.below(1e-4);
    });
    optimized.dispose();
  });
});
