import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { compile } from '../../src/compiler/api/compile.js';
import { explain } from '../../src/compiler/api/explain.js';
import { ReplayExecutor } from '../../src/compiler/executors/replay-executor.js';
import { DirectExecutor } from '../../src/compiler/executors/direct-executor.js';
import { disposeGraphConstants, type KernelGraph, type ValueId } from '../../src/compiler/ir.js';
import { commonSubexpressions } from '../../src/compiler/passes/common-subexpressions.js';
import { constantFolding } from '../../src/compiler/passes/constant-folding.js';
import { deadCode } from '../../src/compiler/passes/dead-code.js';
import type { GraphPass } from '../../src/compiler/passes/graph-pass.js';
import { BUILT_IN_PASSES, PASS_NAMES, planMemory, runPasses } from '../../src/compiler/passes/index.js';
import { noopRemoval } from '../../src/compiler/passes/noop-removal.js';
import { traceCall } from '../../src/compiler/trace.js';
import { ZOO, zooSampleInputs } from '../../src/zoo/index.js';
import { expectTensorsClose } from './api/compile-helpers.js';

const CONTEXT = { mode: 'inference' as const };

/** Traces `fn` on `x` inside a tidy (the traced call may leave tensors behind); only the graph survives. */
function trace(fn: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): KernelGraph {
  let graph: KernelGraph | undefined;
  tf.tidy(() => {
    const result = traceCall(fn as (...xs: tf.Tensor[]) => unknown, [x]);
    expect(result.breaks).to.deep.equal([]);
    graph = result.graph;
  });
  return graph!;
}

const kernelsOf = (g: KernelGraph) => g.nodes.map((n) => n.kernel);

/** Replays `graph` with a memory plan (and direct kernels) and compares with running `fn` eagerly. */
function expectReplayMatches(graph: KernelGraph, fn: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): void {
  const expected = tf.tidy(() => fn(x));
  const before = tf.memory().numTensors;
  const replayed = new ReplayExecutor(graph, planMemory(graph)).run([x]);
  const direct = new DirectExecutor(graph, planMemory(graph), 'cpu').run([x]);
  expect(replayed).to.have.length(1);
  expectTensorsClose(replayed[0]!, expected, 1e-6, 1e-6, 'replay');
  expectTensorsClose(direct[0]!, expected, 1e-6, 1e-6, 'direct');
  tf.dispose([...replayed, ...direct]);
  expect(tf.memory().numTensors, 'replay and direct free every intermediate').to.equal(before);
  expected.dispose();
}

/** Runs one pass alone; checks it did not touch its input graph. */
function runAlone(pass: GraphPass, graph: KernelGraph) {
  const nodesBefore = JSON.stringify(graph.nodes);
  const result = pass.run(graph, CONTEXT);
  expect(JSON.stringify(graph.nodes), `${pass.name} left its input graph as it was`).to.equal(nodesBefore);
  expect(result.report.pass).to.equal(pass.name);
  return result;
}

describe('graph passes, each alone', () => {
  let x: tf.Tensor;
  before(() => {
    x = tf.tensor2d([
      [0.5, -1, 2],
      [1.5, 0, -0.25],
    ]);
  });
  after(() => x.dispose());

  it('dead-code removes a kernel whose result is never used', () => {
    const fn = (t: tf.Tensor) => {
      t.exp();
      return t.add(1);
    };
    const graph = trace(fn, x);
    expect(kernelsOf(graph)).to.deep.equal(['Exp', 'Add']);
    const { graph: out, report } = runAlone(deadCode, graph);
    expect(kernelsOf(out)).to.deep.equal(['Add']);
    expect(report.changes).to.equal(1);
    expect(report.detail).to.equal('1 unused kernel(s) removed');
    expectReplayMatches(out, fn, x);
    // a graph with nothing dead is left as it is
    const again = runAlone(deadCode, out);
    expect(again.report.changes).to.equal(0);
    expect(again.report.detail).to.equal('no unused kernels');
    disposeGraphConstants(graph);
  });

  it('cse merges two identical Exp kernels into one', () => {
    const fn = (t: tf.Tensor) => t.exp().add(t.exp());
    const graph = trace(fn, x);
    expect(kernelsOf(graph)).to.deep.equal(['Exp', 'Exp', 'Add']);
    const { graph: out, report } = runAlone(commonSubexpressions, graph);
    expect(kernelsOf(out)).to.deep.equal(['Exp', 'Add']);
    expect(report.changes).to.equal(1);
    expect(report.detail).to.equal('1 duplicate kernel(s) merged');
    const add = out.nodes[1]!;
    expect(add.inputs.a).to.equal(add.inputs.b);
    expect(add.inputs.a).to.equal(out.nodes[0]!.outputs[0]);
    expectReplayMatches(out, fn, x);
    disposeGraphConstants(graph);
  });

  it('cse keeps kernels that differ in attributes or inputs', () => {
    const fn = (t: tf.Tensor) => t.sum(0).add(t.sum(1).sum()).add(t.exp().add(t.abs().exp()).sum(0));
    const graph = trace(fn, x);
    const { report, graph: out } = runAlone(commonSubexpressions, graph);
    expect(report.changes).to.equal(0);
    expect(report.detail).to.equal('no duplicates');
    expectReplayMatches(out, fn, x);
    disposeGraphConstants(graph);
  });

  it('cse never merges random kernels', () => {
    const graph = trace((t: tf.Tensor) => t.add(1), x);
    const multinomial = { ...graph.nodes[0]!, kernel: 'Multinomial' };
    const twin: KernelGraph = { ...graph, nodes: [multinomial, { ...multinomial, id: 1, outputs: graph.nodes[0]!.outputs }] };
    expect(runAlone(commonSubexpressions, twin).report.changes).to.equal(0);
    disposeGraphConstants(graph);
  });

  it('constant-folding computes the Mul of two constants at compile time', () => {
    const fn = (t: tf.Tensor) => t.add(tf.scalar(2).mul(3));
    const graph = trace(fn, x);
    expect(kernelsOf(graph)).to.deep.equal(['Multiply', 'Add']);
    const { graph: out, report } = runAlone(constantFolding, graph);
    expect(kernelsOf(out)).to.deep.equal(['Add']);
    expect(report.changes).to.equal(1);
    expect(report.detail).to.equal('1 kernel(s) folded into constants');
    const folded = out.values.get(out.nodes[0]!.inputs.b!)!;
    expect(folded.kind).to.equal('constant');
    expect(Array.from(folded.constant!.dataSync())).to.deep.equal([6]);
    // the traced graph still has its Mul output as an intermediate
    expect(graph.values.get(graph.nodes[0]!.outputs[0]!)!.kind).to.equal('intermediate');
    expectReplayMatches(out, fn, x);
    disposeGraphConstants(out);
    disposeGraphConstants(graph);
  });

  it('constant-folding never folds a variable (it is read at run time)', () => {
    const v = tf.variable(tf.scalar(2));
    const fn = (t: tf.Tensor) => t.add(v.mul(3));
    const graph = trace(fn, x);
    const { graph: out, report } = runAlone(constantFolding, graph);
    expect(report.changes).to.equal(0);
    expect(kernelsOf(out)).to.deep.equal(['Multiply', 'Add']);
    v.assign(tf.scalar(5));
    expectReplayMatches(out, fn, x);
    disposeGraphConstants(graph);
    v.dispose();
  });

  it('noop-removal drops same-shape Reshape, same-dtype Cast and Identity (tf.clone)', () => {
    const fn = (t: tf.Tensor) => tf.clone(t.reshape(t.shape).cast('float32')).mul(2);
    const graph = trace(fn, x);
    expect(kernelsOf(graph)).to.deep.equal(['Reshape', 'Cast', 'Identity', 'Multiply']);
    const { graph: out, report } = runAlone(noopRemoval, graph);
    expect(kernelsOf(out)).to.deep.equal(['Multiply']);
    expect(out.nodes[0]!.inputs.a).to.equal(out.inputs[0]);
    expect(report.changes).to.equal(3);
    expect(report.detail).to.equal('1 Reshape, 1 Cast, 1 Identity removed');
    expectReplayMatches(out, fn, x);
    disposeGraphConstants(graph);
  });

  it('noop-removal keeps a Reshape that changes the shape and a Cast that changes the dtype', () => {
    const fn = (t: tf.Tensor) => t.reshape([3, 2]).cast('int32').cast('float32');
    const graph = trace(fn, x);
    const { graph: out, report } = runAlone(noopRemoval, graph);
    expect(report.changes).to.equal(0);
    expect(report.detail).to.equal('nothing to remove');
    expect(kernelsOf(out)).to.deep.equal(['Reshape', 'Cast', 'Cast']);
    expectReplayMatches(out, fn, x);
    disposeGraphConstants(graph);
  });

  it('noop-removal on a function that returns its input unchanged: the output is the input, cloned for the caller', () => {
    const fn = (t: tf.Tensor) => tf.clone(t);
    const graph = trace(fn, x);
    const { graph: out } = runAlone(noopRemoval, graph);
    expect(out.nodes).to.have.length(0);
    expect(out.outputs).to.deep.equal(out.inputs);
    const before = tf.memory().numTensors;
    const [y] = new ReplayExecutor(out, planMemory(out)).run([x]);
    expect(y).to.not.equal(x);
    expect(Array.from(y!.dataSync())).to.deep.equal(Array.from(x.dataSync()));
    y!.dispose();
    expect(x.isDisposed).to.equal(false);
    expect(tf.memory().numTensors).to.equal(before);
    disposeGraphConstants(graph);
  });

  it('runPasses runs the built-in passes in order and reports a disabled pass as disabled', () => {
    const fn = (t: tf.Tensor) => tf.clone(t).exp().add(t.exp()).add(tf.scalar(2).mul(3));
    const graph = trace(fn, x);
    const all = runPasses(graph, CONTEXT);
    expect(all.reports.map((r) => r.pass)).to.deep.equal(BUILT_IN_PASSES.map((p) => p.name));
    expect(PASS_NAMES).to.include.members(['noop-removal', 'constant-folding', 'cse', 'dead-code', 'memory-plan']);
    expect(kernelsOf(all.graph)).to.deep.equal(['Exp', 'Add', 'Add']);
    expectReplayMatches(all.graph, fn, x);
    const withoutCse = runPasses(graph, CONTEXT, ['cse']);
    expect(withoutCse.reports.find((r) => r.pass === 'cse')).to.deep.equal({ pass: 'cse', changes: 0, detail: 'disabled' });
    expect(kernelsOf(withoutCse.graph)).to.deep.equal(['Exp', 'Exp', 'Add', 'Add']);
    expectReplayMatches(withoutCse.graph, fn, x);
    disposeGraphConstants(all.graph);
    disposeGraphConstants(withoutCse.graph);
    disposeGraphConstants(graph);
  });
});

/** Checks a memory plan against its graph: every intermediate freed once, after its last use; never an output. */
function checkPlan(graph: KernelGraph): { peakLive: number; peakLiveWithoutPlan: number } {
  const plan = planMemory(graph);
  expect(plan.freeAfter).to.have.length(graph.nodes.length);
  const outputs = new Set(graph.outputs);
  const freed = plan.freeAfter.flat();
  expect(new Set(freed).size, 'no value freed twice').to.equal(freed.length);
  const produced = graph.nodes.flatMap((n) => n.outputs);
  const expectedFreed = produced.filter((v) => !outputs.has(v));
  expect([...freed].sort((a, b) => a - b)).to.deep.equal([...new Set(expectedFreed)].sort((a, b) => a - b));
  for (const v of freed) expect(outputs.has(v), `output ${v} is never freed`).to.equal(false);
  const producedAt = new Map<ValueId, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => producedAt.set(o, i)));
  plan.freeAfter.forEach((list, i) => {
    for (const v of list) {
      expect(graph.values.get(v)!.kind).to.equal('intermediate');
      expect(producedAt.get(v)!, `value ${v} freed after it is made`).to.be.at.most(i);
      graph.nodes.slice(i + 1).forEach((later) => {
        expect(Object.values(later.inputs), `value ${v} freed after node ${i} but used later`).to.not.include(v);
      });
    }
  });
  expect(plan.peakLive).to.be.at.most(plan.peakLiveWithoutPlan);
  expect(plan.peakLiveWithoutPlan).to.equal(produced.length);
  return plan;
}

describe('memory plan', () => {
  it('frees every intermediate exactly once, after its last use, never an output (small functions)', () => {
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const fns: ((t: tf.Tensor) => tf.Tensor | tf.Tensor[])[] = [
      (t) => t.exp().add(1).mul(t.exp().add(1)).relu(),
      (t) => {
        const a = t.square();
        const b = a.add(1);
        return [b, a.mul(b), b]; // an intermediate that is an output and used later, and an output twice
      },
      (t) => tf.split(t, 2, 0)[0]!.add(1), // a multi-output kernel with an unused output
    ];
    for (const fn of fns) {
      let graph: KernelGraph | undefined;
      tf.tidy(() => {
        graph = traceCall(fn as (...xs: tf.Tensor[]) => unknown, [x]).graph;
      });
      const plan = checkPlan(graph!);
      expect(plan.peakLive).to.be.at.most(plan.peakLiveWithoutPlan);
      const before = tf.memory().numTensors;
      const out = new ReplayExecutor(graph!, planMemory(graph!)).run([x]);
      const expected = tf.tidy(() => fn(x));
      const list = Array.isArray(expected) ? expected : [expected];
      expect(out).to.have.length(list.length);
      out.forEach((o, i) => expectTensorsClose(o, list[i]!));
      tf.dispose(list);
      tf.dispose(out);
      expect(tf.memory().numTensors).to.equal(before);
      disposeGraphConstants(graph!);
    }
    x.dispose();
  });

  it('on a zoo model after passes: the plan lowers the peak of live intermediates', () => {
    const entry = ZOO['shogi-resnet'];
    const model = entry.build({ small: true });
    const [x] = zooSampleInputs(entry, 1, 3) as [tf.Tensor];
    let graph: KernelGraph | undefined;
    tf.tidy(() => {
      graph = traceCall((t) => model.predict(t), [x]).graph;
    });
    const { graph: optimised } = runPasses(graph!, CONTEXT);
    const plan = checkPlan(optimised);
    expect(plan.peakLive).to.be.lessThan(plan.peakLiveWithoutPlan);
    disposeGraphConstants(optimised);
    disposeGraphConstants(graph!);
    model.dispose();
    x.dispose();
  });
});

describe('passes through compile() and explain()', () => {
  it("compile(fn, { disablePasses: ['cse'] }) reports cse as disabled and keeps the duplicate", () => {
    const fn = (t: tf.Tensor) => t.exp().add(t.exp());
    const x = tf.tensor1d([0, 1, 2]);
    const off = compile(fn, { disablePasses: ['cse'] });
    const on = compile(fn);
    const expected = fn(x);
    const a = off(x);
    const b = on(x);
    expectTensorsClose(a, expected);
    expectTensorsClose(b, expected);
    const offPlan = off.stats().compiled[0]!;
    const onPlan = on.stats().compiled[0]!;
    expect(offPlan.passes.find((p) => p.pass === 'cse')).to.deep.equal({ pass: 'cse', changes: 0, detail: 'disabled' });
    expect(offPlan.kernelsAfterPasses).to.equal(3);
    expect(onPlan.passes.find((p) => p.pass === 'cse')!.changes).to.equal(1);
    expect(onPlan.kernelsAfterPasses).to.equal(2);
    tf.dispose([x, expected, a, b]);
    off.dispose();
    on.dispose();
  });

  it("disabling 'memory-plan' frees intermediates at the end instead, with either executor, and reports no plan figures", () => {
    const fn = (t: tf.Tensor) => t.exp().add(1).relu().sum();
    const x = tf.tensor1d([0, 1, 2]);
    const expected = fn(x);
    for (const executor of ['direct', 'replay'] as const) {
      const compiled = compile(fn, { disablePasses: ['memory-plan'], executor });
      tf.dispose(compiled(x));
      const tensors = tf.memory().numTensors;
      const buffers = tf.engine().backend.numDataIds();
      for (let i = 0; i < 5; i++) {
        const y = compiled(x);
        expectTensorsClose(y, expected);
        y.dispose();
      }
      expect(tf.memory().numTensors, executor).to.equal(tensors);
      expect(tf.engine().backend.numDataIds(), executor).to.equal(buffers);
      const plan = compiled.stats().compiled[0]!;
      expect(plan.executor).to.equal(executor);
      expect(plan.passes.find((p) => p.pass === 'memory-plan')).to.deep.equal({ pass: 'memory-plan', changes: 0, detail: 'disabled' });
      expect(plan.peakLiveIntermediates).to.equal(undefined);
      compiled.dispose();
    }
    tf.dispose([x, expected]);
  });

  it('explain on a zoo model lists its layer names in byLayer', () => {
    const entry = ZOO['custom-layer'];
    const model = entry.build({ small: true });
    const [x] = zooSampleInputs(entry, 2, 0) as [tf.Tensor];
    const before = tf.memory().numTensors;
    const e = explain(model, x, { print: false });
    expect(tf.memory().numTensors, 'explain frees what it makes').to.equal(before);
    const layerNames = model.layers.filter((l) => l.getClassName() !== 'InputLayer').map((l) => l.name);
    const listed = e.byLayer.map((l) => l.layer).filter((n) => n !== '(outside any layer)');
    expect(listed).to.deep.equal(layerNames);
    for (const l of e.byLayer) expect(l.kernels.length).to.be.greaterThan(0);
    const swishName = model.layers.find((l) => l.getClassName() === 'KilnScaledSwish')!.name;
    const swish = e.byLayer.find((l) => l.layer === swishName);
    expect(swish, 'the custom layer is listed').to.not.equal(undefined);
    expect(swish!.kernels).to.include('Sigmoid');
    for (const name of layerNames) expect(e.text).to.include(`  ${name}: `);
    expect(e.breaks).to.deep.equal([]);
    expect(e.kernelsAfterPasses).to.be.at.most(e.kernelsCaptured);
    expect(e.byLayer.reduce((n, l) => n + l.kernels.length, 0)).to.equal(e.kernelsCaptured);
    x.dispose();
    model.dispose();
  });
});
