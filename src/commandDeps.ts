/**
 * What every command is given (CommandDeps), and the two questions most of them ask: which heatmap is in front,
 * and which matrix file the user means.
 */
import * as vscode from 'vscode';
import type { ActiveMatrixTracker } from './contextKeys';
import type { HeatmapController, HeatmapSource } from './heatmapView';
import type { SourceEnv } from './loadPipeline';
import { fileKindOf } from './core/matrixFile';
import type { NpyEditorProvider } from './npyEditor';
import type { SidePanel } from './sidePanel';
import { fileOfId } from './sourceIds';

/** What commands need from the editor-area heatmap panels (HeatmapPanels in heatmapPanel.ts). */
export interface PanelHost {
  show(source: HeatmapSource, column?: vscode.ViewColumn): unknown;
  readonly active: HeatmapController | undefined;
}

export interface CommandDeps {
  readonly context: vscode.ExtensionContext;
  readonly env: SourceEnv;
  readonly tracker: ActiveMatrixTracker;
  readonly panels: PanelHost;
  readonly sidePanel: SidePanel;
  readonly npyEditors: NpyEditorProvider;
}

/** The heatmap commands act on: the focused panel or custom editor, else the visible side panel. */
export function activeController(deps: CommandDeps): HeatmapController | undefined {
  return deps.panels.active ?? deps.npyEditors.active ?? deps.sidePanel.visibleController ?? deps.npyEditors.recent;
}

/** The matrix file in focus (custom editor, panel, tracked editor); with `ask`, an open dialog when none is. */
export async function currentFile(deps: CommandDeps, ask: boolean): Promise<vscode.Uri | undefined> {
  const focused = deps.npyEditors.active;
  const fromEditor = focused ? deps.npyEditors.fileOf(focused) : undefined;
  const panelFile = deps.panels.active ? fileOfId(deps.panels.active.source.id) : undefined;
  const editorDoc = vscode.window.activeTextEditor?.document.uri;
  const found = fromEditor ?? (panelFile ? vscode.Uri.file(panelFile) : undefined) ?? deps.tracker.current
    ?? (editorDoc && fileKindOf(editorDoc.path) ? editorDoc : undefined);
  if (found || !ask) return found;
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false, openLabel: 'Open Heatmap', filters: { 'Matrix files': ['json', 'npy', 'npz', 'safetensors'] },
  });
  return picked?.[0];
}
