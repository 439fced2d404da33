/** A − B of two sources (the Compare With… command). No runtime vscode import. */
import type { HeatmapSource } from '../heatmapView';
import { diffModels } from '../core/view/model';
import { streamedPart } from '../core/view/streamServe';
import { MatrixError } from '../core/ndarray';
import type { ViewKind } from '../shared/types';
import { compareSourceId, fileOfId } from '../sourceIds';

/** A − B of two sources, on the diverging map; the kind is the first of A's default that both have. */
export function compareSource(a: HeatmapSource, b: HeatmapSource): HeatmapSource {
  const own = (s: HeatmapSource) => [fileOfId(s.id), ...(s.files?.() ?? [])].filter((f): f is string => !!f);
  return {
    id: compareSourceId(a.id, b.id),
    title: `${a.title} − ${b.title}`,
    files: () => [...new Set([...own(a), ...own(b)])],
    load: async (selection) => {
      const [ma, mb] = await Promise.all([a.load(selection), b.load(selection)]);
      const streamed = [ma, mb].find((m) => streamedPart(m));
      if (streamed) {
        // A − B of two streamed heads needs a joint sweep over both (not built yet); say so rather than diff nothing.
        throw new MatrixError(`${streamed.title} is a long-context head streamed from Q and K (${streamed.info.shape?.join('×') ?? ''}), which Compare cannot difference yet; compare rows with the CLI (compute --rows) or raise attentionInspector.maxCells`);
      }
      const kind: ViewKind = ma.kinds[ma.defaultKind] && mb.kinds[ma.defaultKind] ? ma.defaultKind
        : (Object.keys(ma.kinds) as ViewKind[]).find((k) => mb.kinds[k]) ?? ma.defaultKind;
      return diffModels(ma, mb, kind);
    },
  };
}
