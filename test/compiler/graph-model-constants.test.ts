import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { compile } from '../../src/compiler/api/compile.js';
import { explain } from '../../src/compiler/api/explain.js';
import { disposeGraphConstants } from '../../src/compiler/ir.js';
import { traceCall } from '../../src/compiler/trace.js';
import { CompileStrictError } from '../../src/core/errors.js';
import { allclose } from '../../src/core/validation/allclose.js';
import { graphModelSampleInputs, loadHumanModel } from '../helpers/graph-models.js';
import { recordingLogger } from './api/compile-helpers.js';

const asList = (y: unknown): tf.Tensor[] => (Array.isArray(y) ? (y as tf.Tensor[]) : [y as tf.Tensor]);

/** Traces `fn` once and frees what the trace made; its breaks and the constants it read. */
function traceOnce(fn: (...xs: tf.Tensor[]) => unknown, inputs: tf.Tensor[]) {
  const r = traceCall(fn, inputs);
  tf.dispose(r.outputs);
  disposeGraphConstants(r.graph);
  return { breaks: r.breaks, readConstants: r.readConstants };
}

/** Asserts the same shapes and values within |a - e| <= 1e-6 + 1e-4 |e| (1e-4 relative). */
function expectClose(actual: tf.Tensor[], expected: tf.Tensor[], what: string): void {
  expect(actual.length, `${what}: outputs`).to.equal(expected.length);
  expected.forEach((e, i) => {
    expect(actual[i]!.shape, `${what} ${i}: shape`).to.deep.equal(e.shape);
    const c = allclose(e.dataSync(), actual[i]!.dataSync(), 1e-6, 1e-4);
    expect(c.ok, `${what} ${i}: max |diff| ${c.maxAbsDiff}`).to.equal(true);
  });
}

describe('compiler: real graph models (tfjs-converter executor) read their constants, and compile', () => {
  before(async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
  });
  after(async () => {
    await tf.setBackend('cpu');
  });

  for (const name of ['selfie', 'facemesh-detection-short', 'movenet-lightning']) {
    it(`${name}: the trace of predict has no value-read break; compile() matches predict, leaks nothing, and guards on the weights it read`, async () => {
      const model = await loadHumanModel(name);
      const xs = graphModelSampleInputs(model);
      const predict = (...x: tf.Tensor[]) => model.predict(x.length === 1 ? x[0]! : x) as tf.Tensor | tf.Tensor[];
      const compiled = compile(predict, { name, selectionRuns: 1 });
      try {
        const trace = traceOnce(predict, xs);
        expect(trace.breaks, JSON.stringify(trace.breaks)).to.deep.equal([]);
        // the converter reads constant axes, shapes, paddings of its ops with dataSync(): weights of the model
        expect(trace.readConstants.length).to.be.greaterThan(0);

        tf.dispose(compiled(...xs)); // compiles
        const before = tf.memory().numTensors;
        for (let call = 0; call < 2; call++) {
          const got = asList(compiled(...xs));
          const expected = asList(predict(...xs));
          expectClose(got, expected, `${name} call ${call}`);
          tf.dispose([got, expected]);
        }
        expect(tf.memory().numTensors, 'tensors held after compiled calls').to.equal(before);
        const stats = compiled.stats();
        expect(stats.eager).to.deep.equal([]);
        expect(stats.compiled).to.have.length(1);
        expect(stats.compiled[0]!.constantsRead).to.equal(trace.readConstants.length);
        expect(stats.compiledCalls).to.equal(3);
      } finally {
        compiled.dispose();
        tf.dispose(xs);
        model.dispose();
      }
    });
  }

  it('a compiled graph model whose model was disposed is not replayed: the call traces again and throws, saying why', async () => {
    const model = await loadHumanModel('facemesh-detection-short');
    const [x] = graphModelSampleInputs(model);
    const compiled = compile((t: tf.Tensor) => model.predict(t) as tf.Tensor, { verify: 'off', selectionRuns: 0 });
    try {
      tf.dispose([compiled(x!), compiled(x!)]);
      model.dispose();
      expect(() => compiled(x!)).to.throw(/read as a constant .* was disposed since the trace.*tracing the call again failed/);
      expect(compiled.stats().compiled).to.deep.equal([]);
    } finally {
      compiled.dispose();
      x!.dispose();
    }
  });
});

describe('compiler: reading a constant is baked in, reading what depends on an input still breaks', () => {
  it('a read of an input-dependent value breaks, and the reason names the kernel that made it (Sum)', () => {
    const fn = (x: tf.Tensor) => x.mul(x.sum().dataSync()[0]!);
    const x = tf.tensor1d([1, 2, 3]);
    const compiled = compile(fn);
    try {
      const { breaks } = traceOnce(fn as (...xs: tf.Tensor[]) => unknown, [x]);
      expect(breaks.map((b) => b.cause)).to.deep.equal(['value-read']);
      expect(breaks[0]!.reason).to.match(/dataSync\(\) of the output of kernel Sum, which depends on input 0/);
      const y = compiled(x);
      expect(Array.from(y.dataSync())).to.deep.equal([6, 12, 18]);
      y.dispose();
      expect(compiled.stats().eager[0]!.reason).to.match(/of the output of kernel Sum, which depends on input 0/);
    } finally {
      compiled.dispose();
      x.dispose();
    }
  });

  it('reads of an input itself, of a variable, and of a kernel output computed from a variable break, naming them', () => {
    const v = tf.variable(tf.tensor1d([1, 2, 3]), false, 'read_me');
    const x = tf.tensor1d([4, 5, 6]);
    try {
      const cases: [(x: tf.Tensor) => tf.Tensor, RegExp][] = [
        [(t) => t.add(t.arraySync() as number[]), /arraySync\(\) of input 0/],
        [(t) => t.add(v.dataSync()[0]!), /dataSync\(\) of variable "read_me"/],
        [(t) => t.add(v.mul(2).dataSync()[0]!), /dataSync\(\) of the output of kernel Multiply, which depends on variable "read_me"/],
        [
          (t) => t.add((tf.engine().readSync(tf.tidy(() => t.max()).dataId) as Float32Array)[0]!),
          /readSync\(\) of the output of kernel Max, which depends on input 0/,
        ],
      ];
      for (const [fn, reason] of cases) {
        const { breaks } = traceOnce(fn as (...xs: tf.Tensor[]) => unknown, [x]);
        expect(breaks.map((b) => b.cause)).to.deep.equal(['value-read']);
        expect(breaks[0]!.reason).to.match(reason);
      }
    } finally {
      tf.dispose([v, x]);
    }
  });

  it('a read of a captured tensor, or of a kernel output computed from captured tensors only, compiles and matches eager', () => {
    const shape = tf.tensor1d([3, 2], 'int32');
    const scale = tf.scalar(2);
    const fn = (x: tf.Tensor) => {
      const s = tf.tidy(() => scale.add(1)); // 3, from a captured tensor only
      const k = s.dataSync()[0]!;
      s.dispose();
      return tf.tidy(() => x.reshape(Array.from(shape.dataSync())).mul(k));
    };
    const x = tf.range(0, 6);
    const compiled = compile(fn, { logger: recordingLogger() });
    try {
      const { breaks, readConstants } = traceOnce(fn as (...xs: tf.Tensor[]) => unknown, [x]);
      expect(breaks).to.deep.equal([]);
      expect(readConstants.map((c) => c.tensor)).to.have.members([shape, scale]);
      tf.dispose(compiled(x)); // compiles
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        const y = compiled(x);
        const e = fn(x);
        expect(y.shape).to.deep.equal([3, 2]);
        expect(Array.from(y.dataSync())).to.deep.equal(Array.from(e.dataSync()));
        tf.dispose([y, e]);
      }
      expect(tf.memory().numTensors).to.equal(before);
      expect(compiled.stats().eager).to.deep.equal([]);
      expect(compiled.stats().compiled[0]!.constantsRead).to.equal(2);
    } finally {
      compiled.dispose();
      tf.dispose([shape, scale, x]);
    }
  });

  it('a tensor created in the call and read (tf.tensor of plain numbers) is a constant too; random ones are caught by the second trace', () => {
    const x = tf.range(0, 6);
    const fixed = compile((t: tf.Tensor) => t.reshape(Array.from(tf.tensor1d([2, 3], 'int32').dataSync())));
    const random = compile((t: tf.Tensor) => t.mul(tf.randomUniform([1]).dataSync()[0]!));
    try {
      tf.dispose(fixed(x));
      const y = fixed(x);
      expect(y.shape).to.deep.equal([2, 3]);
      y.dispose();
      expect(fixed.stats().eager).to.deep.equal([]);
      tf.dispose([random(x), random(x)]);
      expect(random.stats().compiled).to.deep.equal([]);
      expect(random.stats().eager[0]!.breaks[0]!.cause).to.equal('random-values');
    } finally {
      fixed.dispose();
      random.dispose();
      x.dispose();
    }
  });
});

describe('compiler: a plan that baked in a constant is dropped when that constant is disposed', () => {
  /** A function that reshapes by a captured shape tensor, and branches on a kernel output computed from a captured tensor. */
  function hostile() {
    const state = { shape: tf.tensor1d([3, 2], 'int32'), sign: tf.scalar(1) };
    const fn = (x: tf.Tensor) =>
      tf.tidy(() => {
        const positive = state.sign.greater(0).dataSync()[0] === 1;
        const r = x.reshape(Array.from(state.shape.dataSync()));
        return positive ? r.add(10) : r.neg();
      });
    const replace = () => {
      tf.dispose([state.shape, state.sign]);
      state.shape = tf.tensor1d([2, 3], 'int32');
      state.sign = tf.scalar(-1);
    };
    return { fn, replace, dispose: () => tf.dispose([state.shape, state.sign]) };
  }

  it('disposed and replaced: the next call recompiles and follows the new constants (with verify off, so the guard alone does it)', () => {
    const { fn, replace, dispose } = hostile();
    const logger = recordingLogger();
    const compiled = compile(fn, { verify: 'off', logger });
    const x = tf.range(0, 6);
    const baseline = tf.memory().numTensors;
    try {
      tf.dispose([compiled(x), compiled(x)]);
      expect(compiled.stats().compiled[0]!.constantsRead).to.equal(2);
      replace();
      const y = compiled(x);
      const e = fn(x);
      expect(y.shape).to.deep.equal([2, 3]);
      expect(Array.from(y.dataSync())).to.deep.equal(Array.from(e.dataSync()));
      expect(Array.from(y.dataSync())).to.deep.equal([-0, -1, -2, -3, -4, -5]);
      tf.dispose([y, e]);
      const stats = compiled.stats();
      expect(stats.compiled).to.have.length(1);
      expect(stats.eager).to.deep.equal([]);
      expect(logger.lines.info.join('\n')).to.match(/read as a constant \(.*\) was disposed since the trace/);
      const held = tf.memory().numTensors;
      const again = compiled(x);
      expect(Array.from(again.dataSync())).to.deep.equal([-0, -1, -2, -3, -4, -5]);
      again.dispose();
      expect(tf.memory().numTensors, 'a replayed call leaves nothing').to.equal(held);
      compiled.dispose();
      // the dropped plan freed its kept copies when it was dropped, the new one when disposed
      expect(tf.memory().numTensors, 'nothing held once disposed').to.equal(baseline);
    } finally {
      compiled.dispose();
      dispose();
      x.dispose();
    }
  });

  it('under strict, a disposed constant is a CompileStrictError, never a stale result', () => {
    const { fn, replace, dispose } = hostile();
    const compiled = compile(fn, { strict: true, verify: 'off' });
    const x = tf.range(0, 6);
    try {
      tf.dispose(compiled(x));
      replace();
      expect(() => compiled(x)).to.throw(CompileStrictError, /would recompile .* was disposed since the trace/);
    } finally {
      compiled.dispose();
      dispose();
      x.dispose();
    }
  });

  it('explain says how many constants the trace read', () => {
    const { fn, dispose } = hostile();
    const x = tf.range(0, 6);
    try {
      const e = explain(fn, x, { print: false });
      expect(e.breaks).to.deep.equal([]);
      expect(e.text).to.include('Constants read during the trace: 2 tensor(s)');
    } finally {
      dispose();
      x.dispose();
    }
  });
});
