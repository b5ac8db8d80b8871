import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { compile } from '../../../src/compiler/api/compile.js';
import { CompiledModel } from '../../../src/compiler/api/compiled-model.js';
import { explain } from '../../../src/compiler/api/explain.js';
import { CompileStrictError } from '../../../src/core/errors.js';
import { ZOO, zooSampleInputs } from '../../../src/zoo/index.js';
import { expectTensorsClose } from './compile-helpers.js';
import { expectSamePredictions } from '../../helpers/predictions.js';

describe('compile(): the API around the cache', () => {
  it('sampleInputs compiles at compile() time; the first real call is already a replay', () => {
    const fn = (x: tf.Tensor) => x.square().sum(1);
    const sample = tf.ones([2, 3]);
    const compiled = compile(fn, { sampleInputs: sample });
    expect(compiled.stats().compiled).to.have.length(1);
    expect(compiled.stats().calls).to.equal(1);
    const x = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const y = compiled(x);
    expect(Array.from(y.dataSync())).to.deep.equal([14, 77]);
    expect(compiled.stats().compiled).to.have.length(1);
    tf.dispose([sample, x, y]);
    compiled.dispose();
  });

  it('compile(model, { sampleInputs }) returns a CompiledModel with that shape compiled, and disposing it frees its constants', () => {
    const entry = ZOO['attention-block'];
    const model = entry.build({ small: true });
    const [x] = zooSampleInputs(entry, 2, 4) as [tf.Tensor];
    const before = tf.memory().numTensors;
    const compiled = compile(model, { sampleInputs: [x] });
    expect(compiled).to.be.instanceOf(CompiledModel);
    expect(compiled.description).to.include('compiled kernel graph');
    expect(compiled.stats().compiled).to.have.length(1);
    expect(compiled.outputNames).to.deep.equal(model.outputNames);
    expect(compiled.trainableVariables()).to.have.length(model.trainableWeights.length);
    expectSamePredictions(compiled, model, x);
    compiled.dispose();
    expect(tf.memory().numTensors).to.equal(before);
    model.dispose();
    x.dispose();
  });

  it('a function returning a list keeps the list; one returning something else is a TypeError', () => {
    const pair = compile((x: tf.Tensor) => [x.add(1), x.sub(1)]);
    const x = tf.tensor1d([1]);
    for (let i = 0; i < 2; i++) {
      const out = pair(x);
      expect(out).to.be.an('array').with.length(2);
      expect(Array.from(out[0]!.dataSync())).to.deep.equal([2]);
      expect(Array.from(out[1]!.dataSync())).to.deep.equal([0]);
      tf.dispose(out);
    }
    const bad = compile(((t: tf.Tensor) => t.dataSync()) as unknown as (t: tf.Tensor) => tf.Tensor);
    expect(() => bad(x)).to.throw(TypeError, /must return a tensor or an array of tensors \(got object\)/);
    const empty = compile((() => []) as unknown as (t: tf.Tensor) => tf.Tensor[]);
    expect(() => empty(x)).to.throw(TypeError, /got an array of 0 item/);
    pair.dispose();
    bad.dispose();
    empty.dispose();
    x.dispose();
  });

  it('compile() of something that is neither a model nor a function is a TypeError; a disposed function cannot be called', () => {
    expect(() => compile(42 as unknown as () => tf.Tensor)).to.throw(TypeError, /takes a tf\.LayersModel or a function of tensors/);
    const f = compile((x: tf.Tensor) => x.neg(), { name: 'negate' });
    const x = tf.scalar(3);
    tf.dispose(f(x));
    f.dispose();
    expect(() => f(x)).to.throw(/compiled function "negate" has been disposed/);
    x.dispose();
  });

  it('returning an input, a variable or a captured tensor returns that tensor itself, as eager does; a clone of it is a fresh tensor', () => {
    const c = tf.tensor1d([7, 8]);
    const v = tf.variable(tf.tensor1d([3, 4]));
    const id = compile((x: tf.Tensor) => tf.clone(x));
    const sources = compile((x: tf.Tensor) => [x.add(c), c, x, v, x] as tf.Tensor[]);
    const x = tf.tensor1d([1, 2]);
    for (let i = 0; i < 3; i++) {
      const y = id(x);
      expect(y).to.not.equal(x);
      y.dispose();
      expect(x.isDisposed).to.equal(false);
      const [s, k, same, variable, again] = sources(x);
      expect(k, `call ${i}`).to.equal(c);
      expect(same, `call ${i}`).to.equal(x);
      expect(again, `call ${i}`).to.equal(x);
      expect(variable, `call ${i}`).to.equal(v);
      expect(Array.from(s!.dataSync())).to.deep.equal([8, 10]);
      s!.dispose();
    }
    expect(c.isDisposed).to.equal(false);
    expect(Array.from(x.dataSync())).to.deep.equal([1, 2]);
    expect(sources.stats().compiled).to.have.length(1);
    id.dispose();
    sources.dispose();
    tf.dispose([x, c, v]);
  });

  for (const executor of ['replay', 'direct'] as const) {
    it(`a function that returns its input leaks nothing over many calls (${executor}), like eager`, () => {
      const fn = (x: tf.Tensor, y: tf.Tensor) => [x, x.add(y)] as tf.Tensor[];
      const compiled = compile(fn, { executor });
      const x = tf.tensor1d([1, 2]);
      const y = tf.tensor1d([3, 4]);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 200; i++) {
        const [same, sum] = compiled(x, y);
        expect(same).to.equal(x);
        sum!.dispose(); // what eager's caller disposes: the sum, never its own input
      }
      expect(tf.memory().numTensors).to.equal(before);
      expect(compiled.stats().compiled[0]!.executor).to.equal(executor);
      compiled.dispose();
      tf.dispose([x, y]);
    });
  }

  it('compiling never frees a tensor the function returns without making it (input, variable, captured tensor)', () => {
    const v = tf.variable(tf.tensor1d([3, 4]));
    const c = tf.tensor1d([5, 6]);
    const x = tf.tensor1d([1, 2]);
    // x.add(1) makes a scalar without a kernel, so compiling traces twice; auto times eager against replay
    const fns: ((t: tf.Tensor) => tf.Tensor[])[] = [(t) => [t.add(1), t], (t) => [t.mul(v), v], (t) => [t.add(1), c]];
    for (const fn of fns) {
      for (const executor of ['auto', 'replay'] as const) {
        const compiled = compile(fn, { executor });
        const first = compiled(x);
        const expected = fn(x);
        for (const t of [x, v, c]) expect(t.isDisposed, `${fn} ${executor}`).to.equal(false);
        tf.dispose(first[0]!);
        const again = compiled(x);
        expectTensorsClose(again, expected);
        expect(again[1], 'the tensor returned as it was, as eager returns it').to.equal(expected[1]);
        tf.dispose([again[0]!, expected[0]!]);
        expect(compiled.stats().compiled, `${fn}`).to.have.length(1);
        compiled.dispose();
      }
    }
    expect(Array.from(x.dataSync())).to.deep.equal([1, 2]);
    expect(Array.from(v.dataSync())).to.deep.equal([3, 4]);
    expect(Array.from(c.dataSync())).to.deep.equal([5, 6]);
    tf.dispose([x, v, c]);
  });

  it('explain and a strict break free what the traced call made, and nothing of the caller', () => {
    const x = tf.tensor1d([1, 2]);
    const before = tf.memory().numTensors;
    const e = explain((t: tf.Tensor) => [t.add(1), t], x, { print: false });
    expect(e.breaks).to.deep.equal([]);
    expect(x.isDisposed).to.equal(false);
    expect(tf.memory().numTensors).to.equal(before);
    const strict = compile((t: tf.Tensor) => tf.tidy(() => (t.sum().dataSync(), [t.neg(), t])), { strict: true });
    expect(() => strict(x)).to.throw(CompileStrictError, /would run eagerly/);
    expect(x.isDisposed).to.equal(false);
    expect(tf.memory().numTensors).to.equal(before);
    strict.dispose();
    x.dispose();
  });

  it('compile(model) follows the active backend: a switch is a new signature, and predict never switches it back', async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'tanh' })] });
    const compiled = compile(model);
    const x = tf.tensor2d([[1, -2, 0.5, 3]]);
    try {
      tf.dispose(compiled.predict(x));
      expect(compiled.backend).to.equal('cpu');
      await tf.setBackend('wasm');
      for (let i = 0; i < 2; i++) {
        const got = compiled.predict(x) as tf.Tensor;
        expect(tf.getBackend()).to.equal('wasm');
        const expected = model.predict(x) as tf.Tensor;
        expectTensorsClose(got, expected);
        tf.dispose([got, expected]);
      }
      expect(compiled.backend).to.equal('wasm');
      await tf.setBackend('cpu');
      const back = compiled.predict(x) as tf.Tensor;
      expect(tf.getBackend()).to.equal('cpu');
      const expected = model.predict(x) as tf.Tensor;
      expectTensorsClose(back, expected);
      tf.dispose([back, expected]);
      expect(compiled.stats().compiled.map((p) => p.signature)).to.deep.equal([
        'cpu|inference|float32[1,4]',
        'wasm|inference|float32[1,4]',
      ]);
    } finally {
      await tf.setBackend('cpu');
      compiled.dispose();
      model.dispose();
      x.dispose();
    }
  });

  it('a backend switch is a new signature (compile(fn) on cpu, then wasm)', async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    const fn = (x: tf.Tensor) => x.exp().mul(2);
    const compiled = compile(fn);
    const x = tf.tensor1d([0, 1, 2]);
    try {
      tf.dispose(compiled(x));
      await tf.setBackend('wasm');
      const got = compiled(x);
      const expected = fn(x);
      expectTensorsClose(got, expected);
      tf.dispose([got, expected]);
      expect(compiled.stats().compiled.map((p) => p.signature)).to.deep.equal(['cpu|inference|float32[3]', 'wasm|inference|float32[3]']);
    } finally {
      await tf.setBackend('cpu');
      compiled.dispose();
      x.dispose();
    }
  });
});
