import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { container } from 'tsyringe';
import { FUSED_KERNELS } from '../../../src/plugins/op-fusion/kernel-fusion/activations.js';
import { BUILT_IN_FUSION_PATTERNS, type FusionPattern, type FusionSite } from '../../../src/plugins/op-fusion/kernel-fusion/index.js';
import { LayersKilnModel } from '../../../src/formats/layers-model/layers-model-format.js';
import { FUSION_PATTERN } from '../../../src/core/tokens.js';
import { optimize } from '../../../src/optimize.js';
import { fuseGraph } from '../../../src/plugins/op-fusion/graph-fusion.js';
import { recordingLogger } from '../../compiler/api/compile-helpers.js';
import { expectSamePredictions } from '../../helpers/predictions.js';
import { compileModel, seedBatchNorms } from './kernel-fusion/fusion-helpers.js';

/**
 * A deliberately wrong third-party pattern: every Relu whose input does not come from
 * a fused kernel (here: the residual relu after an Add) becomes Abs.
 */
const wrongRelu: FusionPattern = {
  name: 'wrong-relu',
  description: 'TESTING ONLY: turns a standalone Relu into Abs',
  trainingSafe: true,
  match(graph, _context, tools) {
    const sites: FusionSite[] = [];
    for (const node of graph.nodes) {
      if (node.kernel !== 'Relu') continue;
      const producer = tools.value(node.inputs.x!).producer;
      const from = producer === undefined ? undefined : tools.node(producer);
      if (!from || (FUSED_KERNELS as readonly string[]).includes(from.kernel)) continue;
      sites.push({
        pattern: this.name,
        key: `${this.name}@${node.id}`,
        anchor: node.id,
        removes: [node.id],
        replacement: { ...node, kernel: 'Abs' },
        newValues: [],
        layers: node.layer ? [node.layer] : [],
      });
    }
    return sites;
  },
};

/** conv-BN-relu, conv-BN, residual Add, relu, dense head: sites for the correct patterns and one for wrong-relu. */
function residualModel(): tf.LayersModel {
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;
  const conv = (name: string, seed: number) =>
    tf.layers.conv2d({
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
      kernelInitializer: tf.initializers.heNormal({ seed }),
      name,
    });
  const input = tf.input({ shape: [6, 6, 4], name: 'x' });
  let h = apply(
    tf.layers.activation({ activation: 'relu', name: 'relu1' }),
    apply(tf.layers.batchNormalization({ name: 'bn1' }), apply(conv('conv1', 1), input)),
  );
  h = apply(tf.layers.batchNormalization({ name: 'bn2' }), apply(conv('conv2', 2), h));
  h = apply(tf.layers.activation({ activation: 'relu', name: 'residual_relu' }), apply(tf.layers.add({ name: 'add' }), [input, h]));
  const out = apply(
    tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }), name: 'head' }),
    apply(tf.layers.flatten({ name: 'flatten' }), h),
  );
  const model = tf.model({ inputs: input, outputs: out, name: 'residual' });
  seedBatchNorms(model, 4);
  return model;
}

const config = (options: object = { level: 'graph' }) => ({
  backend: { preference: ['cpu'] },
  pipeline: [{ name: 'op-fusion', options }],
  validation: { samples: 1 },
  benchmark: { warmup: 1, iterations: 5, minSpeedup: 0.01, endToEnd: false },
});

describe('op-fusion: bisection drops exactly the faulty pattern sites', () => {
  let model: tf.LayersModel;
  let x: tf.Tensor;
  let x2: tf.Tensor;
  /** Key of the wrong-relu site (the residual relu's node) and the sites the correct patterns apply. */
  let wrongKey: string;
  let correct: { keys: string[]; applied: Record<string, number> };

  before(() => {
    model = residualModel();
    x = tf.randomNormal([2, 6, 6, 4], 0, 1, 'float32', 5);
    x2 = tf.randomNormal([2, 6, 6, 4], 0, 1, 'float32', 6);
    // what the built-in patterns alone do, and where the residual relu sits in the trace
    const alone = compileModel(model, x, BUILT_IN_FUSION_PATTERNS, 'cpu');
    const relu = alone.plan.traced.nodes.find((n) => n.kernel === 'Relu' && n.layer === 'residual_relu');
    expect(relu, 'the residual relu in the trace').to.not.equal(undefined);
    wrongKey = `wrong-relu@${relu!.id}`;
    correct = { keys: alone.tally.sites.map((s) => s.key), applied: { ...alone.tally.applied } };
    alone.compiled.dispose();
    expect(correct.applied['fold-batchnorm']).to.equal(2);
    expect(correct.applied['fused-activation']).to.equal(1);
  });
  after(() => {
    model.dispose();
    tf.dispose([x, x2]);
  });

  it("fuseGraph: dropped holds exactly the wrong pattern's site, every correct site is kept, and the result matches", () => {
    const base = new LayersKilnModel(model, 'cpu', false);
    const before = tf.memory().numTensors;
    const logger = recordingLogger();
    const result = fuseGraph(base, base, [x], [[x], [x2]], {
      patterns: [...BUILT_IN_FUSION_PATTERNS, wrongRelu],
      disabled: [],
      mode: 'inference',
      atol: 1e-5,
      rtol: 1e-4,
      bisect: true,
      logger,
    });
    if ('failure' in result) expect.fail(result.failure);
    try {
      expect(result.dropped.map((d) => d.key)).to.deep.equal([wrongKey]);
      expect(result.dropped[0]!.layers).to.deep.equal(['residual_relu']);
      expect(result.dropped[0]!.reason).to.be.a('string').and.not.equal('');
      expect(result.tally.sites.map((s) => s.key)).to.deep.equal(correct.keys);
      expect(result.tally.applied).to.deep.equal(correct.applied);
      expect(result.tally.matched['wrong-relu']).to.equal(1);
      expect(result.kernelsAfter).to.be.lessThan(result.kernelsBefore);
      expect(result.model.stats().eager).to.deep.equal([]);
      for (const input of [x, x2]) {
        expectSamePredictions(result.model, model, input);
      }
      // bisection trials do not warn: their breaks are expected
      expect(logger.lines.warn.length, logger.lines.warn.join('\n')).to.be.at.most(1);
    } finally {
      result.model.dispose();
    }
    expect(tf.memory().numTensors, 'bisection trials and the kept model free everything').to.equal(before);
  });

  it('fuseGraph without the wrong pattern drops nothing; with bisection off, the wrong pattern fails the whole graph level', () => {
    const base = new LayersKilnModel(model, 'cpu', false);
    const settings = { disabled: [], mode: 'inference' as const, atol: 1e-5, rtol: 1e-4, bisect: true };
    const clean = fuseGraph(base, base, [x], [[x], [x2]], { ...settings, patterns: BUILT_IN_FUSION_PATTERNS });
    if ('failure' in clean) expect.fail(clean.failure);
    expect(clean.dropped).to.deep.equal([]);
    clean.model.dispose();
    const off = fuseGraph(base, base, [x], [[x], [x2]], { ...settings, bisect: false, patterns: [...BUILT_IN_FUSION_PATTERNS, wrongRelu] });
    expect(off)
      .to.have.property('failure')
      .that.matches(/does not validate .*bisection is off/);
  });

  it('optimize with the wrong pattern registered under FUSION_PATTERN: applied, bisection note names only wrong-relu, correct patterns in metrics', async () => {
    const child = container.createChildContainer();
    child.register(FUSION_PATTERN, { useValue: wrongRelu });
    const before = tf.memory().numTensors;
    const logger = recordingLogger();
    const { model: optimized, report } = await optimize(model, { sampleInputs: [x], container: child, config: config(), logger });
    try {
      const decision = report.decisions.find((d) => d.plugin === 'op-fusion')!;
      expect(decision, JSON.stringify(report.decisions)).to.not.equal(undefined);
      expect(decision.status, decision.reason).to.equal('applied');
      const dropped = decision.notes.filter((n) => n.startsWith('bisection dropped'));
      expect(dropped, decision.notes.join('\n')).to.have.length(1);
      expect(dropped[0]).to.match(new RegExp(`^bisection dropped ${wrongKey} \\(residual_relu\\): `));
      expect(decision.metrics['graph.wrong-relu']).to.equal('0/1 applied');
      expect(decision.metrics['graph.fold-batchnorm']).to.equal('2/2 applied');
      expect(decision.metrics['graph.fused-activation']).to.equal(
        `${correct.applied['fused-activation']}/${correct.applied['fused-activation']} applied`,
      );
      expect(decision.metrics.kernelsAfter as number).to.be.lessThan(decision.metrics.kernelsBefore as number);
      expect(report.final).to.include('compiled kernel graph');
      for (const input of [x, x2]) {
        expectSamePredictions(optimized, model, input);
      }
    } finally {
      optimized.dispose();
    }
    expect(tf.memory().numTensors).to.equal(before);
  });

  it('with bisect: false the graph level is not applied, and a note says why', async () => {
    const child = container.createChildContainer();
    child.register(FUSION_PATTERN, { useValue: wrongRelu });
    const logger = recordingLogger();
    const { model: optimized, report } = await optimize(model, {
      sampleInputs: [x],
      container: child,
      config: config({ level: 'graph', bisect: false }),
      logger,
    });
    try {
      const decision = report.decisions.find((d) => d.plugin === 'op-fusion')!;
      expect(decision.status, decision.reason).to.not.equal('applied');
      const note = decision.notes.find((n) => n.startsWith('graph: '));
      expect(note, decision.notes.join('\n')).to.match(/^graph: fused graph does not validate .*and bisection is off$/);
      expect(decision.notes.some((n) => n.startsWith('bisection dropped'))).to.equal(false);
      expect(report.final).to.not.include('compiled kernel graph');
      expectSamePredictions(optimized, model, x);
    } finally {
      optimized.dispose();
    }
  });
});
