import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';

import { compiled, compiledFunctionOf } from '../../src/index.js';
import {
  buildPolicyValueNet,
  main,
  policyValueLoss,
  PolicyValueNet,
  selfPlayData,
  type TrainResult,
} from '../../examples/02-train-with-decorators/train.js';

describe('examples/02-train-with-decorators (smoke)', () => {
  let result: TrainResult;
  let tensorsBefore: number;

  before(async () => {
    tensorsBefore = tf.memory().numTensors;
    result = await main({ small: true, print: false });
  });

  it('the loss falls', () => {
    const losses = result.epochs.map((e) => e.loss);
    expect(losses.length).to.be.greaterThan(1);
    expect(losses.at(-1)!, `losses ${losses.join(', ')}`).to.be.lessThan(losses[0]!);
  });

  it('compiled and uncompiled losses agree within the configured tolerance at every epoch', () => {
    const { atol, rtol } = result.tolerance;
    expect(atol).to.equal(1e-4); // from TrainingSettings' @Tolerance
    for (const e of result.epochs) {
      expect(Math.abs(e.loss - e.eagerLoss), `epoch ${e.epoch}: ${e.loss} vs ${e.eagerLoss}`).to.be.at.most(
        atol + rtol * Math.abs(e.eagerLoss),
      );
      expect(e.agree).to.equal(true);
    }
  });

  it('the compiled forward has one plan for training (under minimize) and one for inference, and nothing ran eagerly', () => {
    expect(result.plans).to.have.length(2);
    expect(result.plans[0]).to.match(/^cpu\|training\|float32\[8,9,9,46\]$/);
    expect(result.plans[1]).to.match(/^cpu\|inference\|float32\[8,9,9,46\]$/);
    expect(result.eagerSignatures).to.deep.equal([]);
  });

  it('the step times are measured (printed, not judged)', () => {
    expect(result.stepMs.compiled).to.be.greaterThan(0);
    expect(result.stepMs.eager).to.be.greaterThan(0);
    expect(Number.isFinite(result.stepMs.ratio)).to.equal(true);
  });

  it('the pipeline in training mode checked gradients of the training loss, not just outputs', () => {
    const tried = result.decisions!.filter((d) => d.plugin === 'graph-compile' || d.plugin === 'op-fusion');
    expect(tried).to.have.length(2);
    for (const d of tried) {
      expect(d.status, `${d.plugin}: ${d.reason}`).to.be.oneOf(['applied', 'rejected']);
      expect(d.reason).not.to.match(/mismatch/);
      expect(d.metrics.gradientMaxAbsDiff, `${d.plugin} gradients compared`).to.be.a('number');
    }
  });

  it('leaves no tensors behind', () => {
    expect(tf.memory().numTensors).to.equal(tensorsBefore);
  });
});

describe('@compiled(): training and inference are separate plans, guarded by the gradient tape', () => {
  const batch = 4;
  let data: ReturnType<typeof selfPlayData>;
  before(() => {
    data = selfPlayData(batch, 3);
  });
  after(() => tf.dispose([data.boards, data.policy, data.value]));

  it('under a tape and outside it: two signatures, modes training and inference, each matching the eager forward', () => {
    const net = new PolicyValueNet(buildPolicyValueNet(4, 1, 11));
    try {
      const vars = net.variables;
      const taped = tf.variableGrads(() => policyValueLoss(net.forward(data.boards), data.policy, data.value), vars);
      const eager = tf.variableGrads(() => policyValueLoss(net.forwardEager(data.boards), data.policy, data.value), vars);
      const played = net.forward(data.boards);
      const reference = net.forwardEager(data.boards);
      try {
        expect(taped.value.dataSync()[0]).to.be.closeTo(eager.value.dataSync()[0]!, 1e-5);
        for (const name of Object.keys(eager.grads)) {
          const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(taped.grads[name]!, eager.grads[name]!))).dataSync()[0]!);
          expect(diff, `gradient of ${name}`).to.be.at.most(1e-5);
        }
        played.forEach((t, i) => expect(tf.tidy(() => tf.max(tf.abs(tf.sub(t, reference[i]!))).dataSync()[0]!)).to.be.at.most(1e-6));
        const stats = compiledFunctionOf(net, 'forward')!.stats();
        expect(stats.compiled.map((p) => p.signature.split('|')[1])).to.deep.equal(['training', 'inference']);
        expect(stats.eager).to.deep.equal([]);
        // inside the tape again: the training plan is replayed, not the inference one
        tf.dispose(tf.variableGrads(() => policyValueLoss(net.forward(data.boards), data.policy, data.value), vars).grads);
        const again = compiledFunctionOf(net, 'forward')!.stats();
        expect(again.compiled).to.have.length(2);
        expect(again.compiledCalls).to.equal(3);
      } finally {
        tf.dispose([taped.value, ...Object.values(taped.grads), eager.value, ...Object.values(eager.grads), ...played, ...reference]);
      }
    } finally {
      net.dispose();
    }
  });

  /** A forward that always runs its layers in training mode (dropout on, batch-norm statistics updated). */
  class TrainingForward {
    constructor(readonly model: tf.LayersModel) {}
    @compiled()
    forward(x: tf.Tensor): tf.Tensor[] {
      return this.model.apply(x, { training: true }) as tf.Tensor[];
    }
  }

  function headsOn(body: (x: tf.SymbolicTensor) => tf.SymbolicTensor, seed: number): tf.LayersModel {
    const input = tf.input({ shape: [9, 9, 46] });
    const conv = tf.layers
      .conv2d({ filters: 4, kernelSize: 1, kernelInitializer: tf.initializers.glorotUniform({ seed }) })
      .apply(input) as tf.SymbolicTensor;
    const x = tf.layers.flatten().apply(body(conv)) as tf.SymbolicTensor;
    const policy = tf.layers
      .dense({ units: 2187, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) })
      .apply(x) as tf.SymbolicTensor;
    const value = tf.layers
      .dense({ units: 1, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) })
      .apply(x) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: [policy, value] });
  }

  it('Dropout in training inside optimizer.minimize: eager with the random-values reason, never a frozen mask', () => {
    const net = new TrainingForward(headsOn((x) => tf.layers.dropout({ rate: 0.5 }).apply(x) as tf.SymbolicTensor, 21));
    const optimizer = tf.train.sgd(0.01);
    try {
      const outputs: Float32Array[] = [];
      for (let step = 0; step < 3; step++) {
        const cost = optimizer.minimize(() => {
          const out = net.forward(data.boards);
          outputs.push(out[1]!.dataSync() as Float32Array);
          return policyValueLoss(out, data.policy, data.value);
        }, true)!;
        expect(Number.isFinite(cost.dataSync()[0]!)).to.equal(true);
        cost.dispose();
      }
      const stats = compiledFunctionOf(net, 'forward')!.stats();
      expect(stats.compiled).to.deep.equal([]);
      expect(stats.eager).to.have.length(1);
      expect(stats.eager[0]!.signature).to.match(/\|training\|/);
      expect(stats.eager[0]!.breaks.map((b) => b.cause)).to.include('random-values');
      expect(stats.eager[0]!.reason).to.match(/dropout mask/);
      expect(stats.eagerCalls).to.equal(3);
      // a fresh mask on every step (a replay would repeat the first one)
      const [a, b] = [outputs[1]!, outputs[2]!];
      expect(
        Array.from(a).some((v, i) => v !== b[i]),
        'the last two steps used different masks',
      ).to.equal(true);
    } finally {
      optimizer.dispose();
      compiledFunctionOf(net, 'forward')?.dispose();
      net.model.dispose();
    }
  });

  it('BatchNormalization in training: eager with the variable-assigned reason, and its moving statistics really move', () => {
    const net = new TrainingForward(headsOn((x) => tf.layers.batchNormalization({ momentum: 0.5 }).apply(x) as tf.SymbolicTensor, 31));
    const optimizer = tf.train.sgd(0.01);
    try {
      const bn = net.model.layers.find((l) => l.getClassName() === 'BatchNormalization')!;
      const movingMean = () => bn.getWeights()[2]!.dataSync().slice();
      const before = movingMean();
      for (let step = 0; step < 2; step++)
        optimizer.minimize(
          () => policyValueLoss(net.forward(data.boards), data.policy, data.value),
          false,
          net.model.trainableWeights.map((w) => w.read() as tf.Variable),
        );
      const after = movingMean();
      expect(
        Array.from(after).some((v, i) => v !== before[i]),
        'moving mean updated',
      ).to.equal(true);
      const stats = compiledFunctionOf(net, 'forward')!.stats();
      expect(stats.compiled).to.deep.equal([]);
      expect(stats.eager[0]!.breaks.map((b) => b.cause)).to.include('variable-assigned');
      expect(stats.eager[0]!.reason).to.match(/moving_mean/);
    } finally {
      optimizer.dispose();
      compiledFunctionOf(net, 'forward')?.dispose();
      net.model.dispose();
    }
  });
});
