import { ACTIVATION_KERNELS, FUSED_KERNELS, fusedActivationSupported } from '../activations.js';
import { pairPattern } from '../pair-pattern.js';

/**
 * An activation kernel right after a fused conv, depthwise conv or matmul (tf.layers'
 * standalone Activation layers, or the ReLU after a folded BatchNorm) absorbed into
 * the fused kernel's `activation` attribute, where the backend's fused kernel
 * implements that activation. Also relu followed by Minimum(6) (tf.layers' relu6
 * activation), relu followed by ClipByValue(<= 0, 6) (tf.layers' ReLU layer with
 * maxValue 6) and a linear result followed by ClipByValue(0, 6) become relu6. Exact in value; under a tape the replay routes fused kernels through
 * tf.fused.*, whose gradients are exact.
 */
export const fusedActivation = pairPattern({
  name: 'fused-activation',
  description:
    'absorb Relu/Relu6/Elu/Sigmoid/LeakyRelu/Prelu (and relu then Minimum 6 or ClipByValue 0..6) into the fused kernel before it',
  trainingSafe: true,
  first: FUSED_KERNELS,
  key: 'chain',
  rewrite(node, next, context, tools) {
    const current = String(node.attrs.activation ?? 'linear');
    let activation: string | undefined;
    const extra: Record<string, unknown> = {};
    const inputs = { ...node.inputs };
    if (current === 'linear' && ACTIVATION_KERNELS[next.kernel] && next.inputs.x === node.outputs[0]) {
      activation = ACTIVATION_KERNELS[next.kernel];
      if (next.kernel === 'LeakyRelu') extra.leakyreluAlpha = next.attrs.alpha;
      if (next.kernel === 'Prelu') {
        if (!tools.isWeight(next.inputs.alpha)) return undefined;
        inputs.preluActivationWeights = next.inputs.alpha!;
      }
    } else if (
      current === 'relu' &&
      next.kernel === 'Minimum' &&
      isScalarSix(tools, next.inputs.a === node.outputs[0] ? next.inputs.b : next.inputs.a)
    ) {
      activation = 'relu6';
    } else if (next.kernel === 'ClipByValue' && isRelu6Clip(current, next.attrs)) {
      activation = 'relu6';
    }
    if (!activation || !fusedActivationSupported(context.backend, activation)) return undefined;
    return { inputs, attrs: { ...node.attrs, activation, ...extra } };
  },
});

function isScalarSix(
  tools: { value(id: number): { kind: string; constant?: { size: number; dataSync(): ArrayLike<number> } } },
  id: number | undefined,
): boolean {
  if (id === undefined) return false;
  const v = tools.value(id);
  return v.kind === 'constant' && v.constant!.size === 1 && v.constant!.dataSync()[0] === 6;
}

/** Whether ClipByValue(attrs) after a fused kernel with activation `current` computes relu6 of its pre-activation. */
function isRelu6Clip(current: string, attrs: Record<string, unknown>): boolean {
  const min = Number(attrs.clipValueMin);
  const max = Number(attrs.clipValueMax);
  if (max !== 6) return false;
  if (current === 'relu') return min <= 0; // relu's output is >= 0 already
  return current === 'linear' && min === 0;
}
