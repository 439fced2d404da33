/**
 * Views derived from attention weights for the panels: entropy, maxima, top-k keys, head summaries,
 * attention rollout across layers, per-key contributions, and non-finite counts. Pure; float64 sums.
 */
import { MatrixError } from './ndarray';
import type { NdArray } from './ndarray';

/** Shannon entropy of each row in nats (−Σ w ln w, with 0 ln 0 = 0). `weights` is [rows, cols]. */
export function rowEntropy(weights: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let h = 0;
    for (let j = 0; j < cols; j++) {
      const w = weights[i * cols + j];
      if (w > 0) h -= w * Math.log(w);
    }
    out[i] = h;
  }
  return out;
}

/** The largest weight of each row and its first column. */
export function rowMax(weights: ArrayLike<number>, rows: number, cols: number): { max: Float64Array; argmax: Int32Array } {
  const max = new Float64Array(rows);
  const argmax = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let m = -Infinity;
    let a = 0;
    for (let j = 0; j < cols; j++) {
      const w = weights[i * cols + j];
      if (w > m) {
        m = w;
        a = j;
      }
    }
    max[i] = m;
    argmax[i] = a;
  }
  return { max, argmax };
}

export interface Ranked {
  index: number;
  value: number;
}

/** The k largest entries of one row, largest first; ties keep the lower index first. NaN ranks last. */
export function topK(row: ArrayLike<number>, k: number): Ranked[] {
  const all: Ranked[] = [];
  for (let j = 0; j < row.length; j++) all.push({ index: j, value: row[j] });
  all.sort((a, b) => {
    const an = Number.isNaN(a.value);
    const bn = Number.isNaN(b.value);
    if (an !== bn) return an ? 1 : -1;
    return b.value - a.value || a.index - b.index;
  });
  return all.slice(0, Math.max(0, k));
}

/** The rank (1 = largest) of every entry of a row, for tooltips. */
export function rowRanks(row: ArrayLike<number>): Int32Array {
  const ranks = new Int32Array(row.length);
  topK(row, row.length).forEach((r, i) => (ranks[r.index] = i + 1));
  return ranks;
}

/** Mean over heads of [heads, cells] → [cells]. */
export function headMean(a: ArrayLike<number>, heads: number, cells: number): Float32Array {
  const acc = new Float64Array(cells);
  for (let h = 0; h < heads; h++) for (let c = 0; c < cells; c++) acc[c] += a[h * cells + c];
  const out = new Float32Array(cells);
  for (let c = 0; c < cells; c++) out[c] = acc[c] / heads;
  return out;
}

/** Maximum over heads of [heads, cells] → [cells]. */
export function headMax(a: ArrayLike<number>, heads: number, cells: number): Float32Array {
  const out = new Float32Array(cells).fill(-Infinity);
  for (let h = 0; h < heads; h++) {
    for (let c = 0; c < cells; c++) {
      const x = a[h * cells + c];
      if (x > out[c]) out[c] = x;
    }
  }
  return out;
}

/**
 * Attention rollout (Abnar & Zuidema 2020) over a [layers, heads, n, n] dump: per layer
 * A = 0.5·mean_heads + 0.5·I with rows renormalised, then R = A_L · … · A_2 · A_1, so R[i, j] is how much
 * output token i draws on input token j through all layers.
 */
export function rollout(dump: ArrayLike<number>, layers: number, heads: number, n: number): Float32Array {
  if (layers < 1 || heads < 1 || n < 1) throw new MatrixError(`rollout needs a [layers, heads, n, n] dump, got ${layers}×${heads}×${n}×${n}`);
  const cells = n * n;
  let r: Float64Array | undefined;
  for (let l = 0; l < layers; l++) {
    const a = new Float64Array(cells);
    for (let h = 0; h < heads; h++) {
      const base = (l * heads + h) * cells;
      for (let c = 0; c < cells; c++) a[c] += dump[base + c];
    }
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < n; j++) {
        a[i * n + j] = (0.5 * a[i * n + j]) / heads + (i === j ? 0.5 : 0);
        sum += a[i * n + j];
      }
      if (sum !== 0) for (let j = 0; j < n; j++) a[i * n + j] /= sum;
    }
    if (!r) {
      r = a;
      continue;
    }
    const next = new Float64Array(cells);
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < n; t++) {
        const x = a[i * n + t];
        if (x === 0) continue;
        for (let j = 0; j < n; j++) next[i * n + j] += x * r[t * n + j];
      }
    }
    r = next;
  }
  return Float32Array.from(r as Float64Array);
}

export interface Contributions {
  /** [nk, dv]: w_j · v_j for each key j. */
  perKey: Float64Array;
  /** [dv]: the sum over keys, i.e. the output row. */
  output: Float64Array;
}

/** Per-key contributions w_j · v_j of one query's weights row to its output (values [nk, dv]). */
export function contributions(weightsRow: ArrayLike<number>, values: ArrayLike<number>, dv: number): Contributions {
  const nk = weightsRow.length;
  if (values.length < nk * dv) throw new MatrixError(`values hold ${values.length} numbers but ${nk} keys × ${dv} need ${nk * dv}`);
  const perKey = new Float64Array(nk * dv);
  const output = new Float64Array(dv);
  for (let j = 0; j < nk; j++) {
    const w = weightsRow[j];
    for (let c = 0; c < dv; c++) {
      const x = w * values[j * dv + c];
      perKey[j * dv + c] = x;
      output[c] += x;
    }
  }
  return { perKey, output };
}

/**
 * The output line of a pinned row: "48.8% warm, 51.2% cool" when the output components are shares
 * (non-negative, summing to 1 within 1e-6, as with one-hot values); otherwise "warm 0.488, cool 0.512".
 */
export function describeOutput(output: ArrayLike<number>, labels?: readonly string[], digits = 1): string {
  let sum = 0;
  let nonNegative = true;
  for (let c = 0; c < output.length; c++) {
    sum += output[c];
    if (!(output[c] >= 0)) nonNegative = false;
  }
  const label = (c: number) => labels?.[c] ?? `v${c}`;
  const parts: string[] = [];
  const shares = nonNegative && Math.abs(sum - 1) < 1e-6;
  for (let c = 0; c < output.length; c++) {
    parts.push(shares ? `${(output[c] * 100).toFixed(digits)}% ${label(c)}` : `${label(c)} ${Number(output[c].toPrecision(3))}`);
  }
  return parts.join(', ');
}

export interface NonFiniteCount {
  nan: number;
  posInf: number;
  negInf: number;
  total: number;
}

/** NaN and ±Infinity counts of an array (or its typed data). */
export function countNonFinite(a: NdArray | ArrayLike<number | bigint>): NonFiniteCount {
  const data = 'shape' in a && 'data' in a ? (a as NdArray).data : (a as ArrayLike<number | bigint>);
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  // Integer dtypes cannot hold NaN or Infinity; skip them (BigInt arrays included) without a pass.
  if (!(data instanceof BigInt64Array || data instanceof BigUint64Array)) {
    for (let i = 0; i < data.length; i++) {
      const x = Number(data[i]);
      if (x !== x) nan++;
      else if (x === Infinity) posInf++;
      else if (x === -Infinity) negInf++;
    }
  }
  return { nan, posInf, negInf, total: nan + posInf + negInf };
}
