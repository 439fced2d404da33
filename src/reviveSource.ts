/**
 * Turns a saved source id back into a live source (a revived panel knows only the id it saved). Anything
 * unrecognised gives undefined. No runtime vscode import.
 */
import type { HeatmapSource } from './heatmapView';
import type { SourceEnv } from './loadPipeline';
import { parseSourceId } from './sourceIds';
import { compareSource } from './sources/compareSource';
import { computeSource } from './sources/computeSource';
import { fileSource } from './sources/fileSource';

export function sourceFromId(id: string, env: SourceEnv): HeatmapSource | undefined {
  const parsed = parseSourceId(id);
  switch (parsed?.kind) {
    case 'file':
      return fileSource(parsed.file, parsed.member, env);
    case 'compute':
      return computeSource(parsed.choice, env);
    case 'compare': {
      const a = sourceFromId(parsed.a, env);
      const b = sourceFromId(parsed.b, env);
      return a && b ? compareSource(a, b, env) : undefined;
    }
    default:
      return undefined;
  }
}
