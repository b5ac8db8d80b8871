/**
 * Faults inside Kiln's own code during a candidate's trial (not the plugin's): each
 * becomes that candidate's `failed` decision, with the error in the reason, and the run
 * goes on to the next candidate. Injected by swapping Kiln's own services in the
 * container the run is given.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { expect } from 'chai';
import { container as rootContainer } from 'tsyringe';
import { Benchmarker, type BenchmarkResult } from '../../src/core/benchmark/benchmarker.js';
import { optimize } from '../../src/optimize.js';
import { tinyConvModel } from '../helpers/tiny-models.js';

/** A Benchmarker whose comparisons throw, as a bug in Kiln's timing code (or a detached buffer under it) would. */
class FaultyBenchmarker extends Benchmarker {
  override compare(): BenchmarkResult {
    throw new TypeError('injected fault: Cannot perform Construct on a detached ArrayBuffer');
  }
}

describe("a fault inside Kiln's own trial code", () => {
  before(async () => {
    await tf.setBackend('wasm');
    await tf.setBackend('cpu');
  });

  it("is that candidate's failed decision naming the error; the next candidates are still tried and the run returns", async () => {
    const n = tf.memory().numTensors;
    const model = tinyConvModel(3);
    const x = tf.randomNormal([1, 5, 5, 3], 0, 1, 'float32', 1);
    const container = rootContainer.createChildContainer();
    container.register(Benchmarker, { useClass: FaultyBenchmarker });
    try {
      const { model: optimized, report } = await optimize(model, {
        sampleInputs: [x],
        container,
        config: {
          backend: { preference: ['wasm', 'cpu'] },
          pipeline: [{ name: 'graph-compile' }],
          validation: { samples: 1 },
          benchmark: { endToEnd: false },
        },
      });
      const byPlugin = Object.fromEntries(report.decisions.map((d) => [d.plugin, d]));
      expect(byPlugin['backend-wasm']!.status).to.equal('failed');
      expect(byPlugin['backend-wasm']!.reason).to.match(/injected fault: Cannot perform Construct on a detached ArrayBuffer/);
      // The run went on: cpu was considered next, and graph-compile was tried (and failed the same way).
      expect(byPlugin['backend-cpu'], 'the next backend candidate').to.exist;
      expect(byPlugin['graph-compile']!.status).to.equal('failed');
      expect(report.final).to.match(/plain tf\.js/);
      tf.dispose(optimized.predict(x));
      optimized.dispose();
    } finally {
      x.dispose();
      model.dispose();
      await tf.setBackend('cpu');
    }
    expect(tf.memory().numTensors, 'nothing left behind').to.equal(n);
  });
});
