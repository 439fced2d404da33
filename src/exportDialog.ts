/**
 * The save dialog of Export PNG/CSV, for both the command and the heatmap's own Export buttons: one default
 * (beside the source's file, see exportTarget.ts), one filter per format.
 */
import * as vscode from 'vscode';
import { exportDefaultPath } from './exportTarget';
import type { ExportFormat, ExportSource } from './exportTarget';

/** Asks where to export; undefined when cancelled (then nothing is written anywhere). */
export async function askExportTarget(source: ExportSource, format: ExportFormat): Promise<vscode.Uri | undefined> {
  const fallback = exportDefaultPath(source, format, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
  return vscode.window.showSaveDialog({
    saveLabel: `Export ${format.toUpperCase()}`,
    filters: format === 'png' ? { 'PNG image': ['png'] } : { 'CSV table': ['csv'] },
    defaultUri: fallback ? vscode.Uri.file(fallback) : undefined,
  });
}
