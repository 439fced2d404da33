/**
 * safetensors (huggingface/safetensors): an 8-byte little-endian header length, a UTF-8 JSON header
 * {"NAME": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {string: string}},
 * then the tensors' bytes, little-endian and C order. The header is validated as the reference reader does
 * (safetensors/src/tensor.rs: read_metadata and Metadata::validate) before anything else is read or allocated;
 * each tensor then becomes an NpyHeader-shaped view, so the .npy reader's lazy positional reads serve it.
 */
import { MatrixError, product } from './ndarray';
import type { DType } from './ndarray';
import type { ArrayInfo, ByteSource, NpyHeader } from './npy';

/** The reference reader refuses longer headers (MAX_HEADER_SIZE). */
export const SAFETENSORS_MAX_HEADER = 100_000_000;

/** safetensors dtype → our dtype and the bytes per element in the file. */
export const SAFETENSORS_DTYPES: Readonly<Record<string, { dtype: DType; size: number }>> = {
  F64: { dtype: 'float64', size: 8 }, F32: { dtype: 'float32', size: 4 }, F16: { dtype: 'float16', size: 2 },
  BF16: { dtype: 'bfloat16', size: 2 }, I64: { dtype: 'int64', size: 8 }, I32: { dtype: 'int32', size: 4 },
  I16: { dtype: 'int16', size: 2 }, I8: { dtype: 'int8', size: 1 }, U64: { dtype: 'uint64', size: 8 },
  U32: { dtype: 'uint32', size: 4 }, U16: { dtype: 'uint16', size: 2 }, U8: { dtype: 'uint8', size: 1 },
  BOOL: { dtype: 'bool', size: 1 }, F8_E4M3: { dtype: 'float8_e4m3fn', size: 1 }, F8_E5M2: { dtype: 'float8_e5m2', size: 1 },
};

export interface SafetensorsTensor {
  name: string;
  /** As the file spells it: 'BF16'. */
  stDtype: string;
  dtype: DType;
  shape: number[];
  itemsize: number;
  /** Offsets into the data buffer (after the header), as data_offsets says. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  headerLength: number;
  /** File offset of the data buffer: 8 + headerLength. */
  dataStart: number;
  /** In file order (by offset). */
  tensors: SafetensorsTensor[];
  metadata?: Record<string, string>;
}

function invalid(rule: string, file: string): MatrixError {
  return new MatrixError(`invalid safetensors file: ${rule}`, file);
}

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

function parseTensor(name: string, v: unknown, file: string): SafetensorsTensor {
  const t = `tensor "${name}"`;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`${t} is not an object with dtype, shape and data_offsets`, file);
  const o = v as Record<string, unknown>;
  if (typeof o.dtype !== 'string') throw invalid(`${t} has no dtype string`, file);
  const spec = SAFETENSORS_DTYPES[o.dtype];
  if (!spec) {
    throw new MatrixError(`unsupported safetensors dtype '${o.dtype.slice(0, 40)}' in ${t} (${Object.keys(SAFETENSORS_DTYPES).join(', ')} are supported)`, file);
  }
  if (!Array.isArray(o.shape) || !o.shape.every(isCount)) throw invalid(`${t} has shape ${JSON.stringify(o.shape)?.slice(0, 80)}, not a list of non-negative integers`, file);
  const off = o.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !off.every(isCount)) {
    throw invalid(`${t} has data_offsets ${JSON.stringify(off)?.slice(0, 80)}, not a pair [begin, end] of non-negative integers`, file);
  }
  return { name, stDtype: o.dtype, dtype: spec.dtype, shape: [...o.shape] as number[], itemsize: spec.size, begin: off[0] as number, end: off[1] as number };
}

/** Reads and validates the header; the data buffer must then end exactly at the end of the file. */
export async function readSafetensorsHeader(source: ByteSource, file: string): Promise<SafetensorsHeader> {
  if (source.size < 8) throw invalid(`${source.size} bytes is too small for the 8-byte header length`, file);
  const pre = new Uint8Array(8);
  await source.readInto(pre, 0);
  const dv = new DataView(pre.buffer);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  if (hi !== 0 || lo > SAFETENSORS_MAX_HEADER) {
    const claimed = hi === 0 ? String(lo) : (BigInt(hi) * 2n ** 32n + BigInt(lo)).toString();
    throw invalid(`header length ${claimed} is over the limit of ${SAFETENSORS_MAX_HEADER} bytes`, file);
  }
  const n = lo;
  if (8 + n > source.size) throw invalid(`header length ${n} runs past the end of the ${source.size}-byte file`, file);
  const hb = new Uint8Array(n);
  await source.readInto(hb, 8);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(hb);
  } catch {
    throw invalid('the header is not valid UTF-8', file);
  }
  if (!text.startsWith('{')) throw invalid('the header does not start with "{"', file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw invalid(`the header is not JSON (${e instanceof Error ? e.message.slice(0, 120) : 'parse error'})`, file);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('the header is not a JSON object', file);
  let metadata: Record<string, string> | undefined;
  const tensors: SafetensorsTensor[] = [];
  for (const [name, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v === null) continue;
      if (typeof v !== 'object' || Array.isArray(v)) throw invalid('__metadata__ is not a map of strings to strings', file);
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (typeof x !== 'string') throw invalid(`__metadata__ entry "${k}" is ${x === null ? 'null' : typeof x}, not a string (it must map strings to strings)`, file);
      }
      metadata = v as Record<string, string>;
      continue;
    }
    tensors.push(parseTensor(name, v, file));
  }
  // As the reference reader: order by offsets, then the buffer must be covered exactly once, from 0.
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const t of tensors) {
    const what = `tensor "${t.name}" (data_offsets [${t.begin}, ${t.end}])`;
    if (t.end < t.begin) throw invalid(`${what} ends before it begins`, file);
    if (t.begin !== at) {
      throw invalid(at === 0 ? `${what}: the first tensor must start at offset 0`
        : `${what} starts at ${t.begin} but the previous tensor ends at ${at} (${t.begin > at ? 'a hole' : 'an overlap'}; tensors must be contiguous)`, file);
    }
    const count = product(t.shape);
    const bytes = count * t.itemsize;
    if (!Number.isSafeInteger(count) || !Number.isSafeInteger(bytes)) throw invalid(`${what}: shape [${t.shape.join(', ')}] overflows`, file);
    if (t.end - t.begin !== bytes) {
      throw invalid(`${what} holds ${t.end - t.begin} bytes but shape [${t.shape.join(', ')}] of ${t.stDtype} needs ${bytes}`, file);
    }
    at = t.end;
  }
  const dataStart = 8 + n;
  if (dataStart + at !== source.size) {
    throw invalid(`the tensors end at byte ${dataStart + at} but the file has ${source.size} bytes (the last tensor must end exactly at the end of the file)`, file);
  }
  return { headerLength: n, dataStart, tensors, metadata };
}

/** The tensor named `name`; a message listing the names when there is none. */
export function findTensor(h: SafetensorsHeader, name: string, file: string): SafetensorsTensor {
  const t = h.tensors.find((x) => x.name === name);
  if (!t) {
    const names = h.tensors.map((x) => x.name);
    throw new MatrixError(`no tensor "${name}" (tensors: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''})`, file);
  }
  return t;
}

export function tensorInfo(t: SafetensorsTensor): ArrayInfo {
  return { shape: t.shape, dtype: t.dtype, fortranOrder: false, byteLength: t.end - t.begin };
}

/** One tensor as the .npy reader sees an array: little-endian, C order, at its place in the file. */
export function tensorHeader(h: SafetensorsHeader, t: SafetensorsTensor): NpyHeader {
  return {
    info: tensorInfo(t),
    version: 'safetensors',
    dataOffset: h.dataStart + t.begin,
    itemsize: t.itemsize,
    littleEndian: true,
    descr: t.stDtype,
  };
}
