/**
 * The streamed path for a whole AttentionInput (heads, projections, W_O, masks): chosen query rows computed exactly
 * (weights, scores and output of those rows only), or the output of every row with no weights ever materialised.
 * Validation, projection and the head split are the in-memory path's own (prepareAttention), so both paths agree on
 * every convention; an explicit mask may instead come lazily by rows (a mask file far larger than memory).
 */
import { combineHeads, prepareAttention } from '../attention/project';
import { maskedRowsWarning } from '../attention/rows';
import type { AttentionInput, MaskSpec, PreparedAttention } from '../attention/types';
import { MatrixError } from '../ndarray';
import { StreamDetail } from './detail';
import { streamHead } from './engine';
import type { MaskRows, StreamHead, StreamMask, StreamSettings } from './types';

export interface StreamInputOptions {
  /** An explicit mask read lazily by rows, per head (instead of input.mask). */
  lazyMask?: (head: number) => MaskRows;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

const f32 = (a: Float32Array | Float64Array): Float32Array => (a instanceof Float32Array ? a : Float32Array.from(a));

/** Rows of a mask already in memory ([h?, n_q, n_k] bytes). */
function maskRowsOf(m: Extract<MaskSpec, { kind: 'matrix' }>, h: number, nq: number, nk: number): MaskRows {
  const base = m.perHead ? h * nq * nk : 0;
  return { nq, nk, rows: async (r0, r1) => m.data.slice(base + r0 * nk, base + r1 * nk) };
}

function headOf(p: PreparedAttention, h: number): { head: StreamHead; settings: (lazy?: MaskRows) => StreamSettings } {
  const head: StreamHead = { q: f32(p.q[h]), k: f32(p.k[h]), v: f32(p.v[h]), nq: p.nq, nk: p.nk, dk: p.dk, dv: p.dv };
  const settings = (lazy?: MaskRows): StreamSettings => {
    const m = p.mask;
    const mask: StreamMask = lazy ? { kind: 'rows', source: lazy }
      : m.kind === 'causal' ? { kind: 'causal', offset: m.offset }
        : m.kind === 'matrix' ? { kind: 'rows', source: maskRowsOf(m, h, p.nq, p.nk) } : { kind: 'none' };
    return { similarity: p.similarity, scaleFactor: p.scaleFactor, mask };
  };
  return { head, settings };
}

function prepare(input: AttentionInput, opts: StreamInputOptions): PreparedAttention {
  if (opts.lazyMask && input.mask !== undefined) throw new MatrixError('give the mask either in memory or lazily, not both');
  return prepareAttention(input, { float32: true });
}

export interface StreamedRows {
  heads: number;
  rows: number[];
  nk: number;
  /** [h, len, n_k] */
  weights: Float32Array;
  scores: Float32Array;
  /** [len, outputDim]: heads concatenated, W_O-projected when given. */
  output: Float32Array;
  outputDim: number;
  warnings: string[];
}

/** The weights, raw scores and output of the given query rows only (exact, float64 inside, like the reference). */
export async function attentionRows(input: AttentionInput, rows: readonly number[], opts: StreamInputOptions = {}): Promise<StreamedRows> {
  const p = prepare(input, opts);
  const { heads, nq, nk, dv } = p;
  for (const r of rows) {
    if (!Number.isInteger(r) || r < 0 || r >= nq) throw new MatrixError(`row ${r} is outside the ${nq} query rows (0…${nq - 1})`);
  }
  const len = rows.length;
  const weights = new Float32Array(heads * len * nk);
  const scores = new Float32Array(heads * len * nk);
  const headOutputs = new Float32Array(heads * len * dv);
  const warnings = [...p.warnings];
  for (let h = 0; h < heads; h++) {
    const { head, settings } = headOf(p, h);
    // Rows computed whole need no per-row max and sum from a sweep.
    const detail = new StreamDetail(head, settings(opts.lazyMask?.(h)), { max: new Float64Array(0), sum: new Float64Array(0) });
    const masked: number[] = [];
    for (let x = 0; x < len; x++) {
      if (opts.signal?.aborted) throw new MatrixError('cancelled');
      const r = await detail.row(rows[x]);
      weights.set(r.weights, (h * len + x) * nk);
      scores.set(r.scores, (h * len + x) * nk);
      headOutputs.set(r.output ?? [], (h * len + x) * dv);
      if (r.scaled.every((s) => s === -Infinity)) masked.push(rows[x]);
      opts.onProgress?.((h * len + x + 1) / (heads * len));
    }
    const w = maskedRowsWarning(h, heads, masked);
    if (w) warnings.push(w);
  }
  const { output, outputDim } = combineHeads({ ...p, nq: len }, headOutputs);
  return { heads, rows: [...rows], nk, weights, scores, output, outputDim, warnings };
}

export interface StreamedOutput {
  heads: number;
  nq: number;
  /** [n_q, outputDim] */
  output: Float32Array;
  outputDim: number;
  warnings: string[];
}

/** The output of every query row, head by head through the streamed engine: no n_q × n_k array at any point. */
export async function attentionOutput(input: AttentionInput, opts: StreamInputOptions = {}): Promise<StreamedOutput> {
  const p = prepare(input, opts);
  const { heads, nq, dv } = p;
  const headOutputs = new Float32Array(heads * nq * dv);
  const warnings = [...p.warnings];
  for (let h = 0; h < heads; h++) {
    const { head, settings } = headOf(p, h);
    const r = await streamHead(head, settings(opts.lazyMask?.(h)), {
      output: true, signal: opts.signal, onProgress: opts.onProgress && ((f) => opts.onProgress?.((h + f) / heads)),
    });
    headOutputs.set(r.output as Float32Array, h * nq * dv);
    const w = maskedRowsWarning(h, heads, r.maskedRows);
    if (w) warnings.push(w);
  }
  const { output, outputDim } = combineHeads(p, headOutputs);
  return { heads, nq, output, outputDim, warnings };
}
