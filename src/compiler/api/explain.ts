import * as tf from '@tensorflow/tfjs';
import type { GraphBreak } from '../graph-break.js';
import { compileSignature, disposeCallOutputs } from '../graph-compiler.js';
import { countKernels, disposeGraphConstants, type KernelGraph } from '../ir.js';
import type { PassReport } from '../passes/graph-pass.js';
import { CLOSURE_LIMIT, describeVerify } from '../verify.js';
import { graphFunctionSettings, sampleList, type CompileOptions } from './compile-options.js';

/** What `explain` found, as data; `text` is what it prints. */
export interface Explanation {
  readonly kernelsCaptured: number;
  readonly kernels: Record<string, number>;
  /** Kernels per user layer (where the model has layers), in execution order. */
  readonly byLayer: readonly { readonly layer: string; readonly kernels: readonly string[] }[];
  readonly breaks: readonly GraphBreak[];
  readonly passes: readonly PassReport[];
  readonly kernelsAfterPasses?: number;
  readonly text: string;
}

/**
 * Traces one call of the model or function on `sampleInputs` and tells what Kiln's
 * compiler makes of it: kernels captured (by the user's layer names where the model
 * has them), graph breaks with their reasons, and what each pass changed. Prints the
 * text unless `print: false`. Last, what the compiled function's `verify` option checks:
 * no trace can see the JavaScript state the function closes over.
 */
export function explain(
  target: tf.LayersModel | ((...inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]),
  sampleInputs: tf.Tensor | readonly tf.Tensor[],
  options: CompileOptions & { readonly print?: boolean } = {},
): Explanation {
  const samples = sampleList(sampleInputs)!;
  const isModel = target instanceof tf.LayersModel;
  const fn = isModel ? (...xs: tf.Tensor[]) => target.predict(xs.length === 1 ? xs[0]! : xs) : target;
  const settings = graphFunctionSettings(options, 'explain', isModel ? target.layers : undefined);
  const mode = settings.mode === 'auto' ? 'inference' : settings.mode;
  const outcome = compileSignature(fn, samples, { ...settings, mode, selectionRuns: 0 });
  disposeCallOutputs(outcome);
  const traced: KernelGraph = outcome.kind === 'compiled' ? outcome.plan.traced : outcome.graph;
  const passes = outcome.kind === 'compiled' ? outcome.plan.stats.passes : [];
  const after = outcome.kind === 'compiled' ? outcome.plan.graph.nodes.length : undefined;
  const breaks = outcome.kind === 'break' ? outcome.breaks : [];
  const byLayer: { layer: string; kernels: string[] }[] = [];
  for (const node of traced.nodes) {
    const layer = node.layer ?? '(outside any layer)';
    const last = byLayer.at(-1);
    if (last && last.layer === layer) last.kernels.push(node.kernel);
    else byLayer.push({ layer, kernels: [node.kernel] });
  }
  const kernels = countKernels(traced);
  if (outcome.kind === 'compiled') outcome.plan.dispose();
  else disposeGraphConstants(outcome.graph);

  const lines = [
    `Kernels captured: ${traced.nodes.length} (${Object.entries(kernels)
      .map(([k, n]) => `${k} x${n}`)
      .join(', ')})`,
  ];
  if (isModel) for (const l of byLayer) lines.push(`  ${l.layer}: ${l.kernels.join(', ')}`);
  lines.push(breaks.length ? 'Graph breaks (this signature runs eagerly):' : 'Graph breaks: none');
  for (const b of breaks) lines.push(`  [${b.cause}] ${b.reason}`);
  const constantsRead = outcome.kind === 'compiled' ? (outcome.plan.stats.constantsRead ?? 0) : 0;
  if (constantsRead)
    lines.push(
      `Constants read during the trace: ${constantsRead} tensor(s) from before the call (their values are baked into the plan, which recompiles when one is disposed)`,
    );
  if (passes.length) {
    lines.push(`Passes: ${traced.nodes.length} -> ${after} kernels`);
    for (const p of passes) lines.push(`  ${p.pass}: ${p.detail}`);
  }
  lines.push(`Verify: ${describeVerify(settings.verify)} (compile option verify): ${CLOSURE_LIMIT}`);
  const text = lines.join('\n');
  if (options.print !== false) console.log(text);
  return { kernelsCaptured: traced.nodes.length, kernels, byLayer, breaks, passes, kernelsAfterPasses: after, text };
}
