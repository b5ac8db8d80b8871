/**
 * The onnxruntime engine and its backend plugin. With stand-in modules handed in through
 * MODULE_IMPORTER (as the tensorflow engine's tests do): unavailable with the reason when
 * the package is absent, broken or not onnxruntime-node's API, and in training mode; the
 * sessions it builds (graph optimisation 'all', 1 thread, 2 sleeping and 2 spinning measured, one
 * kept per input signature) through the native binding, synchronously; and a stand-in
 * that computes wrong values is rejected by the pipeline's validation. With the real
 * onnxruntime-node (skipped, with the reason, where it does not load): optimize() keeps
 * it, and the optimised model's synchronous predict reproduces tf.js.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { onnx } from 'onnx-proto';
import { container, type DependencyContainer } from 'tsyringe';
import { MODULE_IMPORTER, type ModuleImporter } from '../../src/core/tokens.js';
import type { Decision } from '../../src/core/pipeline/report.js';
import { outputsAsArray, runsSynchronously } from '../../src/core/kiln-model.js';
import { DEFAULT_TOLERANCE } from '../../src/core/validation/tolerance.js';
import { layersModelFormat } from '../../src/formats/layers-model/layers-model-format.js';
import { OnnxRuntimeEngine, OnnxRuntimeModel } from '../../src/engines/onnxruntime/index.js';
import type { OrtModule, OrtNativeBinding, OrtSessionOptions, OrtTensor } from '../../src/engines/onnxruntime/ort-api.js';
import { defineOnnxRuntimeBackendPlugin } from '../../src/plugins/backend/onnxruntime-backend-plugin.js';
import { optimize } from '../../src/optimize.js';
import { ZOO } from '../../src/zoo/index.js';
import { moduleNotFound } from '../helpers/stand-in-backends.js';
import { loadOnnxRuntime, relativeToScale } from '../helpers/onnxruntime.js';

/** A stand-in onnxruntime-node and its native binding. */
interface StandIn {
  readonly module: unknown;
  readonly binding: unknown;
}

/** A container whose importer answers onnxruntime-node and its binding from `load()`, and its own onnxruntime engine and backend plugin. */
function withOrt(load: () => StandIn): DependencyContainer {
  const child = container.createChildContainer();
  const importer: ModuleImporter = async (spec) => {
    if (spec === 'onnxruntime-node') return load().module;
    if (spec === 'onnxruntime-node/dist/binding.js') return load().binding;
    throw moduleNotFound(spec);
  };
  child.register(MODULE_IMPORTER, { useValue: importer });
  defineOnnxRuntimeBackendPlugin(new OnnxRuntimeEngine(), { container: child });
  return child;
}

const config = (preference: string[], mode: 'inference' | 'training' = 'inference') => ({
  backend: { preference },
  mode,
  pipeline: [],
  validation: { samples: 1 },
  benchmark: { warmup: 1, iterations: 5, endToEnd: false, minSpeedup: 0.01 },
});

const decision = (decisions: Decision[], plugin: string) => decisions.find((d) => d.plugin === plugin)!;

/** What a stand-in onnxruntime saw. */
interface StandInLog {
  created: OrtSessionOptions[];
  released: number;
  runs: number;
}

/** A stand-in onnxruntime-node: native sessions read the ONNX graph's outputs and answer `value` everywhere, synchronously. */
function standInOrt(log: StandInLog, value = 0.25): StandIn {
  class Tensor implements OrtTensor {
    constructor(
      readonly type: string,
      readonly data: Float32Array | Int32Array | Uint8Array,
      readonly dims: readonly number[],
    ) {}
  }
  const module: OrtModule = {
    env: { versions: { node: '0.0.0-stand-in' } },
    Tensor,
    InferenceSession: {
      async create() {
        throw new Error('Kiln runs sessions through the native binding, not the public InferenceSession.create');
      },
    },
  };
  class NativeSession {
    private outputs: { name: string; dims: number[] }[] = [];
    inputMetadata: { name: string }[] = [];
    get outputMetadata() {
      return this.outputs;
    }
    loadModel(buffer: ArrayBufferLike, offset: number, length: number, options: OrtSessionOptions) {
      log.created.push(options);
      const graph = onnx.ModelProto.decode(new Uint8Array(buffer, offset, length)).graph!;
      this.inputMetadata = graph.input!.map((i) => ({ name: i.name! }));
      this.outputs = graph.output!.map((o) => ({ name: o.name!, dims: o.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue)) }));
    }
    run(_feeds: unknown, fetches: Record<string, null>) {
      log.runs++;
      return Object.fromEntries(
        this.outputs
          .filter((o) => o.name in fetches)
          .map((o) => [o.name, new Tensor('float32', new Float32Array(o.dims.reduce((a, b) => a * b, 1)).fill(value), o.dims)]),
      );
    }
    dispose() {
      log.released++;
    }
  }
  const binding: OrtNativeBinding = { initOrt: () => undefined, binding: { InferenceSession: NativeSession } };
  return { module, binding };
}

describe('onnxruntime engine: availability (stand-in modules)', () => {
  let model: tf.LayersModel;
  let x: tf.Tensor;
  beforeEach(() => {
    model = ZOO.mlp.build({ small: true });
    x = tf.randomNormal([1, ...ZOO.mlp.inputShape], 0, 1, 'float32', 3);
  });
  afterEach(() => {
    x.dispose();
    model.dispose();
  });

  const log = (): StandInLog => ({ created: [], released: 0, runs: 0 });
  const cases: [string, () => StandIn, string][] = [
    [
      'not installed',
      () => {
        throw moduleNotFound('onnxruntime-node');
      },
      'package not installed (npm install onnxruntime-node to enable it; it is an optional dependency of tfjs-kiln)',
    ],
    [
      'throws on import (no binary for this platform)',
      () => {
        throw new Error('libonnxruntime.so.1: cannot open shared object file');
      },
      'package onnxruntime-node is installed but failed to load: libonnxruntime.so.1: cannot open shared object file',
    ],
    [
      'not the 1.x API',
      () => ({ module: { run: () => undefined }, binding: {} }),
      'onnxruntime-node loaded but has no InferenceSession.create and Tensor (not the onnxruntime-node 1.x API)',
    ],
    [
      'a version whose native binding Kiln cannot run synchronously',
      () => ({ ...standInOrt(log()), binding: { binding: { InferenceSession: class {} }, initOrt: () => undefined } }),
      "onnxruntime-node 0.0.0-stand-in loaded, but Kiln cannot run its sessions synchronously: onnxruntime-node/dist/binding.js has no InferenceSession with loadModel and run. Kiln's models serve a synchronous predict, and the package's public InferenceSession.run returns only a promise; install the onnxruntime-node version Kiln is tested with (1.30).",
    ],
    [
      'a version without dist/binding.js',
      () => {
        const s = standInOrt(log());
        return {
          module: s.module,
          get binding(): unknown {
            throw moduleNotFound('onnxruntime-node/dist/binding.js');
          },
        };
      },
      'onnxruntime-node 0.0.0-stand-in loaded, but Kiln cannot run its sessions synchronously: onnxruntime-node/dist/binding.js failed to load (',
    ],
  ];
  for (const [what, load, reason] of cases) {
    it(`is unavailable, with the reason, when the package is ${what}; the pipeline falls back to cpu`, async () => {
      const { model: optimized, report } = await optimize(model, {
        sampleInputs: [x],
        container: withOrt(load),
        config: config(['onnxruntime', 'cpu']),
      });
      const d = decision(report.decisions, 'backend-onnxruntime');
      expect(d.status).to.equal('unavailable');
      if (reason.endsWith('(')) expect(d.reason).to.include(reason);
      else expect(d.reason).to.equal(reason);
      expect(report.backend).to.equal('cpu');
      optimized.dispose();
    });
  }

  it('is unavailable in training mode: inference only', async () => {
    const log: StandInLog = { created: [], released: 0, runs: 0 };
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      container: withOrt(() => standInOrt(log)),
      config: config(['onnxruntime', 'cpu'], 'training'),
    });
    expect(decision(report.decisions, 'backend-onnxruntime')).to.include({
      status: 'unavailable',
      reason: 'onnxruntime runs inference only (an ONNX graph lowered from the traced predict): no gradients',
    });
    expect(log.created).to.deep.equal([]);
    optimized.dispose();
  });
});

describe('onnxruntime engine: sessions (stand-in module)', () => {
  it('builds one native session per input signature, measuring 1 thread, 2 sleeping and 2 spinning with optimisation "all"; predict answers synchronously', async () => {
    const log: StandInLog = { created: [], released: 0, runs: 0 };
    const engine = new OnnxRuntimeEngine();
    const ort = standInOrt(log);
    const importModule = async (spec: string) => (spec === 'onnxruntime-node' ? ort.module : ort.binding);
    expect(await engine.start({ importModule })).to.deep.equal({ available: true });
    const before = tf.memory().numTensors;
    const keras = ZOO['shogi-resnet'].build({ small: true });
    const source = layersModelFormat.wrap(keras, 'cpu', false);
    const prepared = (await engine.prepare(source)) as OnnxRuntimeModel;
    const x1 = tf.ones([1, ...ZOO['shogi-resnet'].inputShape]);
    const x3 = tf.ones([3, ...ZOO['shogi-resnet'].inputShape]);
    try {
      expect(prepared.backend).to.equal('onnxruntime');
      expect(runsSynchronously(prepared)).to.equal(true);
      for (const x of [x1, x3, x1]) tf.dispose(prepared.predict(x));
      const [policy, value] = outputsAsArray(prepared.predict(x3));
      expect([policy!.shape, value!.shape]).to.deep.equal([
        [3, 2187],
        [3, 1],
      ]);
      expect(Array.from(value!.dataSync())).to.deep.equal([0.25, 0.25, 0.25]);
      tf.dispose([policy!, value!]);
      // two signatures, each measured with 1 thread, 2 sleeping and 2 spinning, the slower sessions released
      const settings = log.created.map((o) => `${o.intraOpNumThreads}/${JSON.stringify(o.extra)}`);
      const one = [
        '1/{"session":{"intra_op":{"allow_spinning":"0"}}}',
        '2/{"session":{"intra_op":{"allow_spinning":"0"}}}',
        '2/{"session":{"intra_op":{"allow_spinning":"1"}}}',
      ];
      expect(settings).to.deep.equal([...one, ...one]);
      for (const o of log.created) expect(o).to.include({ graphOptimizationLevel: 'all' });
      expect(log.released).to.equal(4);
      expect(prepared.threadChoices()).to.have.length(2);
      expect(prepared.description).to.match(
        /^onnxruntime-node 0\.0\.0-stand-in on Kiln's ONNX lowering \(graph optimisation all\); intra-op threads \[1x9x9x46\] (1|2|2 spinning) \(1: [\d.]+ ms, 2: [\d.]+ ms, 2 spinning: [\d.]+ ms, medians of 15\); \[3x9x9x46\] (1|2|2 spinning) /,
      );
    } finally {
      prepared.dispose();
      tf.dispose([x1, x3]);
      keras.dispose();
    }
    expect(log.released).to.equal(6);
    expect(tf.memory().numTensors, 'tensors left (the cpu copy of the weights freed)').to.equal(before);
  });

  it('a model with a kernel ONNX cannot get is skipped, the kernel and its layer named; no session is made', async () => {
    const log: StandInLog = { created: [], released: 0, runs: 0 };
    const model = tf.sequential({
      layers: [tf.layers.conv3d({ inputShape: [4, 4, 4, 1], filters: 2, kernelSize: 2, name: 'volume_conv' })],
    });
    const x = tf.randomNormal([1, 4, 4, 4, 1], 0, 1, 'float32', 5);
    try {
      const { model: optimized, report } = await optimize(model, {
        sampleInputs: [x],
        container: withOrt(() => standInOrt(log)),
        config: config(['onnxruntime', 'cpu']),
      });
      expect(decision(report.decisions, 'backend-onnxruntime')).to.include({
        status: 'skipped',
        reason: 'kernel Conv3D (layer volume_conv) cannot be lowered to ONNX: Kiln has no ONNX mapping for it',
      });
      expect(log.created).to.deep.equal([]);
      optimized.dispose();
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  it('a stand-in that computes wrong values is rejected by the validation', async () => {
    const log: StandInLog = { created: [], released: 0, runs: 0 };
    const model = ZOO.mlp.build({ small: true });
    const x = tf.randomNormal([1, ...ZOO.mlp.inputShape], 0, 1, 'float32', 3);
    try {
      const { model: optimized, report } = await optimize(model, {
        sampleInputs: [x],
        container: withOrt(() => standInOrt(log, 7)),
        config: config(['onnxruntime', 'cpu']),
      });
      const d = decision(report.decisions, 'backend-onnxruntime');
      expect(d.status).to.equal('rejected');
      expect(d.reason).to.match(/^numerical mismatch: /);
      expect(log.runs).to.be.above(0);
      expect(report.backend).to.equal('cpu');
      optimized.dispose();
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});

describe('onnxruntime engine: the real onnxruntime-node through optimize()', function () {
  let reason: string | undefined;
  before(async () => {
    const loaded = await loadOnnxRuntime();
    reason = 'ort' in loaded ? undefined : loaded.reason;
  });

  it('keeps backend-onnxruntime for the small shogi net; its synchronous predict (and predictAsync) reproduce tf.js; nothing leaks', async function () {
    if (reason) {
      console.warn(`      skipped: ${reason}`);
      this.skip();
    }
    const keras = ZOO['shogi-resnet'].build({ small: true });
    const x = tf.randomNormal([2, ...ZOO['shogi-resnet'].inputShape], 0, 1, 'float32', 4);
    const before = tf.memory().numTensors;
    try {
      const { model: optimized, report } = await optimize(keras, { sampleInputs: [x], config: config(['onnxruntime', 'cpu']) });
      try {
        const d = decision(report.decisions, 'backend-onnxruntime');
        expect(d.status, d.reason).to.equal('applied');
        expect(d.metrics.maxAbsDiffOfScale).to.be.at.most(DEFAULT_TOLERANCE);
        expect(report.backend).to.equal('onnxruntime');
        expect(report.final).to.match(
          /^onnxruntime-node 1\.\d+\.\d+ on Kiln's ONNX lowering \(graph optimisation all\); intra-op threads \[2x9x9x46\] (1|2|2 spinning) /,
        );
        expect(runsSynchronously(optimized)).to.equal(true);
        const want = outputsAsArray(keras.predict(x));
        for (const got of [outputsAsArray(optimized.predict(x)), outputsAsArray(await optimized.predictAsync(x))]) {
          got.forEach((g, i) => expect(relativeToScale(want[i]!.dataSync(), g.dataSync())).to.be.at.most(DEFAULT_TOLERANCE));
          tf.dispose(got);
        }
        tf.dispose(want);
      } finally {
        optimized.dispose();
      }
      expect(tf.memory().numTensors).to.equal(before);
    } finally {
      x.dispose();
      keras.dispose();
    }
  });

  it('mixed precision after onnxruntime: the float16 weights stay float16 in the ONNX file it runs (half the size), which stock onnxruntime reproduces', async function () {
    if (reason) {
      console.warn(`      skipped: ${reason}`);
      this.skip();
    }
    const keras = ZOO['shogi-resnet'].build({ small: true });
    const weightsBefore = keras.getWeights().map((w) => Array.from(w.dataSync()));
    const x = tf.randomNormal([2, ...ZOO['shogi-resnet'].inputShape], 0, 1, 'float32', 5);
    const before = tf.memory().numTensors;
    try {
      const { model: optimized, report } = await optimize(keras, {
        sampleInputs: [x],
        config: {
          ...config(['onnxruntime', 'cpu']),
          pipeline: [{ name: 'mixed-precision', options: { policy: 'float16', minElements: 256, budgets: { '*': { atol: 1e-2 } } } }],
          benchmark: { warmup: 1, iterations: 5, endToEnd: false, minSpeedup: 0.01, minSizeGain: 1.05 },
        },
      });
      try {
        const ort = decision(report.decisions, 'backend-onnxruntime');
        const mixed = decision(report.decisions, 'mixed-precision');
        expect(ort.status, ort.reason).to.equal('applied');
        expect(mixed.status, mixed.reason).to.equal('applied');
        expect(report.backend).to.equal('onnxruntime');
        expect(mixed.notes.join('\n')).to.match(/compute stays float32 on onnxruntime/);
        const file = optimized.onnx!;
        expect(file, 'the ONNX file the final model runs').to.be.instanceOf(Uint8Array);
        expect(mixed.metrics.onnxBytes).to.equal(file.length);
        expect(file.length / (ort.metrics.onnxBytes as number)).to.be.below(0.6);
        const initializers = onnx.ModelProto.decode(file).graph!.initializer!;
        const float16 = initializers.filter((i) => i.dataType === onnx.TensorProto.DataType.FLOAT16);
        // every weight stored float16, and any float32 one whose values all happen to be float16s (a BatchNorm's ones)
        expect(float16.length).to.be.at.least(mixed.metrics['weights.float16'] as number);
        // the file, in stock onnxruntime, computes what the validated model computes
        const { ort: stock } = (await loadOnnxRuntime()) as { ort: OrtModule };
        const session = await stock.InferenceSession.create(file);
        try {
          const got = await session.run({ [session.inputNames[0]!]: new stock.Tensor('float32', x.dataSync() as Float32Array, x.shape) });
          const want = outputsAsArray(optimized.predict(x));
          session.outputNames.forEach((name, i) =>
            expect(relativeToScale(want[i]!.dataSync(), got[name]!.data as Float32Array), name).to.be.at.most(1e-6),
          );
          tf.dispose(want);
        } finally {
          await session.release();
        }
      } finally {
        optimized.dispose();
      }
      expect(tf.memory().numTensors).to.equal(before);
      expect(
        keras.getWeights().map((w) => Array.from(w.dataSync())),
        "the user's weights",
      ).to.deep.equal(weightsBefore);
    } finally {
      x.dispose();
      keras.dispose();
    }
  });

  it('under a shape profile (batch 1 and 4) the dispatch model runs each batch on its onnxruntime variant, synchronously', async function () {
    if (reason) {
      console.warn(`      skipped: ${reason}`);
      this.skip();
    }
    const keras = ZOO['shogi-resnet'].build({ small: true });
    try {
      const { model: optimized, report } = await optimize(keras, { config: { ...config(['onnxruntime', 'cpu']), shapes: [1, 4] } });
      try {
        expect(report.final).to.match(/^per batch size: 1 -> onnxruntime-node .*; 4 -> onnxruntime-node /);
        expect(runsSynchronously(optimized)).to.equal(true);
        for (const batch of [1, 4, 3]) {
          const x = tf.randomNormal([batch, ...ZOO['shogi-resnet'].inputShape], 0, 1, 'float32', batch);
          const got = outputsAsArray(optimized.predict(x));
          const want = outputsAsArray(keras.predict(x));
          got.forEach((g, i) =>
            expect(relativeToScale(want[i]!.dataSync(), g.dataSync()), `batch ${batch}`).to.be.at.most(DEFAULT_TOLERANCE),
          );
          tf.dispose([x, ...got, ...want]);
        }
      } finally {
        optimized.dispose();
      }
    } finally {
      keras.dispose();
    }
  });
});
