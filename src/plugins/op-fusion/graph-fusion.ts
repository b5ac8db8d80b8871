import * as tf from '@tensorflow/tfjs';
import { CompiledModel } from '../../compiler/api/compiled-model.js';
import { emptyTally, fusionPass, type FusionPattern, type FusionTally } from './kernel-fusion/index.js';
import { outputsAsArray, type KilnModel } from '../../core/kiln-model.js';
import { ConsoleLogger, type Logger } from '../../core/logger.js';
import type { KilnMode } from '../../core/plugin.js';
import { evaluateOutputBudget } from '../../core/validation/budget.js';
import { defaultTerms, type ToleranceSettings } from '../../core/validation/tolerance.js';
import { pool } from '../../core/validation/validator.js';

/** The tolerance keys are validation's (see `defaultTerms`): none set means the scale-aware default. */
export interface GraphFusionSettings extends ToleranceSettings {
  readonly patterns: readonly FusionPattern[];
  readonly disabled: readonly string[];
  readonly mode: KilnMode;
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
export function fuseGraph(
  base: KilnModel,
  reference: KilnModel,
  samples: readonly tf.Tensor[],
  checkInputs: readonly tf.Tensor[][],
  settings: GraphFusionSettings,
): GraphFusionResult | { failure: string } {
  const trials: Trials = { base, samples, checkInputs, expected: checkInputs.map((inputs) => run(reference, inputs)), settings };
  const first = buildWithEverySite(trials);
  if ('failure' in first) return first;
  const { all, verdict, kernelsBefore } = first;
  if (verdict.ok)
    return {
      model: all.model,
      tally: all.tally,
      dropped: [],
      maxAbsDiff: verdict.maxAbsDiff,
      kernelsBefore,
      kernelsAfter: first.kernelsAfter!,
    };
  all.model.dispose();
  if (!settings.bisect) return { failure: `fused graph does not validate (${verdict.reason}) and bisection is off` };
  return buildWithoutFaultySites(trials, all.tally.sites, verdict, kernelsBefore);
}

/** What every build and check of one `fuseGraph` call shares. */
interface Trials {
  readonly base: KilnModel;
  readonly samples: readonly tf.Tensor[];
  readonly checkInputs: readonly tf.Tensor[][];
  /** The reference's outputs on each set of check inputs. */
  readonly expected: readonly Float32Array[][];
  readonly settings: GraphFusionSettings;
}

interface FusedBuild {
  readonly model: CompiledModel;
  readonly tally: FusionTally;
}

interface Verdict {
  readonly ok: boolean;
  readonly maxAbsDiff: number;
  readonly reason: string;
}

/** `base` compiled with the fusion pass, applying only the `allowed` sites when given; `measure` times the executors and lets it warn. */
function build(trials: Trials, allowed?: ReadonlySet<string>, measure = allowed === undefined): FusedBuild {
  const { settings } = trials;
  const tally = emptyTally();
  const model = new CompiledModel(trials.base, {
    mode: settings.mode,
    sampleInputs: [...trials.samples],
    selectionRuns: measure ? 5 : 0,
    extraPasses: [
      fusionPass(
        {
          patterns: settings.patterns,
          disabled: settings.disabled,
          allowedSites: allowed,
          context: { mode: settings.mode, backend: trials.base.backend },
        },
        tally,
      ),
    ],
    // the first replay of each signature is checked against the unfused model: at validation's
    // element-wise tolerance when one is set, else at the compiler's own (1e-4 + 1e-3 x |eager|)
    verifyTolerance: settings.atol !== undefined || settings.rtol !== undefined ? { atol: settings.atol, rtol: settings.rtol } : undefined,
    // bisection trials are expected to break now and then: only the full and the kept build warn
    logger: measure ? settings.logger : new ConsoleLogger('silent'),
  });
  return { model, tally };
}

/**
 * The compiled model's outputs against the reference's on every set of check inputs,
 * each output held to validation's default terms over every set together (as the
 * validator checks it).
 */
function check(trials: Trials, model: CompiledModel): Verdict {
  const got: Float32Array[][] = [];
  for (let k = 0; k < trials.checkInputs.length; k++) {
    got.push(run(model, trials.checkInputs[k]!));
    // a signature that fell back to eager runs the unfused model: it proves nothing about the fusion
    const eager = model.stats().eager[0];
    if (eager) return { ok: false, maxAbsDiff: Infinity, reason: `the fused graph runs eagerly (${eager.reason})` };
  }
  const terms = defaultTerms(trials.settings);
  let maxAbsDiff = 0;
  const outputs = trials.expected[0]?.length ?? 0;
  for (let o = 0; o < outputs; o++) {
    const expected = pool(trials.expected.map((set) => set[o]!));
    const actual = pool(got.map((set) => set[o]!));
    const result = evaluateOutputBudget(`${o}`, expected, actual, [expected.length], terms);
    maxAbsDiff = Math.max(maxAbsDiff, result.maxAbsDiff);
    if (result.failure) return { ok: false, maxAbsDiff, reason: `${result.failure} over the check input sets` };
  }
  return { ok: true, maxAbsDiff, reason: '' };
}

/**
 * The build with every site, its verdict and the kernel counts before and after
 * fusion (after: where it compiled); a failure when even the unfused model does not compile.
 */
function buildWithEverySite(
  trials: Trials,
): { all: FusedBuild; verdict: Verdict; kernelsBefore: number; kernelsAfter?: number } | { failure: string } {
  const all = build(trials);
  const firstStats = all.model.stats();
  if (!firstStats.eager.length) {
    const compiled = firstStats.compiled[0]!;
    return { all, verdict: check(trials, all.model), kernelsBefore: compiled.kernelsTraced, kernelsAfter: compiled.kernelsAfterPasses };
  }
  // The compiler checks the replay against the traced (unfused) call and falls back to eager when
  // it differs, which is what a faulty pattern does: tell that apart from a model that never compiles.
  const plain = build(trials, new Set());
  const plainStats = plain.model.stats();
  plain.model.dispose();
  if (plainStats.eager.length) {
    all.model.dispose();
    return { failure: plainStats.eager[0]!.reason };
  }
  const verdict = { ok: false, maxAbsDiff: Infinity, reason: `the fused graph runs eagerly (${firstStats.eager[0]!.reason})` };
  return { all, verdict, kernelsBefore: plainStats.compiled[0]!.kernelsTraced };
}

/** Finds the sites at fault by halving, builds without them, and checks that build. */
function buildWithoutFaultySites(
  trials: Trials,
  sites: FusionTally['sites'],
  verdict: Verdict,
  kernelsBefore: number,
): GraphFusionResult | { failure: string } {
  const reasons = new Map<string, string>();
  const bad = new Set(
    faultySites(
      trials,
      sites.map((s) => s.key),
      reasons,
    ),
  );
  const kept = build(trials, new Set(sites.map((s) => s.key).filter((k) => !bad.has(k))), true);
  const final = check(trials, kept.model);
  if (!final.ok) {
    kept.model.dispose();
    return {
      failure: `fused graph does not validate (${verdict.reason}), and dropping the sites bisection blamed (${[...bad].join(', ')}) did not fix it (${final.reason})`,
    };
  }
  const dropped = sites
    .filter((s) => bad.has(s.key))
    .map((s) => ({ key: s.key, layers: s.layers, reason: reasons.get(s.key) ?? 'fails validation' }));
  const keptStats = kept.model.stats().compiled[0]!;
  return {
    model: kept.model,
    tally: kept.tally,
    dropped,
    maxAbsDiff: final.maxAbsDiff,
    kernelsBefore,
    kernelsAfter: keptStats.kernelsAfterPasses,
  };
}

/**
 * The keys among `keys` whose sites fail validation: a half that validates is kept
 * whole, a failing half is split again, down to single sites (whose reasons go in `reasons`).
 */
function faultySites(trials: Trials, keys: readonly string[], reasons: Map<string, string>): string[] {
  if (keys.length === 0 || trialPasses(trials, keys, reasons)) return [];
  if (keys.length === 1) return [...keys];
  const half = keys.length >> 1;
  return [...faultySites(trials, keys.slice(0, half), reasons), ...faultySites(trials, keys.slice(half), reasons)];
}

/** Whether the build with only these sites validates. */
function trialPasses(trials: Trials, keys: readonly string[], reasons: Map<string, string>): boolean {
  const trial = build(trials, new Set(keys));
  try {
    const v = check(trials, trial.model);
    if (!v.ok && keys.length === 1) reasons.set(keys[0]!, v.reason);
    return v.ok;
  } finally {
    trial.model.dispose();
  }
}

function run(model: KilnModel, inputs: readonly tf.Tensor[]): Float32Array[] {
  return tf.tidy(() =>
    outputsAsArray(model.predict(inputs.length === 1 ? inputs[0]! : [...inputs])).map((t) => t.dataSync() as Float32Array),
  );
}
