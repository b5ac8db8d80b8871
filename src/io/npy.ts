/**
 * A reader for NumPy's .npy files (format versions 1.0, 2.0 and 3.0): one array of
 * float32, int32 or uint8 values, little-endian, in C order, as `numpy.save` writes
 * it. Anything else is refused with what the file holds and how to convert it.
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import { promises as fs } from 'node:fs';

import { InputError } from '../core/errors.js';
import type { SampleData } from '../core/validation/input-samples.js';

/** The array of a .npy file. */
export type NpyArray = SampleData;

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const WIDTH = { float32: 4, int32: 4, uint8: 1 } as const;

/** Words for the dtypes Kiln does not read, by kind and width (`f8` -> float64). */
const KIND_WORDS: Readonly<Record<string, string>> = { f: 'float', i: 'int', u: 'uint', c: 'complex', b: 'bool' };

/**
 * Reads a .npy file; a missing or unreadable file, or one Kiln cannot read, is an
 * InputError that starts with `name` (default: the path).
 */
export async function readNpyFile(file: string, name: string = file): Promise<NpyArray> {
  let bytes: Buffer;
  const where = name === file ? '' : ` (${file})`;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${name}: no such file${where}.`);
    if (code === 'EISDIR') throw new InputError(`${name}: is a folder${where}; give the path of a .npy file.`);
    throw new InputError(`${name}: cannot be read${where}: ${(error as Error).message}`);
  }
  return readNpy(bytes, name);
}

/** The array in the bytes of a .npy file; `name` names the file in errors. */
export function readNpy(bytes: Uint8Array, name: string): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new InputError(`${name}: not a .npy file (it does not start with the NumPy magic "\\x93NUMPY"). Save the array with numpy.save.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw new InputError(`${name}: .npy format version ${major}.${bytes[7]} is not one Kiln reads (1.0 to 3.0).`);
  const lengthBytes = major === 1 ? 2 : 4;
  const headerLength = major === 1 ? view.getUint16(8, true) : bytes.length >= 12 ? view.getUint32(8, true) : Number.NaN;
  const dataStart = 8 + lengthBytes + headerLength;
  if (!(dataStart <= bytes.length)) throw new InputError(`${name}: the .npy header runs past the end of the file (the file is cut short).`);
  const headerBytes = bytes.subarray(8 + lengthBytes, dataStart);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(headerBytes);
  const fields = parseHeader(header, name);
  const dtype = dtypeOf(fields.descr, name);
  if (fields.fortranOrder) {
    throw new InputError(
      `${name}: the array is stored in Fortran (column-major) order; Kiln reads C order. Save it as numpy.save(path, numpy.ascontiguousarray(a)).`,
    );
  }
  const count = fields.shape.reduce((a, b) => a * b, 1);
  const needed = count * WIDTH[dtype];
  const held = bytes.length - dataStart;
  if (held !== needed) {
    throw new InputError(
      `${name}: an array of shape [${fields.shape.join(', ')}] of ${dtype} takes ${needed} bytes of data, but the file has ${held}${held < needed ? ' (it is cut short)' : ' (bytes follow the array)'}.`,
    );
  }
  const data = new DataView(bytes.buffer, bytes.byteOffset + dataStart, needed);
  return { dtype, shape: fields.shape, values: decode(data, dtype, count) };
}

function decode(data: DataView, dtype: NpyArray['dtype'], count: number): NpyArray['values'] {
  if (dtype === 'uint8') return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + count));
  if (dtype === 'int32') {
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) out[i] = data.getInt32(4 * i, true);
    return out;
  }
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = data.getFloat32(4 * i, true);
  return out;
}

function dtypeOf(descr: string, name: string): NpyArray['dtype'] {
  if (descr === '<f4') return 'float32';
  if (descr === '<i4') return 'int32';
  if (/^[|<>=]?u1$/.test(descr)) return 'uint8';
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  const kind = m ? KIND_WORDS[m[2]!] : undefined;
  const words =
    m && kind
      ? `${m[1] === '>' ? 'big-endian ' : ''}${kind}${kind === 'bool' ? '' : Number(m[3]) * (kind === 'complex' ? 4 : 8)}`
      : 'structured or object';
  throw new InputError(
    `${name}: holds ${words} values (dtype '${descr}'); Kiln reads float32, int32 and uint8 arrays, little-endian. Convert it first, e.g. numpy.save(path, a.astype('<f4')).`,
  );
}

interface HeaderFields {
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: number[];
}

/** Parses the header, a Python dict literal: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`. */
function parseHeader(header: string, name: string): HeaderFields {
  const fail = (what: string): never => {
    throw new InputError(`${name}: the .npy header cannot be read (${what}): ${JSON.stringify(header.trim().slice(0, 200))}.`);
  };
  let at = 0;
  const space = () => {
    while (at < header.length && /\s/.test(header[at]!)) at++;
  };
  const expect = (c: string) => {
    space();
    if (header[at] !== c) fail(`expected "${c}" at character ${at}`);
    at++;
  };
  const string = (): string => {
    space();
    const quote = header[at];
    if (quote !== "'" && quote !== '"') return fail(`expected a string at character ${at}`);
    const end = header.indexOf(quote, at + 1);
    if (end < 0) return fail('a string is not closed');
    const text = header.slice(at + 1, end);
    at = end + 1;
    return text;
  };
  const value = (): unknown => {
    space();
    const c = header[at];
    if (c === "'" || c === '"') return string();
    if (header.startsWith('True', at)) return ((at += 4), true);
    if (header.startsWith('False', at)) return ((at += 5), false);
    if (c === '(') {
      at++;
      const items: number[] = [];
      for (;;) {
        space();
        if (header[at] === ')') return (at++, items);
        const m = /^(\d+)L?/.exec(header.slice(at));
        if (!m) return fail(`expected a whole number in the shape at character ${at}`);
        items.push(Number(m[1]));
        at += m[0].length;
        space();
        if (header[at] === ',') at++;
        else if (header[at] !== ')') return fail(`expected "," or ")" in the shape at character ${at}`);
      }
    }
    if (c === '[') return fail('structured dtypes are not supported');
    return fail(`unexpected value at character ${at}`);
  };
  const fields: Record<string, unknown> = {};
  expect('{');
  for (;;) {
    space();
    if (header[at] === '}') {
      at++;
      break;
    }
    const key = string();
    expect(':');
    fields[key] = value();
    space();
    if (header[at] === ',') at++;
    else if (header[at] !== '}') fail(`expected "," or "}" at character ${at}`);
  }
  space();
  if (at !== header.length) fail('text after the closing "}"');
  const { descr, fortran_order: fortranOrder, shape } = fields;
  if (typeof descr !== 'string') fail("no 'descr' string");
  if (typeof fortranOrder !== 'boolean') fail("no 'fortran_order' True or False");
  if (!Array.isArray(shape)) fail("no 'shape' tuple");
  return { descr: descr as string, fortranOrder: fortranOrder as boolean, shape: shape as number[] };
}
