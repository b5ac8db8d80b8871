import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { compile } from '../../../src/compiler/api/compile.js';
import type { ExecutorDefinition } from '../../../src/compiler/executors/executor.js';
import { executorNames, registerExecutor } from '../../../src/compiler/executors/registry.js';
import { ReplayExecutor, replayExecutor } from '../../../src/compiler/executors/replay-executor.js';
import { expectTensorsClose } from '../api/compile-helpers.js';

declare module '../../../src/compiler/executors/executor.js' {
  interface ExecutorNames {
    'counting-test': true;
  }
}

describe('executor registry', () => {
  it('lists the built-in executors, the replay first', () => {
    expect(executorNames().slice(0, 2)).to.deep.equal(['replay', 'direct']);
  });

  it('refuses a second executor under a name already registered', () => {
    expect(() => registerExecutor(replayExecutor)).to.throw(/an executor named "replay" is already registered/);
  });

  it('compile() refuses an executor name that is not registered, listing the registered ones', () => {
    expect(() => compile((x: tf.Tensor) => x.add(1), { executor: 'fastest' as never })).to.throw(
      TypeError,
      /executor must be one of: auto, replay, direct(, [a-z-]+)* \(got "fastest"\)/,
    );
  });

  it('a registered executor is one compile() can be forced to, and unregistering it takes it away again', () => {
    let calls = 0;
    const counting: ExecutorDefinition = {
      name: 'counting-test',
      create: (graph, memory) => {
        const replay = new ReplayExecutor(graph, memory);
        return { kind: 'counting-test', run: (inputs) => (calls++, replay.run(inputs)) };
      },
    };
    const unregister = registerExecutor(counting);
    try {
      expect(executorNames()).to.include('counting-test');
      const fn = (x: tf.Tensor) => x.exp().add(1);
      const compiled = compile(fn, { executor: 'counting-test', selectionRuns: 0 });
      const x = tf.tensor1d([0, 1, 2]);
      const expected = fn(x);
      tf.dispose(compiled(x));
      const checked = calls;
      expect(checked, 'the compiler checks it against the traced call').to.be.greaterThan(0);
      const y = compiled(x);
      expectTensorsClose(y, expected);
      expect(calls).to.equal(checked + 1);
      const plan = compiled.stats().compiled[0]!;
      expect(plan.executor).to.equal('counting-test');
      expect(plan.executorReason).to.equal('counting-test forced by option');
      tf.dispose([x, expected, y]);
      compiled.dispose();
    } finally {
      unregister();
    }
    expect(executorNames()).to.not.include('counting-test');
    expect(() => compile((x: tf.Tensor) => x.add(1), { executor: 'counting-test' })).to.throw(TypeError, /got "counting-test"/);
  });
});
