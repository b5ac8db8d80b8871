/**
 * A conformance run: `ConformanceSession` prepares the plugin once and checks each
 * model on demand; `runPluginConformance` runs every check and returns the report.
 */
import 'reflect-metadata';
import type { PluginMeta } from '../core/plugin.js';
import { pluginMetaOf } from '../core/plugin-decorator.js';
import { ZOO, type ZooName } from '../zoo/index.js';
import { check, MODEL_CHECK_IDS, type ConformanceCheck } from './checks.js';
import { checkModel } from './model-check.js';
import { modelName } from './models.js';
import type { ConformanceModel, ConformanceOptions, ConformanceTarget } from './options.js';
import { preparePlugin, type PreparedPlugin } from './prepare-plugin.js';
import type { ConformanceReport, ModelConformance } from './report.js';

/**
 * Checks one plugin against Kiln's plugin contract. Prepared once, then each model
 * is checked on demand; `describePluginConformance` runs it inside mocha, and
 * `runPluginConformance` runs it to the end and returns the report.
 */
export class ConformanceSession {
  readonly name: string;
  private prepared?: Promise<PreparedPlugin>;

  constructor(
    private readonly target: ConformanceTarget,
    readonly options: ConformanceOptions = {},
  ) {
    this.name = typeof target === 'string' ? target : (pluginMetaOf(target)?.name ?? target.name);
  }

  /** The models to check, by name. */
  get modelNames(): string[] {
    return this.models().map(modelName);
  }

  /** The plugin-level checks (registration, availability). Never rejects. */
  async pluginChecks(): Promise<ConformanceCheck[]> {
    return (await this.prepare()).checks;
  }

  /** The plugin's `@Plugin` metadata, once found. */
  async meta(): Promise<PluginMeta | undefined> {
    return (await this.prepare()).meta;
  }

  /** Every model-level check on one model. Never rejects: anything unexpected is a failed check. */
  async modelChecks(name: string): Promise<ModelConformance> {
    const model = this.models().find((m) => modelName(m) === name);
    if (!model) throw new Error(`no model "${name}" among ${this.modelNames.join(', ')}`);
    const plugin = await this.prepare();
    try {
      return await checkModel(plugin, model, this.options);
    } catch (error) {
      const message = `the conformance run itself failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
      return { model: name, checks: MODEL_CHECK_IDS.map((id) => check(id, 'failed', message)), applied: 'not run', notes: [] };
    }
  }

  private models(): readonly (ZooName | ConformanceModel)[] {
    return this.options.models ?? (Object.keys(ZOO) as ZooName[]);
  }

  private prepare(): Promise<PreparedPlugin> {
    this.prepared ??= preparePlugin(this.target, this.name, this.options);
    return this.prepared;
  }
}

/** Runs every check on every model and returns the report (for use outside mocha, or to assert on failures). */
export async function runPluginConformance(target: ConformanceTarget, options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const session = new ConformanceSession(target, options);
  const checks = await session.pluginChecks();
  const models: ModelConformance[] = [];
  for (const name of session.modelNames) models.push(await session.modelChecks(name));
  const all = [...checks, ...models.flatMap((m) => m.checks)];
  const meta = await session.meta();
  return { plugin: session.name, ...(meta ? { meta } : {}), checks, models, passed: all.every((c) => c.outcome !== 'failed') };
}
