import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { optimize } from '../../../src/optimize.js';
import { buildShogiResNet } from '../../../src/zoo/shogi-resnet.js';

describe('mixed-precision in a pipeline with later plugins', () => {
  it('graph-compile after it is validated under the inherited budget, and the quantised files stay the ones to save', async () => {
    const model = buildShogiResNet({ blocks: 1, channels: 16 });
    const x = tf.randomNormal([4, 9, 9, 46], 0, 1, 'float32', 3);
    try {
      const { model: optimized, report } = await optimize(model, {
        sampleInputs: [x],
        config: {
          backend: { preference: ['cpu'] },
          validation: { samples: 1 },
          benchmark: { warmup: 1, iterations: 5, endToEnd: false },
          pipeline: [
            { name: 'mixed-precision', options: { policy: 'uint16', budgets: { '*': { atol: 1e-3 } } } },
            { name: 'graph-compile' },
          ],
        },
      });
      try {
        const mixed = report.decisions.find((d) => d.plugin === 'mixed-precision')!;
        const compiled = report.decisions.find((d) => d.plugin === 'graph-compile')!;
        expect(mixed.status, mixed.reason).to.equal('applied');
        // Judged against the original under the budget (fp32 tolerance would reject any model built on quantised weights).
        expect(compiled.reason).to.not.match(/numerical mismatch/);
        expect(Object.keys(compiled.metrics).filter((k) => k.startsWith('budget.'))).to.have.lengthOf(2);
        expect(optimized.artifacts).to.not.equal(undefined);
        expect(optimized.artifacts!.weightSpecs!.some((s) => s.quantization?.dtype === 'uint16')).to.equal(true);
        expect((optimized.artifacts!.weightData as ArrayBuffer).byteLength).to.be.below(mixed.metrics.bytesBefore as number);
      } finally {
        optimized.dispose();
      }
    } finally {
      model.dispose();
      x.dispose();
      await tf.setBackend('cpu');
    }
  });
});
