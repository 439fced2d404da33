/**
 * The front half of both compute paths: validate, project (Q·W_Q, K·W_K, V·W_V in float64) and split into
 * heads; and the back half: concatenate the heads and apply W_O.
 */
import { MatrixError, toFloat32, toFloat64 } from '../ndarray';
import type { NdArray } from '../ndarray';
import { countNonFinite } from '../stats';
import { checkShapes, maskSpec, scaleFactorFor, selectBatch } from './shapes';
import type { Shapes } from './shapes';
import type { AttentionInput, PreparedAttention } from './types';

/** out[rows, cols] = a[rows, inner] @ b[inner, cols], all float64 C order. */
export function matmul(a: Float64Array, b: Float64Array, rows: number, inner: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let t = 0; t < inner; t++) {
      const x = a[i * inner + t];
      if (x === 0) continue;
      const bo = t * cols;
      for (let j = 0; j < cols; j++) out[o + j] += x * b[bo + j];
    }
  }
  return out;
}

/** Columns [c0, c0 + width) of a [rows, cols] matrix. */
function columns<T extends Float64Array | Float32Array>(a: T, rows: number, cols: number, c0: number, width: number): T {
  if (c0 === 0 && width === cols) return a;
  const out = (a instanceof Float32Array ? new Float32Array(rows * width) : new Float64Array(rows * width)) as T;
  for (let i = 0; i < rows; i++) out.set(a.subarray(i * cols + c0, i * cols + c0 + width), i * width);
  return out;
}

/**
 * Validate, project and split into heads: the shared front half of both compute paths.
 * `float32` keeps unprojected inputs in float32 (no float64 copy): the fast path's kernels are float32 anyway.
 */
export interface PrepareOptions {
  /** Keep unprojected inputs in float32 (the fast path's kernels are float32). */
  float32?: boolean;
  /** How many NaN or infinite values a float32 array holds, when the caller has a faster count (the native addon). */
  countNonFinite?: (a: Float32Array) => number;
}

export function prepareAttention(given: AttentionInput, opts: PrepareOptions = {}): PreparedAttention {
  const s = checkShapes(given);
  const picked = selectBatch(given);
  const input = picked.input;
  const mask = maskSpec(input, s);
  const similarity = input.similarity ?? 'dot';
  const scaleFactor = scaleFactorFor(input.scale, similarity, s.dk);
  const warnings: string[] = [...picked.warnings];
  // Projections are computed in float64 whatever the kernels use.
  const conv = (a: NdArray, projected: boolean) => (opts.float32 && !projected ? toFloat32(a) : toFloat64(a));
  if (s.perHead) return preparePerHead(input, s, conv(input.q, false), conv, { mask, similarity, scaleFactor, warnings }, opts.countNonFinite);
  let q: Float64Array | Float32Array = conv(input.q, !!input.wq);
  let k: Float64Array | Float32Array = input.k ? conv(input.k, !!input.wk) : input.wk ? conv(input.q, true) : q;
  let v: Float64Array | Float32Array = input.v ? conv(input.v, !!input.wv) : input.wv ? conv(input.q, true) : q;
  const kCols = input.k ? (input.k.shape.length === 2 ? input.k.shape[1] : 1) : s.dIn;
  const vCols = input.v ? (input.v.shape.length === 2 ? input.v.shape[1] : 1) : s.dIn;
  if (input.wq) q = matmul(q as Float64Array, toFloat64(input.wq), s.nq, s.dIn, s.dkModel);
  if (input.wk) k = matmul(k as Float64Array, toFloat64(input.wk), s.nk, kCols, s.dkModel);
  if (input.wv) v = matmul(v as Float64Array, toFloat64(input.wv), s.nk, vCols, s.dvModel);
  const qs: (Float64Array | Float32Array)[] = [];
  const ks: (Float64Array | Float32Array)[] = [];
  const vs: (Float64Array | Float32Array)[] = [];
  for (let h = 0; h < s.heads; h++) {
    qs.push(columns(q, s.nq, s.dkModel, h * s.dk, s.dk));
    ks.push(columns(k, s.nk, s.dkModel, h * s.dk, s.dk));
    vs.push(columns(v, s.nk, s.dvModel, h * s.dv, s.dv));
  }
  nonFiniteWarnings(input, warnings, opts.countNonFinite);
  return {
    heads: s.heads, nq: s.nq, nk: s.nk, dk: s.dk, dv: s.dv, queryIsVector: s.queryIsVector,
    valuesAreScalars: s.valuesAreScalars, similarity, scaleFactor, mask, q: qs, k: ks, v: vs,
    wo: input.wo ? { data: toFloat64(input.wo), cols: s.dOut } : undefined, warnings,
  };
}

/**
 * Inputs already split into heads: views of each head, no copies. K and V have kvHeads heads; query head h
 * reads KV head ⌊h·kvHeads/heads⌋ (repeat_kv), so heads of one group share the same K and V arrays.
 */
function preparePerHead(
  input: AttentionInput, s: Shapes, q: Float64Array | Float32Array, conv: (a: NdArray, projected: boolean) => Float64Array | Float32Array,
  rest: Pick<PreparedAttention, 'mask' | 'similarity' | 'scaleFactor' | 'warnings'>, count?: (a: Float32Array) => number,
): PreparedAttention {
  const { heads, nq, nk, dk, dv } = s;
  const kvHeads = s.kvHeads ?? heads;
  const k = input.k ? conv(input.k, false) : q;
  const v = input.v ? conv(input.v, false) : q;
  const qs: (Float64Array | Float32Array)[] = [];
  const ks: (Float64Array | Float32Array)[] = [];
  const vs: (Float64Array | Float32Array)[] = [];
  for (let h = 0; h < heads; h++) {
    const g = Math.floor((h * kvHeads) / heads);
    qs.push(q.subarray(h * nq * dk, (h + 1) * nq * dk));
    ks.push(k.subarray(g * nk * dk, (g + 1) * nk * dk));
    vs.push(v.subarray(g * nk * dv, (g + 1) * nk * dv));
  }
  nonFiniteWarnings(input, rest.warnings, count);
  return {
    heads, nq, nk, dk, dv, queryIsVector: false, valuesAreScalars: false, perHead: true, kvHeads, ...rest,
    q: qs, k: ks, v: vs, wo: input.wo ? { data: toFloat64(input.wo), cols: s.dOut } : undefined,
  };
}

function nonFiniteWarnings(input: AttentionInput, warnings: string[], count?: (a: Float32Array) => number): void {
  for (const [name, a] of [['Q', input.q], ['K', input.k], ['V', input.v]] as const) {
    if (!a) continue;
    const bad = count && a.data instanceof Float32Array ? count(a.data) : countNonFinite(a).total;
    if (bad > 0) warnings.push(`${name} holds ${bad} NaN or infinite value${bad === 1 ? '' : 's'}; affected rows are NaN`);
  }
}

/** Concatenate per-head outputs [h, nq, dv] into [nq, h·dv] and apply W_O when given. */
export function combineHeads(p: PreparedAttention, headOutputs: Float32Array): { output: Float32Array; outputDim: number } {
  const { heads, nq, dv } = p;
  const width = heads * dv;
  let concat: Float32Array | Float64Array;
  if (heads === 1) {
    concat = headOutputs;
  } else {
    concat = new Float32Array(nq * width);
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < nq; i++) {
        concat.set(headOutputs.subarray((h * nq + i) * dv, (h * nq + i + 1) * dv), i * width + h * dv);
      }
    }
  }
  // One head: the output is the head's output itself (both are read-only once computed).
  if (!p.wo) return { output: concat as Float32Array, outputDim: width };
  const projected = matmul(Float64Array.from(concat), p.wo.data, nq, width, p.wo.cols);
  return { output: Float32Array.from(projected), outputDim: p.wo.cols };
}

/**
 * [h, nk, dv] values as float32, for contributions. Read-only: when the heads' values already lie one after the
 * other in one float32 array (one head, or per-head inputs without grouping), that array, not a copy (fresh
 * memory costs a page fault per 4 KiB, ~14 µs each in this VM).
 */
export function stackValues(p: PreparedAttention): Float32Array {
  const first = p.v[0];
  const total = p.heads * p.nk * p.dv;
  if (first instanceof Float32Array && p.v.every((part, h) => part instanceof Float32Array && part.buffer === first.buffer &&
    part.length === p.nk * p.dv && part.byteOffset === first.byteOffset + h * p.nk * p.dv * 4)) {
    return new Float32Array(first.buffer, first.byteOffset, total);
  }
  const out = new Float32Array(total);
  for (let h = 0; h < p.heads; h++) out.set(p.v[h], h * p.nk * p.dv);
  return out;
}

/** A float32 array of n elements, or a MatrixError saying how much memory `what` would need. */
export function allocFloat32(n: number, what: string, shared = false): Float32Array {
  try {
    return shared ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new MatrixError(`not enough memory for the ${what} (${(n * 4 / 2 ** 30).toFixed(2)} GiB)`);
  }
}
