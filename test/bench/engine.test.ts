import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { DEFAULT_BENCH_SETTINGS, runBench } from '../../src/bench/engine.js';
import { renderNotes } from '../../src/bench/format.js';
import { benchOptimizeConfig } from '../../src/bench/setup.js';
import { resolveSources } from '../../src/bench/sources.js';
import type { BenchResult } from '../../src/bench/types.js';
import { BUILT_IN_VARIANTS, PLAIN_WASM, type BenchVariant } from '../../src/bench/variants.js';

const CPU = { name: 'cpu', tfName: 'cpu' };

/** A variant from "later": joins the table by being in the array. */
const EXTRA: BenchVariant = {
  name: 'extra-engine',
  description: 'a stand-in for a later engine',
  build: async (c) => {
    const copy = await c.buildModel('cpu');
    return { model: copy.format.wrap(copy.model, 'cpu', false, 'stand-in'), description: 'stand-in engine' };
  },
};
const BROKEN: BenchVariant = {
  name: 'broken',
  description: 'cannot be built',
  build: async () => {
    throw new Error('no such engine here');
  },
};

/** The built-in variants but plain-wasm, which runs on wasm wherever another suite has started it (the graph-model suite covers it). */
const CPU_VARIANTS = BUILT_IN_VARIANTS.filter((v) => v.name !== PLAIN_WASM);

describe('bench: engine (no timing assertions)', () => {
  let result: BenchResult;
  let tensorsBefore: number;
  let tensorsAfter: number;
  const events: string[] = [];
  const phases: string[] = [];

  before(async () => {
    tensorsBefore = tf.memory().numTensors;
    result = await runBench({
      sources: await resolveSources(['zoo:mlp'], { small: true }),
      backends: [CPU],
      bestBackend: CPU,
      batches: [1, 2],
      variants: [...CPU_VARIANTS, EXTRA, BROKEN],
      settings: { ...DEFAULT_BENCH_SETTINGS, budgetMs: 0, minRounds: 3, maxRounds: 3, warmupRounds: 1 },
      optimizeConfig: (b) => benchOptimizeConfig(undefined, [b.name]),
      observer: {
        cellStarted: (c, i, n) => events.push(`start ${c.batch} ${i}/${n}`),
        phase: (c, what, done, planned) => phases.push(`${c.batch} ${what} ${done}/${planned}`),
        cellDone: (c, i, n) => events.push(`done ${c.batch} ${i}/${n}`),
      },
    });
    tensorsAfter = tf.memory().numTensors;
  });

  it('measures one cell per model, backend and batch, every variant in table order', () => {
    expect(result.cells.map((c) => [c.model, c.backend, c.batch])).to.deep.equal([
      ['mlp (small)', 'cpu', 1],
      ['mlp (small)', 'cpu', 2],
    ]);
    const names = [...CPU_VARIANTS.map((v) => v.name), 'extra-engine', 'broken'];
    expect(result.variants.map((v) => v.name)).to.deep.equal(names);
    for (const c of result.cells) expect(c.variants.map((v) => v.name)).to.deep.equal(names);
    expect(events).to.deep.equal(['start 1 0/2', 'done 1 0/2', 'start 2 1/2', 'done 2 1/2']);
  });

  it("reports each cell's phases: building every variant not copied, then warm-up, then timing", () => {
    const built = ['predict', 'compiled', 'layers-fused', 'fused', 'kiln', 'extra-engine', 'broken'];
    const expected = (batch: number) => [
      ...built.map((name) => `${batch} building ${name} 0/0`),
      `${batch} warm-up 0/1`,
      `${batch} timing 0/3`,
      `${batch} timing 1/3`,
      `${batch} timing 2/3`,
    ];
    expect(phases).to.deep.equal([...expected(1), ...expected(2)]);
    for (const c of result.cells) expect(c.warmupRounds).to.equal(1);
  });

  it('records median, p10/p90, cold call, every timing and what each variant ran on', () => {
    for (const c of result.cells) {
      expect(c.rounds).to.equal(3);
      for (const v of c.variants.filter((x) => !x.error)) {
        expect(v.ranOn, v.name).to.equal('cpu');
        expect(v.timingsMs, v.name).to.have.length(3);
        expect(v.p10Ms!, v.name).to.be.at.most(v.medianMs!);
        expect(v.medianMs!, v.name).to.be.at.most(v.p90Ms!);
        expect(v.coldMs, v.name).to.be.a('number');
      }
    }
  });

  it('copies, not re-times, variants that are the same model on the same backend (plain tf.js and best backend on cpu)', () => {
    for (const c of result.cells) {
      const predict = c.variants.find((v) => v.name === 'predict')!;
      for (const name of ['plain-tfjs', 'best-backend']) {
        const v = c.variants.find((x) => x.name === name)!;
        expect(v.sameAs).to.equal('predict');
        expect(v.medianMs).to.equal(predict.medianMs);
      }
    }
  });

  it('keeps measuring when a variant cannot be built, and says why', () => {
    for (const c of result.cells) {
      const broken = c.variants.find((v) => v.name === 'broken')!;
      expect(broken.error).to.equal('no such engine here');
      expect(broken.medianMs).to.equal(undefined);
      expect(c.vsPredict).not.to.have.property('broken');
      expect(c.variants.find((v) => v.name === 'extra-engine')!.description).to.equal('stand-in engine');
    }
  });

  it('derives every ratio and GFLOP/s from the medians and the traced FLOP count', () => {
    for (const c of result.cells) {
      expect(c.flops).to.be.greaterThan(0);
      const predict = c.variants.find((v) => v.name === 'predict')!;
      expect(c.vsPredict.predict).to.equal(1);
      for (const v of c.variants.filter((x) => x.medianMs)) {
        expect(c.vsPredict[v.name], v.name).to.be.closeTo(predict.medianMs! / v.medianMs!, 0.01 * (predict.medianMs! / v.medianMs!) + 1e-3);
        expect(v.gflops!, v.name).to.be.closeTo(c.flops / (v.medianMs! * 1e6), 0.01 * v.gflops! + 1e-3);
      }
    }
    expect(result.cells[1]!.flops, 'batch 2 does twice the work of batch 1').to.equal(2 * result.cells[0]!.flops);
  });

  it("runs Kiln's optimize() once per model and backend, shared by every batch size", () => {
    expect(result.optimizeRuns.map((r) => [r.model, r.backend])).to.deep.equal([['mlp (small)', 'cpu']]);
    expect(result.optimizeRuns[0]!.report.decisions).to.be.an('array').that.is.not.empty;
    for (const c of result.cells) expect(c.variants.find((v) => v.name === 'kiln')!.medianMs).to.be.a('number');
  });

  it('frees every tensor it made', () => {
    expect(tensorsAfter).to.equal(tensorsBefore);
  });

  it('leaves the optional variants out of a slow cell, saying why', async () => {
    const slow = await runBench({
      sources: await resolveSources(['zoo:mlp'], { small: true }),
      backends: [CPU],
      bestBackend: CPU,
      batches: [1],
      variants: BUILT_IN_VARIANTS.filter((v) => ['predict', 'compiled', 'fused'].includes(v.name)),
      // every call is "slow" against a limit of a nanosecond
      settings: { ...DEFAULT_BENCH_SETTINGS, budgetMs: 0, minRounds: 2, maxRounds: 2, warmupRounds: 0, slowCallMs: 1e-6 },
      optimizeConfig: (b) => benchOptimizeConfig(undefined, [b.name]),
    });
    const [predict, compiled, fused] = slow.cells[0]!.variants;
    expect(predict!.medianMs).to.be.a('number');
    for (const v of [compiled!, fused!]) {
      expect(v.skipped).to.match(/^slow cell: one call of predict took .* so optional variants are left out/);
      expect(v.medianMs).to.equal(undefined);
    }
  });

  it('times a slow variant beside a fast predict in its first slowVariantRounds rounds only, without warm-up, saying why', async () => {
    // A stand-in whose first (cold) call is slow, 1 s against a 0.5 s limit: predict on the small MLP is far below it.
    const SLOW_FIRST: BenchVariant = {
      name: 'slow-first',
      description: 'a stand-in for plain tf.js on a slow backend',
      build: async (c) => {
        const copy = await c.buildModel('cpu');
        const model = copy.format.wrap(copy.model, 'cpu', false);
        let calls = 0;
        return {
          model: {
            backend: model.backend,
            description: model.description,
            inputs: model.inputs,
            outputNames: model.outputNames,
            predict: (x: tf.Tensor | tf.Tensor[]) => {
              if (calls++ === 0) for (const end = performance.now() + 1000; performance.now() < end;);
              return model.predict(x);
            },
            trainableVariables: () => model.trainableVariables(),
            dispose: () => model.dispose(),
          },
        };
      },
    };
    const run = await runBench({
      sources: await resolveSources(['zoo:mlp'], { small: true }),
      backends: [CPU],
      bestBackend: CPU,
      batches: [1],
      variants: [...CPU_VARIANTS.filter((v) => v.name === 'predict'), SLOW_FIRST],
      settings: {
        ...DEFAULT_BENCH_SETTINGS,
        budgetMs: 0,
        minRounds: 4,
        maxRounds: 4,
        warmupRounds: 1,
        slowCallMs: 500,
        slowVariantRounds: 2,
      },
      optimizeConfig: (b) => benchOptimizeConfig(undefined, [b.name]),
    });
    const [predict, slow] = run.cells[0]!.variants;
    expect(run.cells[0]!.rounds).to.equal(4);
    expect(predict!.timingsMs).to.have.length(4);
    expect(predict!.capped).to.equal(undefined);
    expect(slow!.timingsMs).to.have.length(2);
    expect(slow!.capped).to.match(
      /^slow: its cold call took 1\.\d s \(over 500 ms\) where predict is fast, so it is timed in 2 round\(s\) only/,
    );
    expect(renderNotes(run)).to.contain(`slow-first ${slow!.capped}`);
  });

  it('refuses a variant list without predict, the reference of every ratio', async () => {
    let caught: unknown;
    try {
      await runBench({
        sources: [],
        backends: [CPU],
        bestBackend: CPU,
        batches: [1],
        variants: [EXTRA],
        settings: DEFAULT_BENCH_SETTINGS,
        optimizeConfig: (b) => benchOptimizeConfig(undefined, [b.name]),
      });
    } catch (error) {
      caught = error;
    }
    expect(String(caught)).to.match(/must include "predict"/);
  });
});
