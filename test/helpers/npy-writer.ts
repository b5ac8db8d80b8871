/**
 * A tiny .npy writer for the tests, as numpy.save writes the file: the magic, the
 * version, the header length (2 bytes in version 1.0, 4 in 2.0), the header dict padded
 * with spaces to a multiple of 64 bytes and ended by a newline, then the raw bytes.
 */
export interface NpyWriteOptions {
  /** Format version 1 (default) or 2. */
  readonly version?: 1 | 2;
  readonly fortranOrder?: boolean;
  /** Replaces the header dict (to write broken files). */
  readonly header?: string;
}

/** Python's repr of a shape tuple: `()`, `(3,)`, `(1, 2)`. */
function tuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** The bytes of a .npy file holding `data` (its bytes as they are in memory: little-endian here) under `descr`. */
export function encodeNpy(descr: string, shape: readonly number[], data: ArrayBufferView, options: NpyWriteOptions = {}): Buffer {
  const version = options.version ?? 1;
  const lengthBytes = version === 1 ? 2 : 4;
  const dict =
    options.header ?? `{'descr': '${descr}', 'fortran_order': ${options.fortranOrder ? 'True' : 'False'}, 'shape': ${tuple(shape)}, }`;
  const unpadded = 6 + 2 + lengthBytes + dict.length + 1;
  const header = `${dict}${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const preamble = Buffer.alloc(8 + lengthBytes);
  preamble.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  if (version === 1) preamble.writeUInt16LE(header.length, 8);
  else preamble.writeUInt32LE(header.length, 8);
  return Buffer.concat([preamble, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}
