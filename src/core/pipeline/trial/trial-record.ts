import type { PluginContext, PluginMeta } from '../../plugin.js';
import type { Decision, DecisionStatus, MetricValue } from '../report.js';
import type { RunContext } from '../run-context.js';

/** The notes, metrics and tables one candidate's trial collects, and the decision made of them. */
export class TrialRecord {
  readonly notes: string[] = [];
  readonly metrics: Record<string, MetricValue> = {};
  private readonly tables: Record<string, readonly Record<string, MetricValue>[]> = {};

  constructor(
    private readonly slot: number,
    private readonly meta: PluginMeta,
  ) {}

  decide(status: DecisionStatus, reason: string, cause?: unknown): Decision {
    const { meta } = this;
    const decision: Decision = {
      slot: this.slot,
      plugin: meta.name,
      kind: meta.kind,
      objective: meta.objective,
      status,
      reason,
      metrics: this.metrics,
      notes: this.notes,
      ...(Object.keys(this.tables).length ? { tables: this.tables } : {}),
    };
    if (cause !== undefined) Object.defineProperty(decision, 'cause', { value: cause, enumerable: false });
    return decision;
  }

  /** What the plugin's `apply` is handed: its options, the run's facts, and this record's note/metric/table. */
  pluginContext(options: object, run: RunContext, signal: AbortSignal): PluginContext<object> {
    return {
      options,
      mode: run.mode,
      sampleInputs: run.sampleInputs,
      signal,
      note: (message) => this.notes.push(message),
      metric: (name, value) => {
        this.metrics[name] = value;
      },
      table: (name, rows) => {
        this.tables[name] = rows.map((row) => ({ ...row }));
      },
      validation: { inputSets: run.validation.inputSetLabels, check: (model, budget) => run.validation.check(model, budget ?? run.budget) },
    };
  }
}

/** `x` to `digits` significant digits, for metrics. */
export function round(x: number, digits = 4): number {
  return Number(x.toPrecision(digits));
}
