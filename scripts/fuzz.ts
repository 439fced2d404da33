/**
 * Fuzzing the matrix-file readers: mutated and truncated copies of the NumPy-made fixtures (bit flips, truncations,
 * header edits, inflated shape claims, string dtypes, damaged zip directories, zip-bomb members, deep JSON nesting,
 * safetensors headers with broken lengths, offsets, shapes, dtypes and metadata) must each either
 * parse or throw a MatrixError, within a time bound. test/unit/fuzz.test.ts runs a short seeded round of it;
 * `npm run fuzz -- [seed] [iterations]` runs a longer one and saves crashers to test/fixtures/files/regressions/.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { MatrixError, product } from '../src/core/ndarray';
import type { NdArray, StringArray } from '../src/core/ndarray';
import { tokenLabels } from '../src/core/tokens';
import { listMembers, openMatrix } from '../src/core/matrixFile';
import { scanJson } from '../src/core/jsonMatrix';
import { loadSpec } from '../src/core/jsonSpec';

export type Ext = '.npy' | '.npz' | '.json' | '.safetensors';
const EXTS: readonly string[] = ['.npy', '.npz', '.json', '.safetensors'];
export interface CorpusFile { name: string; ext: Ext; bytes: Uint8Array }
export type Outcome = { outcome: 'parsed' | 'refused'; ms: number } | { outcome: 'failed'; ms: number; problem: string };

export interface FuzzOptions {
  seed: number;
  iterations: number;
  /** Each input must be decided within this many milliseconds (default 200). */
  timeLimitMs?: number;
  corpus?: CorpusFile[];
  /** Where mutated files are written while being checked (default: a new temporary directory, removed after). */
  workDir?: string;
  /** Where failing inputs are saved (default: not saved). */
  crashDir?: string;
  log?: (line: string) => void;
}

export interface FuzzFailure { iteration: number; mutation: string; source: string; problem: string; saved?: string }
export interface FuzzReport {
  runs: number; parsed: number; refused: number; slowestMs: number;
  byMutation: Record<string, number>; failures: FuzzFailure[];
}

/**
 * The time bound holds on an idle machine; on a busy shared one (load average above the core count) it is
 * stretched by the load per core, so a hang or a seconds-long parse still fails but a descheduled run does not.
 */
export function scaledLimit(ms: number): number {
  return ms * Math.max(1, os.loadavg()[0] / Math.max(1, os.cpus().length));
}

/** Reads cap for fuzzed files: claims are checked before allocating, but a valid small claim must stay small. */
const FUZZ_MAX_BYTES = 64 << 20;

export const FIXTURE_DIR = [path.resolve(__dirname, '../test/fixtures/files'), path.resolve(__dirname, '../../test/fixtures/files')]
  .find((d) => fs.existsSync(path.join(d, 'expected.json'))) ?? path.resolve('test/fixtures/files');

/** Where `npm run fuzz` saves crashers; the unit round replays every one. */
export const REGRESSION_DIR = path.join(FIXTURE_DIR, 'regressions');

/**
 * The saved regression inputs. A missing or empty folder is an error, not "nothing to check": a moved or
 * deleted folder must fail the regression test, never let it pass on no input.
 */
export function regressionFiles(dir = REGRESSION_DIR): string[] {
  if (!fs.existsSync(dir)) throw new Error(`the fuzz regressions folder ${dir} is missing`);
  const files = fs.readdirSync(dir).filter((n) => /\.(npy|npz|json|safetensors)$/.test(n)).sort();
  if (files.length === 0) throw new Error(`the fuzz regressions folder ${dir} holds no .npy, .npz, .json or .safetensors file`);
  return files.map((n) => path.join(dir, n));
}

/** String arrays, token bundles and safetensors files (test/fixtures/formats). */
export const FORMATS_DIR = path.resolve(FIXTURE_DIR, '../formats');

/**
 * The fixture files (and saved regressions) the mutations start from, the formats fixtures with the files ones;
 * every folder must be there.
 */
export function loadCorpus(dir = FIXTURE_DIR, withRegressions = true): CorpusFile[] {
  const out: CorpusFile[] = [];
  const subs = withRegressions ? ['', 'bad', 'regressions'] : ['', 'bad'];
  const dirs = subs.map((sub) => [path.join(dir, sub), sub] as const);
  if (dir === FIXTURE_DIR) dirs.push([FORMATS_DIR, 'formats'], [path.join(FORMATS_DIR, 'bad'), path.join('formats', 'bad')]);
  for (const [d, sub] of dirs) {
    if (!fs.existsSync(d)) throw new Error(`the fuzz corpus folder ${d} is missing`);
    for (const name of fs.readdirSync(d).sort()) {
      const ext = path.extname(name) as Ext;
      if (!EXTS.includes(ext) || name === 'expected.json') continue;
      const full = path.join(d, name);
      if (fs.statSync(full).size > 256 * 1024) continue; // the float16 tables: big, and nothing new to mutate
      out.push({ name: path.join(sub, name), ext, bytes: new Uint8Array(fs.readFileSync(full)) });
    }
  }
  return out;
}

/** mulberry32: small, seeded, reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)];

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const fromLatin1 = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** Replaces the .npy header text, keeping the declared header length so the data stays where it was. */
function editNpyHeader(b: Uint8Array, edit: (h: string) => string): Uint8Array {
  if (b.length < 12 || b[0] !== 0x93) return b;
  const v1 = b[6] === 1;
  const start = v1 ? 10 : 12;
  const len = v1 ? b[8] | (b[9] << 8) : Buffer.from(b).readUInt32LE(8);
  if (start + len > b.length) return b;
  let h = edit(latin1(b.subarray(start, start + len)).trimEnd());
  h = h.length + 1 <= len ? h.padEnd(len - 1, ' ') + '\n' : h.slice(0, len);
  const out = new Uint8Array(b);
  out.set(fromLatin1(h), start);
  return out;
}

const HUGE_SHAPES = ['(2147483648, 2147483648)', '(1000000, 1000000)', '(4294967297,)', '(99999999999999999999,)', '(-1, 3)',
  '(0,)', '()', '(3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33)', '(1e3,)', '[3, 4]', "('3',)", '(3, None)'];
const DESCRS = ["'<U5'", "'>U2'", "'|S3'", "'|S0'", "'<U0'", "'<U1000000000'", "'|S99999999999'", "'|U4'", "'|O'", "'<c8'", "'<f16'", "'>f2'", "'|b1'", "'<U4'", "'x'", "'<i8'", "'>u8'", "[('a', '<f4')]", "'<f4", 'None', "'|V8'", "'=f8'", "'<M8[s]'"];

function npyHeaderMutation(r: Rand, b: Uint8Array): [string, Uint8Array] {
  switch (int(r, 7)) {
    case 0: return ['shape-claim', editNpyHeader(b, (h) => h.replace(/'shape': \([^)]*\)/, `'shape': ${pick(r, HUGE_SHAPES)}`))];
    case 1: return ['descr', editNpyHeader(b, (h) => h.replace(/'descr': ('[^']*'|\[.*\])/, `'descr': ${pick(r, DESCRS)}`))];
    case 2: return ['fortran', editNpyHeader(b, (h) => h.replace(/'fortran_order': \w+/, `'fortran_order': ${pick(r, ['True', 'False', '1', 'None', "'no'", '__import__'])}`))];
    case 3: return ['keys', editNpyHeader(b, (h) => pick(r, [h.replace(/'descr': '[^']*', /, ''), h.replace('}', "'x': 1, }"), h.replace('{', '{{'), h.replace(/'/g, '"'), h.replace('}', ''), h + ' junk']))];
    case 4: {
      const out = new Uint8Array(b);
      if (out.length > 11) for (let i = 8; i < 12; i++) out[i] = pick(r, [0, 0xff, 0x7f, 0x80, int(r, 256)]);
      return ['header-length', out];
    }
    case 5: {
      const out = new Uint8Array(b);
      if (out.length > 8) { out[6] = pick(r, [0, 1, 2, 3, 4, 255]); out[7] = pick(r, [0, 0, 1]); }
      return ['version', out];
    }
    default: return ['header-garbage', editNpyHeader(b, (h) => {
      const i = int(r, h.length + 1);
      return h.slice(0, i) + pick(r, ['(', ')', "'", '{', ',', ':', '\\', '-', '99999999999999999999', '#', '\x00', '\u00e9']) + h.slice(i);
    })];
  }
}

/** Finds central-directory entries and rewrites one of their fields. */
function zipMutation(r: Rand, b: Uint8Array): [string, Uint8Array] {
  const out = Buffer.from(b);
  const cds: number[] = [];
  for (let i = 0; i + 46 <= out.length; i++) if (out.readUInt32LE(i) === 0x02014b50) cds.push(i);
  const eocd = out.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const choice = int(r, 6);
  if (choice === 0 && cds.length) {
    const at = pick(r, cds);
    out.writeUInt32LE(pick(r, [0, 1, 100, 0xffffffff, 0x7fffffff, int(r, 1 << 20)]), at + 24);
    return ['zip-uncompressed-size', new Uint8Array(out)];
  }
  if (choice === 1 && cds.length) {
    const at = pick(r, cds);
    out.writeUInt32LE(pick(r, [0, 0xffffffff, out.length, out.length - 10, int(r, out.length)]), at + pick(r, [20, 42]));
    return ['zip-size-or-offset', new Uint8Array(out)];
  }
  if (choice === 2 && cds.length) {
    const at = pick(r, cds);
    out.writeUInt16LE(pick(r, [0, 8, 12, 14, 99, 1]), at + pick(r, [10, 8]));
    return ['zip-method-flags', new Uint8Array(out)];
  }
  if (choice === 3 && eocd >= 0 && eocd + 22 <= out.length) {
    out.writeUInt16LE(pick(r, [0, 1, 0xffff, 500]), eocd + 10);
    out.writeUInt32LE(pick(r, [0, 0xffffffff, out.length, int(r, out.length)]), eocd + pick(r, [12, 16]));
    return ['zip-end-record', new Uint8Array(out)];
  }
  if (choice === 4 && cds.length) {
    const at = pick(r, cds);
    out.writeUInt16LE(pick(r, [0, 0xffff, 200, 4]), at + pick(r, [28, 30, 32]));
    return ['zip-lengths', new Uint8Array(out)];
  }
  return ['zip-bomb', zipBomb(r)];
}

const bombs = new Map<string, { length: number; payload: Buffer }>();

/** A deflated .npy member of zeros whose declared sizes lie (small, huge, or honest but large). */
export function zipBomb(r: Rand): Uint8Array {
  const n = pick(r, [16, 1000, 1 << 17]);
  const claim = pick(r, [n, 2, n * 4, 1e9]);
  const padding = pick(r, [0, 256 << 10, 2 << 20]); // zeros past the claimed data: up to 2 MB inflating from ~2 KB
  const key = `${n}/${claim}/${padding}`;
  let cached = bombs.get(key);
  if (!cached) {
    const dict = `{'descr': '<f8', 'fortran_order': False, 'shape': (${claim},), }`;
    const header = Buffer.from(dict.padEnd(128 - 11, ' ') + '\n', 'latin1');
    const body = Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length, 0]), header, Buffer.alloc(n * 8 + padding)]);
    cached = { length: body.length, payload: zlib.deflateRawSync(body) };
    bombs.set(key, cached);
  }
  const declared = pick(r, [cached.length, 256, 100, 0xffffffff, cached.length - 1]);
  return new Uint8Array(zipOne('a.npy', cached.payload, 8, declared));
}

/** A one-member zip with the given method, declared sizes and payload, for bombs and damaged archives. */
export function zipOne(name: string, payload: Buffer, method: 0 | 8, declared: number, compressedDeclared = payload.length): Buffer {
  const n = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(method, 8);
  local.writeUInt32LE(compressedDeclared, 18);
  local.writeUInt32LE(declared, 22);
  local.writeUInt16LE(n.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(method, 10);
  central.writeUInt32LE(compressedDeclared, 20);
  central.writeUInt32LE(declared, 24);
  central.writeUInt16LE(n.length, 28);
  const cdOffset = 30 + n.length + payload.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + n.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, n, payload, central, n, end]);
}

const ST_DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL', 'F8_E4M3', 'F8_E5M2', 'F4', 'C64', '', 'bf16'];
const ST_NUMBERS = [0, 1, -1, 8, 16, 2 ** 31, 2 ** 32 + 1, 2 ** 53, 2 ** 64, 1e300, 0.5, -0, 4096];

/** Rewrites a safetensors header (its JSON and, unless the mutation is of the length itself, a consistent length). */
function safetensorsMutation(r: Rand, b: Uint8Array): [string, Uint8Array] {
  if (b.length < 8) return ['st-short', b];
  const buf = Buffer.from(b);
  const n = Number(buf.readBigUInt64LE(0));
  if (n > b.length - 8) return ['st-short', b];
  const data = buf.subarray(8 + n);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return ['st-short', b];
  } catch {
    return ['st-short', b];
  }
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const tensor = (): Record<string, unknown> | undefined => {
    const v = names.length ? header[pick(r, names)] : undefined;
    return typeof v === 'object' && v !== null ? v as Record<string, unknown> : undefined;
  };
  const write = (h: unknown, length?: number): Uint8Array => {
    const text = Buffer.from(typeof h === 'string' ? h : JSON.stringify(h));
    const pre = Buffer.alloc(8);
    pre.writeBigUInt64LE(BigInt(length ?? text.length));
    return new Uint8Array(Buffer.concat([pre, text, data]));
  };
  switch (int(r, 7)) {
    case 0: {
      const out = new Uint8Array(b);
      const len = pick(r, [0, 1, 7, n - 1, n + 1, b.length, 100_000_001, 2 ** 32, 2 ** 53]);
      Buffer.from(out.buffer).writeBigUInt64LE(BigInt(len), 0);
      if (int(r, 4) === 0) Buffer.from(out.buffer).writeUInt32LE(0xffffffff, 4);
      return ['st-header-length', out];
    }
    case 1: {
      const t = tensor();
      if (t) t.data_offsets = pick(r, [[pick(r, ST_NUMBERS), pick(r, ST_NUMBERS)], [0], [0, 8, 16], '0,8', null, [-8, 8], [8, 0]]);
      return ['st-offsets', write(header)];
    }
    case 2: {
      const t = tensor();
      if (t) t.shape = pick(r, [[pick(r, ST_NUMBERS)], [pick(r, ST_NUMBERS), pick(r, ST_NUMBERS)], [], '3', null, [[2]], Array(40).fill(2)]);
      return ['st-shape', write(header)];
    }
    case 3: {
      const t = tensor();
      if (t) t.dtype = pick(r, [...ST_DTYPES, 5, null]);
      return ['st-dtype', write(header)];
    }
    case 4: {
      header.__metadata__ = pick(r, [
        { tokens: '["a", "b"]' }, { tokens: '[1, 2]' }, { tokens: 'not json' }, { tokens: 3 }, { query_tokens: '["x"]', key_tokens: '{}' },
        [], 'x', null, { a: { b: 'c' } }, { tokens: JSON.stringify(Array(5000).fill('Ġtok')) },
      ]);
      return ['st-metadata', write(header)];
    }
    case 5: {
      const text = JSON.stringify(header);
      const at = int(r, text.length + 1);
      return ['st-header-garbage', write(text.slice(0, at) + pick(r, ['{', '}', '"', ',', ':', '[', '\\', '\u0000', '\ud800', '\uffff', ' ', '1e999']) + text.slice(at))];
    }
    default: {
      const json = JSON.stringify(header);
      return ['st-header-encoding', write(pick(r, [` ${json}`, `${json}${'\u0000'.repeat(3)}`, Buffer.from(json).toString('latin1') + '\u00ff', `[${json}]`, '{}', '']))];
    }
  }
}

function jsonMutation(r: Rand, b: Uint8Array): [string, Uint8Array] {
  const text = Buffer.from(b).toString('utf8');
  const at = int(r, text.length + 1);
  switch (int(r, 6)) {
    case 0: {
      const d = pick(r, [300, 5000, 100000]);
      const open = pick(r, ['[', '{"Q": ', '{"a": [']);
      return ['json-deep', Buffer.from(text.slice(0, at) + open.repeat(d) + '1' + text.slice(at))];
    }
    case 1: return ['json-token', Buffer.from(text.slice(0, at) + pick(r, [',', ']', '[', '}', '{', '"', ':', 'null', '"x"', '1e999', '-', 'NaN', '-Infinity', '\\u12', '\u0000', '\ud800', '01', '1.', 'tru']) + text.slice(at))];
    case 2: return ['json-delete', Buffer.from(text.slice(0, at) + text.slice(at + 1 + int(r, 20)))];
    case 3: return ['json-number-swap', Buffer.from(text.replace(/-?\d+(\.\d+)?/, pick(r, ['"7"', '[]', '[1]', '{}', 'true', '1e400', '-0', '123456789012345678901234567890'])))];
    case 4: return ['json-key', Buffer.from(text.replace(/"(Q|K|V|X|q|description|scale|heads|mask|keyLabels)"/, `"${pick(r, ['Q', 'K', 'V', 'weights', 'attention', 'mask', 'heads', 'scale', 'Wq', 'Wo', 'bogus'])}"`))];
    default: return ['json-splice', Buffer.from(text.slice(0, at) + text.slice(int(r, text.length)))];
  }
}

/** One mutated input from a corpus file. */
export function mutate(r: Rand, src: CorpusFile, corpus: readonly CorpusFile[]): { mutation: string; bytes: Uint8Array; ext: Ext } {
  const b = src.bytes;
  const kind = int(r, 10);
  if (kind === 0 || b.length === 0) {
    const out = new Uint8Array(b);
    const flips = 1 + int(r, 8);
    for (let i = 0; i < flips && out.length; i++) out[int(r, out.length)] ^= 1 << int(r, 8);
    return { mutation: 'bit-flip', bytes: out, ext: src.ext };
  }
  if (kind === 1) return { mutation: 'truncate', bytes: b.slice(0, int(r, b.length)), ext: src.ext };
  if (kind === 2) {
    const out = new Uint8Array(b);
    for (let i = 0; i < 1 + int(r, 4) && out.length; i++) out[int(r, Math.min(out.length, 200))] = pick(r, [0, 0xff, 0x7f, 0x80, 0x30, 0x28]);
    return { mutation: 'header-bytes', bytes: out, ext: src.ext };
  }
  if (kind === 3) {
    const other = pick(r, corpus).bytes;
    const cut = int(r, b.length + 1);
    return { mutation: 'splice', bytes: new Uint8Array(Buffer.concat([b.subarray(0, cut), other.subarray(int(r, other.length + 1))])), ext: src.ext };
  }
  if (kind === 4) return { mutation: 'append', bytes: new Uint8Array(Buffer.concat([b, Buffer.alloc(int(r, 64), int(r, 256))])), ext: src.ext };
  if (src.ext === '.npy') { const [m, out] = npyHeaderMutation(r, b); return { mutation: m, bytes: out, ext: '.npy' }; }
  if (src.ext === '.npz') { const [m, out] = zipMutation(r, b); return { mutation: m, bytes: out, ext: '.npz' }; }
  if (src.ext === '.safetensors') { const [m, out] = safetensorsMutation(r, b); return { mutation: m, bytes: out, ext: '.safetensors' }; }
  const [m, out] = jsonMutation(r, b);
  return { mutation: m, bytes: out, ext: '.json' };
}

function checkArray(a: NdArray | StringArray, what: string): void {
  if ('strings' in a) {
    if (a.strings.length !== product(a.shape) || !a.strings.every((s) => typeof s === 'string')) throw new Error(`${what}: ${a.strings.length} strings for shape [${a.shape}]`);
    return;
  }
  if (a.data.length !== product(a.shape)) throw new Error(`${what}: ${a.data.length} elements for shape [${a.shape}]`);
  if (a.data.byteOffset !== 0 || a.data.buffer.byteLength !== a.data.byteLength) throw new Error(`${what}: array does not own its buffer`);
}

/** Everything a user can do with a file, each step allowed to refuse it with a MatrixError only. */
async function exercise(file: string, ext: Ext, bytes: Uint8Array): Promise<'parsed' | 'refused'> {
  let refused = false;
  const step = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      if (!(e instanceof MatrixError)) throw e;
      if (!e.message.includes(path.basename(file))) throw new Error(`MatrixError does not name the file: ${e.message}`);
      refused = true;
    }
  };
  const opts = { maxBytes: FUZZ_MAX_BYTES, maxJsonBytes: 8 << 20 };
  if (ext === '.json') {
    const text = Buffer.from(bytes).toString('utf8');
    const scan = scanJson(text, file); // never throws: problems come back in scan.errors
    for (const e of scan.errors) if (!(e instanceof MatrixError) || !e.location) throw new Error(`scanJson error without a location: ${e.message}`);
    await step(async () => { await loadSpec(text, file); });
  }
  await step(async () => {
    const members = await listMembers(file, opts);
    for (const m of members.slice(0, 8)) {
      await step(async () => {
        const h = await openMatrix(m.name ? `${file}#${m.name}` : file, opts);
        try {
          checkArray(await h.readAny(), m.name);
          if (h.info.shape.length > 0 && h.info.shape[0] > 0) checkArray(await h.readAny([h.info.shape[0] - 1]), `${m.name}[-1]`);
        } finally {
          await h.close();
        }
      });
    }
  });
  await step(async () => {
    const h = await openMatrix(file, opts);
    try { checkArray(await h.read(), 'whole'); } finally { await h.close(); }
  });
  if (ext === '.npz' || ext === '.safetensors') {
    await step(async () => {
      const t = await tokenLabels(file, { queries: 5, keys: 5 });
      for (const labels of [t.queryLabels, t.keyLabels]) if (labels && !labels.every((s) => typeof s === 'string')) throw new Error('token labels that are not strings');
    });
  }
  return refused ? 'refused' : 'parsed';
}

/** Writes `bytes` to a file in `dir` and exercises it; outcome 'failed' for anything but a clean parse or MatrixError. */
export async function checkInput(bytes: Uint8Array, ext: Ext, dir: string, timeLimitMs = 200, name = 'input'): Promise<Outcome> {
  const file = path.join(dir, `${name}${ext}`);
  fs.writeFileSync(file, bytes);
  const first = await timed(file, ext, bytes, scaledLimit(timeLimitMs));
  // A slow run on a busy machine (GC, other processes) is timed again before it counts against the input.
  return first.outcome === 'failed' && first.problem.startsWith('took ') ? timed(file, ext, bytes, scaledLimit(timeLimitMs)) : first;
}

async function timed(file: string, ext: Ext, bytes: Uint8Array, timeLimitMs: number): Promise<Outcome> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const hang = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer after ${timeLimitMs * 20} ms`)), timeLimitMs * 20); });
    const outcome = await Promise.race([exercise(file, ext, bytes), hang]);
    const ms = performance.now() - t0;
    if (ms > timeLimitMs) return { outcome: 'failed', ms, problem: `took ${ms.toFixed(0)} ms (limit ${timeLimitMs.toFixed(0)} ms at this load)` };
    return { outcome, ms };
  } catch (e) {
    return { outcome: 'failed', ms: performance.now() - t0, problem: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  } finally {
    clearTimeout(timer);
  }
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const r = rng(opts.seed);
  const corpus = opts.corpus ?? loadCorpus();
  const limit = opts.timeLimitMs ?? 200;
  const work = opts.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'attn-fuzz-'));
  const report: FuzzReport = { runs: 0, parsed: 0, refused: 0, slowestMs: 0, byMutation: {}, failures: [] };
  try {
    for (let i = 0; i < opts.iterations; i++) {
      const src = pick(r, corpus);
      const { mutation, bytes, ext } = mutate(r, src, corpus);
      const res = await checkInput(bytes, ext, work, limit, `i${i}`);
      report.runs++;
      report.byMutation[mutation] = (report.byMutation[mutation] ?? 0) + 1;
      report.slowestMs = Math.max(report.slowestMs, res.ms);
      if (res.outcome === 'failed') {
        const failure: FuzzFailure = { iteration: i, mutation, source: src.name, problem: res.problem };
        if (opts.crashDir) {
          fs.mkdirSync(opts.crashDir, { recursive: true });
          failure.saved = path.join(opts.crashDir, `seed${opts.seed}-i${i}-${mutation}${ext}`);
          fs.writeFileSync(failure.saved, bytes);
        }
        report.failures.push(failure);
        opts.log?.(`FAIL #${i} ${mutation} of ${src.name}: ${res.problem}`);
      } else report[res.outcome]++;
      fs.rmSync(path.join(work, `i${i}${ext}`), { force: true });
    }
  } finally {
    if (!opts.workDir) fs.rmSync(work, { recursive: true, force: true });
  }
  return report;
}

async function main(argv: string[]): Promise<number> {
  const seed = Number(argv[0] ?? Date.now() % 100000);
  const iterations = Number(argv[1] ?? 20000);
  if (!Number.isInteger(seed) || !Number.isInteger(iterations) || iterations < 1) {
    process.stderr.write('usage: node out/scripts/fuzz.js [SEED] [ITERATIONS]\n');
    return 2;
  }
  const t0 = Date.now();
  const report = await runFuzz({
    seed, iterations, crashDir: REGRESSION_DIR,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`seed ${seed}: ${report.runs} inputs in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${report.parsed} parsed, ` +
    `${report.refused} refused with MatrixError, ${report.failures.length} failures; slowest ${report.slowestMs.toFixed(0)} ms\n` +
    `mutations: ${Object.entries(report.byMutation).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
  return report.failures.length ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e) => { process.stderr.write(`error: ${String(e)}\n`); process.exit(1); });
}
