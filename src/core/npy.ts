/**
 * NumPy's .npy format (numpy/lib/format.py is the reference), read lazily from any byte source.
 * The header is a Python dict literal; it is parsed by a small literal parser and never evaluated.
 * Data is read with positional reads straight into the buffer of the typed array returned, so a slice of a
 * multi-gigabyte dump costs memory proportional to the slice, and every returned array owns its buffer.
 */
import { isStringDType, MatrixError, product } from './ndarray';
import type { AnyDType, DType, NdArray, TypedArray } from './ndarray';
import { decodeFloat16 } from './float16';
import { decodeBFloat16, decodeFloat8 } from './floatDecode';

export interface ArrayInfo {
  shape: number[];
  /** A numeric dtype, or a NumPy string dtype ('<U5', '|S3') for arrays that label a heatmap. */
  dtype: AnyDType;
  fortranOrder: boolean;
  /** Bytes of element data as stored (itemsize × element count). */
  byteLength: number;
}

/** Somewhere bytes can be read from at a position: a file, a region of a file, or a buffer. */
export interface ByteSource {
  readonly size: number;
  /** Fills `target` from `position`; throws MatrixError if the source ends first. */
  readInto(target: Uint8Array, position: number): Promise<void>;
}

export interface NpyHeader {
  info: ArrayInfo;
  version: string;
  /** Offset of the first data byte from the start of the .npy bytes. */
  dataOffset: number;
  itemsize: number;
  littleEndian: boolean;
  descr: string;
}

export const NPY_MAGIC = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
/** numpy refuses longer headers by default (max_header_size); so do we, before reading them. */
export const MAX_HEADER_SIZE = 10000;
/** Default cap on the bytes one read may allocate. */
export const DEFAULT_MAX_BYTES = 1 << 30;

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------------------------
// The header literal: dicts, tuples, lists, strings, integers, True/False/None. Nothing else is accepted.

type PyValue = string | number | boolean | null | PyTuple | PyList | PyDict;
interface PyTuple { kind: 'tuple'; items: PyValue[] }
interface PyList { kind: 'list'; items: PyValue[] }
interface PyDict { kind: 'dict'; entries: Map<string, PyValue> }

class LiteralParser {
  private pos = 0;
  constructor(private readonly text: string, private readonly file: string) {}

  fail(problem: string): never {
    throw new MatrixError(`invalid .npy header: ${problem} at character ${this.pos} in ${JSON.stringify(this.text.slice(0, 120))}`, this.file);
  }

  private ws(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  parseAll(): PyValue {
    const v = this.value(0);
    this.ws();
    if (this.pos !== this.text.length) this.fail('unexpected text after the dictionary');
    return v;
  }

  private value(depth: number): PyValue {
    if (depth > 16) this.fail('nesting too deep');
    this.ws();
    const c = this.text[this.pos];
    if (c === undefined) this.fail('unexpected end');
    if (c === '{') return this.dict(depth);
    if (c === '(') return this.seq(depth, ')', 'tuple');
    if (c === '[') return this.seq(depth, ']', 'list');
    if (c === "'" || c === '"') return this.str();
    if (/[-+0-9]/.test(c)) return this.int();
    const m = /^[A-Za-z_]\w*/.exec(this.text.slice(this.pos, this.pos + 32));
    if (m) {
      this.pos += m[0].length;
      if (m[0] === 'True') return true;
      if (m[0] === 'False') return false;
      if (m[0] === 'None') return null;
      this.fail(`unexpected name ${m[0]} (only literals are allowed)`);
    }
    this.fail(`unexpected character ${JSON.stringify(c)}`);
  }

  private dict(depth: number): PyDict {
    this.pos++;
    const entries = new Map<string, PyValue>();
    for (;;) {
      this.ws();
      if (this.text[this.pos] === '}') { this.pos++; return { kind: 'dict', entries }; }
      const key = this.value(depth + 1);
      if (typeof key !== 'string') this.fail('dictionary keys must be strings');
      this.ws();
      if (this.text[this.pos] !== ':') this.fail('expected ":"');
      this.pos++;
      const v = this.value(depth + 1);
      if (entries.has(key)) this.fail(`duplicate key '${key}'`);
      entries.set(key, v);
      this.ws();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== '}') this.fail('expected "," or "}"');
    }
  }

  private seq(depth: number, close: string, kind: 'tuple' | 'list'): PyTuple | PyList {
    this.pos++;
    const items: PyValue[] = [];
    for (;;) {
      this.ws();
      if (this.text[this.pos] === close) { this.pos++; return { kind, items }; }
      if (items.length >= 64) this.fail('too many items');
      items.push(this.value(depth + 1));
      this.ws();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== close) this.fail(`expected "," or "${close}"`);
    }
  }

  private str(): string {
    const q = this.text[this.pos++];
    let out = '';
    for (;;) {
      const c = this.text[this.pos++];
      if (c === undefined || c === '\n') this.fail('unterminated string');
      if (c === q) return out;
      if (c === '\\') {
        const e = this.text[this.pos++];
        if (e === undefined) this.fail('unterminated string');
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e; // enough for dtype strings; nothing is interpreted
      } else out += c;
      if (out.length > 256) this.fail('string too long');
    }
  }

  private int(): number {
    // Python 2 era files wrote shapes as (3L, 4L); numpy still reads them.
    const m = /^[-+]?\d+[lL]?/.exec(this.text.slice(this.pos, this.pos + 40));
    if (!m) this.fail('expected an integer');
    this.pos += m[0].length;
    const n = Number(m[0].replace(/[lL]$/, ''));
    if (!Number.isSafeInteger(n)) this.fail(`integer ${m[0]} is too large`);
    return n;
  }
}

function pyRepr(v: PyValue): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number') return String(v);
  if (v.kind === 'dict') return `{${[...v.entries].map(([k, x]) => `'${k}': ${pyRepr(x)}`).join(', ')}}`;
  const inner = v.items.map(pyRepr).join(', ');
  return v.kind === 'tuple' ? `(${inner}${v.items.length === 1 ? ',' : ''})` : `[${inner}]`;
}

// ---------------------------------------------------------------------------------------------------------------
// dtypes

export interface DtypeSpec { dtype: AnyDType; itemsize: number; littleEndian: boolean }

const KIND_NAMES: Record<string, string> = {
  c: 'complex', O: 'object', U: 'unicode string', S: 'byte string', a: 'byte string', V: 'void/structured',
  M: 'datetime', m: 'timedelta',
};

/** A descr string such as '<f4' to our dtype; anything else is refused with a message naming it. */
export function parseDescr(descr: string, file: string): DtypeSpec {
  const m = /^([<>|=])?([a-zA-Z?])(\d*)$/.exec(descr);
  if (!m) throw new MatrixError(`unsupported dtype '${descr}'`, file);
  const [, order = '|', kind, sizeText] = m;
  const size = sizeText === '' ? (kind === 'b' || kind === '?' ? 1 : NaN) : Number(sizeText);
  if (kind === 'O') {
    throw new MatrixError(`dtype '${descr}' holds pickled Python objects, which are never loaded (only numeric arrays are)`, file);
  }
  if ((kind === 'U' || kind === 'S' || kind === 'a') && sizeText !== '') return stringDescr(order, kind, size, descr, file);
  let dtype: DType | undefined;
  if (kind === 'f') dtype = size === 2 ? 'float16' : size === 4 ? 'float32' : size === 8 ? 'float64' : undefined;
  else if (kind === 'i') dtype = size === 1 ? 'int8' : size === 2 ? 'int16' : size === 4 ? 'int32' : size === 8 ? 'int64' : undefined;
  else if (kind === 'u') dtype = size === 1 ? 'uint8' : size === 2 ? 'uint16' : size === 4 ? 'uint32' : size === 8 ? 'uint64' : undefined;
  else if ((kind === 'b' || kind === '?') && size === 1) dtype = 'bool';
  if (!dtype) {
    const what = KIND_NAMES[kind] ?? (kind === 'f' ? `${size * 8}-bit float` : 'this');
    throw new MatrixError(`unsupported dtype '${descr}': ${what} arrays are not supported (float16/32/64, int8-64, uint8-64, bool and strings are)`, file);
  }
  if (order === '|' && size > 1) throw new MatrixError(`invalid dtype '${descr}': '|' (no byte order) on a ${size}-byte type`, file);
  const littleEndian = order === '<' || (order === '=' ? HOST_LITTLE_ENDIAN : order === '|');
  return { dtype, itemsize: size, littleEndian };
}

/** '<U5', '>U5' (UCS-4 characters, so 4 bytes each) and '|S3' (bytes), named as NumPy names them. */
function stringDescr(order: string, kind: string, size: number, descr: string, file: string): DtypeSpec {
  if (!Number.isSafeInteger(size)) throw new MatrixError(`invalid dtype '${descr}': width too large`, file);
  if (kind === 'U') {
    if (order === '|') throw new MatrixError(`invalid dtype '${descr}': '|' (no byte order) on a 4-byte character type`, file);
    const littleEndian = order === '<' || (order === '=' && HOST_LITTLE_ENDIAN);
    return { dtype: `${littleEndian ? '<' : '>'}U${size}`, itemsize: size * 4, littleEndian };
  }
  return { dtype: `|S${size}`, itemsize: size, littleEndian: true };
}

export function descrOf(dtype: DType): string {
  switch (dtype) {
    case 'float16': return '<f2';
    case 'float32': return '<f4';
    case 'float64': return '<f8';
    // Held as float32 once read (NumPy has no such types), so written as float32.
    case 'bfloat16':
    case 'float8_e4m3fn':
    case 'float8_e5m2': return '<f4';
    case 'int8': return '|i1';
    case 'int16': return '<i2';
    case 'int32': return '<i4';
    case 'int64': return '<i8';
    case 'uint8': return '|u1';
    case 'uint16': return '<u2';
    case 'uint32': return '<u4';
    case 'uint64': return '<u8';
    case 'bool': return '|b1';
  }
}

export function itemsizeOf(dtype: DType): number {
  return Number(descrOf(dtype).slice(2));
}

// ---------------------------------------------------------------------------------------------------------------
// The header

function startsWithMagic(b: Uint8Array): boolean {
  if (b.length < 6) return false;
  for (let i = 0; i < 6; i++) if (b[i] !== NPY_MAGIC[i]) return false;
  return true;
}

/** How many bytes the preamble is and how long the header says it is, from the first 12 bytes. */
export function npyPreamble(b: Uint8Array, file: string): { version: string; headerStart: number; headerLength: number } {
  if (!startsWithMagic(b)) throw new MatrixError('not a .npy file (missing the \\x93NUMPY magic)', file);
  if (b.length < 10) throw new MatrixError('truncated .npy preamble', file);
  const major = b[6];
  const minor = b[7];
  if (major === 1 && minor === 0) return { version: '1.0', headerStart: 10, headerLength: b[8] | (b[9] << 8) };
  if ((major === 2 || major === 3) && minor === 0) {
    if (b.length < 12) throw new MatrixError('truncated .npy preamble', file);
    const len = (b[8] | (b[9] << 8) | (b[10] << 16)) + b[11] * 0x1000000;
    return { version: `${major}.0`, headerStart: 12, headerLength: len };
  }
  throw new MatrixError(`unsupported .npy format version ${major}.${minor} (1.0, 2.0 and 3.0 are)`, file);
}

/** Parses the header text (the dict literal) and checks the data fits in `available` bytes after it. */
export function parseNpyHeaderText(text: string, file: string): { info: ArrayInfo; spec: DtypeSpec; descr: string } {
  const v = new LiteralParser(text, file).parseAll();
  if (typeof v !== 'object' || v === null || v.kind !== 'dict') throw new MatrixError('invalid .npy header: not a dictionary', file);
  const keys = [...v.entries.keys()].sort();
  if (keys.join(',') !== 'descr,fortran_order,shape') {
    throw new MatrixError(`invalid .npy header: keys are {${keys.map((k) => `'${k}'`).join(', ')}} but must be exactly 'descr', 'fortran_order', 'shape'`, file);
  }
  const descr = v.entries.get('descr') as PyValue;
  if (typeof descr !== 'string') {
    throw new MatrixError(`unsupported dtype ${pyRepr(descr).slice(0, 200)}: structured arrays are not supported`, file);
  }
  const spec = parseDescr(descr, file);
  const fo = v.entries.get('fortran_order');
  if (typeof fo !== 'boolean') throw new MatrixError(`invalid .npy header: fortran_order is ${pyRepr(fo as PyValue)}, not True or False`, file);
  const shapeV = v.entries.get('shape') as PyValue;
  if (typeof shapeV !== 'object' || shapeV === null || shapeV.kind !== 'tuple' || !shapeV.items.every((x) => typeof x === 'number')) {
    throw new MatrixError(`invalid .npy header: shape ${pyRepr(shapeV)} is not a tuple of integers`, file);
  }
  const shape = shapeV.items as number[];
  if (shape.some((d) => d < 0)) throw new MatrixError(`invalid .npy header: negative dimension in shape ${pyRepr(shapeV)}`, file);
  const count = product(shape);
  const byteLength = count * spec.itemsize;
  if (!Number.isSafeInteger(byteLength)) {
    throw new MatrixError(`shape ${pyRepr(shapeV)} claims more bytes than any file holds`, file);
  }
  return { info: { shape, dtype: spec.dtype, fortranOrder: fo, byteLength }, spec, descr };
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Reads and checks the preamble and header of the .npy bytes in `source`, and that the data is all there. */
export async function readNpyHeader(source: ByteSource, file: string): Promise<NpyHeader> {
  const pre = new Uint8Array(Math.min(12, source.size));
  if (pre.length < 10) {
    if (pre.length > 0) await source.readInto(pre, 0);
    if (pre.length < 6 || !startsWithMagic(pre)) throw new MatrixError(`not a .npy file (${source.size} bytes, missing the \\x93NUMPY magic)`, file);
    throw new MatrixError('truncated .npy preamble', file);
  }
  await source.readInto(pre, 0);
  const { version, headerStart, headerLength } = npyPreamble(pre, file);
  if (headerLength > MAX_HEADER_SIZE) {
    throw new MatrixError(`.npy header is ${headerLength} bytes, over numpy's limit of ${MAX_HEADER_SIZE}`, file);
  }
  const dataOffset = headerStart + headerLength;
  if (dataOffset > source.size) throw new MatrixError(`truncated .npy header (needs ${dataOffset} bytes, file has ${source.size})`, file);
  const hb = new Uint8Array(headerLength);
  await source.readInto(hb, headerStart);
  const text = version === '3.0' ? new TextDecoder('utf-8', { fatal: false }).decode(hb) : latin1(hb);
  const { info, spec, descr } = parseNpyHeaderText(text, file);
  const available = source.size - dataOffset;
  if (info.byteLength > available) {
    throw new MatrixError(
      `truncated .npy data: shape ${shapeText(info.shape)} of ${info.dtype} needs ${info.byteLength} bytes but the file holds ${available}`,
      file,
    );
  }
  return { info, version, dataOffset, itemsize: spec.itemsize, littleEndian: spec.littleEndian, descr };
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Data

export function allocTyped(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'float16':
    case 'bfloat16':
    case 'float8_e4m3fn':
    case 'float8_e5m2':
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'int8': return new Int8Array(n);
    case 'int16': return new Int16Array(n);
    case 'int32': return new Int32Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'uint8': return new Uint8Array(n);
    case 'uint16': return new Uint16Array(n);
    case 'uint32': return new Uint32Array(n);
    case 'uint64': return new BigUint64Array(n);
    case 'bool': return new Uint8Array(n);
  }
}

/** Bytes an array of `count` elements takes in memory once read (float16 widens to float32). */
export function memoryBytes(dtype: DType, count: number): number {
  return count * itemsizeOf(dtype === 'float16' ? 'float32' : dtype);
}

/** Reads `count` elements at element offset `start` of the data into a new owning typed array. */
async function readElements(source: ByteSource, h: NpyHeader, start: number, count: number): Promise<TypedArray> {
  const position = h.dataOffset + start * h.itemsize;
  const swap = h.itemsize > 1 && h.littleEndian !== HOST_LITTLE_ENDIAN;
  const dtype = h.info.dtype;
  if (dtype === 'float16' || dtype === 'bfloat16') {
    const bits = new Uint16Array(count);
    await source.readInto(new Uint8Array(bits.buffer), position);
    if (swap) Buffer.from(bits.buffer).swap16();
    return dtype === 'float16' ? decodeFloat16(bits) : decodeBFloat16(bits);
  }
  if (dtype === 'float8_e4m3fn' || dtype === 'float8_e5m2') {
    const bytes = new Uint8Array(count);
    await source.readInto(bytes, position);
    return decodeFloat8(bytes, dtype);
  }
  if (isStringDType(dtype)) throw new MatrixError(`holds strings (${dtype}), not numbers`, '');
  const out = allocTyped(dtype, count);
  const bytes = new Uint8Array(out.buffer);
  await source.readInto(bytes, position);
  if (swap) {
    const b = Buffer.from(out.buffer);
    if (h.itemsize === 2) b.swap16();
    else if (h.itemsize === 4) b.swap32();
    else b.swap64();
  }
  if (h.info.dtype === 'bool') for (let i = 0; i < bytes.length; i++) bytes[i] = bytes[i] ? 1 : 0;
  return out;
}

/** Validates leading indices (negative ones count from the end, as in NumPy) and returns them non-negative. */
export function normalizeIndex(shape: readonly number[], index: readonly number[], file: string): number[] {
  if (index.length > shape.length) {
    throw new MatrixError(`too many indices: ${index.length} for an array of shape ${shapeText(shape)}`, file);
  }
  return index.map((i, axis) => {
    const n = shape[axis];
    if (!Number.isInteger(i) || i < -n || i >= n) {
      throw new MatrixError(`index ${i} is out of range for axis ${axis} of size ${n} (shape ${shapeText(shape)})`, file);
    }
    return i < 0 ? i + n : i;
  });
}

/** Reorders Fortran-order elements into C order. */
export function fortranToC(src: TypedArray, shape: readonly number[]): TypedArray {
  const d = shape.length;
  if (d <= 1) return src;
  const n = src.length;
  const out = allocLike(src, n);
  const fstride: number[] = new Array(d);
  let s = 1;
  for (let a = 0; a < d; a++) { fstride[a] = s; s *= shape[a]; }
  const idx = new Array<number>(d).fill(0);
  const o = out as unknown as { [i: number]: number | bigint };
  const r = src as unknown as { [i: number]: number | bigint };
  let j = 0;
  for (let i = 0; i < n; i++) {
    o[i] = r[j];
    // C-order odometer: the last axis moves fastest.
    for (let a = d - 1; a >= 0; a--) {
      idx[a]++;
      j += fstride[a];
      if (idx[a] < shape[a]) break;
      j -= fstride[a] * shape[a];
      idx[a] = 0;
    }
  }
  return out;
}

export function allocLike(src: TypedArray, n: number): TypedArray {
  const Ctor = src.constructor as new (n: number) => TypedArray;
  return new Ctor(n);
}

export interface ReadOptions { maxBytes?: number }

/**
 * Reads the sub-array at leading `index` (C order, owning its buffer). Sizes are checked against what the source
 * holds and against maxBytes before anything is allocated.
 */
export async function readNpyData(source: ByteSource, h: NpyHeader, file: string, index: readonly number[] = [], opts: ReadOptions = {}): Promise<NdArray> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const { shape, dtype: anyDtype, fortranOrder } = h.info;
  if (isStringDType(anyDtype)) {
    throw new MatrixError(`holds strings (${anyDtype}, e.g. tokens), not numbers: it labels a heatmap's axes and cannot be drawn as one`, file);
  }
  const dtype: DType = anyDtype;
  const idx = normalizeIndex(shape, index, file);
  const subShape = shape.slice(idx.length);
  const count = product(subShape);
  if (memoryBytes(dtype, count) > maxBytes) {
    throw new MatrixError(
      `${idx.length ? `slice [${idx.join(', ')}]` : 'array'} of shape ${shapeText(subShape)} (${dtype}) needs ${memoryBytes(dtype, count)} bytes, over the limit of ${maxBytes}; select a sub-array with leading indices`,
      file,
    );
  }
  if (!fortranOrder || shape.length <= 1) {
    let start = 0;
    let stride = count;
    for (let a = idx.length - 1; a >= 0; a--) { start += idx[a] * stride; stride *= shape[a]; }
    return { shape: subShape, dtype, data: await readElements(source, h, start, count) };
  }
  // Fortran order: a leading-index slice is strided across the file; read it all (bounded) and reorder.
  const total = product(shape);
  if (memoryBytes(dtype, total) > maxBytes) {
    throw new MatrixError(
      `Fortran-order array of shape ${shapeText(shape)} is too large (${memoryBytes(dtype, total)} bytes, limit ${maxBytes}) to read a slice from; save it in C order (np.ascontiguousarray)`,
      file,
    );
  }
  const all = fortranToC(await readElements(source, h, 0, total), shape);
  if (idx.length === 0) return { shape: subShape, dtype, data: all };
  let start = 0;
  let stride = count;
  for (let a = idx.length - 1; a >= 0; a--) { start += idx[a] * stride; stride *= shape[a]; }
  return { shape: subShape, dtype, data: all.slice(start, start + count) };
}

/** A ByteSource over bytes already in memory (a decompressed .npz member, a test buffer). */
export class BufferSource implements ByteSource {
  constructor(private readonly bytes: Uint8Array, private readonly file: string) {}
  get size(): number { return this.bytes.length; }
  async readInto(target: Uint8Array, position: number): Promise<void> {
    if (position < 0 || position + target.length > this.bytes.length) {
      throw new MatrixError(`unexpected end of data at byte ${this.bytes.length}`, this.file);
    }
    target.set(this.bytes.subarray(position, position + target.length));
  }
}

/** Parses a whole .npy held in memory. */
export async function parseNpy(bytes: Uint8Array, file = '<buffer>', index: readonly number[] = [], opts: ReadOptions = {}): Promise<NdArray> {
  const src = new BufferSource(bytes, file);
  const h = await readNpyHeader(src, file);
  return readNpyData(src, h, file, index, opts);
}
