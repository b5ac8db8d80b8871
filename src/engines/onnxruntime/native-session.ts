import type { OrtNativeBinding, OrtNativeSession, OrtSessionOptions, OrtTensor } from './ort-api.js';

/**
 * A synchronous onnxruntime session over the native binding: `run` returns the outputs
 * it computed before returning (no promise, no turn of the event loop), which is what
 * lets an onnxruntime model serve KilnModel's synchronous `predict`.
 */
export class NativeOrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private readonly fetches: Record<string, null>;
  private released = false;

  constructor(
    private readonly session: OrtNativeSession,
    readonly options: OrtSessionOptions,
  ) {
    this.inputNames = session.inputMetadata.map((m) => m.name);
    this.outputNames = session.outputMetadata.map((m) => m.name);
    this.fetches = Object.fromEntries(this.outputNames.map((n) => [n, null]));
  }

  /** Loads `model` (an ONNX file) into a new native session with `options`. */
  static create(native: OrtNativeBinding, model: Uint8Array, options: OrtSessionOptions): NativeOrtSession {
    native.initOrt();
    const session = new native.binding.InferenceSession();
    session.loadModel(model.buffer, model.byteOffset, model.byteLength, options);
    return new NativeOrtSession(session, options);
  }

  run(feeds: Record<string, OrtTensor>): Record<string, OrtTensor> {
    if (this.released) throw new Error('this onnxruntime session has been released');
    return this.session.run(feeds, this.fetches, {});
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.session.dispose();
  }
}

/** Whether `loaded` has the shape of onnxruntime-node's native binding that Kiln runs sessions through. */
export function isNativeBinding(loaded: unknown): loaded is OrtNativeBinding {
  const b = loaded as Partial<OrtNativeBinding> | undefined;
  const Session: unknown = b?.binding?.InferenceSession;
  const prototype = (Session as { prototype?: Partial<OrtNativeSession> } | undefined)?.prototype;
  return (
    typeof b?.initOrt === 'function' &&
    typeof Session === 'function' &&
    typeof prototype?.loadModel === 'function' &&
    typeof prototype.run === 'function'
  );
}
