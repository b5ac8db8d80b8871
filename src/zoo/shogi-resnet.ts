import * as tf from '@tensorflow/tfjs';

export interface ShogiResNetOptions {
  /** Residual blocks in the tower (default 4). */
  readonly blocks?: number;
  /** Channels of every conv in the tower (default 64). */
  readonly channels?: number;
  /** Seed of the weight initialisers (default 42), so every build is identical. */
  readonly seed?: number;
}

/** Board 9x9, 46 feature planes: the input of the demo's policy/value network. */
export const SHOGI_INPUT_SHAPE = [9, 9, 46] as const;
/** 2187 = 9 x 9 x 27 move planes. */
export const SHOGI_POLICY_SIZE = 2187;

/**
 * The shogi-style policy/value ResNet of `kiln demo`: a 3x3 conv stem, a tower of
 * residual blocks (conv-BN-relu-conv-BN, skip, relu), a policy head (1x1 conv to 27
 * move planes, flattened to a 2187-way softmax) and a value head (1x1 conv, dense
 * 64, dense 1 with tanh). Weights are seeded; BatchNorm statistics are set to
 * non-trivial seeded values so folding and validation see realistic numbers.
 */
export function buildShogiResNet(options: ShogiResNetOptions = {}): tf.LayersModel {
  const blocks = options.blocks ?? 4;
  const channels = options.channels ?? 64;
  let seed = options.seed ?? 42;
  const init = () => tf.initializers.heNormal({ seed: seed++ });
  const conv = (x: tf.SymbolicTensor, filters: number, kernel: number, name: string) =>
    tf.layers
      .conv2d({ filters, kernelSize: kernel, padding: 'same', useBias: false, kernelInitializer: init(), name })
      .apply(x) as tf.SymbolicTensor;
  const bn = (x: tf.SymbolicTensor, name: string) => tf.layers.batchNormalization({ name }).apply(x) as tf.SymbolicTensor;
  const relu = (x: tf.SymbolicTensor, name: string) => tf.layers.activation({ activation: 'relu', name }).apply(x) as tf.SymbolicTensor;

  const input = tf.input({ shape: [...SHOGI_INPUT_SHAPE], name: 'board' });
  let x = relu(bn(conv(input, channels, 3, 'stem_conv'), 'stem_bn'), 'stem_relu');
  for (let b = 0; b < blocks; b++) {
    const y = relu(bn(conv(x, channels, 3, `block${b}_conv1`), `block${b}_bn1`), `block${b}_relu1`);
    const z = bn(conv(y, channels, 3, `block${b}_conv2`), `block${b}_bn2`);
    x = relu(tf.layers.add({ name: `block${b}_add` }).apply([x, z]) as tf.SymbolicTensor, `block${b}_relu2`);
  }
  const p = relu(bn(conv(x, 27, 1, 'policy_conv'), 'policy_bn'), 'policy_relu');
  const policy = tf.layers
    .activation({ activation: 'softmax', name: 'policy' })
    .apply(tf.layers.flatten({ name: 'policy_flatten' }).apply(p)) as tf.SymbolicTensor;
  const v = relu(bn(conv(x, 1, 1, 'value_conv'), 'value_bn'), 'value_relu');
  const v1 = tf.layers
    .dense({ units: 64, activation: 'relu', kernelInitializer: init(), name: 'value_dense' })
    .apply(tf.layers.flatten({ name: 'value_flatten' }).apply(v)) as tf.SymbolicTensor;
  const value = tf.layers.dense({ units: 1, activation: 'tanh', kernelInitializer: init(), name: 'value' }).apply(v1) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: [policy, value], name: 'shogi_resnet' });
  seedBatchNormStatistics(model, seed);
  return model;
}

/** Gives every BatchNormalization seeded gamma/beta/mean/variance (fresh layers are the identity). */
function seedBatchNormStatistics(model: tf.LayersModel, seed: number): void {
  model.layers.forEach((layer, i) => {
    if (layer.getClassName() !== 'BatchNormalization') return;
    const n = layer.weights[0]!.shape[0]!;
    const values = tf.tidy(() => [
      tf.randomUniform([n], 0.8, 1.2, 'float32', seed + 4 * i),
      tf.randomUniform([n], -0.1, 0.1, 'float32', seed + 4 * i + 1),
      tf.randomUniform([n], -0.1, 0.1, 'float32', seed + 4 * i + 2),
      tf.randomUniform([n], 0.8, 1.2, 'float32', seed + 4 * i + 3),
    ]);
    layer.setWeights(values);
    tf.dispose(values);
  });
}
