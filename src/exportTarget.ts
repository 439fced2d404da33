/**
 * Where Export PNG/CSV offers to save: beside the file the heatmap shows (for a computation, its Q file), named
 * after the heatmap. Pure (no runtime vscode import) so it runs in unit tests; exportDialog.ts asks the user.
 */
import * as path from 'path';
import { fileOfId } from './sourceIds';

export type ExportFormat = 'png' | 'csv';

/** What of a HeatmapSource names the export. */
export interface ExportSource {
  readonly id: string;
  readonly title: string;
  files?(): readonly string[];
}

/** "colours.attention.json" → "colours", "a.npz · q" → "a_q", "attention(q.npy, k.npy)" → "attention_q_k". */
export function exportName(title: string, format: ExportFormat): string {
  const stem = title
    .replace(/\.(attention\.json|attn\.json|json|npy|npz)\b/gi, '')
    .replace(/[^\w.-]+/g, '_')
    .replace(/^[_.]+|_+$/g, '');
  return `${stem || 'attention'}.${format}`;
}

/**
 * The default save path for a source: its file's folder (the id is a file URI, so it is converted, never tested
 * with path.isAbsolute as text), else the folder of the first file it read, else the workspace folder.
 */
export function exportDefaultPath(
  source: ExportSource,
  format: ExportFormat, workspaceFolder?: string,
): string | undefined {
  const file = fileOfId(source.id) ?? source.files?.()[0];
  const dir = file && path.isAbsolute(file) ? path.dirname(file) : workspaceFolder;
  return dir ? path.join(dir, exportName(source.title, format)) : undefined;
}
