/**
 * Attention maths: O = softmax(sim(Q, K) · scale, masked) · V, with projections and heads.
 * Pure (no vscode import). `computeAttention` is the exact reference: float64 inside, float32 results.
 * The fast path (WASM SIMD + worker pool) lives in compute/fast.ts and reuses `prepareAttention` and
 * `attendRows` from here, so both paths share one definition of every variant.
 *
 * Conventions (documented for users in the README):
 * - Q is [n_q, d] or a single query vector [d]; K is [n_k, d]; V is [n_k, d_v] or scalar values [n_k].
 *   K and V default to Q (self-attention).
 * - Projections: Q' = Q @ W_Q, K' = K @ W_K, V' = V @ W_V with W of shape [d_in, d_model] (usually
 *   [d_model, d_model]); head h takes columns [h·d_head, (h+1)·d_head). The heads' outputs are concatenated
 *   and, when W_O is given, projected: output = concat @ W_O.
 * - Scale: `sqrt` = 1/√d_k (d_k per head), `dk` = 1/d_k, `none` = 1, or a number. It applies to `dot`
 *   only unless it is a number: cosine is already normalised and the Laplacian/Euclidean variants are defined
 *   without a scale (softmax(-‖q−k‖₁) in the seed), so for them the named scales mean 1 and a number is a
 *   temperature the user asked for explicitly.
 * - Masks: `causal` lets query i see keys j ≤ i + (n_k − n_q) (aligned at the end, as with a KV cache);
 *   a matrix mask [n_q, n_k] (or [n_k] for a single query, or [h, n_q, n_k]) holds 1/true = attend,
 *   0/false = masked. A fully masked row gets zero weights and zero output, and a warning.
 * - Cosine of a zero vector is taken as 0 (not NaN).
 */
import { MatrixError, toFloat32, toFloat64 } from './ndarray';
import type { NdArray } from './ndarray';

export type Similarity = 'dot' | 'cosine' | 'laplacian' | 'euclidean';
export type Scale = 'sqrt' | 'dk' | 'none' | number;

export const SIMILARITIES: readonly Similarity[] = ['dot', 'cosine', 'laplacian', 'euclidean'];

export interface AttentionInput {
  q: NdArray;
  k?: NdArray;
  v?: NdArray;
  similarity?: Similarity;
  scale?: Scale;
  mask?: 'causal' | NdArray;
  heads?: number;
  wq?: NdArray;
  wk?: NdArray;
  wv?: NdArray;
  wo?: NdArray;
}

/** The sizes of an attention computation, shared by its input checks, its prepared form and its result. */
export interface AttentionDims {
  heads: number;
  nq: number;
  nk: number;
  /** Key width per head (after projection). */
  dk: number;
  /** Value width per head (after projection); 1 for scalar values. */
  dv: number;
  queryIsVector: boolean;
  valuesAreScalars: boolean;
}

export interface AttentionResult extends AttentionDims {
  scaleFactor: number;
  /** [h, nq, nk] raw similarity (dot / cosine / −L1 / −L2²). */
  scores: Float32Array;
  /** [h, nq, nk] after scale and mask (−Infinity where masked). */
  scaled: Float32Array;
  /** [h, nq, nk] softmax of `scaled` per row. */
  weights: Float32Array;
  /** [h, nq, dv] per head. */
  headOutputs: Float32Array;
  /** [nq, dvOut]: heads concatenated, W_O-projected when given. */
  output: Float32Array;
  /** Width of `output` rows. */
  outputDim: number;
  /** [h, nk, valueDim]: the (projected, per head) values, for contributions w_ij · v_j. */
  values: Float32Array;
  valueDim: number;
  warnings: string[];
}

/** How a mask is applied inside the kernels. Matrix masks are [h?, nq, nk] bytes, 1 = attend. */
export type MaskSpec =
  | { kind: 'none' }
  | { kind: 'causal'; offset: number }
  | { kind: 'matrix'; data: Uint8Array; perHead: boolean };

/** Everything the kernels need, after validation, projection and head split. */
export interface PreparedAttention extends AttentionDims {
  similarity: Similarity;
  scaleFactor: number;
  mask: MaskSpec;
  /** Per head, C order: q [nq, dk], k [nk, dk], v [nk, dv]. Float32 only when asked for and not projected. */
  q: (Float64Array | Float32Array)[];
  k: (Float64Array | Float32Array)[];
  v: (Float64Array | Float32Array)[];
  /** W_O as float64 [h·dv, dOut], if given. */
  wo?: { data: Float64Array; cols: number };
  warnings: string[];
}

type Role = 'Q' | 'K' | 'V' | 'W_Q' | 'W_K' | 'W_V' | 'W_O' | 'mask';

function dims(a: NdArray): string {
  return a.shape.length === 0 ? 'a scalar' : a.shape.join('×');
}

/** A matrix view of an input: 1-D arrays become one row (for Q) or one column (for V), per `vectorAs`. */
function asMatrix(a: NdArray, role: Role, vectorAs: 'row' | 'column' | 'reject'): { rows: number; cols: number } {
  if (a.shape.length === 2) return { rows: a.shape[0], cols: a.shape[1] };
  if (a.shape.length === 1 && vectorAs !== 'reject') {
    return vectorAs === 'row' ? { rows: 1, cols: a.shape[0] } : { rows: a.shape[0], cols: 1 };
  }
  const want = vectorAs === 'reject' ? 'a matrix' : 'a vector or a matrix';
  throw new MatrixError(`${role} must be ${want}, but it has shape ${dims(a)}`);
}

function checkHeads(heads: number | undefined): number {
  if (heads === undefined) return 1;
  if (!Number.isInteger(heads) || heads < 1) throw new MatrixError(`heads must be a positive integer, got ${heads}`);
  return heads;
}

/** The factor the scores are multiplied by, per the conventions above. */
export function scaleFactorFor(scale: Scale | undefined, similarity: Similarity, dk: number): number {
  if (typeof scale === 'number') {
    if (!Number.isFinite(scale)) throw new MatrixError(`scale must be a finite number, got ${scale}`);
    return scale;
  }
  if (similarity !== 'dot') return 1;
  switch (scale ?? 'sqrt') {
    case 'sqrt':
      return 1 / Math.sqrt(dk);
    case 'dk':
      return 1 / dk;
    case 'none':
      return 1;
    default:
      throw new MatrixError(`scale must be sqrt, dk, none or a number, got ${String(scale)}`);
  }
}

/** Shapes of every input after projection; throws MatrixError naming the first mismatch. */
interface Shapes {
  nq: number; nk: number; dIn: number; dkModel: number; dvModel: number; heads: number;
  dk: number; dv: number; dOut: number; queryIsVector: boolean; valuesAreScalars: boolean;
}

function checkShapes(input: AttentionInput): Shapes {
  const { q } = input;
  const k = input.k ?? q;
  const v = input.v ?? q;
  const heads = checkHeads(input.heads);
  if (input.similarity !== undefined && !SIMILARITIES.includes(input.similarity)) {
    throw new MatrixError(`similarity must be one of ${SIMILARITIES.join(', ')}, got ${String(input.similarity)}`);
  }
  const queryIsVector = q.shape.length === 1;
  const Q = asMatrix(q, 'Q', 'row');
  // Self-attention with a single query vector: K is that one vector as a row, not a column of scalars.
  const K = asMatrix(k, 'K', input.k === undefined ? 'row' : 'reject');
  const valuesAreScalars = input.v !== undefined && input.v.shape.length === 1;
  const V = asMatrix(v, 'V', input.v === undefined ? 'row' : 'column');
  if (Q.cols === 0) throw new MatrixError('Q has width 0');
  if (Q.rows === 0) throw new MatrixError('Q has no rows');
  if (K.rows === 0) throw new MatrixError('K has no rows');

  const project = (w: NdArray | undefined, role: 'W_Q' | 'W_K' | 'W_V', of: string, width: number): number => {
    if (!w) return width;
    const W = asMatrix(w, role, 'reject');
    if (W.rows !== width) throw new MatrixError(`${role} has ${W.rows} rows but ${of} has width ${width}`);
    return W.cols;
  };
  const dq = project(input.wq, 'W_Q', 'Q', Q.cols);
  const dkModel = project(input.wk, 'W_K', 'K', K.cols);
  const dvModel = project(input.wv, 'W_V', 'V', V.cols);
  if (dq !== dkModel) {
    const what = input.wq || input.wk ? 'projected ' : '';
    throw new MatrixError(`${what}Q has width ${dq} but ${what}K has width ${dkModel}`);
  }
  // Rows after widths: with V defaulting to Q, a width mismatch is the real problem to report.
  if (K.rows !== V.rows) throw new MatrixError(`K has ${K.rows} rows but V has ${V.rows}`);
  if (dkModel % heads !== 0) throw new MatrixError(`heads=${heads} does not divide d_model=${dkModel}`);
  if (dvModel % heads !== 0) throw new MatrixError(`heads=${heads} does not divide the value width d_v=${dvModel}`);
  let dOut = dvModel;
  if (input.wo) {
    const W = asMatrix(input.wo, 'W_O', 'reject');
    if (W.rows !== dvModel) throw new MatrixError(`W_O has ${W.rows} rows but the concatenated heads have width ${dvModel}`);
    dOut = W.cols;
  }
  return {
    nq: Q.rows, nk: K.rows, dIn: Q.cols, dkModel, dvModel, heads, dk: dkModel / heads, dv: dvModel / heads, dOut,
    queryIsVector, valuesAreScalars,
  };
}

function maskSpec(input: AttentionInput, s: Shapes): MaskSpec {
  const m = input.mask;
  if (m === undefined) return { kind: 'none' };
  if (m === 'causal') return { kind: 'causal', offset: s.nk - s.nq };
  if (typeof m !== 'object' || !m.shape) throw new MatrixError(`mask must be "causal" or a matrix`);
  let perHead = false;
  let ok: boolean;
  if (m.shape.length === 3) {
    perHead = true;
    ok = m.shape[0] === s.heads && m.shape[1] === s.nq && m.shape[2] === s.nk;
  } else if (m.shape.length === 1) {
    ok = s.nq === 1 && m.shape[0] === s.nk;
  } else {
    ok = m.shape.length === 2 && m.shape[0] === s.nq && m.shape[1] === s.nk;
  }
  if (!ok) {
    const want = `${s.heads > 1 ? `${s.heads}×` : ''}${s.nq}×${s.nk}`;
    throw new MatrixError(`mask is ${dims(m)} but scores are ${want}`);
  }
  const data = new Uint8Array(m.data.length);
  for (let i = 0; i < m.data.length; i++) {
    const x = Number(m.data[i]);
    if (x !== 0 && x !== 1) {
      throw new MatrixError(`mask must hold only 0/1 or true/false, found ${x} at flat index ${i}`);
    }
    data[i] = x;
  }
  return { kind: 'matrix', data, perHead };
}

/** The result's sizes, without computing (or converting) anything; throws like validateInput. */
export function attentionShape(input: AttentionInput): AttentionDims & { outputDim: number } {
  const s = checkShapes(input);
  return { heads: s.heads, nq: s.nq, nk: s.nk, dk: s.dk, dv: s.dv, outputDim: s.dOut, queryIsVector: s.queryIsVector, valuesAreScalars: s.valuesAreScalars };
}

/** Throws a MatrixError like "Q has width 3 but K has width 2" if the input cannot be computed. */
export function validateInput(input: AttentionInput): void {
  const s = checkShapes(input);
  maskSpec(input, s);
  scaleFactorFor(input.scale, input.similarity ?? 'dot', s.dk);
}

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

/** NaN and ±Infinity values; x − x is 0 for every finite float and NaN otherwise (no per-value conversion). */
function countNonFinite(data: NdArray['data']): number {
  let bad = 0;
  if (data instanceof Float32Array || data instanceof Float64Array) {
    for (let i = 0; i < data.length; i++) {
      const x = data[i];
      if (x - x !== 0) bad++;
    }
    return bad;
  }
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(Number(data[i]))) bad++;
  return bad;
}

/**
 * Validate, project and split into heads: the shared front half of both compute paths.
 * `float32` keeps unprojected inputs in float32 (no float64 copy): the fast path's kernels are float32 anyway.
 */
export function prepareAttention(input: AttentionInput, opts: { float32?: boolean } = {}): PreparedAttention {
  const s = checkShapes(input);
  const mask = maskSpec(input, s);
  const similarity = input.similarity ?? 'dot';
  const scaleFactor = scaleFactorFor(input.scale, similarity, s.dk);
  const warnings: string[] = [];
  // Projections are computed in float64 whatever the kernels use.
  const conv = (a: NdArray, projected: boolean) => (opts.float32 && !projected ? toFloat32(a) : toFloat64(a));
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
  for (const [name, a] of [['Q', input.q], ['K', input.k], ['V', input.v]] as const) {
    if (!a) continue;
    const bad = countNonFinite(a.data);
    if (bad > 0) warnings.push(`${name} holds ${bad} NaN or infinite value${bad === 1 ? '' : 's'}; affected rows are NaN`);
  }
  return {
    heads: s.heads, nq: s.nq, nk: s.nk, dk: s.dk, dv: s.dv, queryIsVector: s.queryIsVector,
    valuesAreScalars: s.valuesAreScalars, similarity, scaleFactor, mask, q: qs, k: ks, v: vs,
    wo: input.wo ? { data: toFloat64(input.wo), cols: s.dOut } : undefined, warnings,
  };
}

/** One head's inputs, as the row kernels see them (float64 in the reference, float32 in workers). */
export interface HeadData {
  q: ArrayLike<number>;
  k: ArrayLike<number>;
  v: ArrayLike<number>;
  nq: number;
  nk: number;
  dk: number;
  dv: number;
}

/** Where `attendRows` writes; scores/scaled are optional (the fast path computes them only on demand). */
export interface RowOutputs {
  scores?: Float32Array;
  scaled?: Float32Array;
  weights?: Float32Array;
  output?: Float32Array;
  /** Element offset of row 0 of this head in scores/scaled/weights ([nq, nk] per head). */
  weightsOffset: number;
  /** Element offset of row 0 of this head in output ([nq, dv] per head). */
  outputOffset: number;
}

/** Is key j visible to query i of head h? */
export function maskAllows(mask: MaskSpec, h: number, i: number, j: number, nq: number, nk: number): boolean {
  switch (mask.kind) {
    case 'none':
      return true;
    case 'causal':
      return j <= i + mask.offset;
    case 'matrix':
      return mask.data[(mask.perHead ? h * nq * nk : 0) + i * nk + j] !== 0;
  }
}

/**
 * Rows [r0, r1) of one head: scores, scaled scores, a safe softmax (row max subtracted) and the weighted sum
 * of values, accumulated in float64. Returns the indices of fully masked rows (zero weights and output).
 */
export function attendRows(
  d: HeadData, h: number, similarity: Similarity, scaleFactor: number, mask: MaskSpec,
  r0: number, r1: number, out: RowOutputs,
): number[] {
  const { q, k, v, nk, nq, dk, dv } = d;
  const row = new Float64Array(nk);
  const masked: number[] = [];
  let kNorm: Float64Array | undefined;
  if (similarity === 'cosine') {
    kNorm = new Float64Array(nk);
    for (let j = 0; j < nk; j++) {
      let s = 0;
      for (let t = 0; t < dk; t++) s += k[j * dk + t] * k[j * dk + t];
      kNorm[j] = Math.sqrt(s);
    }
  }
  for (let i = r0; i < r1; i++) {
    const qo = i * dk;
    let qNorm = 0;
    if (kNorm) {
      for (let t = 0; t < dk; t++) qNorm += q[qo + t] * q[qo + t];
      qNorm = Math.sqrt(qNorm);
    }
    let max = -Infinity;
    for (let j = 0; j < nk; j++) {
      const ko = j * dk;
      let s = 0;
      switch (similarity) {
        case 'dot':
          for (let t = 0; t < dk; t++) s += q[qo + t] * k[ko + t];
          break;
        case 'cosine': {
          for (let t = 0; t < dk; t++) s += q[qo + t] * k[ko + t];
          const n = qNorm * (kNorm as Float64Array)[j];
          s = n === 0 ? 0 : s / n;
          break;
        }
        case 'laplacian':
          for (let t = 0; t < dk; t++) s -= Math.abs(q[qo + t] - k[ko + t]);
          break;
        case 'euclidean':
          for (let t = 0; t < dk; t++) {
            const e = q[qo + t] - k[ko + t];
            s -= e * e;
          }
          break;
      }
      const o = out.weightsOffset + i * nk + j;
      if (out.scores) out.scores[o] = s;
      const x = maskAllows(mask, h, i, j, nq, nk) ? s * scaleFactor : -Infinity;
      row[j] = x;
      if (out.scaled) out.scaled[o] = x;
      // NaN must win (as in NumPy), so compare with `!(x <= max)` rather than `x > max`.
      if (!(x <= max)) max = x;
    }
    const wo = out.weightsOffset + i * nk;
    const oo = out.outputOffset + i * dv;
    if (max === -Infinity) {
      masked.push(i);
      if (out.weights) out.weights.fill(0, wo, wo + nk);
      if (out.output) out.output.fill(0, oo, oo + dv);
      continue;
    }
    let sum = 0;
    for (let j = 0; j < nk; j++) {
      const e = Math.exp(row[j] - max);
      row[j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    const acc = new Float64Array(dv);
    for (let j = 0; j < nk; j++) {
      const w = row[j] * inv;
      if (out.weights) out.weights[wo + j] = w;
      if (w === 0) continue;
      const vo = j * dv;
      for (let c = 0; c < dv; c++) acc[c] += w * v[vo + c];
    }
    if (out.output) for (let c = 0; c < dv; c++) out.output[oo + c] = acc[c];
  }
  return masked;
}

/** A warning for fully masked rows, naming the first few. */
export function maskedRowsWarning(h: number, heads: number, rows: number[]): string | undefined {
  if (rows.length === 0) return undefined;
  const shown = rows.slice(0, 5).join(', ') + (rows.length > 5 ? ', …' : '');
  const where = heads > 1 ? ` in head ${h}` : '';
  return `${rows.length} quer${rows.length === 1 ? 'y row is' : 'y rows are'} fully masked${where} (row ${shown}); their weights and output are zeros`;
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
  if (!p.wo) return { output: heads === 1 ? Float32Array.from(concat) : (concat as Float32Array), outputDim: width };
  const projected = matmul(Float64Array.from(concat), p.wo.data, nq, width, p.wo.cols);
  return { output: Float32Array.from(projected), outputDim: p.wo.cols };
}

/** [h, nk, dv] values as float32, for contributions. */
export function stackValues(p: PreparedAttention): Float32Array {
  const out = new Float32Array(p.heads * p.nk * p.dv);
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

/** The exact reference: every variant, float64 arithmetic, float32 results. */
export function computeAttention(input: AttentionInput): AttentionResult {
  const p = prepareAttention(input);
  const { heads, nq, nk, dk, dv } = p;
  const cells = heads * nq * nk;
  const what = `${heads > 1 ? `${heads}×` : ''}${nq}×${nk} attention maps`;
  const scores = allocFloat32(cells, what);
  const scaled = allocFloat32(cells, what);
  const weights = allocFloat32(cells, what);
  const headOutputs = new Float32Array(heads * nq * dv);
  const warnings = [...p.warnings];
  for (let h = 0; h < heads; h++) {
    const rows = attendRows(
      { q: p.q[h], k: p.k[h], v: p.v[h], nq, nk, dk, dv }, h, p.similarity, p.scaleFactor, p.mask, 0, nq,
      { scores, scaled, weights, output: headOutputs, weightsOffset: h * nq * nk, outputOffset: h * nq * dv },
    );
    const w = maskedRowsWarning(h, heads, rows);
    if (w) warnings.push(w);
  }
  const { output, outputDim } = combineHeads(p, headOutputs);
  return {
    heads, nq, nk, dk, dv, queryIsVector: p.queryIsVector, valuesAreScalars: p.valuesAreScalars,
    scaleFactor: p.scaleFactor, scores, scaled, weights, headOutputs, output, outputDim,
    values: stackValues(p), valueDim: dv, warnings,
  };
}

export interface FastOptions {
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  /**
   * Compute raw and scaled scores along with the weights (default true; the score views need them). With
   * false they are computed on first access instead, on this thread: for callers that only want weights and
   * output (the CLI's --out, the bench), which saves two n_q×n_k arrays.
   */
  scores?: boolean;
  /**
   * Also write the weights into this open file as they are computed, from the thread that computed each block
   * (positional writes, any order): [h, nq, nk] float32 in host byte order from byte `offset` on, i.e. the
   * body of a .npy whose header the caller wrote. With `keepWeights: false` no n_q×n_k array is held in
   * memory at all and the result's `weights` is empty (where the WASM kernel runs; the TypeScript kernel
   * still fills an array). Write errors reject with a WeightsWriteError whose message is the error code.
   */
  weightsFile?: { fd: number; offset: number; keepWeights?: boolean };
}

/**
 * The fast path: WASM SIMD kernel, on a worker pool for large inputs, with a plain-TypeScript fallback.
 * Loaded on first use so the reference path (and the workers that import this file) stay small.
 */
export async function computeAttentionFast(input: AttentionInput, options: FastOptions = {}): Promise<AttentionResult> {
  fastLoaded = true;
  const { computeFast } = await import('./compute/fast');
  return computeFast(input, options);
}

let fastLoaded = false;

/** Terminate the compute workers (extension deactivate); a later computeAttentionFast spawns new ones. */
export async function disposeAttentionWorkers(): Promise<void> {
  if (!fastLoaded) return;
  (await import('./compute/fast')).disposeComputePool();
}
