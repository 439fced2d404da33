/**
 * The native kernel (native/attention.c through the addon, AVX-512 / AVX2 where the CPU has them) behind the
 * RowBlockKernel seam. Each block of query rows is one single-threaded `run` over a Q row subarray and the keys the
 * block can see (under a causal mask only that prefix of K/V, with the mask offset shifted to the block's first
 * row), writing weights, scaled scores and output rows into block-sized buffers; the sweep's threads give
 * the parallelism, so the addon never starts helpers of its own here. The addon keeps each thread's packed K/V
 * between calls for one head (the job id is the cache key), so the many block calls pack it once. A row's max and sum come from its weights as
 * in wasmRows.ts (the largest weight is exp(0)/sum, at the row's largest score).
 */
import type { NativeAddon, NativeParams } from '../compute/native';
import type { KernelHead, RowBlockKernel, SweepTargets, WeightsBlock } from './rowBlock';
import type { RowStats } from './types';

/**
 * Cells (rows × visible keys) per addon call: 2 Mi (8 MiB each for weights and scores, 64 rows at n_k = 32,768), so
 * two threads stay far under the memory budget.
 */
const BLOCK_CELLS = 1 << 21;
const MIN_ROWS = 8;

export class NativeRowBlocks implements RowBlockKernel {
  private head: KernelHead | undefined;
  private key: unknown;
  private weights = new Float32Array(0);
  /** Scaled scores, −∞ where masked: the addon's `scores` and `scaled` views aliased (it writes raw, then scaled). */
  private scaled = new Float32Array(0);
  private out = new Float32Array(0);
  /** Zero V of width 1 for heads without V (the addon always takes one). */
  private zeros = new Float32Array(0);

  constructor(private readonly addon: NativeAddon) {}

  /** Use this head from now on; `key` identifies it. */
  bind(head: KernelHead, key: unknown): this {
    if (this.head && this.key === key) return this;
    this.head = head;
    this.key = key;
    return this;
  }

  private bound(): KernelHead {
    if (!this.head) throw new Error('NativeRowBlocks: no head bound');
    return this.head;
  }

  /** Keys rows [a, b) can see: a prefix under a causal mask (at least one key: the addon needs n_k ≥ 1). */
  private prefix(a: number, b: number): number {
    const { nk, causalOffset } = this.bound();
    return causalOffset === undefined ? nk : Math.max(1, Math.min(nk, b - 1 + causalOffset + 1));
  }

  /** The addon's parameters for rows [a, b) over keys [0, prefix); `mask` holds those rows' [b − a, n_k] bytes. */
  private params(a: number, b: number, prefix: number, mask: Uint8Array | undefined): NativeParams {
    const h = this.bound();
    const withV = h.v !== undefined && h.dv > 0;
    const dv = withV ? h.dv : 1;
    if (!withV && this.zeros.length < prefix) this.zeros = new Float32Array(h.nk);
    return {
      heads: 1, kvHeads: 1, nq: b - a, nk: prefix, dk: h.dk, dv,
      op: h.similarity === 'laplacian' ? 1 : h.similarity === 'euclidean' ? 2 : 0,
      scale: h.scaleFactor,
      maskKind: mask ? 2 : h.causalOffset !== undefined ? 1 : 0,
      maskOffset: h.causalOffset !== undefined ? h.causalOffset + a : 0,
      mask, maskPerHead: 0,
      q: h.q.subarray(a * h.dk, b * h.dk),
      k: h.k.subarray(0, prefix * h.dk),
      v: withV ? (h.v as Float32Array).subarray(0, prefix * dv) : this.zeros.subarray(0, prefix),
      fd: -1, fdOffset: 0, threads: 1,
      // The job id: later calls for this head reuse the K/V the addon packed for the first (see release).
      cacheKey: typeof this.key === 'number' && this.key > 0 && this.key <= 0x7fffffff ? this.key : 0,
    };
  }

  rowStats(r0: number, r1: number, mask: Uint8Array | undefined, stats: RowStats): void {
    const n = r1 - r0;
    if (n <= 0) return;
    const p = this.params(r0, r1, this.prefix(r0, r1), mask);
    const mx = new Float32Array(n);
    const sm = new Float32Array(n);
    const code = this.addon.rowStats(p, mx, sm);
    if (code !== 0) throw new Error(`the native kernel failed (code ${code})`);
    for (let i = 0; i < n; i++) {
      stats.max[r0 + i] = mx[i];
      stats.sum[r0 + i] = sm[i];
    }
  }

  /** Present when the loaded addon has the one-pass sweep (an addon built before it does not). */
  get sweep(): ((r0: number, r1: number, mask: Uint8Array | undefined, to: SweepTargets) => void) | undefined {
    return this.addon.sweep ? this.sweepRows : undefined;
  }

  /**
   * Rows [r0, r1) in one addon call: K and V packed once for the call, each row's scores, softmax, entropy, pooled
   * weights and output computed while its scores are in cache, no weights written anywhere.
   */
  private readonly sweepRows = (r0: number, r1: number, mask: Uint8Array | undefined, to: SweepTargets): void => {
    const h = this.bound();
    if (r1 <= r0) return;
    const p = this.params(r0, r1, this.prefix(r0, r1), mask);
    const withOutput = to.output !== undefined && h.v !== undefined;
    if (withOutput) p.output = (to.output as Float32Array).subarray(r0 * h.dv, r1 * h.dv);
    const pool = to.pooling;
    const code = (this.addon.sweep as NonNullable<NativeAddon['sweep']>)(p, {
      max: to.stats.max.subarray(r0, r1),
      sum: to.stats.sum.subarray(r0, r1),
      entropy: to.entropy?.subarray(r0, r1),
      pooled: pool?.data.subarray(Math.floor(r0 / pool.blockRows) * pool.cols),
      poolBlockRows: pool?.blockRows, poolBlockCols: pool?.blockCols, poolCols: pool?.cols,
      row0: r0,
    });
    if (code !== 0) throw new Error(`the native kernel failed (code ${code})`);
  };

  /** The addon's parameters for the whole bound head (every row, every key), for calls of its own (attn_diff). */
  headParams(): NativeParams {
    const h = this.bound();
    return { ...this.params(0, h.nq, h.nk, undefined), cacheKey: 0 };
  }

  /** The sweep of a head is over on this thread: free the packed K/V the addon kept for it. */
  release(): void {
    this.addon.releaseCache?.();
  }

  private ensure(rows: number, cells: number, dv: number): void {
    if (this.weights.length < cells) {
      this.weights = new Float32Array(cells);
      this.scaled = new Float32Array(cells);
    }
    if (this.out.length < rows * dv) this.out = new Float32Array(rows * dv);
  }

  attend(r0: number, r1: number, mask: Uint8Array | undefined, visit?: (b: WeightsBlock) => void, output?: Float32Array): void {
    const h = this.bound();
    const { nk } = h;
    const withOutput = output !== undefined && h.v !== undefined;
    // Rows per call from the widest block (the last under a causal mask); a multiple of 8 (the addon's row tile).
    const rowsPer = Math.max(MIN_ROWS, Math.floor(BLOCK_CELLS / this.prefix(r0, r1) / 8) * 8);
    for (let b0 = r0; b0 < r1; b0 += rowsPer) {
      const b1 = Math.min(r1, b0 + rowsPer);
      const n = b1 - b0;
      const prefix = this.prefix(b0, b1);
      const blockMask = mask?.subarray((b0 - r0) * nk, (b1 - r0) * nk);
      const p = this.params(b0, b1, prefix, blockMask);
      this.ensure(n, n * prefix, p.dv);
      p.weights = this.weights;
      p.scores = this.scaled;
      p.scaled = this.scaled;
      p.output = withOutput ? (output as Float32Array).subarray((b0 - r0) * h.dv, (b1 - r0) * h.dv) : this.out;
      const code = this.addon.run(p);
      if (code !== 0) throw new Error(`the native kernel failed (code ${code})`);
      // No max and sum: the sweep's fold finds each row's largest weight in its own pass over the block.
      visit?.({ row0: b0, rows: n, weights: this.weights, stride: prefix, stored: prefix, scores: this.scaled, scoreUnit: 1 });
    }
  }
}
