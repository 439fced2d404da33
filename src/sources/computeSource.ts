/** Attention computed from separately picked Q, K, V (the Compute Attention… command). No runtime vscode import. */
import * as path from 'path';
import type { ComputeChoice } from '../computeChoice';
import type { AttentionSpec } from '../core/jsonMatrix';
import { MatrixError } from '../core/ndarray';
import { buildModelFromSpec } from '../core/view/model';
import type { HeatmapSource } from '../heatmapView';
import { compute, readRef } from '../loadPipeline';
import type { SourceEnv } from '../loadPipeline';
import { splitRef } from '../core/matrixFile';
import { computeSourceId } from '../sourceIds';
import { fileTrail } from './fileTrail';
import { resultHeads } from './sourceHeads';
import type { HeadsInput } from '../core/headAnalysis';

/** Attention from separately picked Q, K, V matrices (files or .npz members). */
export function computeSource(choice: ComputeChoice, env: SourceEnv): HeatmapSource {
  const names = [choice.q, choice.k, choice.v].filter((r): r is string => !!r).map((r) => path.basename(r));
  const title = `attention(${names.join(', ')})`;
  const trail = fileTrail([choice.q, choice.k, choice.v].filter((r): r is string => !!r).map((r) => splitRef(r).file));
  let loads = 0;
  let heads: HeadsInput | undefined;
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
      const spec: AttentionSpec = {
        file: splitRef(choice.q).file, q, k, v,
        similarity: choice.similarity, scale: choice.scale,
        mask: choice.mask === 'causal' ? 'causal' : undefined,
        heads: choice.heads > 1 ? choice.heads : undefined,
        ...(choice.batch !== undefined ? { batch: choice.batch } : {}),
      };
      const result = await compute(spec, env);
      heads = resultHeads(result, undefined, `${computeSourceId(choice)}\u0000${version}`);
      return buildModelFromSpec(spec, result, title, selection);
    },
  };
}
