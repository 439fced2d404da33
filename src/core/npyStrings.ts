/**
 * NumPy string arrays ('<U5', '>U5', '|S3') read from a .npy or an .npz member, as NumPy's own item access gives
 * them: trailing NULs stripped (an embedded NUL stays), bytes decoded as UTF-8 with invalid bytes as U+FFFD.
 * They hold tokens and labels, so the reader is bounded for that use: a count of strings past MAX_STRINGS or a
 * slice past maxBytes is refused before anything is allocated.
 */
import { isStringDType, MatrixError, product } from './ndarray';
import type { StringArray, StringDType } from './ndarray';
import { DEFAULT_MAX_BYTES, fortranToC, normalizeIndex } from './npy';
import type { ByteSource, NpyHeader, ReadOptions } from './npy';

/** More strings than any token list; a zero-width dtype ('|S0') claims no bytes, so its count is bounded here. */
export const MAX_STRINGS = 1 << 24;

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** The strings of a UCS-4 buffer of `count` items of `width` characters. */
function decodeUcs4(bytes: Uint8Array, count: number, width: number, littleEndian: boolean): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = new Array(count);
  const codes: number[] = [];
  for (let i = 0; i < count; i++) {
    const base = i * width * 4;
    let len = width;
    while (len > 0 && view.getUint32(base + (len - 1) * 4, littleEndian) === 0) len--; // NumPy strips trailing NULs
    codes.length = 0;
    for (let c = 0; c < len; c++) {
      const cp = view.getUint32(base + c * 4, littleEndian);
      codes.push(cp > 0x10ffff ? 0xfffd : cp);
    }
    let s = '';
    for (let k = 0; k < codes.length; k += 4096) s += String.fromCodePoint(...codes.slice(k, k + 4096));
    out[i] = s;
  }
  return out;
}

function decodeBytes(bytes: Uint8Array, count: number, width: number): string[] {
  const out: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const base = i * width;
    let len = width;
    while (len > 0 && bytes[base + len - 1] === 0) len--;
    out[i] = utf8.decode(bytes.subarray(base, base + len));
  }
  return out;
}

/** Reads the strings at leading `index` (C order). */
export async function readNpyStrings(
  source: ByteSource, h: NpyHeader, file: string, index: readonly number[] = [], opts: ReadOptions = {},
): Promise<StringArray> {
  const { shape, dtype, fortranOrder } = h.info;
  if (!isStringDType(dtype)) throw new MatrixError(`holds numbers (${dtype}), not strings`, file);
  const idx = normalizeIndex(shape, index, file);
  const subShape = shape.slice(idx.length);
  const total = product(shape);
  const count = product(subShape);
  // A Fortran-order slice is strided across the file: read all of it (still bounded) and reorder.
  const readCount = fortranOrder && shape.length > 1 ? total : count;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (readCount > MAX_STRINGS) {
    throw new MatrixError(`string array of shape [${shape.join(', ')}] (${dtype}) holds ${readCount} strings, over the limit of ${MAX_STRINGS}`, file);
  }
  const bytesNeeded = readCount * h.itemsize;
  if (bytesNeeded > maxBytes) {
    throw new MatrixError(`string array of shape [${shape.join(', ')}] (${dtype}) needs ${bytesNeeded} bytes, over the limit of ${maxBytes}`, file);
  }
  let start = 0;
  let stride = count;
  for (let a = idx.length - 1; a >= 0; a--) { start += idx[a] * stride; stride *= shape[a]; }
  const first = readCount === count ? start : 0;
  const bytes = new Uint8Array(bytesNeeded);
  await source.readInto(bytes, h.dataOffset + first * h.itemsize);
  const width = dtype.startsWith('|S') ? h.itemsize : h.itemsize / 4;
  let strings = dtype.startsWith('|S') ? decodeBytes(bytes, readCount, width) : decodeUcs4(bytes, readCount, width, h.littleEndian);
  if (readCount !== count || (fortranOrder && shape.length > 1)) {
    // Reorder through the positions: fortranToC permutes any typed array, so permute indices and gather.
    const order = fortranToC(Float64Array.from({ length: total }, (_, i) => i), shape) as Float64Array;
    const c = Array.from(order, (i) => strings[i]);
    strings = c.slice(start, start + count);
  }
  return { shape: subShape, dtype: dtype as StringDType, strings };
}
