import * as tf from '@tensorflow/tfjs';
import { seedCounter, seedNormalizationStatistics } from './seeding.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type Kwargs = Parameters<tf.layers.Layer['call']>[1];

export interface SelfAttentionArgs extends LayerArgs {
  /** Width of the query/key/value projections (default: the input's last dimension). */
  readonly keyDim?: number;
  /** Seed of the four projection initialisers (default 1; seed, seed + 1, ...). */
  readonly seed?: number;
}

/**
 * Single-head scaled dot-product self-attention over a [batch, seq, dModel] input:
 * `softmax(Q K^T / sqrt(keyDim)) V` projected back to dModel, built from plain ops
 * (matMul, softmax, div) so graph rewrites see an unfused attention pattern. Owns four
 * bias-free weight matrices: query, key and value [dModel, keyDim] and output
 * [keyDim, dModel]. The output has the input's shape; residual and normalisation are
 * separate layers of the model.
 */
export class SelfAttention extends tf.layers.Layer {
  static className = 'KilnSelfAttention';

  private readonly keyDimArg: number | null;
  private readonly seed: number;
  private keyDim = 0;
  private queryKernel!: tf.LayerVariable;
  private keyKernel!: tf.LayerVariable;
  private valueKernel!: tf.LayerVariable;
  private outputKernel!: tf.LayerVariable;

  constructor(args: SelfAttentionArgs = {}) {
    super(args);
    this.keyDimArg = args.keyDim ?? null;
    this.seed = args.seed ?? 1;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (shape.length !== 3) throw new Error(`${SelfAttention.className} expects [batch, seq, dModel] input, got [${shape.join(', ')}]`);
    const dModel = shape[2];
    if (dModel == null) throw new Error(`${SelfAttention.className} needs a known last dimension`);
    this.keyDim = this.keyDimArg ?? dModel;
    const seeds = seedCounter(this.seed);
    const init = () => tf.initializers.glorotUniform({ seed: seeds.next() });
    this.queryKernel = this.addWeight('query', [dModel, this.keyDim], 'float32', init(), undefined, true);
    this.keyKernel = this.addWeight('key', [dModel, this.keyDim], 'float32', init(), undefined, true);
    this.valueKernel = this.addWeight('value', [dModel, this.keyDim], 'float32', init(), undefined, true);
    this.outputKernel = this.addWeight('output', [this.keyDim, dModel], 'float32', init(), undefined, true);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return Array.isArray(inputShape[0]) ? (inputShape[0] as tf.Shape) : inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const [, seq, dModel] = x.shape as [number, number, number];
      // [batch, seq, dModel] -> [batch * seq, dModel] so the projections are 2-D matMuls.
      const flat = tf.reshape(x, [-1, dModel]);
      const project = (w: tf.LayerVariable) => tf.reshape(tf.matMul(flat, w.read()), [-1, seq, this.keyDim]);
      const q = project(this.queryKernel);
      const k = project(this.keyKernel);
      const v = project(this.valueKernel);
      const scores = tf.div(tf.matMul(q, k, false, true), tf.scalar(Math.sqrt(this.keyDim)));
      const attended = tf.matMul(tf.softmax(scores, -1), v);
      const out = tf.matMul(tf.reshape(attended, [-1, this.keyDim]), this.outputKernel.read());
      return tf.reshape(out, [-1, seq, dModel]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), keyDim: this.keyDimArg, seed: this.seed };
  }
}
tf.serialization.registerClass(SelfAttention);

export interface AttentionBlockOptions {
  /** Sequence length (default 16). */
  readonly seqLen?: number;
  /** Model width (default 32). */
  readonly dModel?: number;
  /** Hidden units of the feed-forward network (default 64). */
  readonly ffnUnits?: number;
  /** Seed of the weight initialisers (default 23), so every build is identical. */
  readonly seed?: number;
}

/** 16 tokens of width 32. */
export const ATTENTION_INPUT_SHAPE = [16, 32] as const;

/**
 * A transformer encoder block on [seqLen, dModel] tokens: custom single-head
 * self-attention (`KilnSelfAttention`), residual add, LayerNormalization, then a
 * Dense feed-forward (ffnUnits relu, dModel linear) with a second residual add.
 * Output shape [batch, seqLen, dModel]. Weights and the LayerNorm gamma/beta are
 * seeded; with no positional encoding the block is permutation-equivariant in the
 * sequence axis.
 */
export function buildAttentionBlock(options: AttentionBlockOptions = {}): tf.LayersModel {
  const seqLen = options.seqLen ?? ATTENTION_INPUT_SHAPE[0];
  const dModel = options.dModel ?? ATTENTION_INPUT_SHAPE[1];
  const ffnUnits = options.ffnUnits ?? 64;
  const seeds = seedCounter(options.seed ?? 23);
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;

  const input = tf.input({ shape: [seqLen, dModel], name: 'tokens' });
  // Reserve four seeds for the attention projections.
  const attnSeed = seeds.next();
  seeds.next();
  seeds.next();
  seeds.next();
  const attended = apply(new SelfAttention({ seed: attnSeed, name: 'self_attention' }), input);
  const x = apply(tf.layers.layerNormalization({ name: 'attn_norm' }), apply(tf.layers.add({ name: 'attn_residual' }), [input, attended]));
  const h = apply(
    tf.layers.dense({
      units: ffnUnits,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.next() }),
      name: 'ffn_dense1',
    }),
    x,
  );
  const f = apply(
    tf.layers.dense({ units: dModel, kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.next() }), name: 'ffn_dense2' }),
    h,
  );
  const output = apply(tf.layers.add({ name: 'ffn_residual' }), [x, f]);
  const model = tf.model({ inputs: input, outputs: output, name: 'attention_block' });
  seedNormalizationStatistics(model, seeds.next() * 1000);
  return model;
}
