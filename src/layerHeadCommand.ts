/** Select Layer/Head…: a head of the grid on screen, or another member of the open .npz. */
import * as vscode from 'vscode';
import { activeController } from './commandDeps';
import type { CommandDeps } from './commandDeps';
import { formatShape } from './core/lenses';
import { drawableMembers, holdsMembers } from './core/matrixFile';

export async function selectLayerHead(deps: CommandDeps, layerArg: unknown, headArg: unknown): Promise<void> {
  const controller = activeController(deps);
  if (!controller) {
    void vscode.window.showInformationMessage('Attention Inspector: open a heatmap first (Attention: Open Attention Heatmap).');
    return;
  }
  if (typeof layerArg === 'number' && typeof headArg === 'number') {
    await controller.selectHead(layerArg, headArg);
    return;
  }
  const fromEditor = deps.npyEditors.fileOf(controller);
  // Layers and heads come from what is on screen: the model's grid (a dump, or a multi-head result).
  const grid = controller.model?.grid;
  const dims = grid ? { layers: grid.layers, heads: grid.heads } : undefined;
  const memberItems: (vscode.QuickPickItem & { member?: string; layer?: number; head?: number })[] = [];
  if (fromEditor && holdsMembers(fromEditor.path)) {
    for (const m of await drawableMembers(fromEditor.fsPath)) {
      memberItems.push({ label: `$(symbol-array) ${m.name}`, description: `${formatShape(m.info.shape)} ${m.info.dtype}`, member: m.name });
    }
  }
  if (!dims && memberItems.length === 0) {
    void vscode.window.showInformationMessage('Attention Inspector: this heatmap has a single layer and head.');
    return;
  }
  const items = [...memberItems];
  if (dims) {
    const cap = 4096;
    for (let l = 0; l < dims.layers; l++) {
      for (let h = 0; h < dims.heads && items.length < cap; h++) items.push({ label: `layer ${l} · head ${h}`, layer: l, head: h });
    }
  }
  const current = controller.model?.selection;
  const picked = await vscode.window.showQuickPick(items.map((i) => (
    current && i.layer === current.layer && i.head === current.head ? { ...i, description: 'shown now' } : i)),
  { title: 'Select Layer/Head', placeHolder: 'Layer and head to show' });
  if (!picked) return;
  if (picked.member) await deps.npyEditors.showMember(controller, picked.member);
  else if (picked.layer !== undefined && picked.head !== undefined) await controller.selectHead(picked.layer, picked.head);
}
