import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { compile } from '../../../src/compiler/api/compile.js';
import { explain } from '../../../src/compiler/api/explain.js';
import { CompileStrictError } from '../../../src/core/errors.js';
import { expectTensorsClose, recordingLogger } from './compile-helpers.js';

/** A function over JavaScript state that it closes over, and a way to change that state. */
interface ClosureCase {
  readonly title: string;
  make(): { fn: (x: tf.Tensor) => tf.Tensor; change(): void; dispose(): void };
}

const CLOSURE_CASES: ClosureCase[] = [
  {
    title: 'a softmax temperature changed from 1 to 0.1',
    make: () => {
      let temperature = 1;
      return {
        fn: (x) => tf.softmax(x.div(temperature)),
        change: () => void (temperature = 0.1),
        dispose: () => undefined,
      };
    },
  },
  {
    title: 'a boolean flag flipped',
    make: () => {
      let useRelu = true;
      return {
        fn: (x) => (useRelu ? x.relu() : x.neg()),
        change: () => void (useRelu = false),
        dispose: () => undefined,
      };
    },
  },
  {
    title: 'a captured tensor rebound',
    make: () => {
      const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
      const b = tf.tensor2d([-3, 1, 0, 2, 5, -1], [3, 2]);
      let w = a;
      return {
        fn: (x) => x.matMul(w),
        change: () => void (w = b),
        dispose: () => tf.dispose([a, b]),
      };
    },
  },
];

const input = () => tf.tensor2d([-2, 0.5, 3, 1, -1, 2], [2, 3]);

describe('compile: verify (eager beside the plan) catches JavaScript state that changed since the trace', () => {
  for (const c of CLOSURE_CASES) {
    it(`${c.title}: by default the first replay is checked; the mismatch runs eagerly from then on, with one warning`, () => {
      const { fn, change, dispose } = c.make();
      const logger = recordingLogger();
      const compiled = compile(fn, { logger, name: 'stateful' });
      const x = input();
      try {
        tf.dispose(compiled(x)); // the trace
        change();
        for (let call = 0; call < 3; call++) {
          const got = compiled(x);
          const expected = fn(x);
          expectTensorsClose(got, expected);
          tf.dispose([got, expected]);
        }
        const stats = compiled.stats();
        expect(stats.compiled).to.deep.equal([]);
        expect(stats.eager).to.have.length(1);
        expect(stats.eager[0]!.cause).to.equal('verify-mismatch');
        expect(stats.eager[0]!.reason).to.match(/verify: the replay's output 0 differs from eager by/);
        expect(stats.verifiedCalls).to.equal(1);
        expect(stats.verify).to.match(/first 1 replayed call/);
        expect(logger.lines.warn).to.have.length(1);
        expect(logger.lines.warn[0]).to.match(/stateful: verify: .*closes over/);
      } finally {
        compiled.dispose();
        x.dispose();
        dispose();
      }
    });
  }

  it('the verification itself leaks nothing and keeps the plan when eager agrees', () => {
    const compiled = compile((x: tf.Tensor) => x.square().add(1), { verify: 'always' });
    const x = input();
    tf.dispose(compiled(x));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) tf.dispose(compiled(x));
    expect(tf.memory().numTensors).to.equal(before);
    const stats = compiled.stats();
    expect(stats.compiled).to.have.length(1);
    expect(stats.eager).to.deep.equal([]);
    expect(stats.verifiedCalls).to.equal(5);
    expect(stats.compiledCalls).to.equal(6);
    compiled.dispose();
    x.dispose();
  });

  it('strict: a mismatch is a CompileStrictError, and what the two calls made is freed', () => {
    let scale = 1;
    const x = input();
    const before = tf.memory().numTensors;
    const compiled = compile((t: tf.Tensor) => t.mul(scale), { strict: true });
    tf.dispose(compiled(x));
    scale = 3;
    expect(() => compiled(x)).to.throw(CompileStrictError, /verify: the replay's output 0 differs from eager/);
    // the plan is gone with its constants: the signature runs eagerly, so a caller who goes on gets eager's result
    expect(tf.memory().numTensors).to.equal(before);
    const y = compiled(x);
    expect(Array.from(y.dataSync())).to.deep.equal(tf.tidy(() => Array.from(x.mul(3).dataSync())));
    y.dispose();
    expect(compiled.stats().eager[0]!.cause).to.equal('verify-mismatch');
    compiled.dispose();
    x.dispose();
  });

  it("every-n checks the 1st, (n+1)th, ... replay; 'off' checks none (and stays stale: the documented limit)", () => {
    let bias = 0;
    const fn = (x: tf.Tensor) => x.add(bias);
    const every = compile(fn, { verify: 'every-n', verifyEvery: 3, logger: recordingLogger() });
    const off = compile(fn, { verify: 'off' });
    const x = input();
    try {
      tf.dispose([every(x), off(x)]);
      for (let i = 0; i < 3; i++) tf.dispose(every(x)); // replays 1 (checked), 2, 3
      expect(every.stats().verifiedCalls).to.equal(1);
      bias = 5;
      const stale = every(x); // replay 4: checked
      const expected = fn(x);
      expectTensorsClose(stale, expected);
      expect(every.stats().verifiedCalls).to.equal(2);
      expect(every.stats().eager[0]!.cause).to.equal('verify-mismatch');
      const offResult = off(x);
      expect(offResult.sub(expected).abs().max().dataSync()[0]).to.equal(5);
      expect(off.stats().verifiedCalls).to.equal(0);
      expect(off.stats().verify).to.equal('off');
      tf.dispose([stale, expected, offResult]);
    } finally {
      every.dispose();
      off.dispose();
      x.dispose();
    }
  });

  it('bad verify options are a TypeError', () => {
    const f = (x: tf.Tensor) => x.neg();
    expect(() => compile(f, { verify: 'sometimes' as 'off' })).to.throw(TypeError, /verify must be one of/);
    expect(() => compile(f, { verify: 'every-n', verifyEvery: 0 })).to.throw(TypeError, /verifyEvery/);
    expect(() => compile(f, { verifyFirst: -1 })).to.throw(TypeError, /verifyFirst/);
  });

  it('explain says what verify checks and what compile() cannot see', () => {
    const x = input();
    const e = explain((t: tf.Tensor) => t.relu(), x, { print: false });
    expect(e.text).to.match(/Verify: first 1 replayed call/);
    expect(e.text).to.match(/closes over/);
    x.dispose();
  });
});
