/**
 * A heatmap model for one long-context head computed from Q and K by the streamed engine: the sweep gives the
 * overview, row max and entropy; the model keeps the head and the per-row softmax normalisers so the server
 * (streamServe.ts) computes tiles, hover cells and pinned rows on demand. V stays as the model's `values`.
 */
import { describeScale } from '../../shared/format';
import type { HeatmapModel } from '../../shared/types';
import { StreamDetail } from '../stream/detail';
import { streamHead } from '../stream/engine';
import type { StreamHead, StreamSettings } from '../stream/types';
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
  const result = await streamHead(head, settings, {
    overviewSize: opts.overviewSize, entropy: true, signal: opts.signal, onProgress: opts.onProgress,
  });
  const detail = new StreamDetail(head, settings, result.stats);
  const mask = settings.mask.kind === 'causal' ? ' · causal' : settings.mask.kind === 'rows' ? ' · masked' : '';
  const base: HeatmapModel = {
    title: opts.title,
    subtitle: `${settings.similarity} · scale ${describeScale(settings.scaleFactor)}${mask} · ${head.nq.toLocaleString('en-US')}×${head.nk.toLocaleString('en-US')}, streamed from Q and K`,
    kinds: {},
    defaultKind: 'weights',
    queryLabels: opts.queryLabels?.length === head.nq ? opts.queryLabels : undefined,
    keyLabels: opts.keyLabels?.length === head.nk ? opts.keyLabels : undefined,
    values: head.v ? { rows: head.nk, cols: head.dv, data: head.v } : undefined,
    info: { file: opts.file, shape: [head.nq, head.nk], dtype: 'float32' },
    warnings: [...(opts.warnings ?? []), ...result.warnings],
  };
  return streamedModel(base, { detail, result });
}
