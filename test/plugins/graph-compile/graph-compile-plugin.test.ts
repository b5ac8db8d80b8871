import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { optimize } from '../../../src/optimize.js';
import { ZOO, zooSampleInputs } from '../../../src/zoo/index.js';
import { expectRejects } from '../../helpers/expect-rejects.js';
import { asList, expectTensorsClose, recordingLogger } from '../../compiler/api/compile-helpers.js';
import { expectSamePredictions } from '../../helpers/predictions.js';

/** A layer that reads a value in `call`: a graph break for the compiler. */
class ReadsItsInput extends tf.layers.Layer {
  static className = 'KilnTestReadsItsInput';
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const peak = x.abs().max().dataSync()[0]!;
      return x.div(peak + 1);
    });
  }
}
tf.serialization.registerClass(ReadsItsInput);

const config = (extra: object = {}, options?: object) => ({
  backend: { preference: ['cpu'] },
  pipeline: [{ name: 'graph-compile', ...(options ? { options } : {}) }],
  validation: { samples: 1 },
  benchmark: { warmup: 2, iterations: 10, minSpeedup: 0.01, endToEnd: false },
  ...extra,
});

describe('graph-compile plugin', () => {
  it('applies to a small zoo model: kernels counted, report names the compiled graph, outputs match', async () => {
    const entry = ZOO['custom-layer'];
    const model = entry.build({ small: true });
    const [x] = zooSampleInputs(entry, 2, 1) as [tf.Tensor];
    const before = tf.memory().numTensors;
    const { model: optimized, report } = await optimize(model, { sampleInputs: [x], config: config() });
    try {
      const decision = report.decisions.find((d) => d.plugin === 'graph-compile')!;
      expect(decision, JSON.stringify(report.decisions)).to.not.equal(undefined);
      expect(decision.status, decision.reason).to.equal('applied');
      expect(decision.kind).to.equal('compile');
      const traced = decision.metrics.kernelsTraced as number;
      const after = decision.metrics.kernelsAfterPasses as number;
      expect(traced).to.be.a('number').and.greaterThan(0);
      expect(after).to.be.a('number').and.greaterThan(0);
      expect(traced).to.be.at.least(after);
      expect(decision.metrics.executor).to.be.oneOf(['replay', 'direct']);
      expect(decision.metrics.compileMs).to.be.a('number');
      expect(decision.notes.some((n) => n.startsWith('executor: '))).to.equal(true);
      expect(report.final).to.include('compiled kernel graph');
      expect(report.mode).to.equal('inference');
      expectSamePredictions(optimized, model, x);
    } finally {
      optimized.dispose();
    }
    expect(tf.memory().numTensors, 'the run leaves nothing behind once its model is disposed').to.equal(before);
    model.dispose();
    x.dispose();
  });

  it('rejects an unknown pass name, naming pipeline[0].options.disablePasses', async () => {
    const model = ZOO.mlp.build({ small: true });
    const [x] = zooSampleInputs(ZOO.mlp, 1, 1) as [tf.Tensor];
    try {
      const error = await expectRejects(
        optimize(model, { sampleInputs: [x], config: config({}, { disablePasses: ['nope'] }) }),
        /pipeline\[0\]\.options\.disablePasses/,
      );
      expect((error as Error & { code?: string }).code).to.equal('CONFIG_INVALID');
      expect(error.message).to.include('nope');
    } finally {
      model.dispose();
      x.dispose();
    }
  });

  /** The graph-compile decision of one run on the small mlp with these plugin options. */
  async function mlpDecision(options: object) {
    const model = ZOO.mlp.build({ small: true });
    const [x] = zooSampleInputs(ZOO.mlp, 1, 1) as [tf.Tensor];
    const { model: optimized, report } = await optimize(model, { sampleInputs: [x], config: config({}, options) });
    try {
      return report.decisions.find((d) => d.plugin === 'graph-compile')!;
    } finally {
      optimized.dispose();
      model.dispose();
      x.dispose();
    }
  }

  it('accepts a known pass name in disablePasses and reports the compile; the disabled passes do not run', async () => {
    const decision = await mlpDecision({ disablePasses: ['cse', 'memory-plan'], executor: 'replay' });
    expect(decision.status, decision.reason).to.equal('applied');
    expect(decision.metrics.executor).to.equal('replay');
    // the plugin notes each pass that changed something: memory-plan does on this model, when it runs
    expect(
      decision.notes.filter((n) => n.startsWith('memory-plan:') || n.startsWith('cse:')),
      JSON.stringify(decision.notes),
    ).to.deep.equal([]);
    const enabled = await mlpDecision({ executor: 'replay' });
    expect(enabled.status, enabled.reason).to.equal('applied');
    expect(
      enabled.notes.some((n) => n.startsWith('memory-plan: peak live intermediates')),
      JSON.stringify(enabled.notes),
    ).to.equal(true);
  });

  it("disablePasses: ['noop-removal'] keeps the kernels that pass removes otherwise", async () => {
    const disabled = await mlpDecision({ disablePasses: ['noop-removal'] });
    const enabled = await mlpDecision({});
    expect(disabled.status, disabled.reason).to.equal('applied');
    expect(enabled.status, enabled.reason).to.equal('applied');
    expect(
      disabled.notes.some((n) => n.startsWith('noop-removal:')),
      JSON.stringify(disabled.notes),
    ).to.equal(false);
    expect(
      enabled.notes.some((n) => n.startsWith('noop-removal:')),
      JSON.stringify(enabled.notes),
    ).to.equal(true);
    expect(disabled.metrics.kernelsTraced).to.equal(enabled.metrics.kernelsTraced);
    expect(disabled.metrics.kernelsAfterPasses as number).to.be.greaterThan(enabled.metrics.kernelsAfterPasses as number);
  });

  it('in training mode: gradients are validated (gradientMaxAbsDiff) and the compile is applied', async () => {
    const entry = ZOO.mlp;
    const model = entry.build({ small: true });
    const [x] = zooSampleInputs(entry, 2, 3) as [tf.Tensor];
    const { model: optimized, report } = await optimize(model, { sampleInputs: [x], config: config({ mode: 'training' }) });
    try {
      expect(report.mode).to.equal('training');
      const decision = report.decisions.find((d) => d.plugin === 'graph-compile')!;
      expect(decision.status, decision.reason).to.equal('applied');
      expect(decision.metrics.gradientMaxAbsDiff).to.be.a('number');
      expect(decision.metrics.gradientMaxAbsDiff as number).to.be.at.most(1e-4);
      expect(decision.metrics.executor).to.equal('replay');
      // the optimised model's predict is differentiable and reads the user's live weights
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const viaOptimized = tf.variableGrads(() => tf.sum(asList(optimized.predict(x))[0]!) as tf.Scalar, vars);
      const viaModel = tf.variableGrads(() => tf.sum(model.predict(x) as tf.Tensor) as tf.Scalar, vars);
      for (const name of Object.keys(viaModel.grads))
        expectTensorsClose(viaOptimized.grads[name]!, viaModel.grads[name]!, 1e-5, 1e-4, name);
      tf.dispose([viaOptimized.value, viaModel.value, ...Object.values(viaOptimized.grads), ...Object.values(viaModel.grads)]);
    } finally {
      optimized.dispose();
      model.dispose();
      x.dispose();
    }
  });

  it('a model whose predict breaks the graph (dataSync in a custom layer) is skipped with the reason', async () => {
    const input = tf.input({ shape: [6] });
    const dense = tf.layers
      .dense({ units: 4, kernelInitializer: tf.initializers.glorotNormal({ seed: 5 }) })
      .apply(input) as tf.SymbolicTensor;
    const output = new ReadsItsInput({ name: 'reads_its_input' }).apply(dense) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    const x = tf.randomNormal([3, 6], 0, 1, 'float32', 2);
    const logger = recordingLogger();
    const { model: optimized, report } = await optimize(model, { sampleInputs: [x], config: config(), logger });
    try {
      const decision = report.decisions.find((d) => d.plugin === 'graph-compile')!;
      expect(decision.status).to.equal('skipped');
      expect(
        logger.lines.warn.some((l) => /graph break: .*dataSync\(\)/.test(l)),
        logger.lines.warn.join('\n'),
      ).to.equal(true);
      expect(decision.reason).to.match(/graph break/);
      expect(decision.reason).to.match(/dataSync\(\)/);
      expect(report.final).to.not.include('compiled kernel graph');
      expectSamePredictions(optimized, model, x);
    } finally {
      optimized.dispose();
      model.dispose();
      x.dispose();
    }
  });
});
