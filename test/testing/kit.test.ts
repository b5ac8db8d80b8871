import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { container as rootContainer, inject } from 'tsyringe';
import { AVAILABLE, CandidateRejectedError, Plugin, PluginRegistry, type KilnModel, type OptimizationPlugin } from 'tfjs-kiln';
import {
  CONFORMANCE_CHECKS,
  describePluginConformance,
  MODEL_CHECK_IDS,
  PLUGIN_CHECK_IDS,
  runPluginConformance,
  type ConformanceCheckId,
  type ConformanceOptions,
  type ConformanceReport,
  type MochaContextLike,
  type MochaLike,
} from 'tfjs-kiln/testing';
import { registerBrokenPlugins, WrappedModel } from '../helpers/broken-plugins.js';

/** The outcome of each check on the one model (plugin-level checks included). */
function outcomes(report: ConformanceReport): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of report.checks) out[c.id] = c.outcome;
  for (const c of report.models[0]?.checks ?? []) out[c.id] = c.outcome;
  return out;
}

function messageOf(report: ConformanceReport, id: ConformanceCheckId): string {
  return [...report.checks, ...(report.models[0]?.checks ?? [])].find((c) => c.id === id)?.message ?? '';
}

const PASSES: Record<ConformanceCheckId, string> = Object.fromEntries(
  [...PLUGIN_CHECK_IDS, ...MODEL_CHECK_IDS].map((id) => [id, 'passed']),
) as Record<ConformanceCheckId, string>;

describe('the conformance kit (tfjs-kiln/testing) catches broken plugins', function () {
  const container = rootContainer.createChildContainer();
  registerBrokenPlugins(container);
  const meta = (name: string) => ({ name, kind: 'test', objective: 'latency' as const, description: `kit test: ${name}` });

  /** Keeps a tensor it made after dispose(). */
  @Plugin(meta('kit-holds-on'), { container })
  class HoldsOnPlugin implements OptimizationPlugin {
    isAvailable() {
      return AVAILABLE;
    }
    async apply(target: KilnModel) {
      const scale = tf.scalar(1);
      return new WrappedModel(target, (x) => target.predict(x), `scaled by ${scale.id}`);
    }
  }

  /** Frees its input (the user's LayersModel) on dispose(). */
  @Plugin(meta('kit-frees-input'), { container })
  class FreesInputPlugin implements OptimizationPlugin {
    isAvailable() {
      return AVAILABLE;
    }
    async apply(target: KilnModel) {
      const wrapped = new WrappedModel(target, (x) => target.predict(x));
      wrapped.dispose = () => target.layersModel?.dispose();
      return wrapped;
    }
  }

  /** Finds nothing within its own constraints and says so. */
  @Plugin(meta('kit-rejects'), { container })
  class RejectsPlugin implements OptimizationPlugin {
    isAvailable() {
      return AVAILABLE;
    }
    async apply(): Promise<KilnModel> {
      throw new CandidateRejectedError('no variant within the budget');
    }
  }

  /** Unavailable, without saying why. */
  @Plugin(meta('kit-no-reason'), { container })
  class NoReasonPlugin implements OptimizationPlugin {
    isAvailable() {
      return { available: false as const, reason: '' };
    }
    async apply(target: KilnModel) {
      return target;
    }
  }

  /** A throw that leaves a tensor behind. */
  @Plugin(meta('kit-throws-leaking'), { container })
  class ThrowsLeakingPlugin implements OptimizationPlugin {
    isAvailable() {
      return AVAILABLE;
    }
    async apply(): Promise<KilnModel> {
      tf.zeros([3]);
      throw new Error('half way');
    }
  }

  /** Asks for a service nobody registered. */
  const MISSING = Symbol('kit-test.missing-service');
  @Plugin(meta('kit-unconstructible'), { container })
  class UnconstructiblePlugin implements OptimizationPlugin {
    constructor(@inject(MISSING) readonly service: unknown) {}
    isAvailable() {
      return AVAILABLE;
    }
    async apply(target: KilnModel) {
      return target;
    }
  }

  class Undecorated implements OptimizationPlugin {
    isAvailable() {
      return AVAILABLE;
    }
    async apply(target: KilnModel) {
      return target;
    }
  }

  const run = (target: Parameters<typeof runPluginConformance>[0], options: ConformanceOptions = {}) =>
    runPluginConformance(target, { container, models: ['mlp'], ...options });

  it('passes a correct plugin (by name and by class) on every check', async () => {
    const byName = await run('faster');
    expect(outcomes(byName)).to.deep.equal(PASSES);
    expect(byName.passed).to.equal(true);
    expect(byName.models[0]!.applied).to.equal('new model');
    const byClass = await run(RejectsPlugin);
    expect(byClass.passed, JSON.stringify(byClass, null, 1)).to.equal(true);
    expect(messageOf(byClass, 'tolerance')).to.match(/reported itself rejected: no variant within the budget/);
    expect(byClass.models[0]!.decision?.status).to.equal('rejected');
  });

  it('a plugin that throws: tolerance fails, and the pipeline check names the failure', async () => {
    const report = await run('throws');
    expect(outcomes(report)).to.include({
      tolerance: 'failed',
      pipeline: 'failed',
      'input-untouched': 'passed',
      'dispose-frees': 'passed',
    });
    expect(messageOf(report, 'tolerance')).to.match(/apply threw: kaboom in apply.*CandidateRejectedError/);
    expect(messageOf(report, 'pipeline')).to.match(/failed it: apply threw: kaboom/);
    expect(report.passed).to.equal(false);
  });

  it('a plugin whose results drift (NaN): kept to its contract when the pipeline rejects them; fails under strictTolerance', async () => {
    const lenient = await run('nan');
    expect(outcomes(lenient)).to.include({ tolerance: 'passed', pipeline: 'passed' });
    expect(messageOf(lenient, 'tolerance')).to.match(/produced NaN .*; the pipeline rejected it: numerical mismatch/);
    const strict = await run('nan', { strictTolerance: true });
    expect(outcomes(strict)).to.include({ tolerance: 'failed', pipeline: 'failed' });
    expect(messageOf(strict, 'tolerance')).to.match(/produced NaN.*context\.validation\.check/);
    expect(messageOf(strict, 'pipeline')).to.match(/rejected its result for leaving the tolerance/);
  });

  it("a plugin that writes into the user's weights: input-untouched fails, and the weights are restored", async () => {
    const report = await run('mutates');
    expect(outcomes(report)).to.include({ 'input-untouched': 'failed', pipeline: 'failed' });
    expect(messageOf(report, 'input-untouched')).to.match(/the user's model: .*kernel/);
    expect(messageOf(report, 'pipeline')).to.match(/mutated the user's weights/);
  });

  it('a plugin that never finishes: time-limit fails within the limit it is given', async () => {
    const started = performance.now();
    const report = await run('hangs', { timeLimitMs: 150 });
    expect(outcomes(report)).to.include({ 'time-limit': 'failed', tolerance: 'failed', pipeline: 'failed' });
    expect(messageOf(report, 'time-limit')).to.match(/more than its time limit of 150 ms.*context\.signal/);
    expect(messageOf(report, 'pipeline')).to.match(/time limit of 150 ms/);
    expect(performance.now() - started).to.be.below(10_000);
  });

  /** Blocks the event loop past its limit, then returns a new model (which the kit frees). */
  @Plugin(meta('kit-blocks'), { container })
  class BlocksPlugin implements OptimizationPlugin {
    isAvailable() {
      return AVAILABLE;
    }
    async apply(target: KilnModel) {
      const until = performance.now() + 200;
      while (performance.now() < until) {
        /* busy */
      }
      return new WrappedModel(target, (x) => target.predict(x));
    }
  }

  it('a plugin that blocks the event loop past its limit: time-limit fails, and its late result is freed', async () => {
    const before = tf.memory().numTensors;
    const report = await run(BlocksPlugin, { timeLimitMs: 50, pipeline: false });
    expect(outcomes(report)).to.include({ 'time-limit': 'failed', tolerance: 'failed', 'dispose-frees': 'skipped' });
    expect(report.models[0]!.applied).to.equal('timed out');
    expect(messageOf(report, 'time-limit')).to.match(/more than its time limit of 50 ms/);
    expect(tf.memory().numTensors).to.equal(before);
  });

  it('a plugin that leaks per call: no-leak-per-call fails', async () => {
    const report = await run('leaks');
    expect(outcomes(report)).to.include({ 'no-leak-per-call': 'failed', pipeline: 'failed' });
    expect(messageOf(report, 'no-leak-per-call')).to.match(/leaves 1 tensor\(s\)/);
  });

  it('a plugin whose dispose() keeps what apply made: dispose-frees fails', async () => {
    const report = await run(HoldsOnPlugin);
    expect(outcomes(report)).to.include({ 'dispose-frees': 'failed', 'dispose-safe': 'passed' });
    expect(messageOf(report, 'dispose-frees')).to.match(/1 tensor and 1 backend buffer are still held/);
  });

  it('a plugin whose throw leaves tensors behind: dispose-frees fails', async () => {
    const report = await run(ThrowsLeakingPlugin, { pipeline: false });
    expect(outcomes(report)).to.include({ 'dispose-frees': 'failed', tolerance: 'failed', pipeline: 'skipped' });
    expect(messageOf(report, 'dispose-frees')).to.match(/after apply threw, 1 tensor/);
  });

  it('a plugin whose dispose() frees its input: dispose-safe fails', async () => {
    const report = await run(FreesInputPlugin, { pipeline: false });
    expect(outcomes(report)).to.include({ 'dispose-safe': 'failed' });
    expect(messageOf(report, 'dispose-safe')).to.match(/its input no longer runs after dispose\(\)/);
  });

  it('an unavailable plugin: the availability check passes with the reason, and the model checks are skipped', async () => {
    const report = await run('unavailable');
    expect(outcomes(report)).to.deep.equal({
      ...Object.fromEntries(MODEL_CHECK_IDS.map((id) => [id, 'skipped'])),
      registered: 'passed',
      available: 'passed',
      pipeline: 'passed',
    });
    expect(messageOf(report, 'available')).to.equal('unavailable: needs hardware this machine lacks');
    expect(messageOf(report, 'tolerance')).to.match(/unavailable here: needs hardware/);
    expect(report.models[0]!.decision?.status).to.equal('unavailable');
    expect(report.passed).to.equal(true);
  });

  it('unavailable without a reason, an undecorated class, or an unknown name: fails', async () => {
    expect(outcomes(await run(NoReasonPlugin, { pipeline: false }))).to.include({ available: 'failed' });
    const undecorated = await run(Undecorated as never);
    expect(outcomes(undecorated)).to.include({ registered: 'failed' });
    expect(messageOf(undecorated, 'registered')).to.match(/no @Plugin\(\{\.\.\.\}\) metadata/);
    const unknown = await run('no-such-plugin');
    expect(outcomes(unknown)).to.include({ registered: 'failed', tolerance: 'failed' });
    expect(messageOf(unknown, 'registered')).to.match(/no plugin named "no-such-plugin" is registered/);
  });

  it('a plugin that cannot be constructed: the availability check says so', async () => {
    const report = await run(UnconstructiblePlugin, { pipeline: false });
    expect(outcomes(report)).to.include({ registered: 'passed', available: 'failed', tolerance: 'skipped' });
    expect(messageOf(report, 'available')).to.match(/could not be constructed/);
  });

  it('refuses options the plugin does not take', async () => {
    const report = await runPluginConformance('graph-compile', { models: ['mlp'], options: { fast: true } });
    expect(outcomes(report)).to.include({ registered: 'failed' });
    expect(messageOf(report, 'registered')).to.match(/options given to the kit do not validate.*fast/);
  });

  it('leaves tf.js and the containers as it found them', async () => {
    const elsewhere = rootContainer.createChildContainer();
    @Plugin(meta('kit-registered-elsewhere'), { container: elsewhere })
    class RegisteredElsewhere implements OptimizationPlugin {
      isAvailable() {
        return AVAILABLE;
      }
      async apply(target: KilnModel) {
        return new WrappedModel(target, (x) => target.predict(x));
      }
    }
    const before = tf.memory().numTensors;
    const report = await run(RegisteredElsewhere, { models: ['mlp', 'custom-layer'] });
    expect(report.passed, JSON.stringify(report.models, null, 1)).to.equal(true);
    expect(
      new PluginRegistry(container).has('kit-registered-elsewhere'),
      'the kit registers a class it is given only in a child of its own',
    ).to.equal(false);
    await run(HoldsOnPlugin); // its leaks (one per apply: direct, then in the pipeline) are the plugin's
    expect(tf.getBackend()).to.equal('cpu');
    expect(tf.memory().numTensors - before).to.equal(2);
  });

  describe('describePluginConformance', () => {
    /** A stand-in for mocha's BDD interface that records the suite and runs it in order. */
    function recordingMocha() {
      const events: string[] = [];
      const outcomes: Record<string, string> = {};
      const pending: (() => Promise<void>)[] = [];
      let path: string[] = [];
      const mocha: MochaLike = {
        describe(title, fn) {
          const saved = path;
          path = [...path, title];
          events.push(`describe ${path.join(' / ')}`);
          fn.call({ timeout: () => undefined });
          path = saved;
        },
        before(fn) {
          pending.push(async () => {
            await fn.call({ timeout: () => undefined });
          });
        },
        it(title, fn) {
          const where = [...path, title].join(' / ');
          events.push(`it ${where}`);
          pending.push(async () => {
            let skipped = false;
            const context: MochaContextLike = {
              skip: () => {
                skipped = true;
                throw new Error('skip');
              },
            };
            try {
              await fn.call(context);
              outcomes[where] = 'passed';
            } catch (error) {
              outcomes[where] = skipped ? 'skipped' : `failed: ${(error as Error).message}`;
            }
          });
        },
      };
      return {
        mocha,
        events,
        outcomes,
        run: async () => {
          for (const step of pending) await step();
        },
      };
    }

    it('declares one suite per plugin and model, with one test per check, each failing with its message', async () => {
      const recorded = recordingMocha();
      describePluginConformance('leaks', { container, models: ['mlp', 'custom-layer'], mocha: recorded.mocha });
      const its = recorded.events.filter((e) => e.startsWith('it '));
      expect(its).to.have.length(PLUGIN_CHECK_IDS.length + 2 * MODEL_CHECK_IDS.length);
      expect(recorded.events[0]).to.equal("describe leaks conforms to Kiln's plugin contract");
      expect(recorded.events).to.include("describe leaks conforms to Kiln's plugin contract / on custom-layer");
      await recorded.run();
      const leak = `leaks conforms to Kiln's plugin contract / on mlp / ${CONFORMANCE_CHECKS['no-leak-per-call']}`;
      expect(recorded.outcomes[leak]).to.match(
        /^failed: leaks no tensors or backend buffers per predict call: each predict call leaves 1 tensor/,
      );
      expect(recorded.outcomes[`leaks conforms to Kiln's plugin contract / ${CONFORMANCE_CHECKS.registered}`]).to.equal('passed');
    });

    it('reports checks that do not apply as skipped', async () => {
      const recorded = recordingMocha();
      describePluginConformance('unavailable', { container, models: ['mlp'], mocha: recorded.mocha, title: 'stand-in' });
      await recorded.run();
      expect(recorded.outcomes[`stand-in / on mlp / ${CONFORMANCE_CHECKS.tolerance}`]).to.equal('skipped');
      expect(recorded.outcomes[`stand-in / on mlp / ${CONFORMANCE_CHECKS.pipeline}`]).to.equal('passed');
    });

    it("takes mocha's own functions as they are typed", () => {
      const explicit: MochaLike = { describe, it, before };
      expect(explicit.it).to.equal(it);
    });

    it("says how to pass mocha's functions when its globals are absent", () => {
      const g = globalThis as Record<string, unknown>;
      const saved = g.describe;
      g.describe = undefined;
      try {
        expect(() => describePluginConformance('faster', { container })).to.throw(
          /pass them: describePluginConformance\(plugin, \{ mocha: \{ describe, it, before \} \}\)/,
        );
      } finally {
        g.describe = saved;
      }
    });
  });
});
