import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';

import { InputError } from '../../src/core/errors.js';
import type { TensorSpec } from '../../src/core/kiln-model.js';
import {
  bindInputSamples,
  sampleInputsFor,
  type InputSample,
  type InputSampleEntry,
  type SampleData,
} from '../../src/core/validation/input-samples.js';
import { optimize } from '../../src/optimize.js';

const IMAGE: TensorSpec = { name: 'LR', shape: [null, null, null, 3], dtype: 'float32' };
const IDS: TensorSpec = { name: 'ids', shape: [null, 8], dtype: 'int32' };
const MASK: TensorSpec = { name: 'mask', shape: [null, 8], dtype: 'float32' };

const shape = (dims: number[], from = `--input-shape ${dims.join('x')}`): InputSample['shape'] => ({
  value: dims,
  from,
  write: (d) => d.join('x'),
});
const data = (value: SampleData, from = '--sample-input x.npy'): InputSample['data'] => ({ value, from });

function thrown(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

function make(
  specs: TensorSpec[],
  inputs: Record<string, InputSample>,
  options: { batch?: number; batchFrom?: string; everyInputAtBatch?: boolean } = {},
) {
  return sampleInputsFor(specs, { seed: 0, inputs: new Map(Object.entries(inputs)), ...options });
}

describe('core: sample inputs from given shapes, ranges and values', () => {
  describe('bindInputSamples: matching what was given to the model inputs', () => {
    it('an unnamed entry is the only input; later layers win field by field; values replace what was generated', () => {
      const config: InputSampleEntry[] = [
        { name: 'LR', from: 'config inputs.LR', shape: shape([1, 8, 8, 3]), range: { value: [0, 255], from: 'config' } },
      ];
      const flags: InputSampleEntry[] = [{ from: '--input-shape 1x4x4x3', shape: shape([1, 4, 4, 3]) }];
      const bound = bindInputSamples([IMAGE], [config, flags]);
      expect(bound.get('LR')!.shape!.value).to.deep.equal([1, 4, 4, 3]);
      expect(bound.get('LR')!.range!.value).to.deep.equal([0, 255]);
      const file = data({ dtype: 'float32', shape: [1, 2, 2, 3], values: new Float32Array(12) });
      const replaced = bindInputSamples([IMAGE], [config, [{ name: 'LR', from: 'f', data: file }]]);
      expect(Object.keys(replaced.get('LR')!)).to.deep.equal(['data']);
    });

    it('refuses a name the model lacks, listing its inputs', () => {
      const error = thrown(() =>
        bindInputSamples([IMAGE], [[{ name: 'HR', from: '--input-shape HR:1x8x8x3', shape: shape([1, 8, 8, 3]) }]]),
      );
      expect(error.message).to.equal(
        '--input-shape HR:1x8x8x3: the model has no input named "HR"; its inputs: LR [null, null, null, 3]. Use one of these names.',
      );
      expect(bindInputSamples([IMAGE], [[{ name: 'HR', from: 'x', shape: shape([1]) }]], { unknownNames: 'skip' }).size).to.equal(0);
    });

    it('refuses an unnamed entry for a model of several inputs, with the named form', () => {
      const entry: InputSampleEntry = { from: '--input-shape 1x8', shape: shape([1, 8]), withName: (n) => `--input-shape ${n}:1x8` };
      expect(thrown(() => bindInputSamples([IDS, MASK], [[entry]])).message).to.equal(
        '--input-shape 1x8: the model has 2 inputs (ids [null, 8], mask [null, 8]), so this needs the name of the input it is for, e.g. --input-shape ids:1x8.',
      );
    });

    it('refuses the same input twice in one layer, and a shape beside values', () => {
      const a: InputSampleEntry = { name: 'LR', from: 'a', shape: shape([1, 8, 8, 3], '--input-shape LR:1x8x8x3') };
      const b: InputSampleEntry = { from: 'b', shape: shape([1, 4, 4, 3], '--input-shape 1x4x4x3') };
      expect(thrown(() => bindInputSamples([IMAGE], [[a, b]])).message).to.equal(
        '--input-shape 1x4x4x3: input "LR" is already given by --input-shape LR:1x8x8x3. Give it once.',
      );
      const file: InputSampleEntry = {
        name: 'LR',
        from: 'c',
        data: data({ dtype: 'float32', shape: [1, 1, 1, 3], values: new Float32Array(3) }, '--sample-input LR=lr.npy'),
      };
      expect(thrown(() => bindInputSamples([IMAGE], [[a, file]])).message).to.equal(
        '--input-shape LR:1x8x8x3: input "LR" takes its values from --sample-input LR=lr.npy, so there is nothing to generate; leave one of the two out.',
      );
    });
  });

  describe('sampleInputsFor', () => {
    it('a given shape sizes the free axes; the values are seeded (same seed, same values) and in the range given', () => {
      const inputs = { LR: { shape: shape([1, 5, 6, 3]), range: { value: [0, 255] as const, from: 'r' } } };
      const [a] = make([IMAGE], inputs);
      const [b] = make([IMAGE], inputs);
      expect(a!.shape).to.deep.equal([1, 5, 6, 3]);
      const values = Array.from(a!.dataSync());
      expect(values).to.deep.equal(Array.from(b!.dataSync()));
      expect(Math.min(...values)).to.be.at.least(0);
      expect(Math.max(...values)).to.be.below(255);
      expect(Math.max(...values), 'spread over the range').to.be.above(200);
      tf.dispose([a!, b!]);
    });

    it('int32 inputs get whole numbers from min to max, both included', () => {
      const [t] = make([IDS], { ids: { shape: shape([4, 8]), range: { value: [3, 5], from: 'r' } } });
      expect(t!.dtype).to.equal('int32');
      expect([...new Set(t!.dataSync())].sort()).to.deep.equal([3, 4, 5]);
      t!.dispose();
      const error = thrown(() => make([IDS], { ids: { range: { value: [0, 2.5], from: '--input-range ids:0..2.5' } } }));
      expect(error.message).to.equal(
        '--input-range ids:0..2.5: input "ids" holds int32 values, so its range needs whole-number bounds (got 0, 2.5).',
      );
    });

    it('a free dimension with no shape given asks for one, in kiln.yaml and CLI syntax', () => {
      expect(thrown(() => make([IMAGE], {})).message).to.equal(
        'Input "LR" has a free dimension at axis 1 (shape [null, null, null, 3]); Kiln cannot invent its size. Give the input\'s shape: `inputs: { LR: { shape: [1, 32, 32, 3] } }` in kiln.yaml, `--input-shape LR:1x32x32x3` to the kiln CLI, or sampleInputs to optimize().',
      );
    });

    it('refuses a shape of the wrong rank, one that contradicts a fixed size, and a size of 0', () => {
      expect(thrown(() => make([IMAGE], { LR: { shape: shape([1, 8, 8], '--input-shape LR:1x8x8') } })).message).to.equal(
        '--input-shape LR:1x8x8: input "LR" has shape [null, null, null, 3] (null: any size), but the shape given is [1, 8, 8]: 3 axes for 4. Give one size per axis, e.g. 1x32x32x3.',
      );
      expect(thrown(() => make([IMAGE], { LR: { shape: shape([1, 8, 8, 4], '--input-shape LR:1x8x8x4') } })).message).to.equal(
        '--input-shape LR:1x8x8x4: input "LR" has shape [null, null, null, 3] (null: any size), but the shape given is [1, 8, 8, 4]: axis 3 is 4, but the model fixes it at 3. Keep the model\'s fixed sizes and choose only the null ones, e.g. 1x8x8x3.',
      );
      expect(thrown(() => make([IMAGE], { LR: { shape: shape([1, 0, 8, 3], 'config inputs.LR.shape') } })).message).to.match(
        /^config inputs\.LR\.shape: .*: the size at axis 1 is 0, not a whole number >= 1\. /,
      );
    });

    it('values: converted to the input dtype, checked against the model, and refused when float for an int32 input', () => {
      const bytes = data({ dtype: 'uint8', shape: [1, 1, 2, 3], values: Uint8Array.from([0, 1, 2, 253, 254, 255]) });
      const [t] = make([IMAGE], { LR: { data: bytes } });
      expect([t!.dtype, t!.shape, Array.from(t!.dataSync())]).to.deep.equal(['float32', [1, 1, 2, 3], [0, 1, 2, 253, 254, 255]]);
      t!.dispose();
      const wrong = data({ dtype: 'float32', shape: [1, 2, 2, 4], values: new Float32Array(16) }, '--sample-input LR=/data/lr.npy');
      expect(thrown(() => make([IMAGE], { LR: { data: wrong } })).message).to.equal(
        '--sample-input LR=/data/lr.npy: input "LR" has shape [null, null, null, 3] (null: any size), but the file holds an array of shape [1, 2, 2, 4]: axis 3 is 4, but the model fixes it at 3. Keep the model\'s fixed sizes and choose only the null ones, e.g. [1, 2, 2, 3].',
      );
      const floats = data({ dtype: 'float32', shape: [1, 8], values: new Float32Array(8) }, '--sample-input ids=ids.npy');
      expect(thrown(() => make([IDS], { ids: { data: floats } })).message).to.equal(
        '--sample-input ids=ids.npy: input "ids" holds int32 values but the file holds float32 ones. Save whole numbers as int32 (numpy: a.astype(np.int32)).',
      );
    });

    it('batch: inputs given none follow those given one; disagreements and a contradicting --batch are refused', () => {
      const [ids, mask] = make([IDS, MASK], { ids: { shape: shape([3, 8], '--input-shape ids:3x8') } });
      expect([ids!.shape, mask!.shape]).to.deep.equal([
        [3, 8],
        [3, 8],
      ]);
      tf.dispose([ids!, mask!]);
      const two = { ids: { shape: shape([3, 8], '--input-shape ids:3x8') }, mask: { shape: shape([2, 8], '--input-shape mask:2x8') } };
      expect(thrown(() => make([IDS, MASK], two)).message).to.equal(
        "The inputs' batch sizes (axis 0) differ: --input-shape ids:3x8 gives 3, --input-shape mask:2x8 gives 2. Give every input the same batch size.",
      );
      expect(thrown(() => make([IDS], { ids: two.ids }, { batch: 4, batchFrom: '--batch 4' })).message).to.equal(
        '--batch 4 contradicts --input-shape ids:3x8, whose batch size (axis 0) is 3. Give the batch size in one place: --batch sizes only the inputs given no shape or values.',
      );
      const [at4] = make([IDS], {}, { batch: 4 });
      expect(at4!.shape).to.deep.equal([4, 8]);
      at4!.dispose();
    });

    it("everyInputAtBatch (kiln bench's cells): a given shape's batch axis and a file's rows follow the batch", () => {
      const rows = data({ dtype: 'float32', shape: [2, 8], values: Float32Array.from({ length: 16 }, (_, i) => i) });
      const [ids, mask] = make([IDS, MASK], { ids: { shape: shape([1, 8]) }, mask: { data: rows } }, { batch: 3, everyInputAtBatch: true });
      expect(ids!.shape).to.deep.equal([3, 8]);
      expect(mask!.arraySync()).to.deep.equal([
        [0, 1, 2, 3, 4, 5, 6, 7],
        [8, 9, 10, 11, 12, 13, 14, 15],
        [0, 1, 2, 3, 4, 5, 6, 7],
      ]);
      tf.dispose([ids!, mask!]);
    });
  });

  describe("optimize() makes its samples from the config's inputs", function () {
    it('a model with free spatial dimensions runs with inputs: { <name>: { shape, range } }, and fails without', async () => {
      const input = tf.input({ shape: [null, null, 3], name: 'LR' });
      const output = tf.layers
        .conv2d({ filters: 2, kernelSize: 3, padding: 'same', kernelInitializer: 'glorotNormal' })
        .apply(input) as tf.SymbolicTensor;
      const model = tf.model({ inputs: input, outputs: output });
      const config = {
        backend: { preference: ['cpu'] },
        pipeline: [],
        validation: { samples: 1 },
        benchmark: { warmup: 1, iterations: 3, endToEnd: false },
      };
      try {
        const before = tf.memory().numTensors;
        const { model: fast, report } = await optimize(model, {
          config: { ...config, inputs: { LR: { shape: [1, 6, 6, 3], range: [0, 255] } } },
        });
        expect(report.validation.inputSets).to.include('sample');
        fast.dispose();
        expect(tf.memory().numTensors, 'no tensor left behind').to.equal(before);
        let message = '';
        await optimize(model, { config }).catch((error: Error) => (message = error.message));
        expect(message).to.match(/^Input "LR" has a free dimension at axis 1 .*inputs: \{ LR: \{ shape: \[1, 32, 32, 3\] \} \}/);
        message = '';
        await optimize(model, { config: { ...config, inputs: { HR: { shape: [1, 6, 6, 3] } } } }).catch(
          (error: Error) => (message = error.message),
        );
        expect(message).to.equal(
          'config inputs.HR: the model has no input named "HR"; its inputs: LR [null, null, null, 3]. Use one of these names.',
        );
      } finally {
        model.dispose();
      }
    });
  });
});
