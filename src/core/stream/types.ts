/**
 * Long-context attention, one head at a time, never holding n_q × n_k: the types the streamed engine, its row-block
 * kernels and the on-demand detail share. A head is given as views (Q [n_q, d_k], K [n_k, d_k], V [n_k, d_v]), so
 * grouped-query attention is a matter of which K/V view a query head is paired with (kvHeadOf).
 */
import type { Similarity } from '../attention/types';

/** One head's inputs: C-order float32 views (subarrays of a [H, T, d] stack are fine). */
export interface StreamHead {
  q: Float32Array;
  k: Float32Array;
  /** Absent when only weights are wanted (no output). */
  v?: Float32Array;
  nq: number;
  nk: number;
  dk: number;
  dv: number;
}

/**
 * Explicit mask rows, read lazily: `rows(r0, r1)` gives [r1 − r0, n_k] bytes, 1 = attend. Implemented over an
 * in-memory array or a mask file's positional reads (mask.ts).
 */
export interface MaskRows {
  readonly nq: number;
  readonly nk: number;
  rows(r0: number, r1: number): Promise<Uint8Array>;
}

/** How a streamed head is masked: nothing, causal aligned at the end (offset n_k − n_q), or explicit rows. */
export type StreamMask =
  | { kind: 'none' }
  | { kind: 'causal'; offset: number }
  | { kind: 'rows'; source: MaskRows };

export interface StreamSettings {
  similarity: Similarity;
  /** The factor scores are multiplied by (scaleFactorFor). */
  scaleFactor: number;
  mask: StreamMask;
}

/**
 * Per query row, the softmax normaliser (pass 1): `max` is the largest scaled score among visible keys (−∞ for a
 * fully masked row, NaN for a row with a NaN score) and `sum` is Σ_j exp(s_ij − max). Then w_ij = exp(s_ij − max)/sum.
 */
export interface RowStats {
  max: Float64Array;
  sum: Float64Array;
}

/** The query head h's K/V head under grouped-query attention with `kvHeads` key/value heads (⌊h·H_kv/H⌋). */
export function kvHeadOf(h: number, heads: number, kvHeads: number): number {
  return Math.floor((h * kvHeads) / heads);
}

/** Head h of a C-order [H, T, d] stack, as a view (no copy). */
export function headView(stack: Float32Array, h: number, t: number, d: number): Float32Array {
  return stack.subarray(h * t * d, (h + 1) * t * d);
}
