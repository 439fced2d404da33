/**
 * Source ids, both ways. An id names what a heatmap shows and is all a revived panel keeps: a file URI with an
 * optional "#member", "compute:{choice}" or "compare:[idA, idB]". Ids come back from persisted webview state, so
 * they are parsed as untrusted input. Pure (no vscode import).
 */
import { fileURLToPath } from 'url';
import { parseComputeChoice } from './computeChoice';
import type { ComputeChoice } from './computeChoice';
import { fileKindOf } from './core/matrixFile';

export type ParsedSourceId =
  | { readonly kind: 'file'; readonly file: string; readonly member?: string }
  | { readonly kind: 'compute'; readonly choice: ComputeChoice }
  | { readonly kind: 'compare'; readonly a: string; readonly b: string };

/** `uri` is the file's URI as text (the editor's own, so panels match files and revive exactly). */
export function fileSourceId(uri: string, member?: string): string {
  return member ? `${uri}#${member}` : uri;
}

export function computeSourceId(choice: ComputeChoice): string {
  return `compute:${JSON.stringify(choice)}`;
}

export function compareSourceId(a: string, b: string): string {
  return `compare:${JSON.stringify([a, b])}`;
}

/** What an id names, or undefined for anything unrecognised or tampered with. */
export function parseSourceId(id: string): ParsedSourceId | undefined {
  try {
    if (id.startsWith('compute:')) {
      const choice = parseComputeChoice(JSON.parse(id.slice('compute:'.length)));
      return choice ? { kind: 'compute', choice } : undefined;
    }
    if (id.startsWith('compare:')) {
      const pair: unknown = JSON.parse(id.slice('compare:'.length));
      if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((x) => typeof x === 'string')) return undefined;
      return { kind: 'compare', a: pair[0] as string, b: pair[1] as string };
    }
    if (!id.startsWith('file:')) return undefined;
    const hash = id.lastIndexOf('#');
    const uri = hash > 0 ? id.slice(0, hash) : id;
    const member = hash > 0 ? decodeURIComponent(id.slice(hash + 1)) : undefined;
    const file = fileURLToPath(uri);
    return fileKindOf(file) ? { kind: 'file', file, member: member || undefined } : undefined;
  } catch {
    return undefined;
  }
}

/** The file a source id shows ("file:///w/a.npz#q" → "/w/a.npz"), for matching watcher events. */
export function fileOfId(id: string): string | undefined {
  if (!id.startsWith('file:')) return undefined;
  const hash = id.lastIndexOf('#');
  try {
    return fileURLToPath(hash > 0 ? id.slice(0, hash) : id);
  } catch {
    return undefined;
  }
}
