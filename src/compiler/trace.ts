import * as tf from '@tensorflow/tfjs';
import type { GraphBreak } from './graph-break.js';
import type { GraphValue, KernelGraph, KernelNode, ReturnedSource, ValueId } from './ir.js';
import { STATEFUL_KERNELS } from './passes/common-subexpressions.js';

export interface TraceOptions {
  /** Layers of the traced model, to attribute kernels to the user's layer names. */
  readonly layers?: readonly tf.layers.Layer[];
}

export interface TraceResult {
  /** The recorded graph (also when there are breaks: `explain` shows it). */
  readonly graph: KernelGraph;
  readonly breaks: GraphBreak[];
  /** What the call returned: the traced call ran for real, and its caller owns these. */
  readonly outputs: tf.Tensor | tf.Tensor[];
  /** Constants created during the call without a kernel, in creation order, with their values. */
  readonly createdConstants: readonly { readonly id: ValueId; readonly values: ArrayLike<number> }[];
  /**
   * Tensors that existed before the call (not its inputs, not variables) whose values
   * the call read, directly or through kernels of constants only (a GraphModel's
   * weights, which its executor reads for axes, shapes, paddings...): what was read is
   * baked into the graph (kernel attributes, control flow), so a plan of this trace holds
   * only while each of them is alive with the same data (`staleReadConstant`).
   */
  readonly readConstants: readonly ReadConstant[];
}

/** A tensor from before the call whose value the call read, and its data id then. */
export interface ReadConstant {
  readonly tensor: tf.Tensor;
  readonly dataId: object;
}

/** Why a plan that baked in `readConstants` no longer holds (one was disposed, or holds other data), in words; undefined when it holds. */
export function staleReadConstant(readConstants: readonly ReadConstant[]): string | undefined {
  for (const c of readConstants) {
    const t = c.tensor;
    if (!t.isDisposed && t.dataId === c.dataId) continue;
    const what = `a tensor the trace read as a constant (${t.dtype}[${t.shape.join(', ')}], tensor id ${t.id})`;
    return `${what} was ${t.isDisposed ? 'disposed' : 'given other data'} since the trace, so the values baked into the plan may be stale`;
  }
  return undefined;
}

type Engine = {
  runKernel(name: string, inputs: unknown, attrs: unknown): tf.Tensor | tf.Tensor[];
  makeTensor(...args: unknown[]): tf.Tensor;
  makeVariable(...args: unknown[]): tf.Variable;
};

const READ_METHODS = ['dataSync', 'data', 'array', 'arraySync', 'bufferSync', 'buffer'] as const;
/** How values leave a tensor below the Tensor methods: the engine's and every initialised backend's read methods. */
const BACKEND_READ_METHODS = ['readSync', 'read', 'readToGPU'] as const;

let activeTraces = 0;

/**
 * Whether a trace is recording right now. A compiled function called inside another
 * trace runs its original code instead of its plan, so the outer trace records the
 * real kernels (a direct-kernel plan would be invisible to it).
 */
export function isTracing(): boolean {
  return activeTraces > 0;
}

/**
 * Runs `fn(...inputs)` once for real while recording every top-level
 * `engine.runKernel` call into a kernel graph. Nested kernel calls (a kernel that
 * runs kernels) are left to the outer one. Tensors the call uses are classified as
 * graph inputs, live variables, constants (captured, or created without a kernel,
 * copied and kept), or outputs of earlier nodes. Reading the value of a constant of
 * the call (a tensor from before the call that is neither an input nor a variable, such
 * as a GraphModel weight its executor reads for an axis or a shape; one created without
 * a kernel; or a kernel output computed from those only) is safe to bake in: those from
 * before the call are returned as `readConstants`, for the plan's guard. What makes a
 * replay unsafe is recorded as a break: reading any other value (through a Tensor
 * method, the engine or a backend; the reason names the input, variable or kernel it
 * came from), creating or assigning a variable, a
 * kernel attribute that is not plain data, or a tensor made from a backend result
 * outside `engine.runKernel`.
 *
 * Every patch (engine methods, Tensor and backend read methods, Variable.assign, layers' call)
 * is scoped to this call and restored in `finally`. Written for tfjs 4.22.
 */
export function traceCall(fn: (...inputs: tf.Tensor[]) => unknown, inputs: readonly tf.Tensor[], options: TraceOptions = {}): TraceResult {
  const state = new TraceState(inputs);
  const patches = new Patches();
  let outputs: unknown;
  activeTraces++;
  try {
    patchEngine(state, patches);
    patchTensors(state, patches);
    patchBackendReads(state, patches);
    patchLayers(state, patches, options.layers ?? []);
    outputs = fn(...inputs);
  } finally {
    activeTraces--;
    patches.restoreAll();
  }
  return finishTrace(state, outputs);
}

/** What the patches of one trace share. */
class TraceState {
  readonly breaks: GraphBreak[] = [];
  /** Ids of the tensors made without a kernel during the call (outside recorded kernels). */
  readonly createdInCall = new Set<number>();
  /** Names of the user's layers whose `call` is running, innermost last. */
  readonly layerStack: string[] = [];
  /** Above 0 while a recorded kernel (or a kept copy) runs: the kernels it runs are its own. */
  depth = 0;
  /** Above 0 while a value read that is already reported runs: the reads it makes below (Tensor.dataSync's backend.readSync) are its own. */
  reading = 0;
  /** Tensors from before the call whose values were read as constants, with their data ids then. */
  readonly readConstants = new Map<tf.Tensor, object>();
  readonly builder: GraphBuilder;

  constructor(inputs: readonly tf.Tensor[]) {
    // tensor ids only grow: one below this existed before the call
    const firstIdOfCall = nextTensorId();
    this.builder = new GraphBuilder(
      inputs,
      (t) => this.keepCopy(t),
      (t) => (firstIdOfCall === undefined ? !this.createdInCall.has(t.id) : t.id < firstIdOfCall),
      (t) => this.createdInCall.has(t.id),
    );
  }

  /** Records a break, once per cause and reason. */
  breakOnce(b: GraphBreak): void {
    if (!this.breaks.some((x) => x.cause === b.cause && x.reason === b.reason)) this.breaks.push(b);
  }

  /**
   * Runs a read of values by the user's code (outside recorded kernels and enclosing
   * reads). A read of a constant of the call (see {@link GraphBuilder.originOfRead}) is
   * safe to bake in: the tensors from before the call that it depends on are noted in
   * `readConstants`; a read of anything else is a `value-read` break naming where the
   * value came from (the input, the variable, the kernel that made it).
   */
  read<T>(what: string, target: ReadTarget, run: () => T): T {
    if (this.depth > 0 || this.reading > 0) return run();
    const origin = this.builder.originOfRead(target);
    if (origin.constant) {
      for (const t of origin.sources) if (!this.readConstants.has(t)) this.readConstants.set(t, t.dataId);
    } else {
      this.breakOnce({
        cause: 'value-read',
        reason: `a tensor value was read during the call (${what} of ${origin.what})${callSite()}; the replay could not follow what the code did with it`,
      });
    }
    this.reading++;
    try {
      return run();
    } finally {
      this.reading--;
    }
  }

  /** A kept copy of a constant, made without being recorded (and safe from the caller's tidy). */
  private keepCopy(t: tf.Tensor): tf.Tensor {
    this.depth++;
    try {
      return tf.keep(tf.clone(t));
    } finally {
      this.depth--;
    }
  }
}

/** Replaced methods and how to put each back (own property restored, or the inherited one uncovered). */
class Patches {
  private readonly restores: (() => void)[] = [];

  patch<T extends object, K extends keyof T>(target: T, key: K, make: (original: T[K]) => T[K]): void {
    const hadOwn = Object.prototype.hasOwnProperty.call(target, key);
    const original = target[key];
    target[key] = make(original);
    this.restores.push(() => {
      if (hadOwn) target[key] = original;
      else delete target[key];
    });
  }

  /** Undoes every patch, the last one first. */
  restoreAll(): void {
    for (const restore of this.restores.reverse()) restore();
    this.restores.length = 0;
  }
}

/** runKernel records top-level kernels; makeTensor notes kernel-less tensors; makeVariable and makeTensorFromTensorInfo are breaks. */
function patchEngine(state: TraceState, patches: Patches): void {
  const engine = tf.engine() as unknown as Engine;
  patches.patch(
    engine,
    'runKernel',
    (original) =>
      function (this: Engine, name: string, kernelInputs: unknown, attrs: unknown) {
        if (state.depth > 0) return original.call(this, name, kernelInputs, attrs);
        state.depth++;
        try {
          const out = original.call(this, name, kernelInputs, attrs);
          const problem = nonPlainAttribute(attrs);
          if (problem)
            state.breakOnce({
              cause: 'non-plain-attribute',
              reason: `kernel ${name} has attribute "${problem.key}" that is not plain data (${problem.what}), so it cannot be recorded`,
            });
          state.builder.record(
            name,
            kernelInputs as Record<string, tf.Tensor | undefined>,
            (attrs ?? {}) as Record<string, unknown>,
            out,
            state.layerStack.at(-1),
          );
          return out;
        } finally {
          state.depth--;
        }
      } as Engine['runKernel'],
  );
  patches.patch(
    engine,
    'makeTensor',
    (original) =>
      function (this: Engine, ...args: unknown[]) {
        const t = original.apply(this, args);
        if (state.depth === 0) state.createdInCall.add(t.id);
        return t;
      } as Engine['makeTensor'],
  );
  patches.patch(
    engine,
    'makeVariable',
    (original) =>
      function (this: Engine, ...args: unknown[]) {
        state.breakOnce({
          cause: 'variable-created',
          reason: `a variable was created inside the call (tf.variable, or a layer building its weights on first use)${callSite()}; build the model before compiling`,
        });
        return original.apply(this, args);
      } as Engine['makeVariable'],
  );
  patches.patch(
    engine as unknown as { makeTensorFromTensorInfo: (...a: unknown[]) => tf.Tensor },
    'makeTensorFromTensorInfo',
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        if (state.depth === 0)
          state.breakOnce({
            cause: 'untraced-kernel',
            reason: `a tensor was made from a backend result outside engine.runKernel${callSite()} (a direct backend kernel call), which a trace cannot see`,
          });
        return original.apply(this, args);
      },
  );
}

/** Variable.assign and reading a tensor's values (outside recorded kernels) are breaks. */
function patchTensors(state: TraceState, patches: Patches): void {
  const variableProto = tf.Variable.prototype as unknown as { assign(v: tf.Tensor): void };
  patches.patch(
    variableProto,
    'assign',
    (original) =>
      function (this: tf.Variable, value: tf.Tensor) {
        state.breakOnce({
          cause: 'variable-assigned',
          reason: `Variable.assign on "${this.name}" during the call${callSite()} (e.g. BatchNormalization updating its moving statistics in training); a replay would skip it`,
        });
        return original.call(this, value);
      },
  );
  const tensorProto = tf.Tensor.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const method of READ_METHODS) {
    patches.patch(
      tensorProto,
      method,
      (original) =>
        function (this: tf.Tensor, ...args: unknown[]) {
          return state.read(`${method}()`, { tensor: this }, () => original.apply(this, args));
        },
    );
  }
}

/**
 * Reading values below the Tensor methods is a break too: `tf.engine().readSync(dataId)`,
 * and `readSync`/`read`/`readToGPU` on any initialised backend (`tf.engine().backend`,
 * `tf.backend()`, `tf.findBackend(name)`). Kernels that read their inputs this way
 * (the cpu backend's Tile, Gather, ...) run inside a recorded kernel, and are theirs.
 */
function patchBackendReads(state: TraceState, patches: Patches): void {
  const engine = tf.engine() as unknown as Record<string, unknown> & { registry: Record<string, object> };
  const targets: [string, Record<string, unknown>][] = [['tf.engine()', engine]];
  for (const backend of new Set(Object.values(engine.registry ?? {}))) targets.push(['backend', backend as Record<string, unknown>]);
  for (const [owner, target] of targets) {
    for (const method of BACKEND_READ_METHODS) {
      if (typeof target[method] !== 'function') continue;
      patches.patch(
        target as Record<string, (...a: unknown[]) => unknown>,
        method,
        (original) =>
          function (this: unknown, ...args: unknown[]) {
            return state.read(`${owner}.${method}()`, { dataId: args[0] }, () => original.apply(this, args));
          },
      );
    }
  }
}

/** Each layer's `call` names the kernels it runs after the layer. */
function patchLayers(state: TraceState, patches: Patches, layers: readonly tf.layers.Layer[]): void {
  for (const layer of layers) {
    const l = layer as unknown as { call: (...a: unknown[]) => unknown; name: string };
    patches.patch(
      l,
      'call',
      (original) =>
        function (this: unknown, ...args: unknown[]) {
          state.layerStack.push(l.name);
          try {
            return original.apply(this, args);
          } finally {
            state.layerStack.pop();
          }
        },
    );
  }
}

/** The graph of what the call returned (a tensor or a list of tensors, else a TypeError), and the constants it created. */
function finishTrace(state: TraceState, outputs: unknown): TraceResult {
  const list = Array.isArray(outputs) ? outputs : [outputs];
  if (list.length === 0 || !list.every((o) => o instanceof tf.Tensor)) {
    throw new TypeError(`a compiled function must return a tensor or an array of tensors (got ${describe(outputs)})`);
  }
  const graph = state.builder.finish(list as tf.Tensor[], Array.isArray(outputs), state.createdInCall);
  const createdConstants = state.builder
    .constantsFrom(state.createdInCall)
    .map((id) => ({ id, values: graph.values.get(id)!.constant!.dataSync() as ArrayLike<number> }));
  const readConstants = [...state.readConstants].map(([tensor, dataId]) => ({ tensor, dataId }));
  return { graph, breaks: state.breaks, outputs: outputs as tf.Tensor | tf.Tensor[], createdConstants, readConstants };
}

/** What a value read reads: a tensor (Tensor.dataSync and co.), or a backend buffer (backend.readSync(dataId)). */
type ReadTarget = { readonly tensor: tf.Tensor } | { readonly dataId: unknown };

/** Where a read value comes from: a constant of the call (and the tensors from before the call it depends on), or what it depends on, in words. */
type ReadOrigin = { readonly constant: true; readonly sources: readonly tf.Tensor[] } | { readonly constant: false; readonly what: string };

/** A tensor neither from before the call, nor made by a recorded kernel, nor created without a kernel: where its values came from is unknown. */
const MADE_OUTSIDE = 'a tensor made during the call outside any recorded kernel';

/** The engine's next tensor id (tfjs 4.22 keeps it on the Engine class), or undefined where it is not there to see. */
function nextTensorId(): number | undefined {
  const next = (tf.engine().constructor as { nextTensorId?: unknown }).nextTensorId;
  return typeof next === 'number' ? next : undefined;
}

/** Accumulates values and nodes while a call runs. */
class GraphBuilder {
  private readonly values = new Map<ValueId, GraphValue>();
  private readonly nodes: KernelNode[] = [];
  private readonly byTensorId = new Map<number, ValueId>();
  private readonly constantTensorIds = new Map<ValueId, number>();
  /** For constants: the tensor the call used (the graph holds a kept copy). */
  private readonly constantSources = new Map<ValueId, tf.Tensor>();
  /** What a value depends on that makes it no constant ("input 0", 'variable "w"', "the random kernel RandomUniform"); absent for constants and values computed from constants only. */
  private readonly dependsOn = new Map<ValueId, string>();
  /** The value whose tensor holds each backend buffer (one that depends on the call's inputs or state, where several share it). */
  private readonly byDataId = new Map<unknown, ValueId>();
  private readonly inputIds: ValueId[] = [];

  constructor(
    inputs: readonly tf.Tensor[],
    private readonly keepCopy: (t: tf.Tensor) => tf.Tensor,
    /** Whether a tensor existed before the call. */
    private readonly fromBefore: (t: tf.Tensor) => boolean,
    /** Whether a tensor was created during the call without a kernel. */
    private readonly createdInCall: (t: tf.Tensor) => boolean,
  ) {
    inputs.forEach((t, i) => {
      const id = this.add({ kind: 'input', shape: t.shape, dtype: t.dtype, inputIndex: i });
      this.byTensorId.set(t.id, id);
      this.inputIds.push(id);
      this.dependsOn.set(id, `input ${i}`);
      this.noteDataId(t, id);
    });
  }

  /**
   * Where a value read during the call comes from. A constant of the call: a tensor
   * from before the call that is neither an input nor a variable (a GraphModel's weight,
   * a captured tensor), a tensor created during the call without a kernel (its values are
   * compared with a second trace's, as every such tensor's), or a kernel's output computed
   * from those only, by kernels that draw no random values. Anything else depends on an
   * input, a variable or a random draw, and its description names the kernel that made it.
   * A backend buffer is looked up among the values' tensors; one that none holds is no constant.
   */
  originOfRead(target: ReadTarget): ReadOrigin {
    if ('dataId' in target) {
      const id = this.byDataId.get(target.dataId);
      return id === undefined ? { constant: false, what: 'a backend buffer that no tensor the trace saw holds' } : this.originOfValue(id);
    }
    const t = target.tensor;
    const known = this.byTensorId.get(t.id);
    if (known !== undefined) return this.originOfValue(known);
    if (t instanceof tf.Variable) return { constant: false, what: `variable "${t.name}"` };
    if (this.createdInCall(t)) {
      // a graph value, so that the second trace compares its values too
      this.resolve(t);
      return { constant: true, sources: [] };
    }
    if (this.fromBefore(t)) return { constant: true, sources: [t] };
    return { constant: false, what: MADE_OUTSIDE };
  }

  private originOfValue(id: ValueId): ReadOrigin {
    const value = this.values.get(id)!;
    const dependence = this.dependsOn.get(id);
    if (value.kind === 'input' || value.kind === 'variable') return { constant: false, what: dependence! };
    if (value.kind === 'intermediate') {
      const node = this.nodes[value.producer!]!;
      const made = `the output of kernel ${node.kernel}${node.layer ? ` (layer ${node.layer})` : ''}`;
      if (dependence === undefined) return { constant: true, sources: this.sourcesOf(id) };
      if (dependence === `the random kernel ${node.kernel}` && STATEFUL_KERNELS.has(node.kernel))
        return { constant: false, what: `${made}, which draws random values` };
      return { constant: false, what: `${made}, which depends on ${dependence}` };
    }
    const source = this.constantSources.get(id);
    if (source && !this.fromBefore(source) && !this.createdInCall(source)) return { constant: false, what: MADE_OUTSIDE };
    return { constant: true, sources: this.sourcesOf(id) };
  }

  /** The tensors from before the call that a constant value was computed from. */
  private sourcesOf(id: ValueId): tf.Tensor[] {
    const sources = new Set<tf.Tensor>();
    const seen = new Set<ValueId>();
    const stack = [id];
    while (stack.length) {
      const v = stack.pop()!;
      if (seen.has(v)) continue;
      seen.add(v);
      const value = this.values.get(v)!;
      if (value.kind === 'intermediate') stack.push(...Object.values(this.nodes[value.producer!]!.inputs));
      const source = this.constantSources.get(v);
      if (source && this.fromBefore(source)) sources.add(source);
    }
    return [...sources];
  }

  /** Notes which value a tensor's backend buffer belongs to, preferring one that is no constant where several share it. */
  private noteDataId(t: tf.Tensor, id: ValueId): void {
    const previous = this.byDataId.get(t.dataId);
    if (previous === undefined || (!this.dependsOn.has(previous) && this.dependsOn.has(id))) this.byDataId.set(t.dataId, id);
  }

  record(
    kernel: string,
    inputs: Record<string, tf.Tensor | undefined> | tf.Tensor[],
    attrs: Record<string, unknown>,
    out: tf.Tensor | tf.Tensor[],
    layer: string | undefined,
  ): void {
    const positional = Array.isArray(inputs);
    const resolved: Record<string, ValueId> = {};
    for (const [name, t] of Object.entries(inputs ?? {})) {
      if (t == null) continue; // tf.layers passes bias: undefined; replaying it would crash the tape
      resolved[name] = this.resolve(t);
    }
    const outs = Array.isArray(out) ? out : [out];
    const id = this.nodes.length;
    const dependence = STATEFUL_KERNELS.has(kernel)
      ? `the random kernel ${kernel}`
      : Object.values(resolved)
          .map((v) => this.dependsOn.get(v))
          .find((d) => d !== undefined);
    const outputIds = outs.map((t) => {
      const vid = this.add({ kind: 'intermediate', shape: t.shape, dtype: t.dtype, producer: id });
      this.byTensorId.set(t.id, vid);
      if (dependence !== undefined) this.dependsOn.set(vid, dependence);
      this.noteDataId(t, vid);
      return vid;
    });
    this.nodes.push({
      id,
      kernel,
      inputs: resolved,
      positional,
      attrs: copyAttrs(attrs),
      outputs: outputIds,
      returnsList: Array.isArray(out),
      layer,
    });
  }

  /** The graph; an output that is an input, a variable or a tensor captured from outside the call is recorded as returned as it was. */
  finish(outputs: tf.Tensor[], outputIsList: boolean, createdInCall: ReadonlySet<number>): KernelGraph {
    const outputIds = outputs.map((t) => this.resolve(t));
    const returned = outputs.map((t, k): ReturnedSource | undefined => {
      const value = this.values.get(outputIds[k]!)!;
      if (value.kind === 'input') return { input: value.inputIndex! };
      if (value.kind === 'variable' || (value.kind === 'constant' && !createdInCall.has(t.id))) return { tensor: t };
      return undefined;
    });
    return { values: this.values, nodes: this.nodes, inputs: this.inputIds, outputs: outputIds, outputIsList, returned };
  }

  /** Constant values whose source tensors were created during the call (in creation order). */
  constantsFrom(tensorIds: ReadonlySet<number>): ValueId[] {
    return [...this.constantTensorIds.entries()].filter(([, tid]) => tensorIds.has(tid)).map(([vid]) => vid);
  }

  resolve(t: tf.Tensor): ValueId {
    const known = this.byTensorId.get(t.id);
    if (known !== undefined) return known;
    let id: ValueId;
    if (t instanceof tf.Variable) {
      id = this.add({ kind: 'variable', shape: t.shape, dtype: t.dtype, variable: t });
      this.dependsOn.set(id, `variable "${t.name}"`);
    } else {
      id = this.add({ kind: 'constant', shape: t.shape, dtype: t.dtype, constant: this.keepCopy(t) });
      this.constantTensorIds.set(id, t.id);
      this.constantSources.set(id, t);
    }
    this.byTensorId.set(t.id, id);
    this.noteDataId(t, id);
    return id;
  }

  private add(value: Omit<GraphValue, 'id'>): ValueId {
    const id = this.values.size;
    this.values.set(id, { ...value, id, shape: [...value.shape] });
    return id;
  }
}

function copyAttrs(attrs: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attrs)) copy[k] = Array.isArray(v) ? deepCopyArray(v) : v;
  return copy;
}

function deepCopyArray(a: unknown[]): unknown[] {
  return a.map((x) => (Array.isArray(x) ? deepCopyArray(x) : x));
}

function nonPlainAttribute(attrs: unknown): { key: string; what: string } | undefined {
  if (attrs == null || typeof attrs !== 'object') return undefined;
  const check = (v: unknown): string | undefined => {
    if (v == null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return undefined;
    if (Array.isArray(v)) return v.map(check).find((x) => x);
    if (v instanceof tf.Tensor) return 'a tensor';
    if (typeof v === 'function') return 'a function';
    if (ArrayBuffer.isView(v)) return undefined;
    return typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype
      ? Object.values(v as object)
          .map(check)
          .find((x) => x)
      : `a ${(v as object).constructor?.name ?? typeof v}`;
  };
  for (const [key, v] of Object.entries(attrs)) {
    const what = check(v);
    if (what) return { key, what };
  }
  return undefined;
}

/** " at file:line" of the first caller outside tf.js and Kiln's graph code, for break reasons. */
function callSite(): string {
  const lines = (new Error().stack ?? '').split('\n').slice(2);
  const user = lines.find((l) => !l.includes('@tensorflow') && !l.includes('/src/compiler/') && !l.includes('node:internal'));
  const match = user?.match(/\(?([^()\s]+:\d+):\d+\)?$/);
  return match ? ` at ${match[1]}` : '';
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length} item(s)`;
  return v === null ? 'null' : typeof v;
}
