/**
 * 02 - Training code configured with decorators.
 *
 * A small shogi-style policy/value network (the shapes of `kiln demo`'s ResNet: a
 * 9x9x46 board in, 2187 move logits and a tanh value out; fewer, narrower blocks) is
 * trained on synthetic self-play-like data. Its forward method is `@compiled()`, and it
 * runs inside `optimizer.minimize`. The same loop runs on an uncompiled twin with the
 * same initial weights, step for step in the same run: the script prints both losses per
 * epoch (they must agree within the configured tolerance) and the step-time ratio.
 *
 * Kiln's settings are declared in code by `TrainingSettings` (one schema with
 * kiln.yaml: same validation, same defaults), and a kiln.yaml can override them.
 *
 *   npm run build
 *   node dist/examples/02-train-with-decorators/train.js [--small] [--config examples/02-train-with-decorators/kiln.yaml]
 *
 * It imports Kiln as your own project would, `from 'tfjs-kiln'` (inside this repository
 * that name resolves to the package itself, through package.json's `exports`).
 */
import * as tf from '@tensorflow/tfjs';
import { IsInt, Min } from 'class-validator';
import {
  Backends,
  compiled,
  compiledFunctionOf,
  configFromClass,
  IsBooleanValue,
  IsNumberInRange,
  KilnSettings,
  optimize,
  Tolerance,
  TrainingMode,
  type Decision,
  type KilnMode,
} from 'tfjs-kiln';

/** Board planes and move planes of the shogi network (see `buildShogiResNet`). */
const BOARD_SHAPE = [9, 9, 46] as const;
const MOVE_PLANES = 27;

/**
 * Kiln's settings for this script, and the script's own. The decorated Kiln fields are
 * kiln.yaml's keys (`mode`, `validation.atol/rtol`, `backend.preference`); the others are
 * the script's, checked with class-validator (or Kiln's validators) and kept on the config.
 */
@KilnSettings({ name: 'TrainingSettings' })
export class TrainingSettings {
  /** The pipeline at the end optimises for training: gradients are validated as well as outputs. */
  @TrainingMode() mode!: KilnMode;
  /** Compiled and eager losses must agree within this, every epoch; the pipeline validates with it too. */
  @Tolerance({ atol: 1e-4, rtol: 1e-3 }) tolerance!: { atol: number; rtol: number };
  /** The training loop runs on the first of these that tf.js has; the pipeline tries them in order. */
  @Backends('cpu') backends!: string[];

  @IsNumberInRange({ greaterThan: 0 }) learningRate = 2e-3;
  @IsInt() @Min(1) epochs = 6;
  /** Positions in the synthetic self-play data set. */
  @IsInt() @Min(1) positions = 32;
  @IsInt() @Min(1) batchSize = 16;
  @IsInt() @Min(1) channels = 8;
  @IsInt() @Min(0) blocks = 2;
  @IsInt() @Min(1) seed = 7;
  /** Run Kiln's pipeline on the trained network at the end (training mode: outputs and gradients checked). */
  @IsBooleanValue() optimizeAfterwards = true;
}

/** The sizes of the smoke test (`--small`). */
export const SMALL: Partial<TrainingSettings> = { epochs: 3, positions: 24, batchSize: 8, channels: 4, blocks: 1 };

/** A scaled-down shogi policy/value ResNet without batch norm (see the README for why), seeded. */
export function buildPolicyValueNet(channels: number, blocks: number, seed: number): tf.LayersModel {
  let s = seed;
  const conv = (x: tf.SymbolicTensor, filters: number, kernel: number, activation?: 'relu') =>
    tf.layers
      .conv2d({ filters, kernelSize: kernel, padding: 'same', activation, kernelInitializer: tf.initializers.heNormal({ seed: s++ }) })
      .apply(x) as tf.SymbolicTensor;
  const input = tf.input({ shape: [...BOARD_SHAPE], name: 'board' });
  let x = conv(input, channels, 3, 'relu');
  for (let b = 0; b < blocks; b++) {
    const y = conv(conv(x, channels, 3, 'relu'), channels, 3);
    x = tf.layers.activation({ activation: 'relu' }).apply(tf.layers.add().apply([x, y])) as tf.SymbolicTensor;
  }
  const policy = tf.layers.flatten({ name: 'policy_logits' }).apply(conv(x, MOVE_PLANES, 1)) as tf.SymbolicTensor;
  const v = tf.layers.flatten().apply(conv(x, 1, 1, 'relu')) as tf.SymbolicTensor;
  const hidden = tf.layers
    .dense({ units: 32, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: s++ }) })
    .apply(v) as tf.SymbolicTensor;
  const value = tf.layers
    .dense({ units: 1, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: s++ }), name: 'value' })
    .apply(hidden) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: [policy, value], name: 'policy_value_net' });
}

/** The network, with a compiled forward (for training and play) and the same forward uncompiled. */
export class PolicyValueNet {
  constructor(readonly model: tf.LayersModel) {}

  /**
   * Policy logits [batch, 2187] and value [batch, 1]. Compiled per instance on its first
   * call; under a gradient tape (optimizer.minimize) it gets a training plan, outside one
   * an inference plan: a switch of phase is a guard miss, never a reuse of the other plan.
   */
  @compiled()
  forward(boards: tf.Tensor): tf.Tensor[] {
    return this.model.apply(boards) as tf.Tensor[];
  }

  /** The same forward, never compiled. */
  forwardEager(boards: tf.Tensor): tf.Tensor[] {
    return this.model.apply(boards) as tf.Tensor[];
  }

  get variables(): tf.Variable[] {
    return this.model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  dispose(): void {
    compiledFunctionOf(this, 'forward')?.dispose();
    this.model.dispose();
  }
}

/** Positions, the search's move distribution for each (policy targets) and the game result (value targets). */
export interface SelfPlayData {
  readonly boards: tf.Tensor4D;
  readonly policy: tf.Tensor2D;
  readonly value: tf.Tensor2D;
}

/**
 * Synthetic self-play-like data: sparse binary board planes; as policy target, a visit
 * distribution made by a fixed random "teacher" convolution (sharp, like a search's
 * visit counts); as value target, a game result in [-1, 1] from a fixed random
 * evaluation of the board. A convolutional network can learn both.
 */
export function selfPlayData(positions: number, seed: number): SelfPlayData {
  return tf.tidy(() => {
    const boards = tf.cast(tf.less(tf.randomUniform([positions, ...BOARD_SHAPE], 0, 1, 'float32', seed), 0.15), 'float32') as tf.Tensor4D;
    const teacher = tf.randomNormal([3, 3, BOARD_SHAPE[2], MOVE_PLANES], 0, 1, 'float32', seed + 1) as tf.Tensor4D;
    const visits = tf.softmax(tf.mul(tf.reshape(tf.conv2d(boards, teacher, 1, 'same'), [positions, -1]), 0.5)) as tf.Tensor2D;
    const evaluation = tf.randomNormal([1, ...BOARD_SHAPE], 0, 1, 'float32', seed + 2);
    const value = tf.tanh(tf.mul(tf.sum(tf.mul(boards, evaluation), [1, 2, 3]), 0.1)).reshape([positions, 1]) as tf.Tensor2D;
    return { boards, policy: visits, value };
  });
}

/** Cross-entropy of the policy logits against the visit distribution, plus the value's squared error. */
export function policyValueLoss([logits, value]: tf.Tensor[], policyTarget: tf.Tensor, valueTarget: tf.Tensor): tf.Scalar {
  return tf.tidy(
    () => tf.add(tf.losses.softmaxCrossEntropy(policyTarget, logits!), tf.losses.meanSquaredError(valueTarget, value!)) as tf.Scalar,
  );
}

export interface EpochResult {
  readonly epoch: number;
  /** Mean loss of the compiled loop's steps. */
  readonly loss: number;
  /** Mean loss of the uncompiled loop's steps, in the same run. */
  readonly eagerLoss: number;
  /** Whether they agree within atol + rtol * |eager|. */
  readonly agree: boolean;
}

export interface TrainResult {
  readonly epochs: readonly EpochResult[];
  readonly tolerance: { readonly atol: number; readonly rtol: number };
  /** Median step times after the first epoch (which includes compiling), and eager / compiled. */
  readonly stepMs: { readonly compiled: number; readonly eager: number; readonly ratio: number };
  /** Signatures of the compiled forward's plans (`backend|mode|inputs`), and any that ran eagerly. */
  readonly plans: readonly string[];
  readonly eagerSignatures: readonly string[];
  /** The pipeline's decisions on the trained network (training mode), when it ran. */
  readonly decisions?: readonly Decision[];
}

export interface TrainOptions {
  /** The smoke test's sizes. */
  readonly small?: boolean;
  /** A kiln.yaml whose values win over TrainingSettings. */
  readonly config?: string;
  /** Settings of the script's own to change (e.g. `{ optimizeAfterwards: false }`). */
  readonly settings?: Partial<TrainingSettings>;
  readonly print?: boolean;
}

export async function main(options: TrainOptions = {}): Promise<TrainResult> {
  const log = options.print === false ? () => undefined : (line: string) => console.log(line);
  const settings = Object.assign(new TrainingSettings(), options.small ? SMALL : {}, options.settings ?? {});
  const config = await configFromClass(settings, {
    file: options.config,
    overrides: options.small ? { benchmark: { warmup: 2, iterations: 6 }, validation: { samples: 1 } } : undefined,
  });
  // both set by @Tolerance above (a config without them would check the scale-aware validation.tolerance instead)
  const { atol = 1e-4, rtol = 1e-3 } = config.validation;

  const previousBackend = tf.getBackend();
  const backend = config.backend.preference.find((name) => tf.findBackendFactory(name) !== null) ?? 'cpu';
  await tf.setBackend(backend);

  // Two networks with the same initial weights: one trained through the compiled forward, one eagerly.
  const net = new PolicyValueNet(buildPolicyValueNet(config.channels, config.blocks, config.seed));
  const twin = new PolicyValueNet(buildPolicyValueNet(config.channels, config.blocks, config.seed));
  const data = selfPlayData(config.positions, config.seed);
  const optimizer = tf.train.adam(config.learningRate);
  const eagerOptimizer = tf.train.adam(config.learningRate);
  log(
    `Training on ${backend}: ${config.positions} positions, batch ${config.batchSize}, ${config.epochs} epochs, ${config.blocks} blocks x ${config.channels} channels; tolerance atol ${atol}, rtol ${rtol}`,
  );

  const epochs: EpochResult[] = [];
  const times = { compiled: [] as number[], eager: [] as number[] };
  const batches = Math.max(1, Math.floor(config.positions / config.batchSize));
  let decisions: readonly Decision[] | undefined;
  try {
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      // The same shuffled order for both loops.
      const order = tf.util.createShuffledIndices(config.positions);
      const sums = { compiled: 0, eager: 0 };
      for (let b = 0; b < batches; b++) {
        const indices = tf.tensor1d(Array.from(order.subarray(b * config.batchSize, (b + 1) * config.batchSize)), 'int32');
        const [x, p, v] = [tf.gather(data.boards, indices), tf.gather(data.policy, indices), tf.gather(data.value, indices)];
        const steps = {
          compiled: () => optimizer.minimize(() => policyValueLoss(net.forward(x), p, v), true, net.variables)!,
          eager: () => eagerOptimizer.minimize(() => policyValueLoss(twin.forwardEager(x), p, v), true, twin.variables)!,
        };
        // Interleaved, alternating which goes first, so machine noise lands on both.
        for (const kind of b % 2 === 0 ? (['compiled', 'eager'] as const) : (['eager', 'compiled'] as const)) {
          const started = performance.now();
          const cost = steps[kind]();
          sums[kind] += cost.dataSync()[0]!;
          if (epoch > 1 || config.epochs === 1) times[kind].push(performance.now() - started);
          cost.dispose();
        }
        tf.dispose([indices, x, p, v]);
      }
      const loss = sums.compiled / batches;
      const eagerLoss = sums.eager / batches;
      const agree = Math.abs(loss - eagerLoss) <= atol + rtol * Math.abs(eagerLoss);
      epochs.push({ epoch, loss, eagerLoss, agree });
      log(
        `epoch ${epoch}: loss ${loss.toFixed(5)} (uncompiled ${eagerLoss.toFixed(5)}, |diff| ${Math.abs(loss - eagerLoss).toExponential(1)}${agree ? '' : ' BEYOND TOLERANCE'})`,
      );
    }
    const stepMs = { compiled: median(times.compiled), eager: median(times.eager), ratio: median(times.eager) / median(times.compiled) };
    log(
      `step time (median, same run, interleaved): compiled ${stepMs.compiled.toFixed(2)} ms, uncompiled ${stepMs.eager.toFixed(2)} ms: ${stepMs.ratio >= 1 ? `${stepMs.ratio.toFixed(2)}x faster` : `${(1 / stepMs.ratio).toFixed(2)}x slower`} compiled`,
    );

    // Playing (no gradient tape): the same forward gets an inference plan of its own.
    const sample = data.boards.slice([0], [config.batchSize]);
    const [played, playedEager] = [net.forward(sample), net.forwardEager(sample)];
    const playDiff = tf.tidy(() => tf.max(tf.abs(tf.sub(played[0]!, playedEager[0]!))).dataSync()[0]!);
    tf.dispose([...played, ...playedEager]);
    const stats = compiledFunctionOf(net, 'forward')!.stats();
    const plans = stats.compiled.map((plan) => plan.signature);
    const eagerSignatures = stats.eager.map((e) => `${e.signature}: ${e.reason}`);
    log(
      `compiled forward: ${stats.calls} calls, plans for ${plans.join(' and ')}${eagerSignatures.length ? `; eager: ${eagerSignatures.join('; ')}` : ''}; inference matches uncompiled to ${playDiff.toExponential(1)}`,
    );

    if (config.optimizeAfterwards) {
      // The pipeline in training mode: every candidate's outputs AND gradients of this loss are checked against the original.
      const [p, v] = [data.policy.slice([0], [config.batchSize]), data.value.slice([0], [config.batchSize])];
      try {
        const { model: fast, report } = await optimize(net.model, {
          config,
          sampleInputs: [sample],
          loss: (outputs) => policyValueLoss(outputs, p, v),
        });
        fast.dispose();
        decisions = report.decisions;
        log('Kiln pipeline on the trained network (mode: training):');
        for (const d of report.decisions) {
          const grad =
            d.metrics.gradientMaxAbsDiff !== undefined
              ? `, gradient max |diff| ${Number(d.metrics.gradientMaxAbsDiff).toExponential(1)}`
              : '';
          log(`  ${d.plugin}: ${d.status}: ${d.reason}${grad}`);
        }
      } finally {
        tf.dispose([p, v]);
      }
    }
    sample.dispose();
    return { epochs, tolerance: { atol, rtol }, stepMs, plans, eagerSignatures, decisions };
  } finally {
    net.dispose();
    twin.dispose();
    optimizer.dispose();
    eagerOptimizer.dispose();
    tf.dispose([data.boards, data.policy, data.value]);
    if (previousBackend) await tf.setBackend(previousBackend);
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

if (require.main === module) {
  tf.env().set('PROD', true); // silences tf.js's "install tfjs-node" banner
  const configAt = process.argv.indexOf('--config');
  main({
    small: process.argv.includes('--small') || process.env.KILN_EXAMPLES_SMALL === '1',
    config: configAt > 0 ? process.argv[configAt + 1] : undefined,
  }).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
