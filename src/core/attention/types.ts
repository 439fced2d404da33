/**
 * The engine's types: what goes in (AttentionInput), what comes out (AttentionResult), and the prepared form
 * the kernels share, and the one list of similarities. It imports nothing but a type, so every part of the
 * engine (and the host) can import it without a cycle.
 */
import type { NdArray } from '../ndarray';

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
  /**
   * Which batch entry of [B, H, n, d] inputs (and a [B, H, n_q, n_k] mask) to compute; default 0, with a
   * warning when B > 1.
   */
  batch?: number;
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
  /**
   * Q, K, V came split into heads ([H, n, d]); then K and V may have fewer heads (grouped-query attention):
   * query head h reads KV head ⌊h·kvHeads/heads⌋, the repeat_kv convention.
   */
  perHead?: boolean;
  kvHeads?: number;
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
  /** Which kernel computed it, e.g. `native (avx512)` or `wasm (fma)`; absent for the float64 reference. */
  kernel?: string;
  /**
   * The raw and scaled score of one cell, without making the n_q×n_k score views (hover on a large map); present
   * where `scores` and `scaled` are made on first access.
   */
  scoreAt?(head: number, row: number, col: number): { score: number; scaled: number };
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
  /**
   * Which kernel: `auto` (native when the addon loads, else WASM), `native` (or an error), `wasm`; the engine's
   * own `wasm-simd` and `ts` force those builds (tests, bench). Default: the process preference
   * (compute/native.ts: the attentionInspector.kernel setting, the CLI's --kernel).
   */
  kernel?: 'auto' | 'native' | 'wasm' | 'wasm-simd' | 'ts';
  /**
   * This process runs job after job (the extension host): the native kernel keeps a reserve of memory faulted in
   * while idle for the next results (compute/native.ts, "The reserve"). Default false (the CLI's one job).
   */
  reserve?: boolean;
}
