/** Export PNG… / Export CSV… of the heatmap in front. */
import * as path from 'path';
import * as vscode from 'vscode';
import { activeController } from './commandDeps';
import type { CommandDeps } from './commandDeps';
import { askExportTarget } from './exportDialog';

export async function exportView(deps: CommandDeps, format: 'png' | 'csv', target: vscode.Uri | undefined): Promise<void> {
  const controller = activeController(deps);
  if (!controller) {
    void vscode.window.showInformationMessage('Attention Inspector: focus a heatmap to export it.');
    return;
  }
  const where = target ?? (await askExportTarget(controller.source, format));
  if (!where) return; // cancelled: nothing is written anywhere
  if (format === 'png') await controller.exportPng(where);
  else await controller.exportCsv(where);
  vscode.window.setStatusBarMessage(`Attention Inspector: exported ${path.basename(where.path)}`, 4000);
}
