/**
 * `attention-inspector inspect FILE[#member] [--index I,J,...] [--data] [--json]`
 * Shape, dtype and statistics of a .npy, an .npz member, a safetensors tensor or a JSON matrix; lists members of an
 * .npz, a .safetensors file or a JSON spec. String arrays (tokens) print their dtype as NumPy writes it ('<U5') and
 * `"data"` as a list of strings; safetensors dtypes are printed by their NumPy-style names (bfloat16, float16, ...).
 * The output of --json is a stable contract (tests of other parts read it):
 *   {"shape": [...], "dtype": "float32", "fortran_order": false, "min": .., "max": .., "mean": .., "nan": N, "inf": N}
 * min/max/mean ignore NaN; they are null when undefined or not finite. 64-bit integers are printed exactly.
 */
import { MatrixError, product } from '../core/ndarray';
import type { NdArray, StringArray, TypedArray } from '../core/ndarray';
import { listMembers, openMatrix, readSafetensorsFile, splitRef } from '../core/matrixFile';
import type { ArrayInfo } from '../core/matrixFile';
import { reportError } from './report';
import { promises as fsp } from 'fs';

/** --data prints every value; past this many the output is no use to anyone and the user should slice. */
const MAX_DATA_VALUES = 10_000_000;

interface InspectArgs { ref: string; index: number[]; data: boolean; json: boolean }

function parseArgs(args: string[]): InspectArgs {
  let ref: string | undefined;
  let index: number[] = [];
  let data = false;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '--data') data = true;
    else if (a === '--index' || a.startsWith('--index=')) {
      const v = a === '--index' ? args[++i] : a.slice('--index='.length);
      if (v === undefined || !/^\s*-?\d+(\s*,\s*-?\d+)*\s*$/.test(v)) {
        throw new MatrixError(`--index needs comma-separated integers like 2,5 (got ${v === undefined ? 'nothing' : JSON.stringify(v)})`);
      }
      index = v.split(',').map((s) => Number(s.trim()));
    } else if (a.startsWith('-') && a !== '-') throw new MatrixError(`unknown option ${a} (inspect takes --index, --data, --json)`);
    else if (ref === undefined) ref = a;
    else throw new MatrixError(`unexpected argument ${JSON.stringify(a)} (inspect takes one FILE[#member])`);
  }
  if (ref === undefined) throw new MatrixError('inspect needs a FILE[#member] (try --help)');
  return { ref, index, data, json };
}

export interface ArrayStats {
  min: number | bigint | null;
  max: number | bigint | null;
  mean: number | null;
  nan: number;
  inf: number;
}

/** min/max/mean ignoring NaN (like np.nanmin/nanmax/nanmean), and counts of NaN and ±Inf. */
export function arrayStats(a: NdArray): ArrayStats {
  const d = a.data;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    if (d.length === 0) return { min: null, max: null, mean: null, nan: 0, inf: 0 };
    let mn = d[0];
    let mx = d[0];
    let sum = 0;
    for (let i = 0; i < d.length; i++) {
      const x = d[i];
      if (x < mn) mn = x;
      if (x > mx) mx = x;
      sum += Number(x);
    }
    return { min: mn, max: mx, mean: sum / d.length, nan: 0, inf: 0 };
  }
  const n = d as Exclude<TypedArray, BigInt64Array | BigUint64Array>;
  let mn = Infinity;
  let mx = -Infinity;
  let sum = 0;
  let count = 0;
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < n.length; i++) {
    const x = n[i];
    if (x !== x) { nan++; continue; }
    if (x === Infinity || x === -Infinity) inf++;
    if (x < mn) mn = x;
    if (x > mx) mx = x;
    sum += x;
    count++;
  }
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  if (count === 0) return { min: null, max: null, mean: null, nan, inf };
  return { min: finite(mn), max: finite(mx), mean: finite(sum / count), nan, inf };
}

/** JSON text in which bigints are written as exact integers. */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `\u0000big${v.toString()}\u0000` : v))
    .replace(/"\\u0000big(-?\d+)\\u0000"/g, '$1');
}

/** The array as nested lists in C order, written straight to text (fast, exact for 64-bit integers). */
export function nestedJson(a: NdArray | StringArray): string {
  let item: (i: number) => string;
  if ('strings' in a) {
    const s = a.strings;
    item = (i) => JSON.stringify(s[i]);
  } else {
    const d = a.data;
    const isBool = a.dtype === 'bool';
    item = (i) => {
      const x = d[i];
      if (typeof x === 'bigint') return x.toString();
      if (isBool) return x ? 'true' : 'false';
      return Number.isFinite(x) ? String(x) : 'null';
    };
  }
  if (a.shape.length === 0) return item(0);
  const parts: string[] = [];
  let k = 0;
  const walk = (axis: number): void => {
    parts.push('[');
    const n = a.shape[axis];
    for (let i = 0; i < n; i++) {
      if (i) parts.push(', ');
      if (axis === a.shape.length - 1) parts.push(item(k++));
      else walk(axis + 1);
    }
    parts.push(']');
  };
  walk(0);
  return parts.join('');
}

function fmt(x: number | bigint | null): string {
  if (x === null) return '—';
  if (typeof x === 'bigint') return x.toString();
  return Number.isInteger(x) ? String(x) : Number(x.toPrecision(6)).toString();
}

function describe(info: ArrayInfo): string {
  return `${info.dtype} [${info.shape.join(', ')}]${info.fortranOrder ? ' (Fortran order)' : ''}`;
}

async function isListable(ref: string): Promise<'npz' | 'json' | 'safetensors' | undefined> {
  const { file, member } = splitRef(ref);
  if (member !== undefined) return undefined;
  const lower = file.toLowerCase();
  if (lower.endsWith('.npz')) return 'npz';
  if (lower.endsWith('.safetensors')) return 'safetensors';
  if (lower.endsWith('.json')) {
    // A plain nested array is one matrix; an object is a spec whose keys are listed.
    const fh = await fsp.open(file, 'r').catch(() => undefined);
    if (!fh) return undefined;
    try {
      const buf = Buffer.alloc(256);
      const { bytesRead } = await fh.read(buf, 0, 256, 0);
      return /^\s*\{/.test(buf.subarray(0, bytesRead).toString('utf8')) ? 'json' : undefined;
    } finally {
      await fh.close();
    }
  }
  return undefined;
}

/** A string array: no statistics (min/max/mean are null, as for an all-NaN array), the strings as JSON. */
function writeStrings(opts: InspectArgs, fortranOrder: boolean, a: StringArray): void {
  if (opts.json) {
    const out: Record<string, unknown> = {
      shape: [...a.shape], dtype: a.dtype, fortran_order: fortranOrder, min: null, max: null, mean: null, nan: 0, inf: 0,
    };
    if (opts.index.length) out.index = opts.index;
    const text = toJson(out);
    process.stdout.write(opts.data ? `${text.slice(0, -1)}, "data": ${nestedJson(a)}}\n` : `${text}\n`);
    return;
  }
  const lines = [`${opts.ref}${opts.index.length ? ` [${opts.index.join(', ')}]` : ''}: ${a.dtype} [${a.shape.join(', ')}], ${a.strings.length} strings`];
  if (opts.data) lines.push(nestedJson(a));
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function runInspect(args: string[]): Promise<number> {
  let opts: InspectArgs;
  try {
    opts = parseArgs(args);
  } catch (e) {
    reportError(e);
    return 2;
  }
  try {
    const listable = await isListable(opts.ref);
    if (listable && opts.index.length === 0) {
      const members = await listMembers(opts.ref);
      const metadata = listable === 'safetensors' ? (await readSafetensorsFile(opts.ref)).metadata : undefined;
      if (opts.json) {
        process.stdout.write(`${toJson({
          file: opts.ref,
          members: members.map((m) => ({ name: m.name, shape: m.info.shape, dtype: m.info.dtype, fortran_order: m.info.fortranOrder })),
          ...(metadata ? { metadata } : {}),
        })}\n`);
      } else {
        const lines = [`${opts.ref}: ${members.length} ${members.length === 1 ? 'array' : 'arrays'}`];
        for (const m of members) lines.push(`  ${m.name || '(matrix)'}: ${describe(m.info)}`);
        for (const [k, v] of Object.entries(metadata ?? {})) lines.push(`  __metadata__ ${k}: ${JSON.stringify(v.length > 200 ? `${v.slice(0, 200)}…` : v)}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      return 0;
    }
    const h = await openMatrix(opts.ref);
    try {
      const info = h.info;
      const subShape = info.shape.slice(opts.index.length);
      if (opts.data && product(subShape) > MAX_DATA_VALUES) {
        throw new MatrixError(`--data would print ${product(subShape)} values; select a sub-array with --index`, opts.ref);
      }
      const any = await h.readAny(opts.index);
      if ('strings' in any) {
        writeStrings(opts, info.fortranOrder, any);
        return 0;
      }
      const a = any;
      const s = arrayStats(a);
      if (opts.json) {
        const out: Record<string, unknown> = {
          shape: [...a.shape], dtype: a.dtype, fortran_order: info.fortranOrder,
          min: s.min, max: s.max, mean: s.mean, nan: s.nan, inf: s.inf,
        };
        if (opts.index.length) out.index = opts.index;
        const text = toJson(out);
        process.stdout.write(opts.data ? `${text.slice(0, -1)}, "data": ${nestedJson(a)}}\n` : `${text}\n`);
      } else {
        const lines = [`${opts.ref}: ${describe(info)}, ${product(info.shape)} values`];
        if (opts.index.length) lines.push(`  [${opts.index.join(', ')}]: [${a.shape.join(', ')}], ${a.data.length} values`);
        lines.push(`  min ${fmt(s.min)}  max ${fmt(s.max)}  mean ${fmt(s.mean)}  nan ${s.nan}  inf ${s.inf}`);
        if (opts.data) lines.push(nestedJson(a));
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      return 0;
    } finally {
      await h.close();
    }
  } catch (e) {
    return reportError(e);
  }
}
