import * as tf from '@tensorflow/tfjs';
import { CompiledModel } from '../../compiler/api/compiled-model.js';
import { emptyTally, fusionPass, type FusionPattern, type FusionTally } from './kernel-fusion/index.js';
import { outputsAsArray, type KilnModel } from '../../core/kiln-model.js';
import type { Logger } from '../../core/logger.js';
import type { KilnMode } from '../../core/plugin.js';
import { allclose } from '../../core/validation/allclose.js';

export interface GraphFusionSettings {
  readonly patterns: readonly FusionPattern[];
  readonly disabled: readonly string[];
  readonly mode: KilnMode;
  readonly atol: number;
  readonly rtol: number;
  readonly bisect: boolean;
  readonly logger?: Logger;
}

export interface DroppedSite {
  readonly key: string;
  readonly layers: readonly string[];
  readonly reason: string;
}

export interface GraphFusionResult {
  readonly model: CompiledModel;
  readonly tally: FusionTally;
  readonly dropped: readonly DroppedSite[];
  readonly maxAbsDiff: number;
  readonly kernelsBefore: number;
  readonly kernelsAfter: number;
}

/**
 * Compiles `base` with the fusion patterns, checks the result against `reference`
 * on `checkInputs` (each set of inputs a list), and when it does not hold, finds the
 * pattern applications at fault by halving (as onnxconverter-common's auto mixed
 * precision does for nodes): a half that validates is kept whole, a failing half is
 * split again, down to single sites. What remains is compiled once more and checked.
 */
export function fuseGraph(base: KilnModel, reference: KilnModel, samples: readonly tf.Tensor[], checkInputs: readonly tf.Tensor[][], settings: GraphFusionSettings): GraphFusionResult | { failure: string } {
  const expected = checkInputs.map((inputs) => run(reference, inputs));
  const build = (allowed?: ReadonlySet<string>, measure = allowed === undefined) => {
    const tally = emptyTally();
    const model = new CompiledModel(base, {
      mode: settings.mode,
      sampleInputs: [...samples],
      selectionRuns: measure ? 5 : 0,
      extraPasses: [fusionPass({ patterns: settings.patterns, disabled: settings.disabled, allowedSites: allowed, context: { mode: settings.mode, backend: base.backend } }, tally)],
      // bisection trials are expected to break now and then: only the full and the kept build warn
      logger: measure ? settings.logger : undefined,
    });
    return { model, tally };
  };
  const check = (model: CompiledModel): { ok: boolean; maxAbsDiff: number; reason: string } => {
    let maxAbsDiff = 0;
    for (let k = 0; k < checkInputs.length; k++) {
      const got = run(model, checkInputs[k]!);
      // a signature that fell back to eager runs the unfused model: it proves nothing about the fusion
      const eager = model.stats().eager[0];
      if (eager) return { ok: false, maxAbsDiff: Infinity, reason: `the fused graph runs eagerly (${eager.reason})` };
      for (let o = 0; o < got.length; o++) {
        const c = allclose(expected[k]![o]!, got[o]!, settings.atol, settings.rtol);
        maxAbsDiff = Math.max(maxAbsDiff, c.maxAbsDiff);
        if (!c.ok) return { ok: false, maxAbsDiff, reason: `output ${o} differs by ${c.maxAbsDiff.toExponential(2)} on check input set ${k}` };
      }
    }
    return { ok: true, maxAbsDiff, reason: '' };
  };

  const all = build();
  const firstStats = all.model.stats();
  let kernelsBefore: number;
  let verdict: ReturnType<typeof check>;
  if (firstStats.eager.length) {
    // The compiler checks the replay against the traced (unfused) call and falls back to eager when
    // it differs, which is what a faulty pattern does: tell that apart from a model that never compiles.
    const plain = build(new Set());
    const plainStats = plain.model.stats();
    plain.model.dispose();
    if (plainStats.eager.length) {
      all.model.dispose();
      return { failure: plainStats.eager[0]!.reason };
    }
    kernelsBefore = plainStats.compiled[0]!.kernelsTraced;
    verdict = { ok: false, maxAbsDiff: Infinity, reason: `the fused graph runs eagerly (${firstStats.eager[0]!.reason})` };
  } else {
    kernelsBefore = firstStats.compiled[0]!.kernelsTraced;
    verdict = check(all.model);
  }
  if (verdict.ok) return { model: all.model, tally: all.tally, dropped: [], maxAbsDiff: verdict.maxAbsDiff, kernelsBefore, kernelsAfter: firstStats.compiled[0]!.kernelsAfterPasses };
  all.model.dispose();
  if (!settings.bisect) return { failure: `fused graph does not validate (${verdict.reason}) and bisection is off` };

  const sites = all.tally.sites;
  const reasons = new Map<string, string>();
  const passes = (keys: readonly string[]): boolean => {
    const trial = build(new Set(keys));
    try {
      const v = check(trial.model);
      if (!v.ok && keys.length === 1) reasons.set(keys[0]!, v.reason);
      return v.ok;
    } finally {
      trial.model.dispose();
    }
  };
  const faulty = (keys: readonly string[]): string[] => {
    if (keys.length === 0 || passes(keys)) return [];
    if (keys.length === 1) return [...keys];
    const half = keys.length >> 1;
    return [...faulty(keys.slice(0, half)), ...faulty(keys.slice(half))];
  };
  const bad = new Set(faulty(sites.map((s) => s.key)));
  const kept = build(new Set(sites.map((s) => s.key).filter((k) => !bad.has(k))), true);
  const final = check(kept.model);
  if (!final.ok) {
    kept.model.dispose();
    return { failure: `fused graph does not validate (${verdict.reason}), and dropping the sites bisection blamed (${[...bad].join(', ')}) did not fix it (${final.reason})` };
  }
  const dropped = sites.filter((s) => bad.has(s.key)).map((s) => ({ key: s.key, layers: s.layers, reason: reasons.get(s.key) ?? 'fails validation' }));
  const keptStats = kept.model.stats().compiled[0]!;
  return { model: kept.model, tally: kept.tally, dropped, maxAbsDiff: final.maxAbsDiff, kernelsBefore, kernelsAfter: keptStats.kernelsAfterPasses };
}

function run(model: KilnModel, inputs: readonly tf.Tensor[]): Float32Array[] {
  return tf.tidy(() => outputsAsArray(model.predict(inputs.length === 1 ? inputs[0]! : [...inputs])).map((t) => t.dataSync() as Float32Array));
}
