import { expect } from 'chai';
import { LayerGraph, TopologyFormatError, WeightStore } from '../../../../src/plugins/op-fusion/layer-rewrite/index.js';

const layer = (name: string, className: string, inputs: unknown[][] = [], config: Record<string, unknown> = {}) => ({
  name,
  class_name: className,
  config: { name, ...config },
  inbound_nodes: inputs.length ? [inputs] : [],
});

/** x -> fc -> drop -> {a, b}; outputs [drop, b]. */
function topology() {
  return {
    class_name: 'Model',
    keras_version: 'tfjs-layers 4.22.0',
    config: {
      name: 'm',
      layers: [
        layer('x', 'InputLayer'),
        layer('fc', 'Dense', [['x', 0, 0, {}]]),
        layer('drop', 'Dropout', [['fc', 0, 0, {}]]),
        layer('a', 'Dense', [['drop', 0, 0, { mask: null }]]),
        layer('b', 'Add', [
          ['a', 0, 0, {}],
          ['drop', 0, 0, {}],
        ]),
      ],
      input_layers: [['x', 0, 0]],
      output_layers: [
        ['drop', 0, 0],
        ['b', 0, 0],
      ],
    },
  };
}

describe('layer-rewrite: LayerGraph', () => {
  it('replaces a layer in place: new class and config under the same name, same inputs and readers', () => {
    const graph = LayerGraph.fromTopology(topology());
    graph.replaceLayer('drop', 'ReLU', { max_value: 6, trainable: true });
    const out = graph.toTopology() as ReturnType<typeof topology>;
    const replaced = out.config.layers[2]!;
    expect(replaced).to.deep.equal({
      name: 'drop',
      class_name: 'ReLU',
      config: { max_value: 6, trainable: true, name: 'drop' },
      inbound_nodes: [[['fc', 0, 0, {}]]],
    });
    expect(graph.usesOf('drop')).to.have.length(3);
    expect(() => graph.replaceLayer('nope', 'ReLU', {})).to.throw(/no layer nope/);
  });

  it('inserts a layer after another: it reads that layer, and every reader (layers with their kwargs, model outputs) reads it instead', () => {
    const graph = LayerGraph.fromTopology(topology());
    graph.insertAfter('drop', { name: 'clip', className: 'ReLU', config: { max_value: 6 } });
    const out = graph.toTopology() as ReturnType<typeof topology>;
    expect(out.config.layers.map((l) => l.name)).to.deep.equal(['x', 'fc', 'drop', 'clip', 'a', 'b']);
    expect(out.config.layers[3]).to.deep.equal({
      name: 'clip',
      class_name: 'ReLU',
      config: { max_value: 6, name: 'clip' },
      inbound_nodes: [[['drop', 0, 0, {}]]],
    });
    expect(out.config.layers[4]!.inbound_nodes).to.deep.equal([[['clip', 0, 0, { mask: null }]]]);
    expect(out.config.layers[5]!.inbound_nodes).to.deep.equal([
      [
        ['a', 0, 0, {}],
        ['clip', 0, 0, {}],
      ],
    ]);
    expect(out.config.output_layers).to.deep.equal([
      ['clip', 0, 0],
      ['b', 0, 0],
    ]);
    expect(() => graph.insertAfter('drop', { name: 'fc', className: 'ReLU', config: {} })).to.throw(/layer name fc is taken/);
  });

  it('inserting after a layer whose call tf.js numbered 1 (a nested model) reads that node; its readers then read node 0 of the new layer', () => {
    const source = topology();
    source.config.layers[1]!.class_name = 'Sequential';
    source.config.layers[2]!.inbound_nodes = [[['fc', 1, 0, {}]]];
    const graph = LayerGraph.fromTopology(source);
    graph.insertAfter('fc', { name: 'after_fc', className: 'ReLU', config: {} });
    const out = graph.toTopology() as ReturnType<typeof topology>;
    expect(out.config.layers[2]!.inbound_nodes).to.deep.equal([[['fc', 1, 0, {}]]]);
    expect(out.config.layers[3]!.inbound_nodes).to.deep.equal([[['after_fc', 0, 0, {}]]]);
  });

  it('freeName gives the name itself when free, else the first free name_1, name_2, ...', () => {
    const graph = LayerGraph.fromTopology(topology());
    expect(graph.freeName('relu')).to.equal('relu');
    expect(graph.freeName('fc')).to.equal('fc_1');
    graph.insertAfter('fc', { name: 'fc_1', className: 'ReLU', config: {} });
    expect(graph.freeName('fc')).to.equal('fc_2');
  });

  it('lists the readers of a layer output, layer inputs and model outputs', () => {
    const graph = LayerGraph.fromTopology(topology());
    expect(graph.size).to.equal(5);
    expect(graph.usesOf('drop')).to.deep.equal([
      { kind: 'layer', layer: 'a', node: 0, input: 0 },
      { kind: 'layer', layer: 'b', node: 0, input: 1 },
      { kind: 'model-output', output: 0 },
    ]);
    expect(graph.usesOf('b')).to.deep.equal([{ kind: 'model-output', output: 1 }]);
  });

  it('bypasses a layer: readers keep their own kwargs, outputs keep their position, the input object is not edited', () => {
    const source = topology();
    const copy = JSON.stringify(source);
    const graph = LayerGraph.fromTopology(source);
    graph.removeAndBypass('drop');
    const out = graph.toTopology() as ReturnType<typeof topology>;
    expect(JSON.stringify(source)).to.equal(copy);
    expect(out.keras_version).to.equal('tfjs-layers 4.22.0');
    expect(out.config.layers.map((l) => l.name)).to.deep.equal(['x', 'fc', 'a', 'b']);
    expect(out.config.layers[2]!.inbound_nodes).to.deep.equal([[['fc', 0, 0, { mask: null }]]]);
    expect(out.config.layers[3]!.inbound_nodes).to.deep.equal([
      [
        ['a', 0, 0, {}],
        ['fc', 0, 0, {}],
      ],
    ]);
    expect(out.config.output_layers).to.deep.equal([
      ['fc', 0, 0],
      ['b', 0, 0],
    ]);
    expect(() => graph.removeAndBypass('b')).to.throw(/exactly one call with one input/);
  });

  it('rejects a Sequential topology and dangling references', () => {
    expect(() => LayerGraph.fromTopology({ class_name: 'Sequential', config: { layers: [] } })).to.throw(
      TopologyFormatError,
      /functional model topology/,
    );
    const bad = topology();
    bad.config.output_layers.push(['nope', 0, 0]);
    expect(() => LayerGraph.fromTopology(bad)).to.throw(TopologyFormatError, /unknown layer "nope"/);
  });
});

describe('layer-rewrite: WeightStore', () => {
  const bytesOf = (values: number[]) => new Float32Array(values).buffer;
  const join = (...buffers: ArrayBuffer[]) => {
    const out = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0));
    let at = 0;
    for (const b of buffers) {
      out.set(new Uint8Array(b), at);
      at += b.byteLength;
    }
    return out.buffer;
  };

  it('reads, replaces, inserts after a layer and deletes float32 weights, and writes them back in order', () => {
    const store = WeightStore.fromArtifacts(
      [
        { name: 'fc/kernel', shape: [2, 2], dtype: 'float32' },
        { name: 'bn/gamma', shape: [2], dtype: 'float32' },
        { name: 'step', shape: [], dtype: 'int32' },
      ],
      join(bytesOf([1, 2, 3, 4]), bytesOf([5, 6]), new Int32Array([7]).buffer),
    );
    const kernel = store.readFloat32('fc/kernel');
    expect(kernel).to.deep.equal({ shape: [2, 2], values: new Float32Array([1, 2, 3, 4]) });
    expect(store.readFloat32('step')).to.equal('weight step is int32, not float32');
    expect(store.readFloat32('nope')).to.equal('weight nope not found');
    expect(store.namesOfLayer('fc')).to.deep.equal(['fc/kernel']);

    store.setFloat32('fc/kernel', [2, 2], new Float32Array([10, 20, 30, 40]));
    store.setFloat32('fc/bias', [2], new Float32Array([0.5, -0.5]), 'fc/kernel');
    store.delete('bn/gamma');
    const { weightSpecs, weightData } = store.toArtifacts();
    expect(weightSpecs.map((s) => s.name)).to.deep.equal(['fc/kernel', 'fc/bias', 'step']);
    expect(Array.from(new Float32Array(weightData, 0, 6))).to.deep.equal([10, 20, 30, 40, 0.5, -0.5]);
    expect(Array.from(new Int32Array(weightData, 24, 1))).to.deep.equal([7]);
  });

  it('rejects weight data that does not match the specs', () => {
    expect(() => WeightStore.fromArtifacts([{ name: 'w', shape: [3], dtype: 'float32' }], bytesOf([1, 2]))).to.throw(/needs bytes 0..12/);
    expect(() => WeightStore.fromArtifacts([{ name: 'w', shape: [1], dtype: 'float32' }], bytesOf([1, 2]))).to.throw(
      /describe 4 bytes but the weight data holds 8/,
    );
  });
});
