import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { medianTimes } from '../../src/compiler/graph-compiler.js';

/** A subject that takes `ms` on a fake clock and returns a fresh tensor. */
function subjectOf(clock: { now: number }, ms: number): () => tf.Tensor {
  return () => {
    clock.now += ms;
    return tf.scalar(ms);
  };
}

describe('executor selection under a time budget', () => {
  it('times every round it is allowed when the calls are fast', () => {
    const clock = { now: 0 };
    const { medians, runs } = medianTimes([subjectOf(clock, 1), subjectOf(clock, 2)], 5, 250, () => clock.now);
    expect(runs).to.equal(5);
    expect(medians).to.deep.equal([1, 2]);
  });

  it('stops after one timed round once that round spent the budget (a slow, large batch)', () => {
    const clock = { now: 0 };
    const before = tf.memory().numTensors;
    const { medians, runs } = medianTimes([subjectOf(clock, 100), subjectOf(clock, 120), subjectOf(clock, 90)], 5, 250, () => clock.now);
    expect(runs).to.equal(1);
    expect(medians).to.deep.equal([100, 120, 90]);
    expect(tf.memory().numTensors).to.equal(before);
  });

  it('goes on while the budget lasts, and never times fewer than one round', () => {
    const clock = { now: 0 };
    // 20 per round: rounds start at 0, 20, 40, 60, 80 (< 90), none at 100
    expect(medianTimes([subjectOf(clock, 10), subjectOf(clock, 10)], 10, 90, () => clock.now).runs).to.equal(5);
    expect(medianTimes([subjectOf(clock, 10)], 10, 0, () => clock.now).runs).to.equal(1);
    // with a warm-up round, it counts against the budget: rounds start at 20, 40, 60, 80
    expect(medianTimes([subjectOf(clock, 10), subjectOf(clock, 10)], 10, 90, () => clock.now, 1).runs).to.equal(4);
  });
});
