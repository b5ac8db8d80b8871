import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { LayersKilnModel } from '../../src/formats/layers-model/layers-model-format.js';
import { Validator, type ValidationSettings } from '../../src/core/validation/validator.js';
import { SUBSET_FROM_BATCH, SUBSET_ROWS } from '../../src/core/validation/validation-inputs.js';
import type { KilnModel } from '../../src/core/kiln-model.js';
import { WrappedModel } from '../helpers/broken-plugins.js';
import { tinyDenseModel } from '../helpers/tiny-models.js';

const SETTINGS: ValidationSettings = { samples: 2, seed: 0, largeMagnitude: 10, gradients: true };

/** `inner`, recording the batch size of every call. */
function counting(inner: KilnModel, batches: number[]): KilnModel {
  return new WrappedModel(inner, (x) => {
    batches.push((Array.isArray(x) ? x[0]! : x).shape[0]!);
    return inner.predict(x);
  });
}

/** `inner` with `delta` added to output row `row` wherever the call has `batch` rows. */
function wrongRow(inner: KilnModel, batch: number, row: number, delta = 0.5): KilnModel {
  return new WrappedModel(inner, (x) => {
    const out = inner.predict(x) as tf.Tensor;
    if (out.shape[0] !== batch) return out;
    return tf.tidy(() => {
      const mask = tf.oneHot(tf.tensor1d([row], 'int32'), batch).reshape([batch, 1]);
      const shifted = tf.add(out, tf.mul(mask, delta));
      out.dispose();
      return shifted;
    });
  });
}

describe('validation of a large batch on a subset of rows', () => {
  let model: tf.LayersModel;
  let reference: KilnModel;
  beforeEach(() => {
    model = tinyDenseModel(3);
    reference = new LayersKilnModel(model, 'cpu', false);
  });
  afterEach(() => model.dispose());

  it('compares the samples in full and the other sets on their first rows; the cpu reference runs on those rows only', () => {
    const batch = 4 * SUBSET_FROM_BATCH;
    const x = tf.randomNormal([batch, 8], 0, 1, 'float32', 1);
    const calls: number[] = [];
    const session = new Validator().prepare(counting(reference, calls), [x], SETTINGS, 'inference');
    try {
      // the samples in full, their first rows once (the independence check), then each other set on its rows
      expect(calls).to.deep.equal([batch, SUBSET_ROWS, SUBSET_ROWS, SUBSET_ROWS, SUBSET_ROWS, SUBSET_ROWS - 1]);
      expect(session.inputSetLabels).to.deep.equal([
        'sample',
        `perturbed #1 (rows 1-${SUBSET_ROWS} of ${batch} compared)`,
        `perturbed #2 (rows 1-${SUBSET_ROWS} of ${batch} compared)`,
        `large magnitude x10 (rows 1-${SUBSET_ROWS} of ${batch} compared)`,
        `batch ${SUBSET_ROWS - 1}`,
      ]);
      expect(session.rowsNote).to.match(/^batch 32: the samples compared in full; the other sets on their first 4 rows/);
      // the candidate runs every set at its whole batch: the signature it serves
      const candidateCalls: number[] = [];
      expect(session.check(counting(reference, candidateCalls)).passed).to.equal(true);
      expect(candidateCalls).to.deep.equal([batch, batch, batch, batch, SUBSET_ROWS - 1]);
    } finally {
      session.dispose();
      x.dispose();
    }
  });

  it('catches a wrong row beyond the subset (the full samples) and one inside it (every set)', () => {
    const batch = 2 * SUBSET_FROM_BATCH;
    const x = tf.randomNormal([batch, 8], 0, 1, 'float32', 2);
    const session = new Validator().prepare(reference, [x], SETTINGS, 'inference');
    try {
      const late = session.check(wrongRow(reference, batch, batch - 1));
      expect(late.passed).to.equal(false);
      expect(late.worst!.inputSet).to.equal('sample');
      expect(late.worst!.index[0]).to.equal(batch - 1);
      const early = session.check(wrongRow(reference, batch, 1));
      expect(early.passed).to.equal(false);
      expect(early.worst!.index[0]).to.equal(1);
    } finally {
      session.dispose();
      x.dispose();
    }
  });

  it('compares every set in full where the rows of the batch depend on each other, and says why', () => {
    const batch = 2 * SUBSET_FROM_BATCH;
    const x = tf.randomNormal([batch, 8], 0, 1, 'float32', 3);
    // centres each feature on the batch mean: row r of the output depends on every row
    const mixing = new WrappedModel(reference, (input) =>
      tf.tidy(() => {
        const t = input as tf.Tensor;
        return reference.predict(tf.sub(t, tf.mean(t, 0, true))) as tf.Tensor;
      }),
    );
    const calls: number[] = [];
    const session = new Validator().prepare(counting(mixing, calls), [x], SETTINGS, 'inference');
    try {
      expect(session.rowsNote).to.match(/every input set compared in full, because the rows of output ".*" depend on the other rows/);
      expect(session.inputSetLabels.some((l) => l.includes('compared)'))).to.equal(false);
      expect(calls).to.deep.equal([batch, SUBSET_ROWS, batch, batch, batch, SUBSET_ROWS - 1]);
      expect(session.check(mixing).passed).to.equal(true);
    } finally {
      session.dispose();
      x.dispose();
    }
  });

  it('keeps every set whole at a batch up to the threshold, with the twice-the-batch set', () => {
    const x = tf.randomNormal([SUBSET_FROM_BATCH, 8], 0, 1, 'float32', 4);
    const session = new Validator().prepare(reference, [x], SETTINGS, 'inference');
    try {
      expect(session.rowsNote).to.equal(undefined);
      expect(session.inputSetLabels).to.deep.equal([
        'sample',
        'perturbed #1',
        'perturbed #2',
        'large magnitude x10',
        `batch ${2 * SUBSET_FROM_BATCH}`,
      ]);
    } finally {
      session.dispose();
      x.dispose();
    }
  });
});
