/**
 * A heatmap model for one long-context head computed from Q and K by the streamed engine: the sweep gives the
 * overview, row max and entropy; the model keeps the head and the per-row softmax normalisers so the server
 * (streamServe.ts) computes tiles, hover cells and pinned rows on demand. V stays as the model's `values`.
 */
import { prepareAttention } from '../attention/project';
import type { AttentionInput } from '../attention/types';
import { describeScale } from '../../shared/format';
import type { HeatmapModel } from '../../shared/types';
import { StreamDetail } from '../stream/detail';
import { streamHead } from '../stream/engine';
import type { StreamHead, StreamMask, StreamSettings } from '../stream/types';
import { streamedModel } from './streamServe';

export interface StreamModelOptions {
  title: string;
  overviewSize: number;
  queryLabels?: string[];
  keyLabels?: string[];
  file?: string;
  warnings?: string[];
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

export async function buildStreamedModel(head: StreamHead, settings: StreamSettings, opts: StreamModelOptions): Promise<HeatmapModel> {
  // The output O ([n_q, d_v], small) comes from the same pass: the panel's "output" kind, as for an in-memory head.
  const withOutput = head.v !== undefined && head.dv > 0;
  const result = await streamHead(head, settings, {
    overviewSize: opts.overviewSize, entropy: true, output: withOutput, signal: opts.signal, onProgress: opts.onProgress,
  });
  const detail = new StreamDetail(head, settings, result.stats);
  const mask = settings.mask.kind === 'causal' ? ' · causal' : settings.mask.kind === 'rows' ? ' · masked' : '';
  const base: HeatmapModel = {
    title: opts.title,
    subtitle: `${settings.similarity} · scale ${describeScale(settings.scaleFactor)}${mask} · ${head.nq.toLocaleString('en-US')}×${head.nk.toLocaleString('en-US')}, streamed from Q and K`,
    kinds: result.output ? { output: { rows: head.nq, cols: head.dv, data: result.output } } : {},
    defaultKind: 'weights',
    queryLabels: opts.queryLabels?.length === head.nq ? opts.queryLabels : undefined,
    keyLabels: opts.keyLabels?.length === head.nk ? opts.keyLabels : undefined,
    values: head.v ? { rows: head.nk, cols: head.dv, data: head.v } : undefined,
    info: { file: opts.file, shape: [head.nq, head.nk], dtype: 'float32' },
    warnings: [...(opts.warnings ?? []), ...result.warnings],
  };
  return streamedModel(base, { detail, result });
}

/**
 * A streamed model from a whole input (validated, projected and split into heads as the in-memory path does):
 * head `head` (default 0) of it. An explicit mask in memory is read by rows from there.
 */
export async function buildStreamedModelFromInput(input: AttentionInput, opts: StreamModelOptions & { head?: number }): Promise<HeatmapModel> {
  const p = prepareAttention(input, { float32: true });
  const h = Math.min(Math.max(0, Math.floor(opts.head ?? 0)), p.heads - 1);
  const f32 = (a: Float32Array | Float64Array) => (a instanceof Float32Array ? a : Float32Array.from(a));
  const head: StreamHead = { q: f32(p.q[h]), k: f32(p.k[h]), v: f32(p.v[h]), nq: p.nq, nk: p.nk, dk: p.dk, dv: p.dv };
  const m = p.mask;
  const base = m.kind === 'matrix' && m.perHead ? h * p.nq * p.nk : 0;
  const mask: StreamMask = m.kind === 'causal' ? { kind: 'causal', offset: m.offset }
    : m.kind === 'matrix' ? { kind: 'rows', source: { nq: p.nq, nk: p.nk, rows: async (r0, r1) => m.data.slice(base + r0 * p.nk, base + r1 * p.nk) } }
      : { kind: 'none' };
  const model = await buildStreamedModel(head, { similarity: p.similarity, scaleFactor: p.scaleFactor, mask }, { ...opts, warnings: [...(opts.warnings ?? []), ...p.warnings] });
  if (p.heads > 1) model.subtitle = `head ${h} of ${p.heads} · ${model.subtitle ?? ''}`;
  return model;
}
