import * as tf from '@tensorflow/tfjs';
import { CompileStrictError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { KilnMode } from '../core/plugin.js';
import { isRecordingGradients } from '../core/tape-state.js';
import type { CompiledPlan, PlanStats } from './compiled-plan.js';
import type { GraphBreak } from './graph-break.js';
import { compileSignature, disposeCallOutputs, type GraphCompileSettings } from './graph-compiler.js';
import { signatureOf } from './signature.js';
import { isTracing } from './trace.js';

/** torch.compile's default cache size per function. */
export const DEFAULT_RECOMPILE_LIMIT = 8;

/** `auto`: training when called under a gradient tape (tf.grads, optimizer.minimize), inference otherwise. */
export type CompileMode = KilnMode | 'auto';

export interface GraphFunctionSettings extends Omit<GraphCompileSettings, 'mode'> {
  /** The mode, or `auto` to follow the gradient tape call by call (a switch is a guard miss, not a reuse of the other plan). */
  readonly mode: CompileMode;
  /** Signatures compiled at most; past it new signatures run eagerly, with one warning. */
  readonly recompileLimit: number;
  /** Turn a recompile or an eager fallback into an error (for CI). */
  readonly strict: boolean;
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
  readonly compiled: readonly PlanStats[];
  readonly eager: readonly EagerSignature[];
}

type Entry = { readonly kind: 'plan'; readonly plan: CompiledPlan } | { readonly kind: 'eager'; readonly why: EagerSignature };

/**
 * A function of tensors with a cache of compiled graphs, one per guard key (input
 * shapes and dtypes, backend, mode). A miss compiles (tracing the real call, so it
 * returns that call's outputs); a graph break makes that signature eager, with the
 * reason; past the recompile limit new signatures run eagerly, with one warning.
 */
export class GraphFunction {
  private readonly cache = new Map<string, Entry>();
  private calls = 0;
  private compiledCalls = 0;
  private eagerCalls = 0;
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
    if (entry?.kind === 'plan') {
      this.compiledCalls++;
      const out = entry.plan.run(inputs, isRecordingGradients());
      return entry.plan.graph.outputIsList ? out : out[0]!;
    }
    if (entry?.kind === 'eager') {
      this.eagerCalls++;
      return this.fn(...inputs);
    }
    return this.compileAndCall(key, inputs, mode);
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
      this.cache.set(key, { kind: 'plan', plan: outcome.plan });
      this.compiledCalls++;
    }
    const list = outcome.outputs;
    const isList = outcome.kind === 'compiled' ? outcome.plan.graph.outputIsList : outcome.graph.outputIsList;
    return isList ? list : list[0]!;
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
