/**
 * A small editable view over the Keras JSON topology of a functional tfjs model
 * (`class_name: 'Model'`): layers with their configs and inbound nodes, the model's
 * inputs and outputs, who reads whose output, and the structural edits the rewrite
 * rules need: remove a single-input layer and rewire everything that read its output
 * to read its input instead; replace a weightless layer by another; insert a layer
 * after another and rewire that layer's readers to it.
 *
 * JSON shapes (tfjs-layers 4.22 `model.toJSON()`):
 * - a layer: `{ name, class_name, config, inbound_nodes }`;
 * - `inbound_nodes`: one entry per call of the layer in this model, each a list of
 *   input references `[layerName, nodeIndex, tensorIndex, kwargs]`;
 * - `input_layers` / `output_layers`: `[layerName, nodeIndex, tensorIndex]`.
 *
 * Node indices are kept exactly as tfjs wrote them (a nested model's call is node 1,
 * for example); the view never renumbers anything.
 */

export type JsonDict = Record<string, unknown>;

/** One input of a layer call, or one model input/output: `[layer, nodeIndex, tensorIndex]`. */
export interface TensorRef {
  readonly layer: string;
  readonly nodeIndex: number;
  readonly tensorIndex: number;
  /** The call's keyword arguments (only on inbound-node references; `{}` when none). */
  readonly kwargs: JsonDict;
}

/** A layer of the graph. `config` and `inboundNodes` are edited in place by the rules. */
export interface GraphLayer {
  readonly name: string;
  readonly className: string;
  config: JsonDict;
  /** One entry per call of the layer in this model; each is the list of that call's inputs. */
  inboundNodes: TensorRef[][];
  /** The layer's JSON entry, for keys the view does not model (written back unchanged). */
  readonly raw: JsonDict;
}

/** A place that reads a layer's output: input `input` of call `node` of `layer`, or model output `output`. */
export type OutputUse =
  | { readonly kind: 'layer'; readonly layer: string; readonly node: number; readonly input: number }
  | { readonly kind: 'model-output'; readonly output: number };

/** The Keras JSON is not a functional model this view understands. */
export class TopologyFormatError extends Error {
  override readonly name = 'TopologyFormatError';
}

function isRecord(value: unknown): value is JsonDict {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function parseRef(value: unknown, where: string): TensorRef {
  if (
    !Array.isArray(value) ||
    value.length < 3 ||
    typeof value[0] !== 'string' ||
    !Number.isInteger(value[1]) ||
    !Number.isInteger(value[2])
  ) {
    throw new TopologyFormatError(`${where}: expected [layerName, nodeIndex, tensorIndex, kwargs?], got ${JSON.stringify(value)}`);
  }
  const kwargs = value[3] === undefined || value[3] === null ? {} : value[3];
  if (!isRecord(kwargs)) throw new TopologyFormatError(`${where}: call kwargs must be an object, got ${JSON.stringify(value[3])}`);
  return { layer: value[0], nodeIndex: value[1] as number, tensorIndex: value[2] as number, kwargs };
}

function parseRefList(value: unknown, where: string): TensorRef[] {
  if (!Array.isArray(value)) throw new TopologyFormatError(`${where}: expected a list, got ${JSON.stringify(value)}`);
  return value.map((ref, i) => parseRef(ref, `${where}[${i}]`));
}

const deepCopy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export class LayerGraph {
  private constructor(
    private readonly root: JsonDict,
    private readonly modelConfig: JsonDict,
    private layerList: GraphLayer[],
    private inputs: TensorRef[],
    private outputs: TensorRef[],
  ) {}

  /**
   * Parses a functional-model topology (`{ class_name: 'Model' | 'Functional', config: { layers, input_layers, output_layers } }`).
   * The topology is deep-copied: edits never reach the caller's object.
   *
   * @throws TopologyFormatError for a Sequential (convert it first) or malformed JSON.
   */
  static fromTopology(topology: unknown): LayerGraph {
    if (!isRecord(topology)) throw new TopologyFormatError('model topology is not a JSON object');
    const root = deepCopy(topology);
    const className = root.class_name;
    if (className !== 'Model' && className !== 'Functional') {
      throw new TopologyFormatError(`expected a functional model topology (class_name 'Model'), got ${JSON.stringify(className)}`);
    }
    const config = root.config;
    if (!isRecord(config) || !Array.isArray(config.layers)) throw new TopologyFormatError('model topology has no config.layers list');
    const seen = new Set<string>();
    const layers = config.layers.map((entry: unknown, i): GraphLayer => {
      if (!isRecord(entry) || typeof entry.class_name !== 'string' || !isRecord(entry.config)) {
        throw new TopologyFormatError(`layer ${i} is not { name, class_name, config, inbound_nodes }`);
      }
      const name = typeof entry.name === 'string' ? entry.name : (entry.config as JsonDict).name;
      if (typeof name !== 'string') throw new TopologyFormatError(`layer ${i} (${entry.class_name}) has no name`);
      if (seen.has(name)) throw new TopologyFormatError(`layer name ${JSON.stringify(name)} appears twice`);
      seen.add(name);
      const nodes = entry.inbound_nodes ?? [];
      if (!Array.isArray(nodes)) throw new TopologyFormatError(`layer ${name}: inbound_nodes is not a list`);
      return {
        name,
        className: entry.class_name,
        config: entry.config as JsonDict,
        inboundNodes: nodes.map((node, n) => parseRefList(node, `layer ${name} inbound node ${n}`)),
        raw: entry,
      };
    });
    const inputs = parseRefList(config.input_layers, 'input_layers');
    const outputs = parseRefList(config.output_layers, 'output_layers');
    for (const ref of [...inputs, ...outputs, ...layers.flatMap((l) => l.inboundNodes.flat())]) {
      if (!seen.has(ref.layer)) throw new TopologyFormatError(`reference to unknown layer ${JSON.stringify(ref.layer)}`);
    }
    return new LayerGraph(root, config, layers, inputs, outputs);
  }

  /** The layers, in topology order. */
  layers(): readonly GraphLayer[] {
    return this.layerList;
  }

  get size(): number {
    return this.layerList.length;
  }

  get(name: string): GraphLayer | undefined {
    return this.layerList.find((l) => l.name === name);
  }

  /** The model outputs (`output_layers`). */
  modelOutputs(): readonly TensorRef[] {
    return this.outputs;
  }

  /** The model inputs (`input_layers`). */
  modelInputs(): readonly TensorRef[] {
    return this.inputs;
  }

  /** Every place that reads an output of layer `name`: layer inputs and model outputs. */
  usesOf(name: string): OutputUse[] {
    const uses: OutputUse[] = [];
    for (const layer of this.layerList) {
      layer.inboundNodes.forEach((node, n) =>
        node.forEach((ref, i) => {
          if (ref.layer === name) uses.push({ kind: 'layer', layer: layer.name, node: n, input: i });
        }),
      );
    }
    this.outputs.forEach((ref, o) => {
      if (ref.layer === name) uses.push({ kind: 'model-output', output: o });
    });
    return uses;
  }

  /**
   * Removes layer `name`, which must have exactly one call with exactly one input, and
   * makes every reader of its output read that input instead (a layer input keeps its
   * own call kwargs; a model output keeps its position).
   */
  removeAndBypass(name: string): void {
    const layer = this.get(name);
    if (!layer) throw new Error(`LayerGraph: no layer ${name}`);
    if (layer.inboundNodes.length !== 1 || layer.inboundNodes[0]!.length !== 1) {
      throw new Error(`LayerGraph: ${name} must have exactly one call with one input to be bypassed`);
    }
    const source = layer.inboundNodes[0]![0]!;
    const bypass = (ref: TensorRef): TensorRef =>
      ref.layer === name ? { layer: source.layer, nodeIndex: source.nodeIndex, tensorIndex: source.tensorIndex, kwargs: ref.kwargs } : ref;
    this.layerList = this.layerList.filter((l) => l !== layer);
    for (const other of this.layerList) other.inboundNodes = other.inboundNodes.map((node) => node.map(bypass));
    this.outputs = this.outputs.map(bypass);
  }

  /**
   * Replaces layer `name` by a layer of class `className` with `config` (its name is kept,
   * and so are its calls and every reader of its output). For a weightless layer only: the
   * weights of the layer replaced are not touched.
   */
  replaceLayer(name: string, className: string, config: JsonDict): void {
    const index = this.layerList.findIndex((l) => l.name === name);
    if (index < 0) throw new Error(`LayerGraph: no layer ${name}`);
    const old = this.layerList[index]!;
    this.layerList[index] = { name, className, config: { ...config, name }, inboundNodes: old.inboundNodes, raw: { name } };
  }

  /**
   * Inserts a new single-input layer right after layer `after`, which must be called once:
   * the new layer reads output 0 of that call, and every reader of that output (other
   * layers, model outputs) reads the new layer instead.
   *
   * @throws Error when `after` is missing or shared, or the name is taken.
   */
  insertAfter(after: string, layer: { name: string; className: string; config: JsonDict }): void {
    const index = this.layerList.findIndex((l) => l.name === after);
    if (index < 0) throw new Error(`LayerGraph: no layer ${after}`);
    if (this.layerList[index]!.inboundNodes.length > 1) throw new Error(`LayerGraph: ${after} is a shared layer; cannot insert after it`);
    if (this.get(layer.name)) throw new Error(`LayerGraph: layer name ${layer.name} is taken`);
    // `after` is called once, so every reference to its output 0 names that one call; its
    // node index is whatever tfjs numbered it (1 for a nested model's call, for example).
    const reads = (ref: TensorRef) => ref.layer === after && ref.tensorIndex === 0;
    const use = [...this.layerList.flatMap((l) => l.inboundNodes.flat()), ...this.outputs].find(reads);
    const nodeIndex = use?.nodeIndex ?? 0;
    const redirect = (ref: TensorRef): TensorRef => (reads(ref) ? { ...ref, layer: layer.name, nodeIndex: 0 } : ref);
    for (const other of this.layerList) other.inboundNodes = other.inboundNodes.map((node) => node.map(redirect));
    this.outputs = this.outputs.map(redirect);
    const inserted: GraphLayer = {
      name: layer.name,
      className: layer.className,
      config: { ...layer.config, name: layer.name },
      inboundNodes: [[{ layer: after, nodeIndex, tensorIndex: 0, kwargs: {} }]],
      raw: { name: layer.name },
    };
    this.layerList.splice(index + 1, 0, inserted);
  }

  /** `base` when no layer has that name, else the first free `base_1`, `base_2`, ... */
  freeName(base: string): string {
    if (!this.get(base)) return base;
    for (let i = 1; ; i++) if (!this.get(`${base}_${i}`)) return `${base}_${i}`;
  }

  /** The edited topology as Keras JSON (a fresh object; other keys of the original are kept). */
  toTopology(): JsonDict {
    const refJson = (ref: TensorRef, withKwargs: boolean): unknown[] =>
      withKwargs ? [ref.layer, ref.nodeIndex, ref.tensorIndex, ref.kwargs] : [ref.layer, ref.nodeIndex, ref.tensorIndex];
    const layers = this.layerList.map((l) => ({
      ...l.raw,
      name: l.name,
      class_name: l.className,
      config: l.config,
      inbound_nodes: l.inboundNodes.map((node) => node.map((ref) => refJson(ref, true))),
    }));
    return deepCopy({
      ...this.root,
      config: {
        ...this.modelConfig,
        layers,
        input_layers: this.inputs.map((r) => refJson(r, false)),
        output_layers: this.outputs.map((r) => refJson(r, false)),
      },
    });
  }
}
