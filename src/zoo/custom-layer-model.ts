import * as tf from '@tensorflow/tfjs';
import { seedCounter } from './seeding.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type Kwargs = Parameters<tf.layers.Layer['call']>[1];

export interface ScaledSwishArgs extends LayerArgs {
  /** One `beta` per input channel (default true) or a single shared one. */
  readonly perChannel?: boolean;
  /** Seed of the `beta` initialiser (uniform in [0.5, 1.5]; default 1). */
  readonly seed?: number;
}

/**
 * Swish with a trainable slope: `x * sigmoid(beta * x)`, built from plain ops (mul,
 * sigmoid) so no registered kernel or fused activation covers it. `beta` has shape
 * [channels] (or [1] with `perChannel: false`) and is broadcast over the last axis.
 */
export class ScaledSwish extends tf.layers.Layer {
  static className = 'KilnScaledSwish';

  private readonly perChannel: boolean;
  private readonly seed: number;
  private beta!: tf.LayerVariable;

  constructor(args: ScaledSwishArgs = {}) {
    super(args);
    this.perChannel = args.perChannel ?? true;
    this.seed = args.seed ?? 1;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (this.perChannel && channels == null) throw new Error(`${ScaledSwish.className} needs a known last dimension`);
    const seed = seedCounter(this.seed).next();
    this.beta = this.addWeight(
      'beta',
      [this.perChannel ? channels! : 1],
      'float32',
      tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed }),
      undefined,
      true,
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return tf.mul(x, tf.sigmoid(tf.mul(this.beta.read(), x)));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), perChannel: this.perChannel, seed: this.seed };
  }
}
tf.serialization.registerClass(ScaledSwish);

export interface CustomLayerModelOptions {
  /** Input features (default 20). */
  readonly inputs?: number;
  /** Units of the hidden layer the ScaledSwish acts on (default 64). */
  readonly hidden?: number;
  /** Output classes of the softmax (default 10). */
  readonly classes?: number;
  /** Seed of the weight initialisers (default 31), so every build is identical. */
  readonly seed?: number;
}

/** 20 features. */
export const CUSTOM_LAYER_INPUT_SHAPE = [20] as const;

/**
 * A small classifier whose activation is a custom layer: Dense (linear) ->
 * `KilnScaledSwish` -> Dense softmax. Exercises custom-layer serialisation and the
 * handling of layers no optimisation pass knows.
 */
export function buildCustomLayerModel(options: CustomLayerModelOptions = {}): tf.LayersModel {
  const inputs = options.inputs ?? CUSTOM_LAYER_INPUT_SHAPE[0];
  const hidden = options.hidden ?? 64;
  const classes = options.classes ?? 10;
  const seeds = seedCounter(options.seed ?? 31);
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor) => layer.apply(x) as tf.SymbolicTensor;

  const input = tf.input({ shape: [inputs], name: 'features' });
  let x = apply(
    tf.layers.dense({
      units: hidden,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.next() }),
      biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: seeds.next() }),
      name: 'hidden',
    }),
    input,
  );
  x = apply(new ScaledSwish({ seed: seeds.next(), name: 'scaled_swish' }), x);
  const output = apply(
    tf.layers.dense({
      units: classes,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.next() }),
      name: 'probs',
    }),
    x,
  );
  return tf.model({ inputs: input, outputs: output, name: 'custom_layer_model' });
}
