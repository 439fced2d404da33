/**
 * The one mapping from an attention spec (a JSON file's keys) to the engine's input, used by the CLI, the
 * extension and the spec's own shape checks (jsonMatrix), so all three compute the same thing.
 */
import type { AttentionInput } from './attention/types';
import type { AttentionSpec } from './jsonMatrix';
import { MatrixError } from './ndarray';
import type { NdArray } from './ndarray';

/**
 * The spec key whose matrix is the engine's Q: Q itself, else X (self-attention on X, usually with its
 * projections), else a plain matrix file. K, V, W_Q, W_K, W_V, W_O are the keys of the same names.
 */
export function queryKeyOf(m: { q?: unknown; x?: unknown; matrix?: unknown }): 'q' | 'x' | 'matrix' | undefined {
  return m.q !== undefined ? 'q' : m.x !== undefined ? 'x' : m.matrix !== undefined ? 'matrix' : undefined;
}

/** The engine input a spec describes; throws a MatrixError when it has nothing to compute from. */
export function specToInput(spec: AttentionSpec): AttentionInput {
  const key = queryKeyOf(spec);
  if (!key) {
    throw new MatrixError(`has no Q or X to compute attention from${spec.weights ? ' (it holds precomputed weights)' : ''}`, spec.file);
  }
  return {
    q: spec[key] as NdArray, k: spec.k, v: spec.v, wq: spec.wq, wk: spec.wk, wv: spec.wv, wo: spec.wo,
    heads: spec.heads, mask: spec.mask, scale: spec.scale, similarity: spec.similarity,
    ...(spec.batch !== undefined ? { batch: spec.batch } : {}),
  };
}
