import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { container } from 'tsyringe';
import { OptimizationFailedError } from '../../src/core/errors.js';
import { optimize } from '../../src/optimize.js';
import { Plugin } from '../../src/core/plugin-decorator.js';
import { AVAILABLE, type OptimizationPlugin } from '../../src/core/plugin.js';
import type { KilnModel } from '../../src/core/kiln-model.js';
import { registerBrokenPlugins, WrappedModel } from '../helpers/broken-plugins.js';
import { expectRejects } from '../helpers/expect-rejects.js';
import { comparePredictions } from '../helpers/predictions.js';
import { FAST_CONFIG, tinyConvModel } from '../helpers/tiny-models.js';

function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.weights.map((w) => (w.read().dataSync() as Float32Array).slice());
}

describe('pipeline: validated fallback over deliberately broken plugins', () => {
  const child = container.createChildContainer();
  registerBrokenPlugins(child);
  let model: tf.LayersModel;
  let x: tf.Tensor;

  beforeEach(() => {
    model = tinyConvModel(3);
    x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 11);
  });
  afterEach(() => {
    model.dispose();
    x.dispose();
  });

  const oneOf = (...names: string[]) => ({
    ...FAST_CONFIG,
    pipeline: [{ oneOf: names.map((name) => ({ name, ...(name === 'hangs' ? { timeLimitMs: 300 } : {}) })) }],
  });

  it('rolls back each broken candidate with its reason and keeps the first good one', async () => {
    const before = weightsOf(model);
    const tensorsBefore = tf.memory().numTensors;
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      container: child,
      config: oneOf('unavailable', 'throws', 'nan', 'slower', 'mutates', 'hangs', 'leaks', 'faster', 'throws'),
    });
    const byName = (name: string) => report.decisions.filter((d) => d.plugin === name);
    const status = Object.fromEntries(report.decisions.filter((d) => d.slot === 1).map((d) => [d.plugin, d.status]));
    expect(byName('unavailable')[0]!.status).to.equal('unavailable');
    expect(byName('unavailable')[0]!.reason).to.equal('needs hardware this machine lacks');
    expect(byName('throws')[0]!.status).to.equal('failed');
    expect(byName('throws')[0]!.reason).to.match(/apply threw: kaboom in apply/);
    expect(byName('nan')[0]!.status).to.equal('rejected');
    expect(byName('nan')[0]!.reason).to.match(/numerical mismatch: output "dense_\w+" produced NaN where the original gives -?\d/);
    expect(byName('slower')[0]!.status).to.equal('rejected');
    expect(byName('slower')[0]!.reason).to.match(/not faster: 0\.\d\dx, below the required 1.05x/);
    expect(byName('slower')[0]!.metrics.speedup).to.be.a('number').below(1);
    expect(byName('mutates')[0]!.status).to.equal('failed');
    expect(byName('mutates')[0]!.reason).to.match(/mutated the user's weights \(conv2d\w*\/kernel\); their values were restored/);
    expect(byName('hangs')[0]!.status).to.equal('failed');
    expect(byName('hangs')[0]!.reason).to.match(/hangs\.apply did not finish within its time limit of 300 ms/);
    expect(byName('leaks')[0]!.status).to.equal('failed');
    expect(byName('leaks')[0]!.reason).to.match(/leaks 1 tensor\(s\) per call/);
    expect(byName('faster')[0]!.status).to.equal('applied');
    expect(byName('throws')[1]!.status).to.equal('skipped');
    expect(byName('throws')[1]!.reason).to.match(/already uses faster/);
    expect(status).to.have.property('faster', 'applied');

    // The user's weights are what they were, byte for byte.
    const after = weightsOf(model);
    after.forEach((w, i) => expect(Array.from(w)).to.deep.equal(Array.from(before[i]!)));
    // The optimised model predicts like the original.
    comparePredictions<tf.Tensor[]>(model, optimized, x, (want, got) =>
      want.forEach((w, i) => expect(Array.from(got[i]!.dataSync())).to.deep.equal(Array.from(w.dataSync()))),
    );
    optimized.dispose();
    expect(tf.memory().numTensors).to.equal(tensorsBefore);
  });

  for (const broken of ['throws', 'nan', 'slower', 'mutates', 'hangs', 'leaks']) {
    it(`with fallback: false, "${broken}" raises an error that carries the report`, async () => {
      const tensorsBefore = tf.memory().numTensors;
      const error = await expectRejects(
        optimize(model, { sampleInputs: [x], container: child, config: { ...oneOf(broken, 'faster'), fallback: false } }),
        new RegExp(`^${broken} (failed|rejected): .*fallback is off`),
      );
      expect(error).to.be.instanceOf(OptimizationFailedError);
      const report = (error as OptimizationFailedError).report;
      expect(report.decisions.map((d) => d.plugin)).to.deep.equal(['backend-cpu', broken]);
      expect(report.decisions.at(-1)!.status).to.be.oneOf(['failed', 'rejected']);
      expect(tf.memory().numTensors).to.equal(tensorsBefore);
    });
  }

  it('reports the backend that ran and an end-to-end comparison', async () => {
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      container: child,
      config: { ...FAST_CONFIG, benchmark: { ...FAST_CONFIG.benchmark, endToEnd: true }, pipeline: [{ name: 'faster' }] },
    });
    expect(report.backend).to.equal('cpu');
    expect(report.endToEnd!.speedup).to.be.a('number').above(0);
    expect(report.endToEnd!.baseline).to.match(/plain tf\.js: LayersModel\.predict on cpu/);
    expect(report.validation.inputSets).to.deep.equal(['sample', 'perturbed #1', 'perturbed #2', 'large magnitude x10', 'batch 4']);
    optimized.dispose();
  });

  it('an unknown plugin in the pipeline names the registered ones', async () => {
    await expectRejects(
      optimize(model, { sampleInputs: [x], container: child, config: { ...FAST_CONFIG, pipeline: [{ name: 'no-such-plugin' }] } }),
      /Unknown plugin "no-such-plugin"\. Registered plugins: .*backend-wasm.*faster/,
    );
  });
});

describe('pipeline: a plugin that damages the model Kiln kept, or the engine state', () => {
  const child = container.createChildContainer();
  registerBrokenPlugins(child);
  let model: tf.LayersModel;
  let x: tf.Tensor;

  beforeEach(() => {
    model = tinyConvModel(5);
    x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 13);
  });
  afterEach(() => {
    model.dispose();
    x.dispose();
  });

  /** The backend slot keeps wasm (minSpeedup tiny), so the plugins after it are handed Kiln's wasm copy. */
  const onWasmThen = (...names: string[]) => ({
    ...FAST_CONFIG,
    backend: { preference: ['wasm', 'cpu'] },
    benchmark: { ...FAST_CONFIG.benchmark, minSpeedup: 0.0001 },
    pipeline: names.map((name) => ({ name, ...(name === 'late-backend-switch' ? { timeLimitMs: 30 } : {}) })),
  });

  async function expectOriginal(optimized: { predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] }): Promise<void> {
    await comparePredictions(model, optimized, x, (expectedOut, actualOut) => {
      const [expected, actual] = [expectedOut, actualOut].map((o) => (Array.isArray(o) ? o : [o])) as [tf.Tensor[], tf.Tensor[]];
      for (const [i, e] of expected.entries()) {
        const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(actual[i]!, e))).dataSync()[0]!);
        expect(diff, `output ${i}`).to.be.below(1e-4);
      }
    });
  }

  it('one that writes into its target (the wasm copy) is failed by name, the copy restored, and the result equals the original', async () => {
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      container: child,
      config: onWasmThen('mutates', 'faster'),
    });
    try {
      const d = report.decisions.find((e) => e.plugin === 'mutates')!;
      expect(d.status).to.equal('failed');
      expect(d.reason).to.match(
        /^mutated the model Kiln had kept \(LayersModel\.predict on wasm: conv2d\w*\/kernel\); their values were restored/,
      );
      expect(report.decisions.find((e) => e.plugin === 'backend-wasm')!.status).to.equal('applied');
      expect(report.validation.final?.maxAbsDiff).to.be.a('number').below(1e-4);
      await expectOriginal(optimized);
    } finally {
      optimized.dispose();
    }
  });

  it('one that disposes its target and throws is failed by name (with its error as cause) and the run goes on from an intact model', async () => {
    const tensors = tf.memory().numTensors;
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      container: child,
      config: onWasmThen('disposes-target', 'faster'),
    });
    try {
      const d = report.decisions.find((e) => e.plugin === 'disposes-target')!;
      expect(d.status).to.equal('failed');
      expect(d.reason).to.equal('apply threw: oops after dispose');
      expect((d.cause as Error).stack).to.match(/oops after dispose[\s\S]*broken-plugins/);
      expect(JSON.stringify(d), 'the cause stays out of the JSON report').to.not.include('stack');
      expect(report.decisions.find((e) => e.plugin === 'faster')!.status).to.equal('applied');
      await expectOriginal(optimized);
    } finally {
      optimized.dispose();
    }
    expect(tf.memory().numTensors).to.equal(tensors);
  });

  it("one that disposes its target's LayersModel and throws: the lost copy's decision says so, and the run goes on from the user's model", async () => {
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      container: child,
      config: onWasmThen('destroys-target', 'faster'),
    });
    try {
      const d = report.decisions.find((e) => e.plugin === 'destroys-target')!;
      expect(d.status).to.equal('failed');
      expect(d.reason).to.match(
        /^mutated the model Kiln had kept \(LayersModel\.predict on wasm: .*\); restored all but .* \(disposed\) \(and: failed: apply threw: oops after destroying\)$/,
      );
      const wasm = report.decisions.find((e) => e.plugin === 'backend-wasm')!;
      expect(wasm.status).to.equal('failed');
      expect(wasm.reason).to.match(/^applied, then lost: destroys-target disposed its weights/);
      expect(report.decisions.find((e) => e.plugin === 'faster')!.status).to.equal('applied');
      await expectOriginal(optimized);
    } finally {
      optimized.dispose();
    }
  });

  it('one that times out and then switches the tf.js backend is failed by name; its late switch is ignored and the run finishes', async () => {
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: (m: string) => void warnings.push(m) };
    const { model: optimized, report } = await optimize(model, {
      logger,
      sampleInputs: [x],
      container: child,
      config: onWasmThen('late-backend-switch', 'faster'),
    });
    try {
      const d = report.decisions.find((e) => e.plugin === 'late-backend-switch')!;
      expect(d.status).to.equal('failed');
      expect(d.reason).to.match(/late-backend-switch\.apply did not finish within its time limit of 30 ms/);
      expect(report.decisions.find((e) => e.plugin === 'faster')!.status).to.equal('applied');
      expect(warnings).to.include(
        'late-backend-switch.apply switched the tf.js backend to "slow-init" after its time limit; Kiln ignored it',
      );
      expect(tf.getBackend()).to.not.equal('slow-init');
      await expectOriginal(optimized);
    } finally {
      optimized.dispose();
    }
  });
});

describe('pipeline: objectives', () => {
  it('a plugin whose objective is memory is never kept (Kiln does not measure peak memory), and never judged as size', async () => {
    const child = container.createChildContainer();
    @Plugin({ name: 'smaller-memory', kind: 'test', objective: 'memory', description: 'claims to save memory' }, { container: child })
    class MemoryPlugin implements OptimizationPlugin {
      isAvailable() {
        return AVAILABLE;
      }
      async apply(target: KilnModel) {
        return new WrappedModel(target, (x) => target.predict(x));
      }
    }
    void MemoryPlugin;
    const model = tinyConvModel(2);
    const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 3);
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      container: child,
      config: { ...FAST_CONFIG, pipeline: [{ name: 'smaller-memory' }] },
    });
    try {
      const d = report.decisions.find((e) => e.plugin === 'smaller-memory')!;
      expect(d.status).to.equal('rejected');
      expect(d.reason).to.match(/^objective "memory" cannot be judged: Kiln does not measure peak memory/);
      expect(d.metrics).to.not.have.property('sizeGain');
    } finally {
      optimized.dispose();
      model.dispose();
      x.dispose();
    }
  });
});
