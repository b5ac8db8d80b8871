import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { compile } from '../../../src/compiler/api/compile.js';
import { explain } from '../../../src/compiler/api/explain.js';
import { CompileStrictError } from '../../../src/core/errors.js';
import type { GraphBreakCause } from '../../../src/compiler/graph-break.js';
import { ZOO, zooSampleInputs } from '../../../src/zoo/index.js';
import { asList, expectTensorsClose, recordingLogger } from './compile-helpers.js';
import { comparePredictions } from '../../helpers/predictions.js';

interface BreakCase {
  readonly title: string;
  readonly cause: GraphBreakCause;
  readonly reason: RegExp;
  /** Builds the function (and what it holds, freed by `dispose`). */
  make(): { fn: (x: tf.Tensor) => tf.Tensor; dispose(): void; deterministic: boolean };
  readonly shape: number[];
}

const CASES: BreakCase[] = [
  {
    title: 'a value read (dataSync)',
    cause: 'value-read',
    reason: /dataSync\(\)/,
    shape: [2, 3],
    make: () => ({
      fn: (x) => {
        const s = x.sum().dataSync()[0]!;
        return x.mul(s);
      },
      dispose: () => undefined,
      deterministic: true,
    }),
  },
  {
    title: 'random values made without a kernel',
    cause: 'random-values',
    reason: /different values on two calls/,
    shape: [2, 3],
    make: () => ({ fn: (x) => x.mul(tf.randomUniform(x.shape)), dispose: () => undefined, deterministic: false }),
  },
  {
    title: 'a variable created inside the call',
    cause: 'variable-created',
    reason: /variable was created inside the call/,
    shape: [2, 3],
    make: () => ({
      fn: (x) => {
        const v = tf.variable(tf.onesLike(x));
        const y = x.add(v);
        v.dispose();
        return y;
      },
      dispose: () => undefined,
      deterministic: true,
    }),
  },
  {
    title: 'Variable.assign during the call',
    cause: 'variable-assigned',
    reason: /Variable\.assign on "break_counter"/,
    shape: [2, 3],
    make: () => {
      const counter = tf.variable(tf.zeros([2, 3]), false, 'break_counter');
      return {
        fn: (x) => {
          counter.assign(x.add(1));
          return x.mul(2);
        },
        dispose: () => counter.dispose(),
        deterministic: true,
      };
    },
  },
  {
    title: 'a model with Dropout applied with training: true',
    cause: 'random-values',
    reason: /random values/,
    shape: [4, 6],
    make: () => {
      const model = tf.sequential();
      model.add(tf.layers.dense({ inputShape: [6], units: 5, kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }) }));
      model.add(tf.layers.dropout({ rate: 0.5 }));
      return { fn: (x) => model.apply(x, { training: true }) as tf.Tensor, dispose: () => model.dispose(), deterministic: false };
    },
  },
  {
    title: 'BatchNormalization applied with training: true',
    cause: 'variable-assigned',
    reason: /Variable\.assign on ".*moving_(mean|variance)/,
    shape: [4, 6],
    make: () => {
      const model = tf.sequential();
      model.add(tf.layers.dense({ inputShape: [6], units: 5, kernelInitializer: tf.initializers.glorotNormal({ seed: 4 }) }));
      model.add(tf.layers.batchNormalization());
      return { fn: (x) => model.apply(x, { training: true }) as tf.Tensor, dispose: () => model.dispose(), deterministic: true };
    },
  },
];

describe('compile: graph breaks run eagerly, with the reason', () => {
  for (const c of CASES) {
    it(`${c.title}: cause ${c.cause}, eager, outputs still right`, () => {
      const { fn, dispose, deterministic } = c.make();
      const logger = recordingLogger();
      const compiled = compile(fn, { logger });
      const x = tf.randomNormal(c.shape, 0, 1, 'float32', 17);
      try {
        for (let call = 0; call < 3; call++) {
          const got = compiled(x);
          const expected = fn(x);
          expect(got.shape).to.deep.equal(expected.shape);
          if (deterministic) expectTensorsClose(got, expected);
          tf.dispose([got, expected]);
        }
        if (!deterministic) {
          // eager each time: two calls draw different random values (a frozen replay would repeat them)
          const a = compiled(x);
          const b = compiled(x);
          expect(Array.from(a.dataSync())).to.not.deep.equal(Array.from(b.dataSync()));
          tf.dispose([a, b]);
        }
        const stats = compiled.stats();
        expect(stats.compiled).to.deep.equal([]);
        expect(stats.eager).to.have.length(1);
        const eager = stats.eager[0]!;
        expect(eager.breaks[0]!.cause).to.equal(c.cause);
        expect(eager.breaks[0]!.reason).to.match(c.reason);
        expect(eager.reason).to.match(/^graph break: /);
        expect(eager.reason).to.match(c.reason);
        expect(eager.signature).to.equal(`cpu|inference|float32[${c.shape.join(',')}]`);
        expect(stats.compiledCalls).to.equal(0);
        expect(stats.eagerCalls).to.equal(stats.calls);
        // one warning, for the first call of the signature
        expect(logger.lines.warn).to.have.length(1);
        expect(logger.lines.warn[0]).to.match(c.reason);

        const explained = explain(fn, x, { print: false });
        expect(explained.breaks.map((b) => b.cause)).to.include(c.cause);
        expect(explained.text).to.include(`[${c.cause}]`);
        expect(explained.kernelsAfterPasses).to.equal(undefined);
        expect(explained.kernelsCaptured).to.be.greaterThan(0);
      } finally {
        compiled.dispose();
        x.dispose();
        dispose();
      }
    });
  }

  it('value-read reason says where: the call site in this test file', () => {
    const compiled = compile((x: tf.Tensor) => x.mul(x.max().arraySync() as number));
    const x = tf.tensor1d([1, 2, 3]);
    tf.dispose(compiled(x));
    const reason = compiled.stats().eager[0]!.reason;
    expect(reason).to.match(/arraySync\(\)/);
    expect(reason).to.match(/graph-breaks\.test\.js:\d+/);
    compiled.dispose();
    x.dispose();
  });

  it('a break does not leak: repeated eager calls hold no extra tensors', () => {
    const compiled = compile((x: tf.Tensor) => x.mul(x.sum().dataSync()[0]!));
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    tf.dispose(compiled(x));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) tf.dispose(compiled(x));
    const compiledLeak = tf.memory().numTensors - before;
    // the function itself leaks its x.sum() on each call: the eager fallback adds nothing to that
    const eagerBefore = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) tf.dispose(x.mul(x.sum().dataSync()[0]!));
    const eagerLeak = tf.memory().numTensors - eagerBefore;
    expect(eagerLeak).to.equal(20);
    expect(compiledLeak).to.equal(eagerLeak);
    compiled.dispose();
    x.dispose();
  });

  it('tf.multinomial without a seed: cause random-values (its seed attribute differs per call), and draws differ per call', () => {
    const compiled = compile((logits: tf.Tensor) => tf.multinomial(logits as tf.Tensor2D, 40));
    const logits = tf.zeros([1, 10]);
    try {
      const draws = [0, 1, 2].map(() => {
        const y = compiled(logits);
        const v = Array.from(y.dataSync());
        y.dispose();
        return v.join(',');
      });
      // a frozen replay would give the same 40 draws again
      expect(new Set(draws).size).to.equal(3);
      const stats = compiled.stats();
      expect(stats.compiled).to.deep.equal([]);
      expect(stats.eager[0]!.breaks[0]!.cause).to.equal('random-values');
      expect(stats.eager[0]!.reason).to.match(/Multinomial got a different random seed/);
    } finally {
      compiled.dispose();
      logits.dispose();
    }
  });

  it('tf.multinomial with a fixed seed is deterministic, so it compiles and replays the same draw as eager', () => {
    const fn = (logits: tf.Tensor) => tf.multinomial(logits as tf.Tensor2D, 40, 123);
    const compiled = compile(fn);
    const logits = tf.zeros([1, 10]);
    try {
      for (let i = 0; i < 2; i++) {
        const got = compiled(logits);
        const expected = fn(logits);
        expect(Array.from(got.dataSync())).to.deep.equal(Array.from(expected.dataSync()));
        tf.dispose([got, expected]);
      }
      expect(compiled.stats().compiled).to.have.length(1);
      expect(compiled.stats().eager).to.deep.equal([]);
    } finally {
      compiled.dispose();
      logits.dispose();
    }
  });

  it('a kernel attribute that is not plain data: cause non-plain-attribute, eager', () => {
    const fn = (x: tf.Tensor) =>
      (tf.engine().runKernel('Relu', { x }, { callback: () => 1 } as unknown as tf.NamedAttrMap) as tf.Tensor).add(1);
    const compiled = compile(fn);
    const x = tf.tensor1d([-1, 2]);
    for (let i = 0; i < 2; i++) {
      const y = compiled(x);
      expect(Array.from(y.dataSync())).to.deep.equal([1, 3]);
      y.dispose();
    }
    const eager = compiled.stats().eager[0]!;
    expect(eager.breaks[0]!.cause).to.equal('non-plain-attribute');
    expect(eager.reason).to.match(/kernel Relu has attribute "callback" that is not plain data \(a function\)/);
    compiled.dispose();
    x.dispose();
  });

  it('control flow on JS state that changes between calls: cause unstable-trace, eager, follows the state', () => {
    let calls = 0;
    const fn = (x: tf.Tensor) => (++calls % 2 ? x.add(1) : x.mul(2).add(1));
    const compiled = compile(fn);
    const x = tf.tensor1d([1, 2]);
    tf.dispose(compiled(x)); // compiling runs it twice (calls 1 and 2), and finds they differ
    const stats = compiled.stats();
    expect(stats.eager[0]!.breaks[0]!.cause).to.equal('unstable-trace');
    expect(stats.eager[0]!.reason).to.match(/ran different kernels/);
    const odd = compiled(x); // call 3
    const even = compiled(x); // call 4
    expect(Array.from(odd.dataSync())).to.deep.equal([2, 3]);
    expect(Array.from(even.dataSync())).to.deep.equal([3, 5]);
    tf.dispose([odd, even]);
    compiled.dispose();
    x.dispose();
  });

  it('a function with no break compiles, and explain says so', () => {
    const fn = (x: tf.Tensor) => x.mul(2).add(1).relu();
    const x = tf.tensor1d([-1, 0, 1]);
    const e = explain(fn, x, { print: false });
    expect(e.breaks).to.deep.equal([]);
    expect(e.text).to.include('Graph breaks: none');
    expect(e.kernelsCaptured).to.equal(3);
    expect(e.kernels).to.deep.equal({ Multiply: 1, Add: 1, Relu: 1 });
    x.dispose();
  });
});

describe('compile: a value read through the backend is a graph break', () => {
  const readers: [string, (t: tf.Tensor) => number][] = [
    ['tf.engine().backend.readSync(dataId)', (t) => (tf.engine().backend.readSync(t.dataId) as Float32Array)[0]!],
    ['tf.backend().readSync(dataId)', (t) => (tf.backend().readSync(t.dataId) as Float32Array)[0]!],
    ['tf.engine().readSync(dataId)', (t) => (tf.engine().readSync(t.dataId) as Float32Array)[0]!],
  ];
  for (const [title, read] of readers) {
    it(`${title}: cause value-read, eager, the branch follows the values`, () => {
      const fn = (x: tf.Tensor) => {
        const s = tf.tidy(() => x.sum());
        const positive = read(s) > 0;
        s.dispose();
        return positive ? x.mul(2) : x.neg().add(100);
      };
      const compiled = compile(fn, { logger: recordingLogger() });
      const pos = tf.tensor1d([1, 2, 3]);
      const neg = tf.tensor1d([-1, -2, -3]);
      try {
        tf.dispose(compiled(pos));
        const got = compiled(neg);
        const expected = fn(neg);
        expectTensorsClose(got, expected);
        tf.dispose([got, expected]);
        const eager = compiled.stats().eager;
        expect(eager).to.have.length(1);
        expect(eager[0]!.breaks.map((b) => b.cause)).to.deep.equal(['value-read']);
        expect(eager[0]!.reason).to.match(/readSync\(\)/);
        expect(eager[0]!.reason).to.match(/graph-breaks\.test\.js:\d+/);
      } finally {
        compiled.dispose();
        tf.dispose([pos, neg]);
      }
    });
  }

  it('a Tensor read is reported once, as the Tensor method (not again as the backend read under it)', () => {
    const compiled = compile((x: tf.Tensor) => x.mul(x.sum().dataSync()[0]!), { logger: recordingLogger() });
    const x = tf.tensor1d([1, 2]);
    tf.dispose(compiled(x));
    expect(compiled.stats().eager[0]!.breaks.map((b) => b.reason)).to.have.length(1);
    expect(compiled.stats().eager[0]!.reason).to.match(/dataSync\(\)/);
    compiled.dispose();
    x.dispose();
  });

  it('kernels that read their inputs through the backend (cpu Tile, Gather) still compile', () => {
    const compiled = compile((x: tf.Tensor) => x.tile([2]).gather([0, 3]));
    const x = tf.tensor1d([1, 2, 3]);
    tf.dispose(compiled(x));
    expect(compiled.stats().eager).to.deep.equal([]);
    compiled.dispose();
    x.dispose();
  });
});

describe('compile: recompile limit and strict', () => {
  it('past recompileLimit new shapes run eagerly, with exactly one warning', () => {
    const logger = recordingLogger();
    const fn = (x: tf.Tensor) => x.square().add(1);
    const compiled = compile(fn, { recompileLimit: 2, logger });
    try {
      for (const rows of [1, 2, 3, 4, 3, 1]) {
        const x = tf.randomNormal([rows, 4], 0, 1, 'float32', rows);
        const got = compiled(x);
        const expected = fn(x);
        expectTensorsClose(got, expected);
        tf.dispose([x, got, expected]);
      }
      expect(logger.lines.warn).to.have.length(1);
      expect(logger.lines.warn[0]).to.match(/recompile limit of 2 reached/);
      const stats = compiled.stats();
      expect(stats.compiled).to.have.length(2);
      expect(stats.compiled.map((p) => p.signature)).to.deep.equal(['cpu|inference|float32[1,4]', 'cpu|inference|float32[2,4]']);
      expect(stats.eager).to.have.length(2);
      for (const e of stats.eager) {
        expect(e.reason).to.include('recompile limit');
        expect(e.breaks).to.deep.equal([]);
      }
      expect(stats.eager.map((e) => e.signature)).to.deep.equal(['cpu|inference|float32[3,4]', 'cpu|inference|float32[4,4]']);
      expect(stats.calls).to.equal(6);
      expect(stats.compiledCalls).to.equal(3);
      expect(stats.eagerCalls).to.equal(3);
    } finally {
      compiled.dispose();
    }
  });

  it('with default options the recompile limit warns once through console.warn, counting only the compiled signatures', () => {
    const warned: string[] = [];
    const original = console.warn;
    console.warn = (...args: unknown[]) => void warned.push(args.join(' '));
    const fn = (x: tf.Tensor) => x.square().add(1);
    const compiled = compile(fn, { name: 'varying' });
    try {
      for (let rows = 1; rows <= 11; rows++) {
        const x = tf.ones([rows, 2]);
        tf.dispose(compiled(x));
        x.dispose();
      }
    } finally {
      console.warn = original;
    }
    try {
      expect(warned).to.have.length(1);
      expect(warned[0]).to.match(/varying: recompile limit of 8 reached \(compiled for 8 signatures\)/);
      const stats = compiled.stats();
      expect(stats.compiled).to.have.length(8);
      expect(stats.eager).to.have.length(3);
      for (const e of stats.eager) {
        expect(e.reason).to.include('compiled for 8 signatures');
        expect(e.cause).to.equal('recompile-limit');
      }
    } finally {
      compiled.dispose();
    }
  });

  it('strict: a second shape throws CompileStrictError (COMPILE_STRICT) saying it would recompile', () => {
    const compiled = compile((x: tf.Tensor) => x.add(1), { strict: true });
    const a = tf.zeros([2, 3]);
    const b = tf.zeros([3, 3]);
    try {
      tf.dispose(compiled(a));
      tf.dispose(compiled(a));
      const before = tf.memory().numTensors;
      let caught: unknown;
      try {
        compiled(b);
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(CompileStrictError);
      expect((caught as CompileStrictError).code).to.equal('COMPILE_STRICT');
      expect((caught as Error).message).to.include('would recompile');
      expect((caught as Error).message).to.include('float32[3,3]');
      expect(tf.memory().numTensors).to.equal(before);
      // the compiled shape still works
      const y = compiled(a);
      expect(Array.from(y.dataSync())).to.deep.equal([1, 1, 1, 1, 1, 1]);
      y.dispose();
      expect(compiled.stats().compiled).to.have.length(1);
    } finally {
      compiled.dispose();
      tf.dispose([a, b]);
    }
  });

  it('strict: a graph break throws CompileStrictError saying it would run eagerly, and leaks nothing', () => {
    const compiled = compile((x: tf.Tensor) => tf.tidy(() => x.mul(x.sum().dataSync()[0]!)), { strict: true });
    const x = tf.ones([2, 2]);
    const before = tf.memory().numTensors;
    let caught: unknown;
    try {
      compiled(x);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(CompileStrictError);
    expect((caught as CompileStrictError).code).to.equal('COMPILE_STRICT');
    expect((caught as Error).message).to.include('would run eagerly');
    expect((caught as Error).message).to.include('dataSync');
    expect(tf.memory().numTensors).to.equal(before);
    compiled.dispose();
    x.dispose();
  });

  it('strict with a recompile limit: the shape past the limit throws instead of running eagerly', () => {
    const compiled = compile((x: tf.Tensor) => x.neg(), { strict: true, recompileLimit: 1 });
    const a = tf.zeros([1]);
    const b = tf.zeros([2]);
    tf.dispose(compiled(a));
    expect(() => compiled(b)).to.throw(CompileStrictError, /would run eagerly.*recompile limit of 1/);
    compiled.dispose();
    tf.dispose([a, b]);
  });

  it('a batch-1 trace is never replayed on a batch-2 input', () => {
    const entry = ZOO['custom-layer'];
    const model = entry.build({ small: true });
    const compiled = compile(model);
    const [x1] = zooSampleInputs(entry, 1, 1) as [tf.Tensor];
    const [x2] = zooSampleInputs(entry, 2, 2) as [tf.Tensor];
    try {
      tf.dispose(compiled.predict(x1));
      comparePredictions<tf.Tensor>(compiled, model, x2, (got, expected) => {
        expect(got.shape).to.deep.equal([2, 10]);
        expectTensorsClose(got, expected);
      });
      expect(compiled.stats().compiled.map((p) => p.signature)).to.deep.equal([
        'cpu|inference|float32[1,20]',
        'cpu|inference|float32[2,20]',
      ]);
    } finally {
      compiled.dispose();
      model.dispose();
      tf.dispose([x1, x2]);
    }
  });

  it('a trace of f(x, x) is never replayed for f(x, y): which inputs are the same tensor is part of the guard', () => {
    const fn = (a: tf.Tensor, b: tf.Tensor) => a.sub(b).mul(a);
    const compiled = compile(fn);
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.tensor1d([10, 20, 30]);
    try {
      for (const [a, b] of [
        [x, x],
        [x, y],
        [y, x],
        [y, y],
        [x, y],
      ] as [tf.Tensor, tf.Tensor][]) {
        const got = compiled(a, b);
        const expected = fn(a, b);
        expectTensorsClose(got, expected);
        tf.dispose([got, expected]);
      }
      expect(compiled.stats().compiled.map((p) => p.signature)).to.deep.equal([
        'cpu|inference|float32[3]|float32[3]=0',
        'cpu|inference|float32[3]|float32[3]',
      ]);
      expect(compiled.stats().compiledCalls).to.equal(5);
    } finally {
      compiled.dispose();
      tf.dispose([x, y]);
    }
  });

  it('a different dtype is a different signature', () => {
    const fn = (x: tf.Tensor) => x.add(x);
    const compiled = compile(fn);
    const f = tf.tensor1d([1, 2, 3], 'float32');
    const i = tf.tensor1d([1, 2, 3], 'int32');
    const yf = compiled(f);
    const yi = compiled(i);
    expect(yf.dtype).to.equal('float32');
    expect(yi.dtype).to.equal('int32');
    expect(Array.from(yi.dataSync())).to.deep.equal([2, 4, 6]);
    expect(compiled.stats().compiled.map((p) => p.signature)).to.deep.equal(['cpu|inference|float32[3]', 'cpu|inference|int32[3]']);
    tf.dispose([f, i, yf, yi]);
    compiled.dispose();
  });
});
