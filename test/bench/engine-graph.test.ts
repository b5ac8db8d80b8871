/**
 * The bench engine on a tf.GraphModel: the smallest real model (`liveness`, human-models)
 * on wasm, with tiny round and iteration counts. Nothing here asserts on a time: only on
 * which rows exist, what they ran on, why a variant was left out, and that no tensor is
 * left behind.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { realModelSource } from '../../bench/real-suite.js';
import { realModel } from '../../bench/real-models.js';
import { DEFAULT_BENCH_SETTINGS, runBench } from '../../src/bench/engine.js';
import { renderNotes, summaryGrid } from '../../src/bench/format.js';
import { benchOptimizeConfig } from '../../src/bench/setup.js';
import type { BenchResult } from '../../src/bench/types.js';
import { BUILT_IN_VARIANTS, KILN, LAYERS_FUSED_VARIANT, PLAIN_TFJS, PLAIN_WASM, PREDICT } from '../../src/bench/variants.js';
import { EngineManager } from '../../src/core/engines/engine-manager.js';
import { createRunContainer } from '../../src/core/run-container.js';
import { WASM_ENGINE } from '../../src/engines/tfjs/built-in-engines.js';

const WASM = { name: 'wasm', tfName: 'wasm' };
/** optimize() with as little timing as it takes: one validation sample, two timed calls per decision. */
const TINY_OPTIMIZE = { validation: { samples: 1 }, benchmark: { warmup: 0, iterations: 2 } };

describe('bench: engine on a graph model (liveness on wasm; no timing assertions)', function () {
  let result: BenchResult;
  let tensorsBefore: number;
  let tensorsAfter: number;
  const phases: string[] = [];

  before(async function () {
    const config = await benchOptimizeConfig(TINY_OPTIMIZE, ['wasm', 'cpu']);
    const wasm = await createRunContainer(config).resolve(EngineManager).ensure(WASM_ENGINE);
    if (!wasm.available) this.skip();
    await tf.setBackend('cpu');
    tensorsBefore = tf.memory().numTensors;
    result = await runBench({
      sources: [realModelSource(realModel('liveness'))],
      backends: [WASM],
      bestBackend: WASM,
      batches: [1],
      variants: BUILT_IN_VARIANTS,
      settings: { ...DEFAULT_BENCH_SETTINGS, budgetMs: 0, minRounds: 2, maxRounds: 2, warmupRounds: 0 },
      optimizeConfig: async () => config,
      observer: { phase: (_c, what) => phases.push(what) },
    });
    await tf.setBackend('cpu');
    tensorsAfter = tf.memory().numTensors;
  });

  const cell = () => result.cells[0]!;
  const variant = (name: string) => cell().variants.find((v) => v.name === name)!;

  it('measures the graph model: one cell, of format graph-model, a row per variant', () => {
    expect(result.cells.map((c) => [c.model, c.backend, c.batch, c.format])).to.deep.equal([['liveness', 'wasm', 1, 'graph-model']]);
    expect(cell().variants.map((v) => v.name)).to.deep.equal(BUILT_IN_VARIANTS.map((v) => v.name));
  });

  it('times the plain predicts (GraphModel.execute on wasm and on cpu) and Kiln, and takes the headline ratios against them', () => {
    for (const [name, ranOn] of [
      [PREDICT, 'wasm'],
      [PLAIN_TFJS, 'cpu'],
      [KILN, undefined],
    ] as const) {
      const v = variant(name);
      expect(v.error, name).to.equal(undefined);
      expect(v.medianMs, name).to.be.a('number');
      if (ranOn) expect(v.ranOn, name).to.equal(ranOn);
    }
    // on a wasm cell, plain tf.js on wasm is the cell's predict: copied, not timed twice
    expect(variant(PLAIN_WASM).sameAs).to.equal(PREDICT);
    expect(variant(PLAIN_WASM).medianMs).to.equal(variant(PREDICT).medianMs);
    expect(cell().vsPlainWasm![KILN]).to.be.a('number').above(0);
    expect(cell().vsPlain[KILN]).to.be.a('number').above(0);
    expect(cell().vsPlainWasm![KILN]).to.equal(cell().vsPredict[KILN]);
  });

  it('leaves the layers-only variant out, with the reason, without building it', () => {
    const v = variant(LAYERS_FUSED_VARIANT.name);
    expect(v.skipped).to.equal("op-fusion's layer rewrite works on a tf.LayersModel; this model is a tf.GraphModel (graph-model)");
    expect(v.medianMs).to.equal(undefined);
    expect(v.buildMs).to.equal(undefined);
    expect(phases).not.to.include(`building ${LAYERS_FUSED_VARIANT.name}`);
    expect(renderNotes(result)).to.contain(`liveness on wasm at batch 1: layers-fused left out: ${v.skipped}`);
  });

  it('counts the FLOPs from the traced kernels, value reads and all', () => {
    expect(cell().flops).to.be.greaterThan(0);
    expect(cell().flopsUnknown).to.equal(undefined);
  });

  it("runs Kiln's optimize() on the GraphModel itself, and names what it kept", () => {
    expect(result.optimizeRuns).to.have.length(1);
    const { report } = result.optimizeRuns[0]!;
    expect(report.model.format).to.equal('graph-model');
    expect(variant(KILN).description).to.match(/\((kept: .+|nothing kept)\)$/);
  });

  it('summarises Kiln against plain predict on wasm first, then on cpu; leaves out columns that only repeat predict', () => {
    const grid = summaryGrid(result);
    expect(grid.head).to.include.members([`${KILN} / ${PLAIN_WASM}`, `${KILN} / ${PLAIN_TFJS} (cpu)`, `${KILN} kept`]);
    expect(grid.head).not.to.include(`${PLAIN_WASM} ms`);
    const at = (h: string) => grid.rows[0]![grid.head.indexOf(h)];
    expect(grid.head.indexOf(`${KILN} / ${PLAIN_WASM}`)).to.be.below(grid.head.indexOf(`${KILN} / ${PLAIN_TFJS} (cpu)`));
    expect(at(`${KILN} / ${PLAIN_WASM}`)).to.equal(`${cell().vsPlainWasm![KILN]!.toFixed(2)}x`);
    expect(at(`${KILN} kept`))
      .to.be.a('string')
      .and.not.equal('-');
  });

  it('frees every tensor it made (the copies on every backend, the inputs, Kiln’s model)', () => {
    expect(tensorsAfter).to.equal(tensorsBefore);
  });
});
