import * as path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { InputSampleEntry } from '../core/validation/input-samples.js';
import { readNpyFile } from '../io/npy.js';

/**
 * The flags that say how the CLI makes a model's sample inputs, each repeatable and
 * comma separated: `--input-shape [NAME:]1x64x64x3`, `--input-range [NAME:]MIN..MAX`
 * and `--sample-input [NAME=]file.npy`. Without a name, the flag is for a model of one
 * input. Syntax errors are usage errors (exit 2) at parse time; what needs the model
 * (names, ranks, fixed sizes, batch sizes) is checked once it is loaded.
 */

/** One value of one of the input flags, parsed (its file not read yet). */
export interface InputFlag {
  readonly flag: '--input-shape' | '--input-range' | '--sample-input';
  /** The value as given: `LR:1x64x64x3`. */
  readonly text: string;
  /** The model input it is for; absent: the model's only input. */
  readonly name?: string;
  readonly shape?: readonly number[];
  readonly range?: readonly [number, number];
  /** Absolute path of the .npy file. */
  readonly file?: string;
}

export interface InputFlags {
  inputShape?: InputFlag[];
  inputRange?: InputFlag[];
  sampleInput?: InputFlag[];
}

const SHAPE_EXAMPLE = 'LR:1x64x64x3 (or 1x64x64x3 for a model of one input)';

function pieces(value: string, separator: RegExp = /,/): string[] {
  return value
    .split(separator)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `NAME:rest` split at the last ":" (names may hold ":", sizes and ranges never do); no ":" means no name. */
function splitName(text: string, example: string): { name?: string; rest: string } {
  const at = text.lastIndexOf(':');
  if (at < 0) return { rest: text };
  const name = text.slice(0, at).trim();
  if (name === '') throw new InvalidArgumentError(`"${text}": the input name before ":" is empty. Write ${example}.`);
  return { name, rest: text.slice(at + 1).trim() };
}

/** Parses `--input-shape` values: `[NAME:]D0xD1x...`, comma separated; adds them to `previous`. */
export function parseInputShapes(value: string, previous: InputFlag[] = []): InputFlag[] {
  const parsed = pieces(value).map((text): InputFlag => {
    const { name, rest } = splitName(text, SHAPE_EXAMPLE);
    if (rest === '') throw new InvalidArgumentError(`"${text}" gives no sizes. Write ${SHAPE_EXAMPLE}.`);
    const shape = rest.split(/x/i).map((size, axis) => {
      if (!/^\d+$/.test(size.trim())) {
        throw new InvalidArgumentError(
          `"${text}": ${size.trim() === '' ? 'an empty size' : `"${size.trim()}"`} at axis ${axis} is not a size. Sizes are whole numbers >= 1 joined by "x", e.g. ${SHAPE_EXAMPLE}.`,
        );
      }
      const n = Number(size);
      if (n < 1) throw new InvalidArgumentError(`"${text}": the size at axis ${axis} is ${n}; every size must be a whole number >= 1.`);
      return n;
    });
    return { flag: '--input-shape', text, ...(name !== undefined ? { name } : {}), shape };
  });
  return [...previous, ...parsed];
}

/** Parses `--input-range` values: `[NAME:]MIN..MAX`, comma separated; adds them to `previous`. */
export function parseInputRanges(value: string, previous: InputFlag[] = []): InputFlag[] {
  const example = 'LR:0..255 (or 0..255 for a model of one input)';
  const parsed = pieces(value).map((text): InputFlag => {
    const { name, rest } = splitName(text, example);
    const m = /^(.+?)\.\.(.+)$/.exec(rest);
    const [min, max] = m ? [Number(m[1]!.trim()), Number(m[2]!.trim())] : [Number.NaN, Number.NaN];
    if (!m || !Number.isFinite(min) || !Number.isFinite(max)) {
      throw new InvalidArgumentError(`"${text}" is not a range: write the smallest and the largest value joined by "..", e.g. ${example}.`);
    }
    if (!(min < max)) throw new InvalidArgumentError(`"${text}": the minimum (${min}) must be below the maximum (${max}).`);
    return { flag: '--input-range', text, ...(name !== undefined ? { name } : {}), range: [min, max] };
  });
  return [...previous, ...parsed];
}

const IMAGE_FILE = /\.(png|jpe?g|gif|bmp|webp)$/i;

/**
 * Parses `--sample-input` values: `[NAME=]file.npy`, comma separated where the comma is
 * followed by `NAME=` (a path may hold commas); adds them to `previous`.
 */
export function parseSampleInputs(value: string, previous: InputFlag[] = []): InputFlag[] {
  const example = 'LR=lr.npy (or lr.npy for a model of one input)';
  const parsed = pieces(value, /,(?=[^,=]*=)/).map((text): InputFlag => {
    const at = text.indexOf('=');
    const name = at < 0 ? undefined : text.slice(0, at).trim();
    const file = (at < 0 ? text : text.slice(at + 1)).trim();
    if (name === '') throw new InvalidArgumentError(`"${text}": the input name before "=" is empty. Write ${example}.`);
    if (file === '') throw new InvalidArgumentError(`"${text}" gives no file. Write ${example}.`);
    if (IMAGE_FILE.test(file)) {
      throw new InvalidArgumentError(
        `"${text}": Kiln reads sample inputs from .npy files only, not images. Convert it first, e.g. in Python: numpy.save('lr.npy', numpy.asarray(PIL.Image.open('${path.basename(file)}').convert('RGB'), dtype=numpy.float32)[None]).`,
      );
    }
    return { flag: '--sample-input', text, ...(name !== undefined ? { name } : {}), file: path.resolve(file) };
  });
  return [...previous, ...parsed];
}

/** Adds `--input-shape`, `--input-range` and `--sample-input` to a command; `batch` says how the batch axis is sized there. */
export function withInputFlags(command: Command, batch: string): Command {
  return command
    .option(
      '--input-shape <[name:]shape>',
      `whole shape of a generated sample input, e.g. LR:1x64x64x3 (repeatable or comma separated; no name: the model's only input); needed where the model leaves an axis other than the batch free. ${batch}`,
      parseInputShapes,
    )
    .option(
      '--input-range <[name:]min..max>',
      'generated values uniform in [min, max] instead of standard normal, e.g. LR:0..255 (repeatable or comma separated)',
      parseInputRanges,
    )
    .option(
      '--sample-input <[name=]file.npy>',
      'a sample input read from a NumPy .npy file (float32, int32 or uint8; images: convert to .npy), e.g. LR=lr.npy (repeatable, or LR=a.npy,mask=b.npy; no name: the only input)',
      parseSampleInputs,
    );
}

/**
 * The entries of the input flags, for `bindInputSamples`, with their .npy files read
 * (an unreadable file is an InputError naming the flag and the file).
 */
export async function inputEntriesFromFlags(flags: InputFlags): Promise<InputSampleEntry[]> {
  const entries: InputSampleEntry[] = [];
  for (const f of [...(flags.inputShape ?? []), ...(flags.inputRange ?? []), ...(flags.sampleInput ?? [])]) {
    const from = `${f.flag} ${f.text}`;
    const base = { ...(f.name !== undefined ? { name: f.name } : {}), from };
    if (f.shape) {
      const write = (dims: readonly number[]) => `${f.name !== undefined ? `${f.name}:` : ''}${dims.join('x')}`;
      entries.push({ ...base, shape: { value: f.shape, from, write }, withName: (n) => `--input-shape ${n}:${f.shape!.join('x')}` });
    } else if (f.range) {
      entries.push({ ...base, range: { value: f.range, from }, withName: (n) => `--input-range ${n}:${f.range![0]}..${f.range![1]}` });
    } else if (f.file) {
      const data = await readNpyFile(f.file, from);
      entries.push({ ...base, data: { value: data, from }, withName: (n) => `--sample-input ${n}=${f.text}` });
    }
  }
  return entries;
}
