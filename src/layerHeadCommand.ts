/**
 * Select Layer/Head…: a head of the grid on screen, or another member of the open .npz. A dump with axes before
 * layers × heads (batch, sample) asks for an index on each first.
 */
import * as vscode from 'vscode';
import { activeController } from './commandDeps';
import type { CommandDeps } from './commandDeps';
import { formatShape } from './core/lenses';
import { drawableMembers, holdsMembers } from './core/matrixFile';

export async function selectLayerHead(deps: CommandDeps, layerArg: unknown, headArg: unknown, extraArg?: unknown): Promise<void> {
  const controller = activeController(deps);
  if (!controller) {
    void vscode.window.showInformationMessage('Attention Inspector: open a heatmap first (Attention: Open Attention Heatmap).');
    return;
  }
  if (typeof layerArg === 'number' && typeof headArg === 'number') {
    const extra = Array.isArray(extraArg) && extraArg.every((x) => typeof x === 'number') ? extraArg as number[] : undefined;
    await controller.selectHead(layerArg, headArg, extra);
    return;
  }
  // The picker axes first (batch, sample…): one quick pick each, the index shown now on top.
  const pickers = controller.model?.pickers ?? [];
  const extra: number[] = [];
  for (const [k, p] of pickers.entries()) {
    const items = Array.from({ length: p.size }, (_, i) => ({ label: `${p.name} ${i}`, description: i === p.index ? `of ${p.size} · shown now` : `of ${p.size}`, i }));
    const chosen = await vscode.window.showQuickPick([items[p.index], ...items.filter((_, i) => i !== p.index)], {
      title: `Select Layer/Head (${p.name}, ${k + 1} of ${pickers.length + 1})`, placeHolder: `Which ${p.name}`,
    });
    if (!chosen) return;
    extra.push(chosen.i);
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
  else if (picked.layer !== undefined && picked.head !== undefined) await controller.selectHead(picked.layer, picked.head, pickers.length ? extra : undefined);
}
