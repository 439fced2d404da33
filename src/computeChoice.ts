/**
 * What "Compute Attention from Q, K, V…" asked for: kept per workspace so the next run offers it first, and
 * written into compute source ids, so it is parsed back as untrusted input. Pure (no vscode import).
 */
import { SIMILARITIES } from './core/attention';
import type { Scale, Similarity } from './core/attention';
import { parseScale } from './core/settings';

export interface ComputeChoice {
  readonly q: string;          // "path" or "path#member"
  readonly k?: string;
  readonly v?: string;
  readonly similarity: Similarity;
  readonly scale: Scale;
  readonly mask: 'none' | 'causal';
  readonly heads: number;
  /** The batch entry of [B, H, n, d] inputs. */
  readonly batch?: number;
}

/** workspaceState survives versions and hand edits: check every field before trusting a stored choice. */
export function parseComputeChoice(value: unknown): ComputeChoice | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const ref = (x: unknown) => typeof x === 'string' && x.length > 0 && x.length < 4096;
  if (!ref(v.q) || (v.k !== undefined && !ref(v.k)) || (v.v !== undefined && !ref(v.v))) return undefined;
  if (!SIMILARITIES.includes(v.similarity as Similarity)) return undefined;
  const scale = parseScale(v.scale);
  if (scale === undefined) return undefined;
  if (v.mask !== 'none' && v.mask !== 'causal') return undefined;
  if (typeof v.heads !== 'number' || !Number.isInteger(v.heads) || v.heads < 1 || v.heads > 1024) return undefined;
  if (v.batch !== undefined && (typeof v.batch !== 'number' || !Number.isSafeInteger(v.batch) || v.batch < 0)) return undefined;
  return {
    q: v.q as string, k: v.k as string | undefined, v: v.v as string | undefined,
    similarity: v.similarity as Similarity, scale, mask: v.mask, heads: v.heads,
    ...(v.batch !== undefined ? { batch: v.batch as number } : {}),
  };
}
