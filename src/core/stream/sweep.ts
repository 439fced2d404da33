/**
 * One sweep over a head's query rows in chunks, run the same way on this thread and on the workers: each chunk asks
 * a row-block kernel for its weights block by block and folds them into what the panel needs — each row's max and sum
 * (the softmax normaliser, kept for on-demand tiles and cells), its entropy, the max-pooled overview — and the
 * output rows. Every array here is shared memory when the sweep runs on the pool; chunks own whole pooled rows, so
 * workers never write the same cell.
 */
import type { KernelHead, RowBlockKernel, WeightsBlock } from './rowBlock';
import type { RowStats } from './types';
import { foldMetrics } from './metricsFold';
import type { SweepMetrics } from './metricsFold';

export interface SweepPooling {
  /** Source cells per pooled cell (maxPool's block sizes) and the pooled width. */
  blockRows: number;
  blockCols: number;
  cols: number;
  /** [ceil(n_q / blockRows), cols], filled with −∞ before the sweep. */
  data: Float32Array;
}

export interface SweepJob {
  /** Identifies the head across messages (a worker re-packs K only when it changes). */
  id: number;
  head: KernelHead;
  /** Run the WASM kernel (dot products; cosine comes normalised) or the exact TypeScript one. */
  wasm: boolean;
  /** Run the native addon's kernel (every similarity) where this thread can load it; before `wasm`. */
  native?: boolean;
  /** The rows of this batch, [r0, r1), and their explicit mask rows ([r1 − r0, n_k]) when masked so. */
  r0: number;
  r1: number;
  mask?: Uint8Array;
  /** Rows per chunk handed out: a multiple of the pooled block rows. */
  chunkRows: number;
  /** Hand out the last chunks first (causal: they are the longest, so the threads finish together). */
  reverse: boolean;
  stats: RowStats;
  /** Row entropy in nats, [n_q]. */
  entropy?: Float64Array;
  pooling?: SweepPooling;
  /** [n_q, d_v] */
  output?: Float32Array;
  /** The head metrics' per-row sums (metricsFold.ts), for a square head. */
  metrics?: SweepMetrics;
}

export function sweepChunks(job: SweepJob): number {
  return Math.ceil((job.r1 - job.r0) / job.chunkRows);
}

/** Rows [a, b) of chunk c. */
export function sweepChunkRange(job: SweepJob, c: number): { a: number; b: number } {
  const total = sweepChunks(job);
  const k = job.reverse ? total - 1 - c : c;
  const a = job.r0 + k * job.chunkRows;
  return { a, b: Math.min(job.r1, a + job.chunkRows) };
}

/**
 * A row's softmax max and sum from its weights when the kernel leaves them to the fold: the largest weight `top`
 * (at key `arg`) is exp(0)/sum, at the row's largest score. `top` −1: no weight above −1 (a NaN row, or no key).
 */
function derived(b: WeightsBlock, base: number, top: number, arg: number, out: { max: number; sum: number }): void {
  if (top > 0) {
    out.sum = 1 / top;
    out.max = b.scores[base + arg] * b.scoreUnit;
  } else if (top === 0 || b.stored === 0) {
    out.max = -Infinity;
    out.sum = 0;
  } else {
    out.max = NaN; // a NaN score made the whole row NaN, as in the in-memory path
    out.sum = NaN;
  }
}

/**
 * Fold one block of weights into the job's stats, entropy and pooled overview: one pass over each row (the row's
 * largest weight is found in the same pass when the kernel did not give its max and sum).
 */
function fold(job: SweepJob, b: WeightsBlock): void {
  const { nk } = job.head;
  const { weights: w, scores: x, stride, stored } = b;
  const p = job.pooling;
  const ms = { max: 0, sum: 0 };
  for (let i = 0; i < b.rows; i++) {
    const row = b.row0 + i;
    const base = i * stride;
    let acc = 0;
    let top = -1;
    let arg = 0;
    if (p) {
      const { blockCols: bc, cols, data } = p;
      const orow = Math.floor(row / p.blockRows) * cols;
      for (let oc = 0; oc < cols; oc++) {
        const c0 = oc * bc;
        const c1 = Math.min(nk, c0 + bc);
        const e = Math.min(c1, stored);
        let best = data[orow + oc];
        for (let j = c0; j < e; j++) {
          const v = w[base + j];
          if (v > best) best = v;
          if (v > top) {
            top = v;
            arg = j;
          }
          // Skipping zero weights is exact, and a kernel may store −∞ scores where a key is masked (0 · −∞ = NaN).
          if (v !== 0) acc += v * x[base + j];
        }
        // Keys past the stored prefix (under a causal mask) have weight 0.
        if (c1 > stored && 0 > best) best = 0;
        data[orow + oc] = best;
      }
    } else if (job.entropy) {
      for (let j = 0; j < stored; j++) {
        const v = w[base + j];
        if (v > top) {
          top = v;
          arg = j;
        }
        if (v !== 0) acc += v * x[base + j];
      }
    }
    if (b.max && b.sum) {
      ms.max = b.max[i];
      ms.sum = b.sum[i];
    } else {
      if (!p && !job.entropy) [top, arg] = largest(w, base, stored);
      derived(b, base, top, arg, ms);
    }
    const { max, sum } = ms;
    job.stats.max[row] = max;
    job.stats.sum[row] = sum;
    if (job.entropy) {
      // H = −Σ w ln w with ln w_j = s_j − max − ln sum: H = max + ln sum − Σ w_j s_j (no logarithm per cell).
      job.entropy[row] = max === -Infinity ? 0 : max + Math.log(sum) - acc * b.scoreUnit;
    }
  }
}

/** The largest weight of a row and where it is (−1 when none is above −1). */
function largest(w: Float32Array, base: number, stored: number): [number, number] {
  let top = -1;
  let arg = 0;
  for (let j = 0; j < stored; j++) {
    const v = w[base + j];
    if (v > top) {
      top = v;
      arg = j;
    }
  }
  return [top, arg];
}

/** Compute chunk c of the sweep with `kernel` (already bound to job.head); returns its row count. */
export function runSweepChunk(job: SweepJob, c: number, kernel: RowBlockKernel): number {
  const { a, b } = sweepChunkRange(job, c);
  if (b <= a) return 0;
  const nk = job.head.nk;
  const mask = job.mask?.subarray((a - job.r0) * nk, (b - job.r0) * nk);
  const dv = job.head.dv;
  const output = job.output?.subarray(a * dv, b * dv);
  const wantsBlocks = job.pooling !== undefined || job.entropy !== undefined || job.metrics !== undefined;
  if (kernel.sweep && !job.metrics) {
    // One pass in the kernel itself (native): no weights leave it.
    kernel.sweep(a, b, mask, job);
  } else if (!wantsBlocks && !output) {
    kernel.rowStats(a, b, mask, job.stats);
  } else {
    kernel.attend(a, b, mask, (blk) => (wantsBlocks ? foldAll(job, blk) : copyStats(job, blk)), output);
  }
  return b - a;
}

function foldAll(job: SweepJob, b: WeightsBlock): void {
  fold(job, b);
  if (job.metrics) foldMetrics(job.metrics, b, job.stats);
}

function copyStats(job: SweepJob, b: WeightsBlock): void {
  if (b.max && b.sum) {
    job.stats.max.set(b.max.subarray(0, b.rows), b.row0);
    job.stats.sum.set(b.sum.subarray(0, b.rows), b.row0);
    return;
  }
  const ms = { max: 0, sum: 0 };
  for (let i = 0; i < b.rows; i++) {
    const base = i * b.stride;
    const [top, arg] = largest(b.weights, base, b.stored);
    derived(b, base, top, arg, ms);
    job.stats.max[b.row0 + i] = ms.max;
    job.stats.sum[b.row0 + i] = ms.sum;
  }
}
