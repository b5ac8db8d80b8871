import * as tf from '@tensorflow/tfjs';
import type { StockModel } from '../../core/formats/model-format.js';
import { outputsAsArray, type KilnModel, type TensorSpec } from '../../core/kiln-model.js';
import { lowerModel, type WeightStorageSummary } from '../../lowering/index.js';
import type { NativeOrtSession } from './native-session.js';
import type { OrtModule, OrtNativeBinding } from './ort-api.js';
import { fromOrtTensor, toOrtTensor } from './ort-tensors.js';
import { sessionWithFastestThreads, settingLabel, type ThreadChoice } from './thread-choice.js';

/** The engine name, which is also the `backend` of its models. */
export const ONNXRUNTIME = 'onnxruntime';

/** One input signature's session: the ONNX graph is traced at fixed shapes. */
interface SignatureSession {
  readonly session: NativeOrtSession;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly choice: ThreadChoice;
  readonly shapes: string;
  /** The ONNX file the session runs. */
  readonly bytes: Uint8Array;
  /** How that file stores the weights. */
  readonly weights: WeightStorageSummary;
}

/**
 * A model run by onnxruntime-node from Kiln's ONNX lowering. The ONNX graph has static
 * shapes, so each input signature (shapes and dtypes) gets its own session, built on
 * its first call: the model's own cpu copy is traced at those inputs and lowered, and
 * the session (graph optimisation 'all') takes 1 intra-op thread, 2 that sleep between
 * runs or 2 that spin, whichever ran fastest in a short measurement (THREAD_SETTINGS,
 * THREAD_MEASUREMENT in thread-choice.ts); the
 * description says what was chosen and the medians seen.
 *
 * `predict` is synchronous, as every KilnModel's: the sessions are the native binding's
 * (see ort-api.ts), which run before returning. Inputs and outputs are tf.js tensors
 * (outputs on tf.js's current backend). Inference only: no trainable variables.
 */
export class OnnxRuntimeModel implements KilnModel {
  readonly backend = ONNXRUNTIME;
  readonly inputs: readonly TensorSpec[];
  readonly outputNames: readonly string[];
  private readonly sessions = new Map<string, SignatureSession>();
  private disposed = false;

  constructor(
    private readonly ort: OrtModule,
    private readonly native: OrtNativeBinding,
    /** The model's own cpu copy (owned: freed by `dispose`), traced for each signature. */
    private readonly copy: StockModel,
    source: KilnModel,
    private readonly version: string,
  ) {
    this.inputs = source.inputs;
    this.outputNames = source.outputNames;
  }

  get description(): string {
    const threads = [...this.sessions.values()].map(
      (s) =>
        `[${s.shapes}] ${settingLabel(s.choice)} (${Object.entries(s.choice.medians)
          .map(([n, ms]) => `${n}: ${ms.toFixed(3)} ms`)
          .join(', ')}, medians of ${s.choice.runs})`,
    );
    return `onnxruntime-node ${this.version} on Kiln's ONNX lowering (graph optimisation all)${threads.length ? `; intra-op threads ${threads.join('; ')}` : ''}`;
  }

  predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    if (this.disposed) throw new Error('This onnxruntime model has been disposed.');
    const list = outputsAsArray(inputs);
    const s = this.sessionFor(list);
    const feeds = Object.fromEntries(list.map((t, i) => [s.inputNames[i]!, toOrtTensor(this.ort, t)]));
    const results = s.session.run(feeds);
    const outputs = s.outputNames.map((name) => fromOrtTensor(results[name]!));
    for (const r of Object.values(results)) r.dispose?.();
    return Array.isArray(inputs) || outputs.length > 1 ? outputs : outputs[0]!;
  }

  /**
   * Builds the session for the signature of `inputs` now (tracing, lowering, measuring
   * the thread counts) rather than on the first call; throws what that throws (an
   * UnsupportedKernelError names a kernel ONNX cannot get).
   */
  prepareFor(inputs: readonly tf.Tensor[]): void {
    this.sessionFor(inputs);
  }

  /** The stock model it lowers (its own copy, on cpu). */
  get madeFrom(): StockModel {
    return this.copy;
  }

  /** The ONNX file of the first signature built (the sample inputs', when the backend plugin made it). */
  get onnx(): Uint8Array | undefined {
    return this.sessions.values().next().value?.bytes;
  }

  /** How the first signature's ONNX file stores its weights (see `onnx`). */
  get onnxWeights(): WeightStorageSummary | undefined {
    return this.sessions.values().next().value?.weights;
  }

  /** The thread choices made so far, one per signature. */
  threadChoices(): readonly ThreadChoice[] {
    return [...this.sessions.values()].map((s) => s.choice);
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.sessions.values()) s.session.release();
    this.copy.format.dispose(this.copy.model);
  }

  private sessionFor(inputs: readonly tf.Tensor[]): SignatureSession {
    const key = inputs.map((t) => `${t.dtype}:${t.shape.join('x')}`).join(',');
    let session = this.sessions.get(key);
    if (!session) {
      session = this.build(inputs);
      this.sessions.set(key, session);
    }
    return session;
  }

  private build(inputs: readonly tf.Tensor[]): SignatureSession {
    const reference = this.copy.format.wrap(this.copy.model, 'cpu', false);
    const lowered = lowerModel(reference, inputs);
    const feeds = Object.fromEntries(inputs.map((t, i) => [lowered.inputNames[i]!, toOrtTensor(this.ort, t)]));
    const { session, choice } = sessionWithFastestThreads(this.native, lowered.bytes, feeds);
    const built = {
      session,
      choice,
      inputNames: lowered.inputNames,
      outputNames: lowered.outputNames,
      shapes: inputs.map((t) => t.shape.join('x')).join(', '),
      bytes: lowered.bytes,
      weights: lowered.weights,
    };
    return built;
  }
}
