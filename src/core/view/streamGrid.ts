/**
 * Per-layer Q/K dumps ([H, T, d] or [L, H, T, d], K/V possibly with fewer heads: grouped-query attention) as a
 * layers × heads grid of pooled thumbnails, each head streamed from Q and K (never T × T in memory), computed head by
 * head with progress and cancellation and cached by the caller while its panel lives; the selected head opens at full
 * length as a streamed model (tiles, cells and rows on demand).
 */
import { MatrixError, toFloat32 } from '../ndarray';
import type { NdArray } from '../ndarray';
import { poolToSize } from '../../shared/pool';
import type { HeatmapModel } from '../../shared/types';
import { streamHead } from '../stream/engine';
import { headView, kvHeadOf } from '../stream/types';
import type { StreamHead, StreamSettings } from '../stream/types';
import { buildStreamedModel } from './streamModel';
import { headsCancelled, prepareTokens } from '../heads';
import type { HeadScores, HeadTable, HeadWorkOptions } from '../heads';
import { HEAD_METRICS, TOKEN_METRICS } from '../../shared/heads';

export interface HeadStack {
  layers: number;
  heads: number;
  kvHeads: number;
  t: number;
  tk: number;
  dk: number;
  dv: number;
}

/** Q [L?, H, T, d], K [L?, H_kv, T_k, d], V [L?, H_kv, T_k, d_v]: the stack's sizes, or a MatrixError naming the mismatch. */
export function headStack(q: NdArray, k: NdArray, v?: NdArray): HeadStack {
  const r = q.shape.length;
  if (r !== 3 && r !== 4) throw new MatrixError(`Q must be [H, T, d] or [L, H, T, d] for a heads grid, but it has shape ${q.shape.join('×')}`);
  const lead = (a: NdArray, what: string) => {
    if (a.shape.length !== r) throw new MatrixError(`${what} has shape ${a.shape.join('×')} but Q has ${r} dimensions (${q.shape.join('×')})`);
    return a.shape;
  };
  const [layers, heads, t, dk] = r === 4 ? q.shape : [1, ...q.shape];
  const ks = lead(k, 'K');
  const [kl, kvHeads, tk, dk2] = r === 4 ? ks : [1, ...ks];
  if (kl !== layers) throw new MatrixError(`K has ${kl} layers but Q has ${layers}`);
  if (dk2 !== dk) throw new MatrixError(`K has width ${dk2} but Q has width ${dk}`);
  if (kvHeads < 1 || heads % kvHeads !== 0) throw new MatrixError(`Q's ${heads} heads are not a multiple of K's ${kvHeads} (grouped-query attention shares each K/V head among H/H_kv query heads)`);
  let dv = dk;
  if (v) {
    const [vl, vh, vt, vd] = r === 4 ? lead(v, 'V') : [1, ...lead(v, 'V')];
    if (vl !== layers || vh !== kvHeads || vt !== tk) throw new MatrixError(`V has shape ${v.shape.join('×')} but K has ${k.shape.join('×')}`);
    dv = vd;
  }
  return { layers, heads, kvHeads, t, tk, dk, dv };
}

/** Layer l, query head h as a streamed head: Q's view and its K/V head's views (GQA: ⌊h·H_kv/H⌋). */
export function stackHead(s: HeadStack, q: Float32Array, k: Float32Array, v: Float32Array | undefined, l: number, h: number): StreamHead {
  const g = kvHeadOf(h, s.heads, s.kvHeads);
  return {
    q: headView(q, l * s.heads + h, s.t, s.dk), k: headView(k, l * s.kvHeads + g, s.tk, s.dk),
    v: v && headView(v, l * s.kvHeads + g, s.tk, s.dv), nq: s.t, nk: s.tk, dk: s.dk, dv: s.dv,
  };
}

/** Thumbnails already computed, by "layer/head" (the caller keeps one per panel). */
export type ThumbnailCache = Map<string, Float32Array>;

/**
 * Head metrics already measured in a sweep, by "layer/head", with the tokens they were measured with (compared by
 * identity: the same array the caller holds, or undefined).
 */
export type MetricsCache = Map<string, { tokens: readonly string[] | undefined; scores: HeadScores }>;

export interface StreamGridOptions {
  /** When given (and the heads are square), the thumbnail sweeps also measure each head's metrics (no tokens). */
  metrics?: MetricsCache;
  title: string;
  overviewSize: number;
  cellSize: number;
  selection?: { layer: number; head: number };
  cache: ThumbnailCache;
  file?: string;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

/**
 * The grid model: every head's thumbnail (cellSize², the head's max-pooled weights), then the selected head (default
 * layer 0, head 0) at full length. Progress covers the thumbnails still to compute and then the selected head.
 */
export async function buildStreamedGridModel(qa: NdArray, ka: NdArray, va: NdArray | undefined, settings: StreamSettings, opts: StreamGridOptions): Promise<HeatmapModel> {
  const s = headStack(qa, ka, va);
  const q = toFloat32(qa);
  const k = toFloat32(ka);
  const v = va && toFloat32(va);
  const size = opts.cellSize;
  const cells = new Float32Array(s.layers * s.heads * size * size);
  const todo: [number, number][] = [];
  for (let l = 0; l < s.layers; l++) for (let h = 0; h < s.heads; h++) if (!opts.cache.has(`${l}/${h}`)) todo.push([l, h]);
  const steps = todo.length + 1;
  let done = 0;
  const measure = opts.metrics !== undefined && s.t === s.tk;
  for (const [l, h] of todo) {
    const head = stackHead(s, q, k, undefined, l, h);
    const r = await streamHead(head, settings, {
      overviewSize: size, entropy: false, signal: opts.signal, onProgress: (f) => opts.onProgress?.((done + f) / steps),
      metrics: measure,
    });
    if (measure && r.scores && !opts.metrics?.has(`${l}/${h}`)) opts.metrics?.set(`${l}/${h}`, { tokens: undefined, scores: r.scores });
    const ov = r.overview as { rows: number; cols: number; data: Float32Array };
    // maxPool's blocks first (exact, in the sweep), then to exactly cellSize² (the same when T is a multiple of it).
    opts.cache.set(`${l}/${h}`, poolToSize(ov, size, size, false));
    done++;
  }
  for (let l = 0; l < s.layers; l++) for (let h = 0; h < s.heads; h++) cells.set(opts.cache.get(`${l}/${h}`) as Float32Array, (l * s.heads + h) * size * size);
  const layer = Math.min(Math.max(0, opts.selection?.layer ?? 0), s.layers - 1);
  const hd = Math.min(Math.max(0, opts.selection?.head ?? 0), s.heads - 1);
  const model = await buildStreamedModel(stackHead(s, q, k, v, layer, hd), settings, {
    title: opts.title, overviewSize: opts.overviewSize, file: opts.file, signal: opts.signal,
    onProgress: (f) => opts.onProgress?.((done + f) / steps),
  });
  model.grid = { layers: s.layers, heads: s.heads, cellSize: size, cells };
  model.selection = { layer, head: hd };
  const gqa = s.kvHeads < s.heads ? ` (K/V head ${kvHeadOf(hd, s.heads, s.kvHeads)} of ${s.kvHeads})` : '';
  model.subtitle = `${s.layers > 1 ? `layer ${layer} · ` : ''}head ${hd}${gqa} · ${model.subtitle ?? ''}`;
  return model;
}

/**
 * The head table of a Q/K stack, every head measured in a streamed sweep (never T × T in memory); heads already
 * measured with the same tokens come from the cache, the others are swept and cached.
 */
export async function streamedHeadTable(qa: NdArray, ka: NdArray, settings: StreamSettings, cache: MetricsCache, opts: HeadWorkOptions & { tokensFile?: string } = {}): Promise<HeadTable> {
  const s = headStack(qa, ka);
  if (s.t !== s.tk) throw new MatrixError(`the head metrics need square maps (each query also a key); these are ${s.t} × ${s.tk}`);
  const tokens = opts.tokens ? prepareTokens(opts.tokens, s.t, opts.tokensFile) : undefined;
  const q = toFloat32(qa);
  const k = toFloat32(ka);
  const count = s.layers * s.heads;
  const metrics: HeadTable['metrics'] = {};
  for (const m of HEAD_METRICS) if (tokens || !TOKEN_METRICS.includes(m)) metrics[m] = new Float64Array(count);
  opts.onProgress?.(0);
  for (let at = 0; at < count; at++) {
    if (opts.signal?.aborted) throw headsCancelled();
    const l = Math.floor(at / s.heads);
    const h = at % s.heads;
    const key = `${l}/${h}`;
    let scores = cache.get(key)?.tokens === opts.tokens ? cache.get(key)?.scores : undefined;
    if (!scores) {
      try {
        const r = await streamHead(stackHead(s, q, k, undefined, l, h), settings, {
          metrics: true, tokens, signal: opts.signal, onProgress: (f) => opts.onProgress?.((at + f) / count),
        });
        scores = r.scores as HeadScores;
      } catch (e) {
        throw e instanceof Error && e.name === 'AbortError' ? headsCancelled() : e;
      }
      cache.set(key, { tokens: opts.tokens, scores });
    }
    for (const m of HEAD_METRICS) {
      const column = metrics[m];
      if (column) column[at] = scores[m] as number;
    }
    opts.onProgress?.((at + 1) / count);
  }
  return { layers: s.layers, heads: s.heads, n: s.t, metrics };
}
