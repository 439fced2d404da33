/**
 * CodeLenses in JSON matrix files: above each matrix key its shape ("K · 8×3") and "Show heatmap"; above a Q/K/V
 * object "Compute attention". Placement comes from scanJson's bounded scan (src/core/lenses.ts), so big files stay
 * cheap; files that hold no matrices get none. Binary .npy/.npz open in the custom editor and have no lenses.
 */
import * as vscode from 'vscode';
import { scanJson } from './core/jsonMatrix';
import { placeLenses } from './core/lenses';
import { fileKindOf } from './core/matrixFile';

export const OPEN_HEATMAP_COMMAND = 'attentionInspector.openHeatmap';

class MatrixCodeLensProvider implements vscode.CodeLensProvider {
  private cache: { uri: string; version: number; lenses: vscode.CodeLens[] } | undefined;

  provideCodeLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): vscode.CodeLens[] {
    if (fileKindOf(doc.uri.path) !== 'json') return [];
    const key = doc.uri.toString();
    if (this.cache && this.cache.uri === key && this.cache.version === doc.version) return this.cache.lenses;
    const text = doc.getText();
    let placements: ReturnType<typeof placeLenses>;
    try {
      placements = placeLenses(text, scanJson(text, vscode.workspace.asRelativePath(doc.uri)));
    } catch {
      return []; // a scanner bug must not break the editor; diagnostics report file problems
    }
    if (token.isCancellationRequested) return [];
    const lenses = placements.map((p) => {
      const line = doc.positionAt(p.offset).line;
      const range = new vscode.Range(line, 0, line, 0);
      switch (p.action.kind) {
        case 'info':
          // An empty command id renders as plain text: the shape is information, not an action.
          return new vscode.CodeLens(range, { title: p.title, command: '' });
        case 'show':
          return new vscode.CodeLens(range, {
            title: p.title, command: OPEN_HEATMAP_COMMAND, arguments: [doc.uri, p.action.member],
            tooltip: p.action.member ? `Heatmap of ${p.action.member}` : 'Heatmap of this matrix',
          });
        case 'compute':
          return new vscode.CodeLens(range, {
            title: p.title, command: OPEN_HEATMAP_COMMAND, arguments: [doc.uri],
            tooltip: 'softmax(sim(Q, K) · scale) · V for this file, in a heatmap',
          });
        default: {
          const never: never = p.action;
          return never;
        }
      }
    });
    this.cache = { uri: key, version: doc.version, lenses };
    return lenses;
  }
}

export function registerMatrixCodeLens(): vscode.Disposable {
  return vscode.languages.registerCodeLensProvider(
    // Files only: the lens commands open the file by path (on a remote, the extension host runs beside the files).
    [{ language: 'json', scheme: 'file' }, { language: 'jsonc', scheme: 'file' }],
    new MatrixCodeLensProvider(),
  );
}
