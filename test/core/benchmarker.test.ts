import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { Benchmarker } from '../../src/core/benchmark/benchmarker.js';
import { decidedAgainst, pairedRatioInterval } from '../../src/core/benchmark/ratio-interval.js';
import { LayersKilnModel } from '../../src/formats/layers-model/layers-model-format.js';
import { WrappedModel } from '../helpers/broken-plugins.js';
import { tinyDenseModel } from '../helpers/tiny-models.js';

describe('benchmarker', () => {
  const settings = { warmup: 2, iterations: 12, outlierSigma: 2 };

  it('times every subject on every round, interleaved, and leaves no tensors behind', () => {
    const model = tinyDenseModel(1);
    const x = tf.randomNormal([4, 8], 0, 1, 'float32', 1);
    const order: string[] = [];
    const base = new LayersKilnModel(model, 'cpu', false);
    const a = new WrappedModel(base, (i) => {
      order.push('a');
      return base.predict(i);
    });
    const b = new WrappedModel(base, (i) => {
      order.push('b');
      return base.predict(i);
    });
    const n = tf.memory().numTensors;
    const result = new Benchmarker().compare(
      [
        { name: 'a', model: a },
        { name: 'b', model: b },
      ],
      [x],
      settings,
    );
    expect(tf.memory().numTensors).to.equal(n);
    expect(result.variants.map((v) => v.name)).to.deep.equal(['a', 'b']);
    for (const v of result.variants) {
      expect(v.timing.samples + v.timing.outliersDropped).to.equal(12);
      expect(v.timing.p10Ms).to.be.at.most(v.timing.medianMs);
      expect(v.timing.medianMs).to.be.at.most(v.timing.p90Ms);
      expect(v.leakedTensorsPerCall).to.equal(0);
    }
    // Warm-up (a b a b), then rounds alternate their order: a b, b a, a b, ...
    expect(order.slice(0, 4).join('')).to.equal('abab');
    expect(order.slice(4, 10).join('')).to.equal('abbaab');
    expect(result.memoryAfter.numTensors).to.equal(result.memoryBefore.numTensors);
    x.dispose();
    model.dispose();
  });

  it('counts the tensors a leaky model leaves per call, and reclaims them', () => {
    const model = tinyDenseModel(1);
    const x = tf.randomNormal([1, 8], 0, 1, 'float32', 1);
    const base = new LayersKilnModel(model, 'cpu', false);
    const leaky = new WrappedModel(base, (i) => {
      tf.ones([3]);
      tf.zeros([2]);
      return base.predict(i);
    });
    const n = tf.memory().numTensors;
    const result = new Benchmarker().compare(
      [
        { name: 'clean', model: base },
        { name: 'leaky', model: leaky },
      ],
      [x],
      settings,
    );
    expect(result.variants[0]!.leakedTensorsPerCall).to.equal(0);
    expect(result.variants[1]!.leakedTensorsPerCall).to.equal(2);
    expect(result.variants[1]!.leakedDataIdsPerCall).to.equal(2);
    expect(tf.memory().numTensors).to.equal(n);
    x.dispose();
    model.dispose();
  });
});

describe('benchmarker: stopping rule and time budget', () => {
  /** A model that spends `ms` of wall time per call (busy wait), then runs the tiny model. */
  function slowModel(base: LayersKilnModel, ms: number): WrappedModel {
    return new WrappedModel(base, (i) => {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // busy: what a slow backend does to the caller
      }
      return base.predict(i);
    });
  }

  it('stops once the verdict is clear: a candidate 20x faster is decided long before the last run', () => {
    const model = tinyDenseModel(1);
    const x = tf.randomNormal([1, 8], 0, 1, 'float32', 1);
    const base = new LayersKilnModel(model, 'cpu', false);
    try {
      const result = new Benchmarker().compare(
        [
          { name: 'slow', model: slowModel(base, 20) },
          { name: 'fast', model: slowModel(base, 1) },
        ],
        [x],
        { warmup: 1, iterations: 200, outlierSigma: 2, minIterations: 4, decideAt: 1.05 },
      );
      expect(result.stoppedBy).to.equal('decided');
      expect(result.iterations).to.be.within(4, 199);
      expect(result.ratio!.low, 'the interval lies above the threshold').to.be.at.least(1.05);
      expect(result.ratio!.low).to.be.at.most(result.ratio!.estimate);
      expect(result.ratio!.estimate).to.be.at.most(result.ratio!.high);
      for (const v of result.variants) expect(v.timing.samples + v.timing.outliersDropped).to.equal(result.iterations);
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  it('a slow pair stops at the budget after minIterations rounds, the warm-up cut to one round', () => {
    const model = tinyDenseModel(1);
    const x = tf.randomNormal([1, 8], 0, 1, 'float32', 1);
    const base = new LayersKilnModel(model, 'cpu', false);
    try {
      // Each round takes >= 60 ms whatever the machine, so a 50 ms budget is spent after the first.
      const result = new Benchmarker().compare(
        [
          { name: 'a', model: slowModel(base, 30) },
          { name: 'b', model: slowModel(base, 30) },
        ],
        [x],
        { warmup: 10, iterations: 100, outlierSigma: 2, minIterations: 3, budgetMs: 50 },
      );
      expect(result.warmup).to.equal(1);
      expect(result.iterations).to.equal(3);
      expect(result.stoppedBy).to.equal('budget');
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  it('without decideAt or a budget every run is timed (the bench and explicit settings)', () => {
    const model = tinyDenseModel(1);
    const x = tf.randomNormal([1, 8], 0, 1, 'float32', 1);
    const base = new LayersKilnModel(model, 'cpu', false);
    try {
      const result = new Benchmarker().compare(
        [
          { name: 'slow', model: slowModel(base, 5) },
          { name: 'fast', model: base },
        ],
        [x],
        { warmup: 1, iterations: 9, outlierSigma: 2 },
      );
      expect(result.iterations).to.equal(9);
      expect(result.stoppedBy).to.equal('iterations');
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});

describe('benchmark/ratio-interval', () => {
  it('is the geometric mean of the paired ratios with a 95% interval that narrows with more rounds', () => {
    const few = pairedRatioInterval([2, 2.2, 1.8], [1, 1, 1])!;
    expect(few.estimate).to.be.closeTo(Math.cbrt(2 * 2.2 * 1.8), 1e-12);
    expect(few.low).to.be.below(few.estimate);
    expect(few.high).to.be.above(few.estimate);
    const many = pairedRatioInterval([2, 2.2, 1.8, 2, 2.2, 1.8, 2, 2.2, 1.8], Array(9).fill(1))!;
    expect(many.high - many.low).to.be.below(few.high - few.low);
    expect(many.rounds).to.equal(9);
  });

  it('needs two rounds and positive times; decided only when the interval is clear of the threshold', () => {
    expect(pairedRatioInterval([1], [1])).to.equal(undefined);
    expect(pairedRatioInterval([1, 0], [1, 1])).to.equal(undefined);
    expect(decidedAgainst(undefined, 1.05)).to.equal(false);
    expect(decidedAgainst({ estimate: 1.2, low: 1.1, high: 1.3, rounds: 5 }, 1.05)).to.equal(true);
    expect(decidedAgainst({ estimate: 0.9, low: 0.8, high: 1.0, rounds: 5 }, 1.05)).to.equal(true);
    expect(decidedAgainst({ estimate: 1.05, low: 1.0, high: 1.1, rounds: 5 }, 1.05)).to.equal(false);
  });
});

describe('benchmarker: the stopping rule on synthetic timing streams (a fake clock, no wall time)', () => {
  /** Seeded uniform numbers in [0, 1) (a linear congruential generator). */
  function seeded(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
  }
  /** A model whose every call takes `ms` x (1 +- jitter) on `clock`. */
  function timedBy(base: LayersKilnModel, clock: { now: number }, ms: number, jitter: number, random: () => number): WrappedModel {
    return new WrappedModel(base, (i) => {
      clock.now += ms * (1 + jitter * (2 * random() - 1));
      return base.predict(i);
    });
  }
  function compareStreams(baselineMs: number, candidateMs: number, jitter: number, budgetMs: number) {
    const model = tinyDenseModel(1);
    const x = tf.randomNormal([1, 8], 0, 1, 'float32', 1);
    const base = new LayersKilnModel(model, 'cpu', false);
    const clock = { now: 0 };
    const random = seeded(42);
    try {
      const result = new Benchmarker().compare(
        [
          { name: 'current', model: timedBy(base, clock, baselineMs, jitter, random) },
          { name: 'candidate', model: timedBy(base, clock, candidateMs, jitter, random) },
        ],
        [x],
        { warmup: 2, iterations: 200, outlierSigma: 3, minIterations: 5, budgetMs, decideAt: 1.05, clock: () => clock.now },
      );
      return { result, elapsed: clock.now };
    } finally {
      x.dispose();
      model.dispose();
    }
  }

  it('decided faster: a candidate at half the time stops after minIterations, its interval wholly above the threshold', () => {
    const { result } = compareStreams(10, 5, 0.1, 10_000);
    expect(result.stoppedBy).to.equal('decided');
    expect(result.iterations).to.equal(5);
    expect(result.ratio!.low).to.be.above(1.05);
    expect(result.ratio!.estimate).to.be.closeTo(2, 0.2);
  });

  it('decided slower: a candidate at twice the time stops as early, its interval wholly below the threshold', () => {
    const { result } = compareStreams(10, 20, 0.1, 10_000);
    expect(result.stoppedBy).to.equal('decided');
    expect(result.iterations).to.equal(5);
    expect(result.ratio!.high).to.be.below(1.05);
    expect(result.ratio!.estimate).to.be.closeTo(0.5, 0.05);
  });

  it('undecided until the budget: a candidate right at the threshold is timed until the budget is spent, never past it by a round', () => {
    const budgetMs = 1000;
    const { result, elapsed } = compareStreams(10, 10 / 1.05, 0.2, budgetMs);
    expect(result.stoppedBy).to.equal('budget');
    expect(result.iterations).to.be.above(5).and.below(200);
    expect(result.ratio!.low).to.be.at.most(1.05);
    expect(result.ratio!.high).to.be.at.least(1.05);
    // the budget covers the warm-up too; one round (about 20 ms here) may start just before it ends
    expect(elapsed)
      .to.be.at.least(budgetMs)
      .and.below(budgetMs + 2 * 10 * 1.2 + 1);
  });
});
