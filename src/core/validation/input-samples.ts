import * as tf from '@tensorflow/tfjs';
import type { InputConfig } from '../../config/kiln-config.js';
import { InputError } from '../errors.js';
import type { TensorSpec } from '../kiln-model.js';

/**
 * What a user gives for the sample inputs Kiln makes when none are passed as tensors:
 * per model input, its whole shape and value range (the values are generated, seeded),
 * or its values (read from a file). kiln.yaml's `inputs:` and the CLI's
 * `--input-shape`, `--input-range` and `--sample-input` all become these.
 */

/** A value and where it was given, for messages: `--input-shape LR:1x64x64x3`, `config inputs.LR.shape`. */
export interface Given<T> {
  readonly value: T;
  readonly from: string;
  /** A shape written the way it was given (`1x32x32x3`, `[1, 32, 32, 3]`), for the examples in messages. */
  readonly write?: (dims: readonly number[]) => string;
}

/** Values of one sample input (read from a .npy file), in C order. */
export interface SampleData {
  readonly dtype: 'float32' | 'int32' | 'uint8';
  readonly shape: readonly number[];
  readonly values: Float32Array | Int32Array | Uint8Array;
}

/** What was given for one model input: its whole shape (batch axis first) and value range, or its values. */
export interface InputSample {
  readonly shape?: Given<readonly number[]>;
  /** Generated values are uniform in [min, max] (whole numbers, max included, for int32 inputs). */
  readonly range?: Given<readonly [number, number]>;
  readonly data?: Given<SampleData>;
}

/** One thing given (one flag, one config entry), before it is matched to the model's inputs. */
export interface InputSampleEntry extends InputSample {
  /** The model input it is for; absent: the model's only input. */
  readonly name?: string;
  /** Where it was given, for messages about its name. */
  readonly from: string;
  /** The same entry written for the input `name`, for the message that asks for a name: `LR:1x64x64x3`. */
  readonly withName?: (name: string) => string;
}

/** The entries of kiln.yaml's `inputs:` (one per input name). */
export function inputEntriesFromConfig(inputs: ReadonlyMap<string, InputConfig> | undefined): InputSampleEntry[] {
  return [...(inputs ?? new Map<string, InputConfig>()).entries()].map(([name, entry]) => {
    const from = `config inputs.${name}`;
    const [min, max] = entry.range ?? [];
    return {
      name,
      from,
      ...(entry.shape ? { shape: { value: entry.shape, from: `${from}.shape ${writeList(entry.shape)}`, write: writeList } } : {}),
      ...(min !== undefined && max !== undefined ? { range: { value: [min, max] as const, from: `${from}.range [${min}, ${max}]` } } : {}),
    };
  });
}

/** `[null, null, null, 3]`. */
export function describeShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => d ?? 'null').join(', ')}]`;
}

/** `LR [null, null, null, 3], mask [null, 8]`. */
export function describeInputs(specs: readonly TensorSpec[]): string {
  return specs.map((s) => `${s.name} ${describeShape(s.shape)}`).join(', ');
}

/** A shape for the model input `spec` (its free axes at 1 for the batch, 32 elsewhere), for examples. */
export function exampleShape(spec: TensorSpec, batch = 1): number[] {
  return spec.shape.map((d, axis) => d ?? (axis === 0 ? batch : 32));
}

const writeList = (dims: readonly number[]) => `[${dims.join(', ')}]`;

/**
 * Matches entries to the model's inputs and merges them. `layers` go from the lowest
 * priority to the highest (the config, then the command line): a later layer's shape or
 * range replaces an earlier one's, and its values replace everything earlier. Within a
 * layer an input may get each of shape and range once, or values alone. A name the
 * model lacks, or an unnamed entry for a model of several inputs, is an InputError
 * listing the model's inputs (`unknownNames: 'skip'` passes over names it lacks).
 */
export function bindInputSamples(
  specs: readonly TensorSpec[],
  layers: readonly (readonly InputSampleEntry[])[],
  options: { readonly unknownNames?: 'error' | 'skip' } = {},
): Map<string, InputSample> {
  const bound = new Map<string, InputSample>();
  for (const layer of layers) {
    const mine = new Map<string, InputSample>();
    for (const entry of layer) {
      const spec = inputFor(specs, entry, options.unknownNames ?? 'error');
      if (spec) mine.set(spec.name, mergeWithin(mine.get(spec.name), entry, spec.name));
    }
    for (const [name, sample] of mine) {
      const lower = bound.get(name);
      bound.set(
        name,
        sample.data ? { data: sample.data } : defined({ shape: sample.shape ?? lower?.shape, range: sample.range ?? lower?.range }),
      );
    }
  }
  return bound;
}

function defined(sample: InputSample): InputSample {
  return Object.fromEntries(Object.entries(sample).filter(([, v]) => v !== undefined)) as InputSample;
}

function inputFor(specs: readonly TensorSpec[], entry: InputSampleEntry, unknown: 'error' | 'skip'): TensorSpec | undefined {
  if (entry.name === undefined) {
    if (specs.length === 1) return specs[0];
    const fix = entry.withName ? `, e.g. ${entry.withName(specs[0]?.name ?? 'NAME')}` : '';
    throw new InputError(
      `${entry.from}: the model has ${specs.length} inputs (${describeInputs(specs)}), so this needs the name of the input it is for${fix}.`,
    );
  }
  const spec = specs.find((s) => s.name === entry.name);
  if (spec || unknown === 'skip') return spec;
  throw new InputError(
    `${entry.from}: the model has no input named "${entry.name}"; its inputs: ${describeInputs(specs)}. Use one of these names.`,
  );
}

function mergeWithin(previous: InputSample | undefined, entry: InputSampleEntry, name: string): InputSample {
  const out: { shape?: Given<readonly number[]>; range?: Given<readonly [number, number]>; data?: Given<SampleData> } = {
    ...previous,
  };
  for (const field of ['shape', 'range', 'data'] as const) {
    const given = entry[field];
    if (!given) continue;
    const before = previous?.[field];
    if (before) throw new InputError(`${given.from}: input "${name}" is already given by ${before.from}. Give it once.`);
    (out as Record<string, unknown>)[field] = given;
  }
  const values = out.data;
  const sized = out.shape ?? out.range;
  if (values && sized) {
    throw new InputError(
      `${sized.from}: input "${name}" takes its values from ${values.from}, so there is nothing to generate; leave one of the two out.`,
    );
  }
  return out;
}

/** How {@link sampleInputsFor} makes the inputs. */
export interface SampleInputOptions {
  /** Seed of the generated values. */
  readonly seed: number;
  /**
   * Size of a free batch axis (axis 0) for inputs given no shape or values. Absent: the
   * batch of the inputs given one (which must agree), else 1.
   */
  readonly batch?: number;
  /** Where `batch` was given (`--batch 4`), for messages; when set, a given shape or file with another batch is an error. */
  readonly batchFrom?: string;
  /**
   * Every input at `batch` where the model leaves axis 0 free: a given shape's axis 0 is
   * replaced, given values repeat their rows (kiln bench's cells, one per batch size).
   */
  readonly everyInputAtBatch?: boolean;
  /** What was given, per model input name (see {@link bindInputSamples}). */
  readonly inputs?: ReadonlyMap<string, InputSample>;
}

/**
 * One sample input per model input, in order: the values given, or seeded generated
 * ones of the shape given (else the model's, with a free batch axis at the batch size)
 * and in the range given (else standard normal; uniform integers 0..9 for int32
 * inputs). A shape or values that do not fit the model, a free dimension other than the
 * batch without a shape, and batch sizes that disagree are InputErrors naming where
 * each was given and what would fit. The caller disposes the tensors.
 */
export function sampleInputsFor(specs: readonly TensorSpec[], options: SampleInputOptions): tf.Tensor[] {
  const given = (spec: TensorSpec) => options.inputs?.get(spec.name) ?? {};
  for (const name of options.inputs?.keys() ?? []) {
    if (!specs.some((s) => s.name === name)) {
      throw new InputError(`inputs: the model has no input named "${name}"; its inputs: ${describeInputs(specs)}. Use one of these names.`);
    }
  }
  for (const spec of specs) checkGiven(spec, given(spec));
  const batch = options.everyInputAtBatch ? (options.batch ?? 1) : batchOf(specs, given, options);
  return specs.map((spec, i) => {
    const { shape, range, data } = given(spec);
    const free = spec.shape[0] == null;
    if (data) return tensorOf(data.value, spec.dtype, free && options.everyInputAtBatch ? batch : undefined);
    const dims = shape
      ? shape.value.map((d, axis) => (axis === 0 && free && options.everyInputAtBatch ? batch : d))
      : spec.shape.map((d, axis) => {
          if (d != null) return d;
          if (axis === 0) return batch;
          throw new InputError(
            `Input "${spec.name}" has a free dimension at axis ${axis} (shape ${describeShape(spec.shape)}); Kiln cannot invent its size. Give the input's shape: \`inputs: { ${spec.name}: { shape: ${writeList(exampleShape(spec, batch))} } }\` in kiln.yaml, \`--input-shape ${spec.name}:${exampleShape(spec, batch).join('x')}\` to the kiln CLI, or sampleInputs to optimize().`,
          );
        });
    return generate(spec, dims, range?.value, tfSeed(options.seed, i));
  });
}

function generate(spec: TensorSpec, shape: number[], range: readonly [number, number] | undefined, seed: number): tf.Tensor {
  if (spec.dtype === 'int32') {
    const [min, max] = range ?? [0, 9];
    return tf.randomUniform(shape, min, max + 1, 'int32', seed);
  }
  if (range) return tf.randomUniform(shape, range[0], range[1], 'float32', seed);
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

/** Checks what was given for one input against the model's input: shape, values and range. */
function checkGiven(spec: TensorSpec, sample: InputSample): void {
  if (sample.shape) checkShape(spec, sample.shape, 'the shape given is');
  if (sample.data) {
    const { value, from } = sample.data;
    checkShape(spec, { value: value.shape, from, write: writeList }, 'the file holds an array of shape');
    if (spec.dtype !== 'float32' && spec.dtype !== 'int32') {
      throw new InputError(`${from}: input "${spec.name}" is ${spec.dtype}; Kiln reads sample values for float32 and int32 inputs only.`);
    }
    if (spec.dtype === 'int32' && value.dtype === 'float32') {
      throw new InputError(
        `${from}: input "${spec.name}" holds int32 values but the file holds float32 ones. Save whole numbers as int32 (numpy: a.astype(np.int32)).`,
      );
    }
  }
  if (sample.range) {
    const { value, from } = sample.range;
    const [min, max] = value;
    if (!Number.isFinite(min) || !Number.isFinite(max) || !(min < max)) {
      throw new InputError(
        `${from}: the range of input "${spec.name}" must be two finite numbers, the smaller first (got ${min}, ${max}).`,
      );
    }
    if (spec.dtype === 'int32' && !(Number.isInteger(min) && Number.isInteger(max))) {
      throw new InputError(
        `${from}: input "${spec.name}" holds int32 values, so its range needs whole-number bounds (got ${min}, ${max}).`,
      );
    }
  }
}

function checkShape(spec: TensorSpec, given: Given<readonly number[]>, what: string): void {
  const dims = given.value;
  const write = given.write ?? writeList;
  const head = `${given.from}: input "${spec.name}" has shape ${describeShape(spec.shape)} (null: any size), but ${what} ${writeList(dims)}`;
  if (dims.length !== spec.shape.length) {
    throw new InputError(
      `${head}: ${dims.length} axes for ${spec.shape.length}. Give one size per axis, e.g. ${write(exampleShape(spec, dims[0] ?? 1))}.`,
    );
  }
  const problems: string[] = [];
  dims.forEach((d, axis) => {
    const fixed = spec.shape[axis];
    if (!Number.isInteger(d) || d < 1) problems.push(`the size at axis ${axis} is ${d}, not a whole number >= 1`);
    else if (fixed != null && d !== fixed) problems.push(`axis ${axis} is ${d}, but the model fixes it at ${fixed}`);
  });
  if (problems.length) {
    const fitting = dims.map((d, axis) => spec.shape[axis] ?? (Number.isInteger(d) && d >= 1 ? d : axis === 0 ? 1 : 32));
    throw new InputError(
      `${head}: ${problems.join('; ')}. Keep the model's fixed sizes and choose only the null ones, e.g. ${write(fitting)}.`,
    );
  }
}

/** The batch size of the inputs given no shape: that of the inputs given one where axis 0 is free (they must agree), else `options.batch`, else 1. */
function batchOf(specs: readonly TensorSpec[], given: (spec: TensorSpec) => InputSample, options: SampleInputOptions): number {
  const batches: { batch: number; from: string }[] = [];
  for (const spec of specs) {
    if (spec.shape[0] != null) continue;
    const { shape, data } = given(spec);
    const dims = shape?.value ?? data?.value.shape;
    const from = shape?.from ?? data?.from;
    if (dims && from) batches.push({ batch: dims[0]!, from });
  }
  const first = batches[0];
  const other = batches.find((b) => b.batch !== first?.batch);
  if (first && other) {
    throw new InputError(
      `The inputs' batch sizes (axis 0) differ: ${first.from} gives ${first.batch}, ${other.from} gives ${other.batch}. Give every input the same batch size.`,
    );
  }
  if (first && options.batchFrom && options.batch !== undefined && options.batch !== first.batch) {
    throw new InputError(
      `${options.batchFrom} contradicts ${first.from}, whose batch size (axis 0) is ${first.batch}. Give the batch size in one place: ${options.batchFrom.split(' ')[0]} sizes only the inputs given no shape or values.`,
    );
  }
  return first?.batch ?? options.batch ?? 1;
}

/** The values as a tensor of `dtype`; with `rows`, their rows repeated (or cut) to that many along axis 0. */
function tensorOf(data: SampleData, dtype: tf.DataType, rows?: number): tf.Tensor {
  const values = dtype === 'int32' ? Int32Array.from(data.values) : Float32Array.from(data.values);
  const n = data.shape[0] ?? 1;
  if (rows === undefined || rows === n) return tf.tensor(values, [...data.shape], dtype);
  return tf.tidy(() => {
    const t = tf.tensor(values, [...data.shape], dtype);
    return tf.gather(
      t,
      Array.from({ length: rows }, (_, i) => i % n),
    );
  });
}

/**
 * A seed tf.js will honour: its random ops treat a seed of 0 as "no seed" and draw
 * from Math.random, so every derived seed is shifted off zero.
 */
export function tfSeed(seed: number, offset: number): number {
  return seed * 100_003 + offset + 1;
}
