import * as tf from '@tensorflow/tfjs';
import { onnx } from 'onnx-proto';
import { valueTensor, type GraphValue, type KernelGraph, type KernelNode, type ValueId } from '../compiler/ir.js';
import { attr } from './onnx-attributes.js';
import { onnxDataType } from './onnx-dtype.js';
import { conversion, identity, normalise, permuteShape, type Perm } from './layout.js';
import { UnsupportedKernelError } from './unsupported-kernel-error.js';
import { chooseWeightStorage, storedBytes, type WeightStorage, type WeightStorageSummary } from './weight-storage.js';

/** A graph value as the ONNX graph holds it: its ONNX name and its layout (see layout.ts). */
export interface LoweredValue {
  readonly name: string;
  readonly perm: Perm;
}

/**
 * What the kernel lowerings share while one kernel graph becomes one ONNX graph: the
 * nodes and initializers emitted so far, each graph value's ONNX name and layout, and
 * the layout conversions already made (one Transpose per value and layout at most).
 * Weights (variables, constants, folded values) become initializers, read once here.
 */
export class LoweringContext {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  /** Transposes inserted to change a value's layout (not those the model itself runs). */
  layoutTransposes = 0;
  /** The float32 weights written, by how they are stored (see weight-storage.ts). */
  readonly weightStorage: WeightStorageSummary = {
    float32: { count: 0, bytes: 0 },
    float16: { count: 0, bytes: 0 },
    uint8: { count: 0, bytes: 0 },
  };
  private readonly lowered = new Map<ValueId, LoweredValue>();
  private readonly inLayouts = new Map<string, string>();
  private readonly used = new Set<string>();
  /** The kernel being lowered, for the names of what it emits. */
  private current: KernelNode | undefined;

  /** Weights the lowerings computed (folded BatchNorm factors), as extra graph values. */
  private readonly extra = new Map<ValueId, GraphValue>();

  /**
   * @param compressWeights whether float32 weights on a float16 or uint8 grid are stored
   *   at that type and decoded by nodes (see weight-storage.ts); else every weight is float32.
   */
  constructor(
    readonly graph: KernelGraph,
    private readonly compressWeights = true,
  ) {}

  /**
   * A copy of `t` as a new weight of the graph, for lowerings that compute weights
   * (freed by `dispose`).
   */
  addWeight(t: tf.Tensor): ValueId {
    let id = this.graph.values.size + this.extra.size;
    while (this.graph.values.has(id) || this.extra.has(id)) id++;
    this.extra.set(id, { id, kind: 'constant', shape: [...t.shape], dtype: t.dtype, constant: tf.keep(t.clone()) });
    return id;
  }

  /** Frees the weights the lowerings computed. */
  dispose(): void {
    for (const v of this.extra.values()) v.constant?.dispose();
    this.extra.clear();
  }

  value(id: ValueId): GraphValue {
    const v = this.graph.values.get(id) ?? this.extra.get(id);
    if (!v) throw new Error(`value ${id} is not in the kernel graph`);
    return v;
  }

  shape(id: ValueId): readonly number[] {
    return this.value(id).shape;
  }

  rank(id: ValueId): number {
    return this.value(id).shape.length;
  }

  /** How many elements `id` has. */
  size(id: ValueId): number {
    return this.value(id).shape.reduce((a, b) => a * b, 1);
  }

  /** The tensor a weight holds now (variables, constants and folded values); undefined for inputs and intermediates. */
  constant(id: ValueId): tf.Tensor | undefined {
    const v = this.value(id);
    return v.kind === 'input' || v.kind === 'intermediate' ? undefined : valueTensor(v, []);
  }

  /** The values of a weight, or undefined when `id` is not one. */
  constantValues(id: ValueId): number[] | undefined {
    const t = this.constant(id);
    return t && Array.from(t.dataSync() as ArrayLike<number>);
  }

  /** The error that a lowering throws for a use of its kernel it does not cover. */
  unsupported(node: KernelNode, detail: string): UnsupportedKernelError {
    return new UnsupportedKernelError(node.kernel, detail, node.layer);
  }

  /** Runs `lower` for `node`, with the node's name on what it emits. */
  within(node: KernelNode, lower: () => void): void {
    this.current = node;
    try {
      lower();
    } finally {
      this.current = undefined;
    }
  }

  /** Records that graph value `id` is the ONNX value `name`, held in layout `perm`. */
  define(id: ValueId, name: string, perm: Perm = undefined): void {
    this.lowered.set(id, { name, perm: normalise(perm) });
  }

  /** The ONNX value of `id` in the layout it is held in (a weight becomes an initializer, in the tf.js layout). */
  get(id: ValueId): LoweredValue {
    const known = this.lowered.get(id);
    if (known) return known;
    const t = this.constant(id);
    if (!t) throw new Error(`value ${id} (${this.value(id).kind}) is used before a kernel produced it`);
    const name = this.initializer(t, `w${id}`);
    this.define(id, name);
    return this.lowered.get(id)!;
  }

  /** The layout `id` is held in (a weight: the tf.js layout, though any other is computed for it at lowering time). */
  layoutOf(id: ValueId): Perm {
    return this.isWeight(id) ? undefined : this.get(id).perm;
  }

  isWeight(id: ValueId): boolean {
    const kind = this.value(id).kind;
    return kind === 'variable' || kind === 'constant' || kind === 'folded';
  }

  /** The ONNX name of `id` held in layout `perm` (a weight is transposed here, anything else by one Transpose node per layout). */
  inLayout(id: ValueId, perm: Perm): string {
    const want = normalise(perm);
    const rank = this.rank(id);
    if (want !== undefined && want.length !== rank) throw new Error(`layout [${want.join(', ')}] asked of a rank-${rank} value`);
    const key = `${id}|${want?.join(',') ?? ''}`;
    const cached = this.inLayouts.get(key);
    if (cached) return cached;
    let name: string;
    const t = this.isWeight(id) ? this.constant(id)! : undefined;
    const held = t ? undefined : this.get(id);
    if (held && (held.perm?.join(',') ?? '') === (want?.join(',') ?? '')) return held.name;
    if (t) {
      name = want === undefined ? this.get(id).name : this.computedInitializer(() => tf.transpose(t, [...want]), `w${id}_t`);
    } else {
      name = this.emit('Transpose', [held!.name], [attr.ints('perm', conversion(held!.perm, want, rank))])[0]!;
      this.layoutTransposes++;
    }
    this.inLayouts.set(key, name);
    return name;
  }

  /**
   * `id` broadcast to rank `rank` (leading axes of 1, as numpy broadcasting lines up
   * shapes from the last axis) and held in layout `perm`: how an operand of lower rank
   * meets one held in another layout.
   */
  broadcastIn(id: ValueId, rank: number, perm: Perm): string {
    const shape = this.shape(id);
    if (shape.length === rank) return this.inLayout(id, perm);
    if (normalise(perm) === undefined) return this.inLayout(id, undefined);
    const full = [...new Array<number>(rank - shape.length).fill(1), ...shape];
    const t = this.isWeight(id) ? this.constant(id) : undefined;
    if (t) return this.computedInitializer(() => tf.transpose(tf.reshape(t, full), [...perm!]), `w${id}_b`);
    // reshaping to more leading 1s and transposing to `perm` is one Reshape straight to the
    // permuted shape when the axes that are not 1 keep their order; otherwise both
    const nonUnit = identity(rank).filter((a) => full[a] !== 1);
    const order = perm!.filter((a) => nonUnit.includes(a));
    if (order.every((a, i) => a === nonUnit[i]))
      return this.emit('Reshape', [this.inLayout(id, undefined), this.int64(permuteShape(full, perm))])[0]!;
    const plain = this.emit('Reshape', [this.inLayout(id, undefined), this.int64(full)])[0]!;
    this.layoutTransposes++;
    return this.emit('Transpose', [plain], [attr.ints('perm', [...perm!])])[0]!;
  }

  /** Emits one ONNX node; returns its output names (fresh unless given). */
  emit(
    opType: string,
    inputs: readonly string[],
    attributes: onnx.IAttributeProto[] = [],
    outputs: number | readonly string[] = 1,
  ): string[] {
    const names = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase())) : [...outputs];
    this.nodes.push({
      opType,
      input: [...inputs],
      output: names,
      attribute: attributes,
      name: this.fresh(`${this.current ? `${this.current.kernel}_${this.current.id}` : 'io'}_${opType}`),
    });
    return names;
  }

  /** Emits `opType` for the kernel output `id`, named after it, and defines it in layout `perm`. */
  emitFor(id: ValueId, opType: string, inputs: readonly string[], attributes: onnx.IAttributeProto[] = [], perm: Perm = undefined): string {
    const [name] = this.emit(opType, inputs, attributes, [this.fresh(`v${id}`)]);
    this.define(id, name!, perm);
    return name!;
  }

  /** An initializer holding the values that `compute` makes from weights (freed once read). */
  computedInitializer(compute: () => tf.Tensor, prefix: string): string {
    const t = tf.tidy(compute);
    try {
      return this.initializer(t, prefix);
    } finally {
      t.dispose();
    }
  }

  /**
   * An ONNX value holding the values of `t`: an initializer, or, for a float32 weight on
   * a float16 or uint8 grid (when compressing), an initializer of that type and the nodes
   * that decode it to float32.
   */
  initializer(t: tf.Tensor, prefix: string): string {
    const type = onnxDataType(t.dtype);
    if (type === undefined) throw new Error(`a ${t.dtype} weight cannot be stored in ONNX by Kiln`);
    const values = t.dataSync() as Float32Array | Int32Array | Uint8Array;
    if (values instanceof Float32Array) {
      const storage = this.compressWeights ? chooseWeightStorage(values) : ({ kind: 'float32' } as const);
      const summary = this.weightStorage[storage.kind];
      summary.count++;
      summary.bytes += storedBytes(storage, values.length);
      if (storage.kind !== 'float32') return this.storedAs(storage, t.shape, prefix);
    }
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
    const name = this.fresh(prefix);
    this.initializers.push({ name, dataType: type, dims: [...t.shape], rawData: bytes });
    return name;
  }

  /** A float32 weight stored as float16 bits or uint8 codes, and the nodes that decode it. */
  private storedAs(storage: Exclude<WeightStorage, { kind: 'float32' }>, shape: readonly number[], prefix: string): string {
    const stored = this.fresh(`${prefix}_${storage.kind}`);
    const data = storage.kind === 'float16' ? storage.bits : storage.codes;
    this.initializers.push({
      name: stored,
      dataType: storage.kind === 'float16' ? onnx.TensorProto.DataType.FLOAT16 : onnx.TensorProto.DataType.UINT8,
      dims: [...shape],
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice(),
    });
    const to = [attr.int('to', onnx.TensorProto.DataType.FLOAT)];
    if (storage.kind === 'float16') return this.emit('Cast', [stored], to, [this.fresh(prefix)])[0]!;
    const [floats] = this.emit('Cast', [stored], to, [this.fresh(`${prefix}_codes`)]);
    const [scaled] = this.emit('Mul', [floats!, this.float(storage.scale)], [], [this.fresh(`${prefix}_scaled`)]);
    if (storage.offset === 0) return scaled!;
    return this.emit('Add', [scaled!, this.float(storage.offset)], [], [this.fresh(prefix)])[0]!;
  }

  /** A 1-D int64 initializer (shapes, axes, pads), or a scalar when `scalar`. */
  int64(values: readonly number[], scalar = false): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    const name = this.fresh('i64');
    this.initializers.push({
      name,
      dataType: onnx.TensorProto.DataType.INT64,
      dims: scalar ? [] : [values.length],
      rawData: new Uint8Array(data.buffer),
    });
    return name;
  }

  /** A 1-D float32 initializer. */
  floats(values: readonly number[]): string {
    const name = this.fresh('f32');
    this.initializers.push({
      name,
      dataType: onnx.TensorProto.DataType.FLOAT,
      dims: [values.length],
      rawData: new Uint8Array(Float32Array.from(values).buffer),
    });
    return name;
  }

  /** A float32 scalar initializer. */
  float(value: number): string {
    const name = this.fresh('f32');
    this.initializers.push({
      name,
      dataType: onnx.TensorProto.DataType.FLOAT,
      dims: [],
      rawData: new Uint8Array(Float32Array.of(value).buffer),
    });
    return name;
  }

  /** A name no other ONNX value has. */
  fresh(prefix: string): string {
    const base = prefix.replace(/[^A-Za-z0-9_]/g, '_');
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Reserves a name given from outside (graph inputs and outputs). */
  reserve(name: string): void {
    if (this.used.has(name)) throw new Error(`two ONNX values named "${name}"`);
    this.used.add(name);
  }
}
