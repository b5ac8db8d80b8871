/** `describePluginConformance`: the kit's checks as a mocha suite, one test per check, for each plugin and model. */
import { CONFORMANCE_CHECKS, MODEL_CHECK_IDS, PLUGIN_CHECK_IDS, type ConformanceCheck } from './checks.js';
import type { ConformanceOptions, ConformanceTarget } from './options.js';
import { ConformanceSession } from './session.js';

/** What a test body or hook is handed by mocha (`this`), as far as the kit uses it. */
export interface MochaContextLike {
  skip?(): void;
  timeout?(ms: number): unknown;
}

/**
 * The parts of mocha's BDD interface the kit calls. Mocha's globals (`describe`,
 * `it`, `before`) are used when none are given; pass them when your runner does not
 * install them (e.g. `import { describe, it, before } from 'mocha'`).
 */
export interface MochaLike {
  describe(title: string, fn: (this: MochaContextLike) => void): unknown;
  it(title: string, fn: (this: MochaContextLike) => void | Promise<void>): unknown;
  before(fn: (this: MochaContextLike) => void | Promise<void>): unknown;
}

export interface DescribeConformanceOptions extends ConformanceOptions {
  /** mocha's `describe`, `it` and `before`. Default: the globals mocha installs. */
  readonly mocha?: MochaLike;
  /** Timeout of each hook and test, in ms. Default 120000. */
  readonly timeoutMs?: number;
  /** Title of the suite. Default: `<plugin> conforms to Kiln's plugin contract`. */
  readonly title?: string;
}

/** A failed check, as mocha shows it. */
export class ConformanceError extends Error {
  constructor(readonly check: ConformanceCheck) {
    super(`${check.title}: ${check.message}`);
    this.name = 'ConformanceError';
  }
}

function mochaGlobals(): MochaLike {
  const g = globalThis as unknown as Partial<MochaLike>;
  if (typeof g.describe !== 'function' || typeof g.it !== 'function' || typeof g.before !== 'function') {
    throw new Error(
      "describePluginConformance must be called while mocha loads a test file (it uses mocha's describe, it and before); " +
        'with another runner, pass them: describePluginConformance(plugin, { mocha: { describe, it, before } }).',
    );
  }
  return g as MochaLike;
}

/** Turns a check into the test's outcome: a failure throws, a check that does not apply is skipped. */
function settle(context: MochaContextLike, found: ConformanceCheck | undefined): void {
  if (!found) throw new Error('the conformance kit lost a check');
  if (found.outcome === 'failed') throw new ConformanceError(found);
  if (found.outcome === 'skipped') context.skip?.();
}

/**
 * Declares a mocha suite that checks one plugin against Kiln's plugin contract: it
 * applies the plugin to each model (by default every zoo model, scaled down), directly
 * and through Kiln's pipeline, and checks that it never mutates its input, leaks no
 * tensors, keeps its results within the tolerance it declares or reports itself
 * rejected, honours its time limit, and that `dispose()` frees what it created. Each
 * check is its own test; a check that does not apply (e.g. the plugin is unavailable
 * here, or returned its input) is reported pending, with the reason.
 *
 * ```ts
 * import { describePluginConformance } from 'tfjs-kiln/testing';
 * import { MyPlugin } from '../src/my-plugin.js';
 *
 * describePluginConformance(MyPlugin, { models: ['mlp', 'depthwise-cnn'], options: { factor: 3 } });
 * ```
 *
 * Call it at the top level of a test file, or inside a `describe`.
 */
export function describePluginConformance(target: ConformanceTarget, options: DescribeConformanceOptions = {}): void {
  const mocha = options.mocha ?? mochaGlobals();
  const session = new ConformanceSession(target, options);
  const timeout = options.timeoutMs ?? 120_000;
  mocha.describe(options.title ?? `${session.name} conforms to Kiln's plugin contract`, function () {
    this.timeout?.(timeout);
    let pluginChecks: ConformanceCheck[] = [];
    mocha.before(async function () {
      this.timeout?.(timeout);
      pluginChecks = await session.pluginChecks();
    });
    for (const id of PLUGIN_CHECK_IDS) {
      mocha.it(CONFORMANCE_CHECKS[id], function () {
        settle(
          this,
          pluginChecks.find((c) => c.id === id),
        );
      });
    }
    for (const name of session.modelNames) {
      mocha.describe(`on ${name}`, function () {
        this.timeout?.(timeout);
        let checks: readonly ConformanceCheck[] = [];
        mocha.before(async function () {
          this.timeout?.(timeout);
          checks = (await session.modelChecks(name)).checks;
        });
        for (const id of MODEL_CHECK_IDS) {
          mocha.it(CONFORMANCE_CHECKS[id], function () {
            settle(
              this,
              checks.find((c) => c.id === id),
            );
          });
        }
      });
    }
  });
}
