/**
 * The part of onnxruntime-node (1.x) that Kiln uses, typed here so that Kiln builds
 * where the optional package is not installed, and so that tests can hand the engine a
 * stand-in module.
 *
 * onnxruntime-node's public `InferenceSession.run` returns a promise, but all it does is
 * defer the native session's `run`, which is synchronous, to the next turn of the event
 * loop (`setImmediate` in its dist/backend.js). Kiln's models serve a synchronous
 * `predict`, so the engine loads and runs sessions through the native binding itself
 * (`onnxruntime-node/dist/binding.js`, {@link OrtNativeBinding}); the engine checks
 * that binding's shape when it starts, and is unavailable, saying why, where a version
 * lacks it.
 */
export type OrtTensorType = 'float32' | 'int32' | 'bool';

export interface OrtTensor {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
  dispose?(): void;
}

export interface OrtSessionOptions {
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'layout' | 'all';
  readonly intraOpNumThreads?: number;
  readonly interOpNumThreads?: number;
  readonly executionMode?: 'sequential' | 'parallel';
  readonly executionProviders?: readonly string[];
  /** Session config entries, e.g. `{ session: { intra_op: { allow_spinning: '0' } } }`. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** The public, asynchronous session (used to check exported files in stock onnxruntime-node). */
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

export interface OrtModule {
  /** `env.versions.node` is the package version (onnxruntime-node sets it). */
  readonly env?: { readonly versions?: Readonly<Record<string, string>> };
  readonly InferenceSession: { create(model: Uint8Array, options?: OrtSessionOptions): Promise<OrtSession> };
  readonly Tensor: new (type: OrtTensorType, data: Float32Array | Int32Array | Uint8Array, dims: readonly number[]) => OrtTensor;
}

/** A session of the native binding: it loads and runs synchronously. */
export interface OrtNativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: OrtSessionOptions): void;
  readonly inputMetadata: readonly { readonly name: string }[];
  readonly outputMetadata: readonly { readonly name: string }[];
  /** `fetches` maps every output wanted to null. */
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, null>, options: object): Record<string, OrtTensor>;
  dispose(): void;
}

/** onnxruntime-node's dist/binding.js. */
export interface OrtNativeBinding {
  /** Initialises the native runtime once (log level, the Tensor class its outputs are made of). */
  initOrt(): void;
  readonly binding: { readonly InferenceSession: new () => OrtNativeSession };
}

/** The npm package the engine loads. */
export const ONNXRUNTIME_PACKAGE = 'onnxruntime-node';
/** Its native binding, whose sessions run synchronously. */
export const ONNXRUNTIME_BINDING = 'onnxruntime-node/dist/binding.js';
