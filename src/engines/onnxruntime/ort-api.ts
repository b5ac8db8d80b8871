/**
 * The part of onnxruntime-node (1.x) that Kiln uses, typed here so that Kiln builds
 * where the optional package is not installed, and so that tests can hand the engine a
 * stand-in module. onnxruntime-node's `InferenceSession.run` returns a promise (it runs
 * the native, synchronous session on the next turn of the event loop): there is no
 * synchronous run in its public API.
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
}

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

/** The npm package the engine loads. */
export const ONNXRUNTIME_PACKAGE = 'onnxruntime-node';
