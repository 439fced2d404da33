/** Attention computed from separately picked Q, K, V (the Compute Attention… command). No runtime vscode import. */
import * as path from 'path';
import type { ComputeChoice } from '../computeChoice';
import type { AttentionSpec } from '../core/jsonMatrix';
import { MatrixError, product } from '../core/ndarray';
import type { HeatmapSource } from '../heatmapView';
import { computeModel, gridCellSize, readRef } from '../loadPipeline';
import { scaleFactorFor } from '../core/attention/shapes';
import { buildStreamedGridModel } from '../core/view/streamGrid';
import type { MetricsCache, ThumbnailCache } from '../core/view/streamGrid';
import type { SourceEnv } from '../loadPipeline';
import { splitRef } from '../core/matrixFile';
import { computeSourceId } from '../sourceIds';
import { fileTrail } from './fileTrail';
import { resultHeads, streamedHeads } from './sourceHeads';
import type { HeadsInput } from '../core/headAnalysis';
import type { StreamSettings } from '../core/stream/types';

/** Attention from separately picked Q, K, V matrices (files or .npz members). */
export function computeSource(choice: ComputeChoice, env: SourceEnv): HeatmapSource {
  const names = [choice.q, choice.k, choice.v].filter((r): r is string => !!r).map((r) => path.basename(r));
  const title = `attention(${names.join(', ')})`;
  const trail = fileTrail([choice.q, choice.k, choice.v].filter((r): r is string => !!r).map((r) => splitRef(r).file));
  let loads = 0;
  let heads: HeadsInput | undefined;
  // The grid's thumbnails of a per-layer Q/K dump, kept while this source (its panel) lives.
  const thumbnails: ThumbnailCache = new Map();
  // Its heads' metrics, measured in the same sweeps (per tokens), for the head table.
  const measured: MetricsCache = new Map();
  return {
    id: computeSourceId(choice),
    title,
    files: trail.files,
    heads: () => heads,
    load: async (selection) => {
      const version = ++loads;
      const onRef = trail.start();
      const read = (ref: string | undefined) => (ref ? readRef(ref, env, onRef) : Promise.resolve(undefined));
      const [q, k, v] = await Promise.all([read(choice.q), read(choice.k), read(choice.v)]);
      if (!q) throw new MatrixError('no Q matrix was chosen', choice.q);
      const kk = k ?? q;
      const streamedGrid = q.shape.length >= 3 && choice.batch === undefined
        && product(q.shape.slice(0, -1)) * kk.shape[kk.shape.length - 2] > env.settings().maxCells;
      if (streamedGrid) {
        // Per-layer Q/K dumps too big to hold: a heads (layers × heads) grid, every head streamed from Q and K.
        // Smaller per-head Q/K/V ([H, n, d], grouped-query K/V) compute in memory below.
        const dk = q.shape[q.shape.length - 1];
        const t = q.shape[q.shape.length - 2];
        const tk = kk.shape[kk.shape.length - 2];
        const settings = env.settings();
        const lead = q.shape.length === 4 ? [q.shape[0], q.shape[1]] : [q.shape[0]];
        const stream: StreamSettings = {
          similarity: choice.similarity, scaleFactor: scaleFactorFor(choice.scale, choice.similarity, dk),
          mask: choice.mask === 'causal' ? { kind: 'causal', offset: tk - t } : { kind: 'none' },
        };
        // Square heads only (each query also a key). Measured heads are kept like the thumbnails, per panel.
        heads = t === tk ? streamedHeads(q, kk, stream, measured, `${computeSourceId(choice)}\u0000${version}`) : undefined;
        return (env.runLong ?? ((_t, work) => work(new AbortController().signal, () => undefined)))(
          `Computing ${lead.join('×')} heads of ${t.toLocaleString('en-US')} tokens, streamed from Q and K`,
          (signal, report) => buildStreamedGridModel(q, kk, v ?? k ?? q, stream, {
            metrics: t === tk ? measured : undefined, title, overviewSize: settings.overviewSize, cellSize: gridCellSize([...lead, t, t], settings.overviewSize),
            selection, cache: thumbnails, file: splitRef(choice.q).file, signal, onProgress: report,
          }));
      }
      const spec: AttentionSpec = {
        file: splitRef(choice.q).file, q, k, v,
        similarity: choice.similarity, scale: choice.scale,
        mask: choice.mask === 'causal' ? 'causal' : undefined,
        heads: choice.heads > 1 ? choice.heads : undefined,
        ...(choice.batch !== undefined ? { batch: choice.batch } : {}),
      };
      return computeModel(spec, env, title, selection, (result) => {
        heads = resultHeads(result, undefined, `${computeSourceId(choice)}\u0000${version}`);
      });
    },
  };
}
