/** A − B of two sources (the Compare With… command). No runtime vscode import. */
import type { HeatmapSource } from '../heatmapView';
import type { SourceEnv } from '../loadPipeline';
import { DEFAULT_SETTINGS } from '../core/settings';
import { diffModels } from '../core/view/model';
import { buildStreamedDiff } from '../core/view/streamDiff';
import { streamedPart } from '../core/view/streamServe';
import type { ViewKind } from '../shared/types';
import { compareSourceId, fileOfId } from '../sourceIds';

/**
 * A − B of two sources, on the diverging map; the kind is the first of A's default that both have. When either is a
 * long-context head streamed from Q and K, their weights are differenced on demand (streamDiff.ts) under the env's
 * progress and cancel.
 */
export function compareSource(a: HeatmapSource, b: HeatmapSource, env?: Pick<SourceEnv, 'settings' | 'runLong'>): HeatmapSource {
  const own = (s: HeatmapSource) => [fileOfId(s.id), ...(s.files?.() ?? [])].filter((f): f is string => !!f);
  return {
    id: compareSourceId(a.id, b.id),
    title: `${a.title} − ${b.title}`,
    files: () => [...new Set([...own(a), ...own(b)])],
    load: async (selection) => {
      const [ma, mb] = await Promise.all([a.load(selection), b.load(selection)]);
      if (streamedPart(ma) || streamedPart(mb)) {
        const overviewSize = (env?.settings() ?? DEFAULT_SETTINGS).overviewSize;
        const shape = ma.info.shape?.join('×') ?? '';
        const work = (signal: AbortSignal, onProgress: (f: number) => void) => buildStreamedDiff(ma, mb, { overviewSize, signal, onProgress });
        return env?.runLong ? env.runLong(`Comparing ${ma.title} − ${mb.title} (${shape}, computed on demand)`, work) : work(new AbortController().signal, () => undefined);
      }
      const kind: ViewKind = ma.kinds[ma.defaultKind] && mb.kinds[ma.defaultKind] ? ma.defaultKind
        : (Object.keys(ma.kinds) as ViewKind[]).find((k) => mb.kinds[k]) ?? ma.defaultKind;
      return diffModels(ma, mb, kind);
    },
  };
}
