/**
 * The head metrics of src/core/heads.ts for a streamed head, accumulated per query row from each block of normalised
 * weights inside the sweep (never an n × n array). Each row's sums land in its own slots of a [n_q, ROW_SUMS] array,
 * so chunks on different workers never write the same cell; streamedScores reduces them to the metrics afterwards.
 * Square heads only (n_q = n_k): the metrics compare each query with its own position.
 */
import type { HeadScores } from '../heads';
import { countedWeight, MIN_NORMAL } from '../heads';
import type { WeightsBlock } from './rowBlock';

/** Per-row sums: Σ w ln w (negated), max_j w, Σ w, w_i0, w_ii, w_i,i−1, duplicate-token and induction numerators. */
const R_ENTROPY = 0;
const R_MAX = 1;
const R_TOTAL = 2;
const R_BOS = 3;
const R_SELF = 4;
const R_PREV = 5;
const R_DUP = 6;
const R_IND = 7;
export const ROW_SUMS = 8;

/** Tokens as integer ids with each id's positions ascending (heads.ts prepareTokens' TokenIndex, as plain arrays). */
export interface SweepTokens {
  ids: Int32Array;
  occStart: Int32Array;
  occPos: Int32Array;
}

export interface SweepMetrics {
  /** [n_q, ROW_SUMS], shared memory on the pool. */
  rows: Float64Array;
  tokens?: SweepTokens;
}

/**
 * Fold one block of weights into the per-row sums. `stats` holds each row's softmax max and sum (by absolute row),
 * as the sweep's own fold has just set them for this block (from the kernel, or derived from the weights).
 */
export function foldMetrics(m: SweepMetrics, b: WeightsBlock, stats: { max: ArrayLike<number>; sum: ArrayLike<number> }): void {
  const { weights: w, scores: x, stride, stored } = b;
  const rows = m.rows;
  const tok = m.tokens;
  for (let i = 0; i < b.rows; i++) {
    const row = b.row0 + i;
    const o = row * ROW_SUMS;
    const max = stats.max[row];
    const sum = stats.sum[row];
    // A fully masked row (max −∞) has zero weights; a row with a NaN score has NaN weights, which heads.ts counts as 0.
    if (!(max > -Infinity && max < Infinity) || !(sum > 0)) {
      rows.fill(0, o, o + ROW_SUMS);
      continue;
    }
    const base = i * stride;
    let total = 0;
    let best = 0;
    let acc = 0;
    for (let j = 0; j < stored; j++) {
      const v = w[base + j];
      if (v >= MIN_NORMAL && v < Infinity) {
        total += v;
        if (v > best) best = v;
        acc += v * x[base + j];
      }
    }
    // −Σ w ln w with ln w_j = s_j − max − ln sum, weighted by the row's own total (1 up to rounding).
    const entropy = (max + Math.log(sum)) * total - acc * b.scoreUnit;
    rows[o + R_ENTROPY] = entropy > 0 ? entropy : 0;
    rows[o + R_MAX] = best;
    rows[o + R_TOTAL] = total;
    rows[o + R_BOS] = stored > 0 ? countedWeight(w[base]) : 0;
    rows[o + R_SELF] = row < stored ? countedWeight(w[base + row]) : 0;
    rows[o + R_PREV] = row >= 1 && row - 1 < stored ? countedWeight(w[base + row - 1]) : 0;
    if (tok) {
      let dup = 0;
      let ind = 0;
      const t = tok.ids[row];
      const end = tok.occStart[t + 1];
      for (let q = tok.occStart[t]; q < end; q++) {
        const p = tok.occPos[q];
        if (p >= row) break; // positions ascend
        if (p < stored) dup += countedWeight(w[base + p]); // tok_p = tok_i, p < i
        if (p + 1 < stored) ind += countedWeight(w[base + p + 1]); // j = p + 1 ≤ i, tok_{j−1} = tok_i
      }
      rows[o + R_DUP] = dup;
      rows[o + R_IND] = ind;
    }
  }
}

/** The metrics of the head from its per-row sums (means over all n rows; shares of Σ_ij w_ij), as heads.ts headMetrics. */
export function streamedScores(m: SweepMetrics, n: number): HeadScores {
  const s = new Float64Array(ROW_SUMS);
  const rows = m.rows;
  for (let i = 0; i < n; i++) for (let c = 0; c < ROW_SUMS; c++) s[c] += rows[i * ROW_SUMS + c];
  const count = Math.max(1, n);
  const total = s[R_TOTAL];
  const share = (x: number) => (total > 0 ? x / total : 0);
  const scores: HeadScores = {
    entropy: 0 + s[R_ENTROPY] / count,
    max: s[R_MAX] / count,
    bos: s[R_BOS] / count,
    self: s[R_SELF] / count,
    previous_token: share(s[R_PREV]),
  };
  if (m.tokens) {
    scores.duplicate_token = share(s[R_DUP]);
    scores.induction = share(s[R_IND]);
  }
  return scores;
}
