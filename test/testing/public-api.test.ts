import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';

const ROOT = path.resolve(__dirname, '../../..');
/** The package entry as a user's `require('tfjs-kiln')` sees it (Node's self-reference by package name). */
const kiln = createRequire(path.join(ROOT, 'package.json'))('tfjs-kiln') as Record<string, unknown>;

describe('the public API of tfjs-kiln matches the README', function () {
  this.timeout(60_000);

  it("explain is the compiler's explain(model, [x]); the config-validation helper is validationMessage", () => {
    const explain = kiln.explain as (f: unknown, x: unknown, o: unknown) => { kernelsCaptured: number; text: string };
    const x = tf.ones([2, 3]);
    try {
      const e = explain((t: tf.Tensor) => t.mul(2).relu(), [x], { print: false });
      expect(e.kernelsCaptured).to.be.a('number').greaterThan(0);
      expect(e.text).to.match(/Kernels captured/);
    } finally {
      x.dispose();
    }
    const validationMessage = kiln.validationMessage as (problem: string, allowed: string) => unknown;
    expect(validationMessage('invalid value', 'one of: a, b')).to.deep.equal({
      message: 'invalid value',
      context: { allowed: 'one of: a, b' },
    });
  });
});
