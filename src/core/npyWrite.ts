/**
 * Writes NdArrays as .npy (format 1.0, or 2.0 when the header needs more than 65,535 bytes), byte for byte what
 * numpy.save writes: little-endian descr, C order, the header padded with spaces to a 64-byte boundary.
 */
import { promises as fsp } from 'fs';
import { MatrixError, product } from './ndarray';
import type { NdArray } from './ndarray';
import { descrOf, HOST_LITTLE_ENDIAN, itemsizeOf, NPY_MAGIC } from './npy';
import { encodeFloat16 } from './float16';

export function npyHeaderText(a: Pick<NdArray, 'shape' | 'dtype'>): string {
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  return `{'descr': '${descrOf(a.dtype)}', 'fortran_order': False, 'shape': ${shape}, }`;
}

export function encodeNpy(a: NdArray): Buffer {
  const count = product(a.shape);
  if (a.data.length !== count) throw new MatrixError(`array of shape [${a.shape.join(', ')}] has ${a.data.length} elements, expected ${count}`);
  const dict = npyHeaderText(a);
  let version = 1;
  let pre = 10;
  // Header = dict + spaces + '\n', so that preamble + header is a multiple of 64 (numpy's ARRAY_ALIGN).
  let hlen = Math.ceil((pre + dict.length + 1) / 64) * 64 - pre;
  if (hlen > 0xffff) {
    version = 2;
    pre = 12;
    hlen = Math.ceil((pre + dict.length + 1) / 64) * 64 - pre;
  }
  const itemsize = itemsizeOf(a.dtype);
  const out = Buffer.alloc(pre + hlen + count * itemsize);
  out.set(NPY_MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  if (version === 1) out.writeUInt16LE(hlen, 8);
  else out.writeUInt32LE(hlen, 8);
  out.write(dict.padEnd(hlen - 1, ' ') + '\n', pre, 'latin1');
  const body = out.subarray(pre + hlen);
  let bytes: Uint8Array;
  if (a.dtype === 'float16') {
    bytes = new Uint8Array(encodeFloat16(a.data as ArrayLike<number>).buffer);
  } else if (a.dtype === 'bool') {
    bytes = Uint8Array.from(a.data as ArrayLike<number>, (x) => (x ? 1 : 0));
  } else {
    bytes = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  }
  body.set(bytes);
  if (!HOST_LITTLE_ENDIAN && itemsize > 1) {
    if (itemsize === 2) body.swap16();
    else if (itemsize === 4) body.swap32();
    else body.swap64();
  }
  return out;
}

/** Writes next to the target and renames, so a watcher never sees half a file. */
export async function writeNpy(file: string, a: NdArray): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, encodeNpy(a));
  await fsp.rename(tmp, file);
}
