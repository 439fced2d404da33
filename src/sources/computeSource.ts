/** Attention computed from separately picked Q, K, V (the Compute Attention… command). No runtime vscode import. */
import * as path from 'path';
import type { ComputeChoice } from '../computeChoice';
import type { AttentionSpec } from '../core/jsonMatrix';
import { MatrixError } from '../core/ndarray';
import type { HeatmapSource } from '../heatmapView';
import { computeModel, readRef } from '../loadPipeline';
import type { SourceEnv } from '../loadPipeline';
import { splitRef } from '../core/matrixFile';
import { computeSourceId } from '../sourceIds';
import { fileTrail } from './fileTrail';

/** Attention from separately picked Q, K, V matrices (files or .npz members). */
export function computeSource(choice: ComputeChoice, env: SourceEnv): HeatmapSource {
  const names = [choice.q, choice.k, choice.v].filter((r): r is string => !!r).map((r) => path.basename(r));
  const title = `attention(${names.join(', ')})`;
  const trail = fileTrail([choice.q, choice.k, choice.v].filter((r): r is string => !!r).map((r) => splitRef(r).file));
  return {
    id: computeSourceId(choice),
    title,
    files: trail.files,
    load: async () => {
      const onRef = trail.start();
      const read = (ref: string | undefined) => (ref ? readRef(ref, env, onRef) : Promise.resolve(undefined));
      const [q, k, v] = await Promise.all([read(choice.q), read(choice.k), read(choice.v)]);
      if (!q) throw new MatrixError('no Q matrix was chosen', choice.q);
      const spec: AttentionSpec = {
        file: splitRef(choice.q).file, q, k, v,
        similarity: choice.similarity, scale: choice.scale,
        mask: choice.mask === 'causal' ? 'causal' : undefined,
        heads: choice.heads > 1 ? choice.heads : undefined,
      };
      return computeModel(spec, env, title);
    },
  };
}
