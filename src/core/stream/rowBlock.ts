/**
 * The row-block kernel seam of the streamed path: for a block of query rows of one head, scores → softmax weights →
 * output over all keys, and a pass that finds only each row's max and sum of exponentials. The WASM kernel
 * (wasmRows.ts) and a native one implement it; this file holds the interface and the plain-TypeScript kernel, which
 * runs every similarity exactly (float64 inside) and is the fallback where the others do not fit.
 */
import { similarityScore } from '../attention/rows';
import type { RowStats, StreamHead } from './types';

/** What a kernel is bound to: one head, its similarity (cosine already normalised to unit rows: run as dot). */
export interface KernelHead extends StreamHead {
  similarity: 'dot' | 'laplacian' | 'euclidean';
  scaleFactor: number;
  /** Causal offset (key j visible to row i iff j ≤ i + offset); undefined when not causal. */
  causalOffset?: number;
}

/** A block of finished weight rows, handed to a visitor; its arrays are valid only during the call. */
export interface WeightsBlock {
  /** First query row of the block and how many rows. */
  row0: number;
  rows: number;
  /** Row i's weights at [i·stride, i·stride + stored); keys from `stored` to n_k have weight 0 and are not stored. */
  weights: Float32Array;
  stride: number;
  stored: number;
  /**
   * The scaled scores, times `scoreUnit`, laid out like `weights` (for the entropy): before masking, or −∞ where the
   * key is masked (its weight is 0 either way).
   */
  scores: Float32Array | Float64Array;
  scoreUnit: number;
  /**
   * Block-local per-row softmax max and sum (see RowStats); absent: the consumer derives them from the weights (the
   * largest weight is 1/sum, at the max score), in the pass it makes over them anyway.
   */
  max?: Float64Array;
  sum?: Float64Array;
}

/** Where a one-pass sweep of rows puts its results (whole-head arrays, indexed by row; see sweep.ts SweepJob). */
export interface SweepTargets {
  stats: RowStats;
  entropy?: Float64Array;
  pooling?: { blockRows: number; blockCols: number; cols: number; data: Float32Array };
  /** Whole-head [n_q, d_v]. */
  output?: Float32Array;
}

export interface RowBlockKernel {
  /**
   * Rows [r0, r1) in one pass, no weights handed out: their stats, entropy, pooled overview and output straight into
   * the targets. Only kernels that can do this without a visitor have it (the native one).
   */
  sweep?(r0: number, r1: number, mask: Uint8Array | undefined, to: SweepTargets): void;
  /** Pass 1: max and sum of rows [r0, r1) into stats.max/sum at the rows' indices. `mask`: [r1 − r0, n_k] bytes. */
  rowStats(r0: number, r1: number, mask: Uint8Array | undefined, stats: RowStats): void;
  /**
   * Pass 2: rows [r0, r1). Each block of weights goes to `visit`; when `output` is given, row i's output lands at
   * output[(i − r0)·d_v …]. A fully masked row has zero weights, zero output, max −∞ and sum 0.
   */
  attend(r0: number, r1: number, mask: Uint8Array | undefined, visit?: (b: WeightsBlock) => void, output?: Float32Array): void;
}

/** Raw similarity of query row qi with key row kj (float64): dot, −L1 or −L2² (cosine arrives as dot of unit rows). */
export function similarityAt(h: KernelHead, qi: number, kj: number): number {
  return similarityScore(h.similarity, h.q, qi * h.dk, h.k, kj * h.dk, h.dk, 0, 0);
}

/** Rows per block of the TypeScript kernel (a visitor call per block). */
const TS_BLOCK = 8;

/** The exact TypeScript kernel: float64 scores and sums, every similarity and mask. */
export class TsRowBlocks implements RowBlockKernel {
  private readonly weights: Float32Array;
  private readonly scores: Float64Array;
  private readonly max = new Float64Array(TS_BLOCK);
  private readonly sum = new Float64Array(TS_BLOCK);

  constructor(private readonly head: KernelHead) {
    this.weights = new Float32Array(TS_BLOCK * head.nk);
    this.scores = new Float64Array(TS_BLOCK * head.nk);
  }

  private visible(i: number): number {
    const off = this.head.causalOffset;
    return off === undefined ? this.head.nk : Math.max(0, Math.min(this.head.nk, i + off + 1));
  }

  /** Scores of row i (before masking) into scores[at…], weights' exponent numerators, and its max and sum. */
  private row(i: number, mask: Uint8Array | undefined, maskAt: number, at: number, b: number): number {
    const h = this.head;
    const lim = this.visible(i);
    const s = this.scores;
    let max = -Infinity;
    for (let j = 0; j < lim; j++) {
      const x = similarityAt(h, i, j) * h.scaleFactor;
      s[at + j] = x;
      if (mask && mask[maskAt + j] === 0) continue;
      // NaN must win (as in NumPy), so `!(x <= max)`.
      if (!(x <= max)) max = x;
    }
    let sum = 0;
    if (max !== -Infinity) {
      for (let j = 0; j < lim; j++) if (!mask || mask[maskAt + j] !== 0) sum += Math.exp(s[at + j] - max);
    }
    this.max[b] = max;
    this.sum[b] = sum;
    return lim;
  }

  rowStats(r0: number, r1: number, mask: Uint8Array | undefined, stats: RowStats): void {
    const nk = this.head.nk;
    for (let i = r0; i < r1; i++) {
      this.row(i, mask, (i - r0) * nk, 0, 0);
      stats.max[i] = this.max[0];
      stats.sum[i] = this.sum[0];
    }
  }

  attend(r0: number, r1: number, mask: Uint8Array | undefined, visit?: (b: WeightsBlock) => void, output?: Float32Array): void {
    const { nk, dv } = this.head;
    const v = this.head.v;
    const w = this.weights;
    const acc = new Float64Array(dv);
    for (let b0 = r0; b0 < r1; b0 += TS_BLOCK) {
      const n = Math.min(TS_BLOCK, r1 - b0);
      for (let b = 0; b < n; b++) {
        const i = b0 + b;
        const at = b * nk;
        const lim = this.row(i, mask, (i - r0) * nk, at, b);
        const max = this.max[b];
        const inv = max === -Infinity ? 0 : 1 / this.sum[b];
        for (let j = 0; j < lim; j++) {
          w[at + j] = max === -Infinity || (mask && mask[(i - r0) * nk + j] === 0) ? 0 : Math.exp(this.scores[at + j] - max) * inv;
        }
        w.fill(0, at + lim, at + nk);
        this.scores.fill(0, at + lim, at + nk);
        if (output && v) {
          acc.fill(0);
          for (let j = 0; j < lim; j++) {
            // The float64 weight (not its float32 copy), as the reference accumulates.
            const x = max === -Infinity || (mask && mask[(i - r0) * nk + j] === 0) ? 0 : Math.exp(this.scores[at + j] - max) * inv;
            if (x === 0) continue;
            for (let c = 0; c < dv; c++) acc[c] += x * v[j * dv + c];
          }
          const oo = (i - r0) * dv;
          for (let c = 0; c < dv; c++) output[oo + c] = acc[c];
        }
      }
      visit?.({ row0: b0, rows: n, weights: w, stride: nk, stored: nk, scores: this.scores, scoreUnit: 1, max: this.max, sum: this.sum });
    }
  }
}
