import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { COMPILED_METHODS, compiled, compiledFunctionOf } from '../../../src/compiler/api/compiled-decorator.js';
import { expectTensorsClose } from './compile-helpers.js';

class TwoLayerNet {
  readonly w1: tf.Variable;
  readonly w2: tf.Variable;
  forwardCalls = 0;

  constructor(seed: number) {
    this.w1 = tf.variable(tf.randomNormal([4, 8], 0, 1, 'float32', seed));
    this.w2 = tf.variable(tf.randomNormal([8, 3], 0, 1, 'float32', seed + 100));
  }

  /** The same computation, never compiled: the reference. */
  eager(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.softmax(tf.relu(x.matMul(this.w1)).matMul(this.w2)));
  }

  @compiled()
  forward(x: tf.Tensor): tf.Tensor {
    this.forwardCalls++;
    return tf.tidy(() => tf.softmax(tf.relu(x.matMul(this.w1)).matMul(this.w2)));
  }

  @compiled({ mode: 'training', name: 'heads' })
  heads(x: tf.Tensor, y: tf.Tensor): tf.Tensor[] {
    return [x.matMul(this.w1), y.matMul(this.w1).sum()];
  }

  dispose(): void {
    tf.dispose([this.w1, this.w2]);
  }
}

describe('@compiled()', () => {
  let a: TwoLayerNet;
  let b: TwoLayerNet;
  let x: tf.Tensor;
  beforeEach(() => {
    a = new TwoLayerNet(1);
    b = new TwoLayerNet(2);
    x = tf.randomNormal([5, 4], 0, 1, 'float32', 9);
  });
  afterEach(() => {
    a.dispose();
    b.dispose();
    x.dispose();
  });

  it('gives each instance its own compiled function; each matches its own eager result', () => {
    expect(compiledFunctionOf(a, 'forward'), 'built on first call').to.equal(undefined);
    let bodyRunsAtCompile = 0;
    for (let i = 0; i < 3; i++) {
      if (i === 1) bodyRunsAtCompile = a.forwardCalls;
      for (const net of [a, b]) {
        const got = net.forward(x);
        const expected = net.eager(x);
        expectTensorsClose(got, expected);
        tf.dispose([got, expected]);
      }
    }
    const fa = compiledFunctionOf(a, 'forward')!;
    const fb = compiledFunctionOf(b, 'forward')!;
    expect(fa).to.not.equal(undefined);
    expect(fb).to.not.equal(undefined);
    expect(fa).to.not.equal(fb);
    for (const f of [fa, fb]) {
      const stats = f.stats();
      expect(stats.name).to.equal('TwoLayerNet.forward');
      expect(stats.calls).to.equal(3);
      expect(stats.compiledCalls).to.equal(3);
      expect(stats.compiled).to.have.length(1);
      expect(stats.eager).to.deep.equal([]);
    }
    // the two instances' weights differ, so their outputs do
    const ya = a.forward(x);
    const yb = b.forward(x);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(ya, yb))).dataSync()[0]!)).to.be.greaterThan(1e-3);
    tf.dispose([ya, yb]);
    // replayed calls do not run the method body: only compiling did (the trace, and timing the eager call),
    // and the first replay, which verify (default first-n, 1) checks against eager
    expect(bodyRunsAtCompile).to.be.greaterThan(0);
    expect(fa.stats().verifiedCalls).to.equal(1);
    expect(a.forwardCalls).to.equal(bodyRunsAtCompile + 1);
  });

  it('reads the live variables: an assignment to an instance weight changes that instance only', () => {
    tf.dispose(a.forward(x));
    tf.dispose(b.forward(x));
    a.w2.assign(tf.onesLike(a.w2));
    for (const net of [a, b]) {
      const got = net.forward(x);
      const expected = net.eager(x);
      expectTensorsClose(got, expected);
      tf.dispose([got, expected]);
    }
    const ya = a.forward(x);
    // all-ones w2: the three logits are equal, so softmax is uniform
    expectTensorsClose(ya, tf.fill([5, 3], 1 / 3), 1e-6, 1e-5);
    tf.dispose(ya);
    expect(compiledFunctionOf(a, 'forward')!.stats().compiled).to.have.length(1);
  });

  it('non-tensor arguments throw a clear TypeError', () => {
    const call =
      (...args: unknown[]) =>
      () =>
        (a.forward as (...xs: unknown[]) => unknown)(...args);
    expect(call(3)).to.throw(TypeError, /TwoLayerNet\.forward is @compiled: its arguments must all be tensors \(got number\)/);
    expect(call([[1, 2, 3, 4]])).to.throw(TypeError, /must all be tensors \(got object\)/);
    expect(call(x, 'relu')).to.throw(TypeError, /got object, string/);
    expect(compiledFunctionOf(a, 'forward'), 'nothing compiled for a rejected call').to.equal(undefined);
  });

  it('records its options per method, and a method with several tensor arguments and outputs works', () => {
    const recorded = Reflect.getOwnMetadata(COMPILED_METHODS, TwoLayerNet.prototype) as Map<string, object>;
    expect([...recorded.keys()]).to.have.members(['forward', 'heads']);
    expect(recorded.get('heads')).to.deep.equal({ mode: 'training', name: 'heads' });
    const y = tf.ones([2, 4]);
    for (let i = 0; i < 2; i++) {
      const [p, q] = a.heads(x, y);
      const [ep, eq] = [x.matMul(a.w1), y.matMul(a.w1).sum()];
      expectTensorsClose([p!, q!], [ep, eq]);
      tf.dispose([p!, q!, ep, eq]);
    }
    // training mode: gradients flow through the compiled method
    const { grads, value } = tf.variableGrads(() => a.heads(x, y)[1]!.add(a.heads(x, y)[0]!.sum()) as tf.Scalar, [a.w1]);
    const expected = tf.variableGrads(() => y.matMul(a.w1).sum().add(x.matMul(a.w1).sum()) as tf.Scalar, [a.w1]);
    expectTensorsClose(grads[a.w1.name]!, expected.grads[a.w1.name]!);
    const stats = compiledFunctionOf(a, 'heads')!.stats();
    expect(stats.name).to.equal('heads');
    expect(stats.compiled[0]!.signature).to.equal('cpu|training|float32[5,4]|float32[2,4]');
    tf.dispose([y, value, expected.value, ...Object.values(grads), ...Object.values(expected.grads)]);
  });

  it('throws when put on something that is not a method', () => {
    const decorate = compiled();
    expect(() => decorate({}, 'field', { value: 42 })).to.throw(TypeError, /@compiled\(\) goes on a method; field is not one/);
  });
});
