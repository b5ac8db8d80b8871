/**
 * The demo network (src/zoo/shogi-resnet.ts) written as ONNX by hand, the way a person
 * porting it to ONNX Runtime would: NCHW throughout (the input is [batch, 46, 9, 9]),
 * Conv with OIHW weights, BatchNormalization nodes (ONNX Runtime folds them into the
 * convs), Relu, Add, the policy head transposed back to Keras's HWC order before its
 * flatten and softmax, and Gemm for the value head. The weights are the model's own.
 * It is the reference `npm run bench -- onnx` holds Kiln's lowering to.
 */
import * as tf from '@tensorflow/tfjs';
import { onnx } from 'onnx-proto';

const T = onnx.AttributeProto.AttributeType;
const ints = (name: string, values: number[]): onnx.IAttributeProto => ({ name, type: T.INTS, ints: values });
const int = (name: string, i: number): onnx.IAttributeProto => ({ name, type: T.INT, i });
const float = (name: string, f: number): onnx.IAttributeProto => ({ name, type: T.FLOAT, f });

/** The hand-written ONNX file of `model` (a buildShogiResNet network) at `batch`; input `board_nchw`, outputs `policy`, `value`. */
export function handWrittenShogiOnnx(model: tf.LayersModel, batch: number): Uint8Array {
  const nodes: onnx.INodeProto[] = [];
  const initializers: onnx.ITensorProto[] = [];
  const weight = (name: string, t: tf.Tensor, dims: number[] = t.shape) => {
    initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: Array.from(t.dataSync()) });
    return name;
  };
  const layer = (name: string) => model.getLayer(name);
  const conv = (x: string, name: string, kernel: number): string => {
    const [w] = layer(name).getWeights();
    const oihw = tf.tidy(() => tf.transpose(w!, [3, 2, 0, 1]));
    weight(`${name}_w`, oihw);
    oihw.dispose();
    const pad = (kernel - 1) / 2;
    nodes.push({
      opType: 'Conv',
      input: [x, `${name}_w`],
      output: [name],
      attribute: [ints('kernel_shape', [kernel, kernel]), ints('pads', [pad, pad, pad, pad])],
    });
    return name;
  };
  const bn = (x: string, name: string): string => {
    const l = layer(name) as tf.layers.Layer & { epsilon?: number };
    const [gamma, beta, mean, variance] = l.getWeights();
    const inputs = [
      x,
      weight(`${name}_gamma`, gamma!),
      weight(`${name}_beta`, beta!),
      weight(`${name}_mean`, mean!),
      weight(`${name}_var`, variance!),
    ];
    nodes.push({
      opType: 'BatchNormalization',
      input: inputs,
      output: [name],
      attribute: [float('epsilon', (l.getConfig().epsilon as number) ?? 1e-3)],
    });
    return name;
  };
  const op = (opType: string, input: string[], output: string, attribute: onnx.IAttributeProto[] = []) => {
    nodes.push({ opType, input, output: [output], attribute });
    return output;
  };
  const shape = (name: string, dims: number[]) => {
    initializers.push({ name, dims: [dims.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: dims });
    return name;
  };

  let x = op('Relu', [bn(conv('board_nchw', 'stem_conv', 3), 'stem_bn')], 'stem_relu');
  for (let b = 0; ; b++) {
    try {
      layer(`block${b}_conv1`);
    } catch {
      break;
    }
    const y = op('Relu', [bn(conv(x, `block${b}_conv1`, 3), `block${b}_bn1`)], `block${b}_relu1`);
    const z = bn(conv(y, `block${b}_conv2`, 3), `block${b}_bn2`);
    x = op('Relu', [op('Add', [x, z], `block${b}_add`)], `block${b}_relu2`);
  }
  const p = op('Relu', [bn(conv(x, 'policy_conv', 1), 'policy_bn')], 'policy_relu');
  const pHwc = op('Transpose', [p], 'policy_nhwc', [ints('perm', [0, 2, 3, 1])]);
  const pFlat = op('Reshape', [pHwc, shape('policy_shape', [batch, -1])], 'policy_flat');
  op('Softmax', [pFlat], 'policy', [int('axis', 1)]);
  const v = op('Relu', [bn(conv(x, 'value_conv', 1), 'value_bn')], 'value_relu');
  const vFlat = op('Reshape', [v, shape('value_shape', [batch, -1])], 'value_flat');
  const dense = (input: string, name: string) => {
    const [w, b] = layer(name).getWeights();
    return op('Gemm', [input, weight(`${name}_w`, w!), weight(`${name}_b`, b!)], `${name}_gemm`);
  };
  const hidden = op('Relu', [dense(vFlat, 'value_dense')], 'value_hidden');
  op('Tanh', [dense(hidden, 'value')], 'value');

  const [, h, w, c] = model.inputs[0]!.shape as number[];
  const tensorType = (dims: number[]): onnx.ITypeProto => ({
    tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } },
  });
  const graph: onnx.IGraphProto = {
    name: 'shogi_resnet_hand_written_nchw',
    node: nodes,
    initializer: initializers,
    input: [{ name: 'board_nchw', type: tensorType([batch, c!, h!, w!]) }],
    output: [
      { name: 'policy', type: tensorType([batch, model.outputs[0]!.shape[1] as number]) },
      { name: 'value', type: tensorType([batch, 1]) },
    ],
  };
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'kiln bench (hand-written)',
    graph,
  }).finish();
}
