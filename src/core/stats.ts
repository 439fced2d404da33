/**
 * Summaries of attention maps for the views: attention rollout across layers and the one count of non-finite
 * values (head mean and max are accumulated head by head in view/model.ts's GridBuilder). Pure; float64 sums.
 */
import { MatrixError } from './ndarray';
import type { NdArray } from './ndarray';

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

export interface NonFiniteCount {
  nan: number;
  posInf: number;
  negInf: number;
  total: number;
}

/**
 * NaN and ±Infinity counts of an array (or its typed data): the one count, for the engine's input warnings and
 * the views. x − x is 0 for every finite number and NaN otherwise, so finite values cost one test each.
 */
export function countNonFinite(a: NdArray | ArrayLike<number | bigint>): NonFiniteCount {
  const data = 'shape' in a && 'data' in a ? (a as NdArray).data : (a as ArrayLike<number | bigint>);
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  // Integer dtypes cannot hold NaN or Infinity; skip them (BigInt arrays included) without a pass.
  if (data instanceof Float32Array) {
    // The common case, in its own loop: one element type, so the engine compiles it tight (~10× the shared loop).
    for (let i = 0; i < data.length; i++) {
      const x = data[i];
      if (x - x === 0) continue;
      if (x !== x) nan++;
      else if (x > 0) posInf++;
      else negInf++;
    }
  } else if (!(data instanceof BigInt64Array || data instanceof BigUint64Array)) {
    const n = data as ArrayLike<number>;
    for (let i = 0; i < n.length; i++) {
      const x = n[i];
      if (x - x === 0) continue;
      if (x !== x) nan++;
      else if (x > 0) posInf++;
      else negInf++;
    }
  }
  return { nan, posInf, negInf, total: nan + posInf + negInf };
}
