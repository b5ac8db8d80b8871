/** Activation kernels a fused kernel can absorb, by kernel name, with the fused `activation` attribute. */
export const ACTIVATION_KERNELS: Readonly<Record<string, string>> = {
  Relu: 'relu',
  Relu6: 'relu6',
  Elu: 'elu',
  Sigmoid: 'sigmoid',
  LeakyRelu: 'leakyrelu',
  Prelu: 'prelu',
};

/**
 * Activations each backend's fused kernels implement (tfjs 4.22: the wasm backend's
 * `FusableActivation` enum; cpu and webgl apply the same set). Unknown backends get
 * only relu, the one every fused kernel has.
 */
const SUPPORTED: Readonly<Record<string, readonly string[]>> = {
  cpu: ['linear', 'relu', 'relu6', 'prelu', 'leakyrelu', 'sigmoid', 'elu'],
  wasm: ['linear', 'relu', 'relu6', 'prelu', 'leakyrelu', 'sigmoid', 'elu'],
  webgl: ['linear', 'relu', 'relu6', 'prelu', 'leakyrelu', 'sigmoid', 'elu'],
  tensorflow: ['linear', 'relu', 'relu6', 'prelu', 'leakyrelu', 'sigmoid', 'elu'],
};

export function fusedActivationSupported(backend: string, activation: string): boolean {
  return (SUPPORTED[backend] ?? ['linear', 'relu']).includes(activation);
}

/** The kernels that take `activation` / `bias` attributes and inputs. */
export const FUSED_KERNELS = ['FusedConv2D', 'FusedDepthwiseConv2D', '_FusedMatMul'] as const;

/** Conv attributes with defaults filled in (layers record `dilations: null`, which crashes the wasm fused depthwise kernel). */
export function normaliseConvAttrs(attrs: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return {
    strides: attrs.strides,
    pad: attrs.pad,
    dataFormat: attrs.dataFormat ?? 'NHWC',
    dilations: attrs.dilations ?? [1, 1],
    dimRoundingMode: attrs.dimRoundingMode,
    activation: attrs.activation ?? 'linear',
    leakyreluAlpha: attrs.leakyreluAlpha,
  };
}
