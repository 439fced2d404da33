/** Open Attention Heatmap and Show in Side Panel. */
import * as path from 'path';
import * as vscode from 'vscode';
import { currentFile } from './commandDeps';
import type { CommandDeps } from './commandDeps';
import { fileKindOf } from './core/matrixFile';
import { fileSource } from './sources/fileSource';

export async function openHeatmap(deps: CommandDeps, uri: vscode.Uri | undefined, member: string | undefined): Promise<void> {
  const target = uri ?? (await currentFile(deps, true));
  if (!target) return;
  if (!fileKindOf(target.path)) {
    throw new Error(`${path.basename(target.path)} is not a JSON, .npy, .npz or .safetensors matrix file`);
  }
  const source = fileSource(target.fsPath, member, deps.env);
  // Beside a JSON file so the text and the picture are seen together; a binary file has no text to keep.
  const column = fileKindOf(target.path) === 'json' ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
  await deps.panels.show(source, column);
}

export async function showInSidePanel(deps: CommandDeps, uri: vscode.Uri | undefined): Promise<void> {
  const target = uri ?? (await currentFile(deps, true));
  if (!target) return;
  await deps.sidePanel.show(target);
}
