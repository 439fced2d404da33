/**
 * The row kernel: scores, scaled scores, softmax and the weighted sum of values for a range of rows of one
 * head. The reference runs it on whole heads; the fast path runs it where the WASM kernel does not apply.
 */
import type { HeadData, MaskSpec, RowOutputs, Similarity } from './types';

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
      const s = similarityScore(similarity, q, qo, k, ko, dk, qNorm, kNorm ? kNorm[j] : 0);
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

/**
 * The raw score of query row `qo` against key row `ko` (float64 sums): dot, cosine (given both norms), −‖q−k‖₁ or
 * −‖q−k‖₂². The one definition for the reference rows and the streamed engine's exact cells and rows.
 */
/**
 * Dot products of query row q[qo…] with keys [c0, c1) of K into out[0…]: the same float64 sums, term by term in the
 * same order, as similarityScore's dot, four keys at a time (a streamed hover scores a whole 32k-key row with it).
 */
export function dotScores(q: Float32Array, qo: number, k: Float32Array, dk: number, c0: number, c1: number, out: Float64Array): void {
  let j = c0;
  for (; j + 4 <= c1; j += 4) {
    const k0 = j * dk;
    const k1 = k0 + dk;
    const k2 = k1 + dk;
    const k3 = k2 + dk;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let t = 0; t < dk; t++) {
      const x = q[qo + t];
      s0 += x * k[k0 + t];
      s1 += x * k[k1 + t];
      s2 += x * k[k2 + t];
      s3 += x * k[k3 + t];
    }
    out[j - c0] = s0;
    out[j - c0 + 1] = s1;
    out[j - c0 + 2] = s2;
    out[j - c0 + 3] = s3;
  }
  for (; j < c1; j++) {
    const ko = j * dk;
    let s = 0;
    for (let t = 0; t < dk; t++) s += q[qo + t] * k[ko + t];
    out[j - c0] = s;
  }
}

export function similarityScore(
  similarity: Similarity, q: ArrayLike<number>, qo: number, k: ArrayLike<number>, ko: number, dk: number, qNorm: number, kNorm: number,
): number {
  let s = 0;
  switch (similarity) {
    case 'dot':
      for (let t = 0; t < dk; t++) s += q[qo + t] * k[ko + t];
      return s;
    case 'cosine': {
      for (let t = 0; t < dk; t++) s += q[qo + t] * k[ko + t];
      const n = qNorm * kNorm;
      return n === 0 ? 0 : s / n;
    }
    case 'laplacian':
      for (let t = 0; t < dk; t++) s -= Math.abs(q[qo + t] - k[ko + t]);
      return s;
    case 'euclidean':
      for (let t = 0; t < dk; t++) {
        const e = q[qo + t] - k[ko + t];
        s -= e * e;
      }
      return s;
  }
}
