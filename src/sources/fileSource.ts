/** The source of a file or a member: its id is the file's URI (plus "#member"). No runtime vscode import. */
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { ArrayInfo } from '../core/matrixFile';
import type { HeatmapSource } from '../heatmapView';
import { loadBinary, loadJson } from '../loadPipeline';
import type { SourceEnv } from '../loadPipeline';
import { fileKindOf } from '../core/matrixFile';
import { fileSourceId } from '../sourceIds';
import { fileTrail } from './fileTrail';
import { arrayHeads, dumpHeads, resultHeads } from './sourceHeads';
import type { HeadsInput } from '../core/headAnalysis';

function uriOf(file: string, env: SourceEnv): string {
  return env.uriOf ? env.uriOf(file) : pathToFileURL(file).href;
}

/**
 * A source for a file, or one member of it ("K" in a JSON spec, "q" in an .npz). `onInfo` hears the header of each
 * .npy/.npz array a load opens.
 */
export function fileSource(
  file: string, member: string | undefined, env: SourceEnv, onInfo?: (info: ArrayInfo) => void,
): HeatmapSource {
  const base = path.basename(file);
  const title = member ? `${base} · ${member}` : base;
  const uri = uriOf(file, env);
  const trail = fileTrail();
  const ref = member ? `${file}#${member}` : file;
  let loads = 0;
  let heads: HeadsInput | undefined;
  return {
    id: fileSourceId(uri, member),
    title,
    load: (selection, onPartial) => {
      const version = ++loads;
      if (fileKindOf(file) !== 'json') {
        heads = dumpHeads(ref);
        return loadBinary(ref, title, selection, env, onInfo, onPartial);
      }
      heads = undefined;
      return loadJson(file, member, title, selection, env, trail.start(), (spec, result) => {
        const key = `${ref}\u0000${version}`;
        heads = result ? resultHeads(result, spec.queryLabels, key) : spec.weights ? arrayHeads(spec.weights, spec.queryLabels, key, file) : undefined;
      });
    },
    files: trail.files,
    heads: () => heads,
  };
}
