import * as tf from '@tensorflow/tfjs';
import { CompileStrictError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { KilnMode } from '../core/plugin.js';
import { isRecordingGradients } from '../core/tape-state.js';
import type { CompiledPlan, PlanStats } from './compiled-plan.js';
import type { GraphBreak } from './graph-break.js';
import { compileSignature, disposeCallOutputs, type GraphCompileSettings } from './graph-compiler.js';
import { disposeFreshOutputs } from './ir.js';
import { signatureOf } from './signature.js';
import { isTracing } from './trace.js';
import { CLOSURE_LIMIT, compareWithEager, describeVerify, isVerifiedCall, type VerifySettings } from './verify.js';

/** torch.compile's default cache size per function. */
export const DEFAULT_RECOMPILE_LIMIT = 8;

/** `auto`: training when called under a gradient tape (tf.grads, optimizer.minimize), inference otherwise. */
export type CompileMode = KilnMode | 'auto';

export interface GraphFunctionSettings extends Omit<GraphCompileSettings, 'mode'> {
  /** The mode, or `auto` to follow the gradient tape call by call (a switch is a guard miss, not a reuse of the other plan). */
  readonly mode: CompileMode;
  /** Signatures compiled at most; past it new signatures run eagerly, with one warning. */
  readonly recompileLimit: number;
  /** Turn a recompile, an eager fallback or a verify mismatch into an error (for CI). */
  readonly strict: boolean;
  /** Which replayed calls also run eagerly, to compare. */
  readonly verify: VerifySettings;
  readonly name: string;
  /** Gets the recompile-limit and verify warnings, and the graph breaks when `logGraphBreaks`. */
  readonly logger: Logger;
  /** Whether graph breaks are logged too (they are when the user passed a logger). */
  readonly logGraphBreaks: boolean;
}

/** A signature that runs eagerly, and why. */
export interface EagerSignature {
  readonly signature: string;
  /** A graph break in its trace, the recompile limit reached before it, or a verified call where the plan and eager differed. */
  readonly cause: 'graph-break' | 'recompile-limit' | 'verify-mismatch';
  readonly reason: string;
  readonly breaks: readonly GraphBreak[];
}

export interface GraphFunctionStats {
  readonly name: string;
  readonly calls: number;
  readonly compiledCalls: number;
  readonly eagerCalls: number;
  /** The verify policy in words ('off', or which replayed calls are checked against eager). */
  readonly verify: string;
  /** Replayed calls that also ran eagerly to compare (a mismatch among them made its signature eager). */
  readonly verifiedCalls: number;
  readonly compiled: readonly PlanStats[];
  readonly eager: readonly EagerSignature[];
}

/** A plan counts its replays, for `verify`. */
type Entry =
  { readonly kind: 'plan'; readonly plan: CompiledPlan; replays: number } | { readonly kind: 'eager'; readonly why: EagerSignature };

/**
 * A function of tensors with a cache of compiled graphs, one per guard key (input
 * shapes and dtypes, backend, mode). A miss compiles (tracing the real call, so it
 * returns that call's outputs); a graph break makes that signature eager, with the
 * reason; past the recompile limit new signatures run eagerly, with one warning.
 *
 * The guards see the inputs, never the JavaScript state the function closes over: a
 * trace freezes it. `settings.verify` picks the replayed calls that also run the
 * function eagerly; where the two differ, the signature runs eagerly from then on.
 */
export class GraphFunction {
  private readonly cache = new Map<string, Entry>();
  private calls = 0;
  private compiledCalls = 0;
  private eagerCalls = 0;
  private verifiedCalls = 0;
  private warnedLimit = false;
  private disposed = false;

  constructor(
    private readonly fn: (...inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
    private readonly settings: GraphFunctionSettings,
  ) {}

  /** The mode of a call now: the configured one, or under `auto` whether a gradient tape is recording. */
  currentMode(): KilnMode {
    if (this.settings.mode !== 'auto') return this.settings.mode;
    return isRecordingGradients() ? 'training' : 'inference';
  }

  call(inputs: readonly tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    if (this.disposed) throw new Error(`compiled function "${this.settings.name}" has been disposed`);
    if (isTracing()) return this.fn(...inputs);
    this.calls++;
    const mode = this.currentMode();
    const key = signatureOf(inputs, tf.getBackend(), mode);
    const entry = this.cache.get(key);
    if (entry?.kind === 'plan' && entry.plan.stale()) return this.recompileStale(key, entry.plan, inputs, mode);
    if (entry?.kind === 'plan') {
      const out = entry.plan.run(inputs, isRecordingGradients());
      if (isVerifiedCall(this.settings.verify, ++entry.replays)) return this.verifyCall(key, entry, inputs, out);
      this.compiledCalls++;
      return entry.plan.graph.outputIsList ? out : out[0]!;
    }
    if (entry?.kind === 'eager') {
      this.eagerCalls++;
      return this.fn(...inputs);
    }
    return this.compileAndCall(key, inputs, mode);
  }

  /**
   * A plan whose trace read a constant that has been disposed since (a GraphModel
   * disposed, a captured tensor freed and rebound) is dropped, never replayed with the
   * values it baked in: the call traces again, so the function's own code decides (it
   * sees the new tensor, or throws on the disposed one: that error, prefixed with why the
   * plan was dropped). The same signature again, so the recompile limit does not count
   * it; under `strict` a CompileStrictError.
   */
  private recompileStale(key: string, plan: CompiledPlan, inputs: readonly tf.Tensor[], mode: KilnMode): tf.Tensor | tf.Tensor[] {
    const why = plan.stale()!;
    this.cache.delete(key);
    plan.dispose();
    if (this.settings.strict) throw new CompileStrictError(`strict: ${this.settings.name} would recompile for ${key}: ${why}`);
    this.settings.logger.info(`${this.settings.name}: ${why}; recompiling ${key}`);
    try {
      return this.compileAndCall(key, inputs, mode);
    } catch (error) {
      // e.g. a disposed GraphModel's predict: the function's own error, with what made Kiln run it again
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${this.settings.name}: ${why}; tracing the call again failed: ${message}`, { cause: error });
    }
  }

  private compileAndCall(key: string, inputs: readonly tf.Tensor[], mode: KilnMode): tf.Tensor | tf.Tensor[] {
    // what the limit counts: the signatures traced (each a compile); those past the limit were not
    const traced = [...this.cache.entries()].filter(([, e]) => e.kind === 'plan' || e.why.cause !== 'recompile-limit');
    const compiledSignatures = traced.filter(([, e]) => e.kind === 'plan').map(([k]) => k);
    if (traced.length >= this.settings.recompileLimit) {
      const broke = traced.length - compiledSignatures.length;
      const counted = `compiled for ${compiledSignatures.length} signatures${broke ? `, ${broke} more traced and run eagerly` : ''}`;
      const reason = `recompile limit of ${this.settings.recompileLimit} reached (${counted}); this signature runs eagerly`;
      if (this.settings.strict) throw new CompileStrictError(`strict: ${this.settings.name} would run eagerly for ${key}: ${reason}`);
      if (!this.warnedLimit) {
        this.warnedLimit = true;
        this.settings.logger.warn(
          `${this.settings.name}: ${reason}. Inputs whose shapes change from call to call (e.g. a varying batch) recompile each time; pad to fixed shapes or raise recompileLimit.`,
        );
      }
      this.cache.set(key, { kind: 'eager', why: { signature: key, cause: 'recompile-limit', reason, breaks: [] } });
      this.eagerCalls++;
      return this.fn(...inputs);
    }
    if (this.settings.strict && this.cache.size > 0) {
      throw new CompileStrictError(
        `strict: ${this.settings.name} would recompile for ${key} (compiled for: ${compiledSignatures.join('; ')}). Call it with the shapes it was compiled for, or drop strict.`,
      );
    }
    const outcome = compileSignature(this.fn, inputs, { ...this.settings, mode });
    if (outcome.kind === 'break') {
      const reason = `graph break: ${outcome.breaks.map((b) => b.reason).join('; ')}`;
      if (this.settings.strict) {
        disposeCallOutputs(outcome);
        throw new CompileStrictError(`strict: ${this.settings.name} would run eagerly for ${key}: ${reason}`);
      }
      if (this.settings.logGraphBreaks) this.settings.logger.warn(`${this.settings.name}: ${reason}; this signature runs eagerly`);
      this.cache.set(key, { kind: 'eager', why: { signature: key, cause: 'graph-break', reason, breaks: outcome.breaks } });
      this.eagerCalls++;
    } else {
      this.cache.set(key, { kind: 'plan', plan: outcome.plan, replays: 0 });
      this.compiledCalls++;
    }
    const list = outcome.outputs;
    const isList = outcome.kind === 'compiled' ? outcome.plan.graph.outputIsList : outcome.graph.outputIsList;
    return isList ? list : list[0]!;
  }

  /**
   * Runs the function eagerly beside the plan's outputs `out` and compares. Agreeing,
   * the plan's outputs are returned (what eager made is freed). Differing, the plan is
   * dropped and the signature becomes eager: under `strict` a CompileStrictError,
   * otherwise one warning and the eager outputs.
   */
  private verifyCall(
    key: string,
    entry: Extract<Entry, { kind: 'plan' }>,
    inputs: readonly tf.Tensor[],
    out: tf.Tensor[],
  ): tf.Tensor | tf.Tensor[] {
    this.verifiedCalls++;
    const plan = entry.plan;
    let mismatch: string | undefined;
    let eagerIsList = false;
    // in a tidy: what eager made is freed unless it is handed back; its inputs, variables and captured tensors are not ours
    const eager = tf.tidy(() => {
      const result = this.fn(...inputs);
      eagerIsList = Array.isArray(result);
      mismatch = compareWithEager(out, plan.graph.outputIsList, result, this.settings.verify);
      return mismatch && !this.settings.strict ? (Array.isArray(result) ? result : [result]) : [];
    });
    if (!mismatch) {
      this.compiledCalls++;
      return plan.graph.outputIsList ? out : out[0]!;
    }
    disposeFreshOutputs(plan.graph, out);
    const reason = `verify: ${mismatch} (replayed call ${entry.replays} of this signature)`;
    this.cache.set(key, { kind: 'eager', why: { signature: key, cause: 'verify-mismatch', reason, breaks: [] } });
    plan.dispose();
    if (this.settings.strict) throw new CompileStrictError(`strict: ${this.settings.name} ${reason} for ${key}; ${CLOSURE_LIMIT}`);
    this.settings.logger.warn(
      `${this.settings.name}: ${reason}. The function most likely reads JavaScript state it closes over that changed since the trace (${CLOSURE_LIMIT}); this signature runs eagerly from now on. Pass such values as tensor arguments, or compile again when they change.`,
    );
    this.eagerCalls++;
    return eagerIsList ? eager : eager[0]!;
  }

  /** The plan for a signature of these inputs, if one is compiled. */
  planFor(inputs: readonly tf.Tensor[]): CompiledPlan | undefined {
    const entry = this.cache.get(signatureOf(inputs, tf.getBackend(), this.currentMode()));
    return entry?.kind === 'plan' ? entry.plan : undefined;
  }

  stats(): GraphFunctionStats {
    const entries = [...this.cache.values()];
    return {
      name: this.settings.name,
      calls: this.calls,
      compiledCalls: this.compiledCalls,
      eagerCalls: this.eagerCalls,
      verify: describeVerify(this.settings.verify),
      verifiedCalls: this.verifiedCalls,
      compiled: entries.flatMap((e) => (e.kind === 'plan' ? [e.plan.stats] : [])),
      eager: entries.flatMap((e) => (e.kind === 'eager' ? [e.why] : [])),
    };
  }

  /** Frees every compiled plan's constants; the function cannot be called afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const e of this.cache.values()) if (e.kind === 'plan') e.plan.dispose();
    this.cache.clear();
  }
}
