/** What a conformance run returns: each model's checks and what `apply` did, and the plugin's report. */
import type { Decision } from '../core/pipeline/report.js';
import type { PluginMeta } from '../core/plugin.js';
import type { ConformanceCheck } from './checks.js';

export interface ModelConformance {
  readonly model: string;
  readonly checks: readonly ConformanceCheck[];
  /** The pipeline's decision for the plugin, when the pipeline ran. */
  readonly decision?: Decision;
  /** What `apply` did: returned a new model, returned its input, was rejected, threw, or overran. */
  readonly applied: 'new model' | 'input returned' | 'rejected' | 'threw' | 'timed out' | 'not run';
  /** Notes the plugin added during the direct `apply`, and warnings it logged. */
  readonly notes: readonly string[];
}

export interface ConformanceReport {
  readonly plugin: string;
  readonly meta?: PluginMeta;
  readonly checks: readonly ConformanceCheck[];
  readonly models: readonly ModelConformance[];
  /** No check failed. */
  readonly passed: boolean;
}
