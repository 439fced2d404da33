/**
 * Attention maths: O = softmax(sim(Q, K) · scale, masked) · V, with projections and heads.
 * Pure (no vscode import). `computeAttention` is the exact reference: float64 inside, float32 results.
 * This file is the engine's public entry; the parts live in attention/: types.ts, shapes.ts (the one set of
 * shape rules), project.ts (projection and heads), rows.ts (the row kernel), reference.ts. The fast path
 * (WASM SIMD + worker pool, compute/fast.ts) reuses `prepareAttention` and `attendRows` from there, so both
 * paths share one definition of every variant.
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
import type { AttentionInput, AttentionResult, FastOptions } from './attention/types';

export { computeAttention } from './attention/reference';
export { attentionShape, validateInput } from './attention/shapes';
export { SIMILARITIES } from './attention/types';
export type { AttentionDims, AttentionInput, AttentionResult, FastOptions, Scale, Similarity } from './attention/types';

/**
 * The fast path: WASM SIMD kernel, on a worker pool for large inputs, with a plain-TypeScript fallback.
 * Loaded on first use so the reference path stays small (no wasm or worker set-up until asked for).
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
