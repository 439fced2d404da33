/**
 * Checks the files a JSON spec names ("Q": "q.npy", "K": "bundle.npz#k") for the editor's squiggles: a missing
 * file, a folder, or an .npz without that member is reported at the string itself while the user types, not
 * only when a heatmap is opened. Pure apart from reading the file system; bounded: at most MAX_REFS references,
 * and an .npz is read only as far as its central directory.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { listMembers, splitRef } from './matrixFile';
import { MatrixError } from './ndarray';

export interface RefEntry {
  readonly key: string;
  readonly valueOffset: number;
  /** Just past the JSON string (scanJson's entries carry it). */
  readonly valueEnd?: number;
  readonly isRef?: string;
}

export interface RefProblem {
  /** Offset and length of the JSON string (quotes included) in the spec's text. */
  readonly offset: number;
  readonly length: number;
  readonly message: string;
}

const MAX_REFS = 32;

/** Problems with the files `entries` refer to, relative to the JSON file `jsonFile`. */
export async function checkRefs(entries: readonly RefEntry[], jsonFile: string): Promise<RefProblem[]> {
  const refs = entries.filter((e) => e.isRef !== undefined && /\.(npy|npz|safetensors)(#.*)?$/i.test(e.isRef)).slice(0, MAX_REFS);
  const problems: RefProblem[] = [];
  await Promise.all(refs.map(async (e) => {
    const ref = e.isRef as string;
    const { file, member } = splitRef(path.resolve(path.dirname(jsonFile), ref));
    const at = (message: string) => problems.push({ offset: e.valueOffset, length: Math.max(1, (e.valueEnd ?? e.valueOffset + 1) - e.valueOffset), message: `${e.key}: ${message}` });
    let st;
    try {
      st = await fsp.stat(file);
    } catch {
      at(`"${splitRef(ref).file}" was not found (paths are relative to this file)`);
      return;
    }
    if (!st.isFile()) {
      at(`"${splitRef(ref).file}" is not a file`);
      return;
    }
    if (member === undefined || !/\.(npz|safetensors)$/i.test(file)) return;
    try {
      const names = (await listMembers(file)).map((m) => m.name);
      if (!names.includes(member) && !names.includes(member.replace(/\.npy$/i, ''))) {
        at(`"${splitRef(ref).file}" has no member "${member}" (it holds ${names.length ? names.join(', ') : 'no arrays'})`);
      }
    } catch (err) {
      at(err instanceof MatrixError ? err.problem : String(err));
    }
  }));
  return problems.sort((a, b) => a.offset - b.offset);
}
