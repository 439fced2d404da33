/**
 * Status bar: the active matrix file's shape and dtype ("K 8×3 · V 8×2" for a JSON spec, "2×4×16×16 float32" for
 * a .npy, "3 arrays" for an .npz); a click opens its heatmap. Hidden when no matrix file has been active. While a
 * heatmap of a computation or a comparison is in front, it describes that result instead ("6×9 float32,
 * computed"), not the last file.
 */
import * as vscode from 'vscode';
import { scanJson } from './core/jsonMatrix';
import { formatShape } from './core/lenses';
import { listMembers } from './core/matrixFile';
import { LatestGate } from './core/coalesce';
import type { ActiveMatrixTracker } from './contextKeys';
import { describeFile } from './loadPipeline';
import { fileKindOf } from './core/matrixFile';
import { fileOfId } from './sourceIds';
import type { HeatmapController } from './heatmapView';

/** The heatmap panel in front, if any, and when that changes. */
export interface FrontPanel {
  readonly active: HeatmapController | undefined;
  readonly onDidChangeActive: vscode.Event<void>;
}

export function registerStatusBar(tracker: ActiveMatrixTracker, panels?: FrontPanel): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('attentionInspector.status', vscode.StatusBarAlignment.Right, 100);
  item.name = 'Attention Inspector';
  const gate = new LatestGate();

  const update = async (): Promise<void> => {
    const token = gate.start();
    const front = panels?.active;
    if (front && !fileOfId(front.source.id)) {
      const shape = front.model?.info.shape;
      // Nothing to describe yet (still computing, or it failed and the panel says why): say nothing.
      if (!shape) {
        item.hide();
        return;
      }
      item.text = `$(graph) ${`${formatShape(shape)} ${front.model?.info.dtype ?? ''}`.trim()}, ${front.source.id.startsWith('compare:') ? 'difference' : 'computed'}`;
      item.tooltip = `Attention Inspector: ${front.source.title}`;
      item.command = undefined;
      item.show();
      return;
    }
    const uri = tracker.current;
    if (!uri) {
      item.hide();
      return;
    }
    let text: string;
    try {
      text = await summarize(uri);
    } catch (err) {
      text = `$(warning) ${err instanceof Error && err.name === 'MatrixError' ? 'unreadable matrix' : 'matrix'}`;
    }
    if (!gate.isCurrent(token)) return; // another file became active, or we were disposed, while reading
    item.text = `$(graph) ${text}`;
    item.tooltip = `Attention Inspector: ${vscode.workspace.asRelativePath(uri)} — click to open the heatmap`;
    item.command = { title: 'Open Attention Heatmap', command: 'attentionInspector.openHeatmap', arguments: [uri] };
    item.show();
  };

  const subs = [
    item,
    tracker.onDidChange(() => void update()),
    ...(panels ? [panels.onDidChangeActive(() => void update())] : []),
    vscode.workspace.onDidSaveTextDocument((doc) => {
      if (doc.uri.toString() === tracker.current?.toString()) void update();
    }),
  ];
  void update();
  return new vscode.Disposable(() => {
    gate.dispose();
    for (const s of subs) s.dispose();
  });
}

async function summarize(uri: vscode.Uri): Promise<string> {
  const kind = fileKindOf(uri.path);
  if (kind === 'npy') {
    const info = await describeFile(uri.fsPath);
    return `${formatShape(info.shape)} ${info.dtype}`;
  }
  if (kind === 'npz' || kind === 'safetensors') {
    const members = await listMembers(uri.fsPath);
    if (members.length === 1) return `${members[0].name} ${formatShape(members[0].info.shape)} ${members[0].info.dtype}`;
    return `${members.length} arrays`;
  }
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  const text = doc ? doc.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  const scan = scanJson(text, uri.fsPath);
  const shown = scan.entries.filter((e) => e.shape && !/labels$|^description$/i.test(e.key)).slice(0, 3);
  const parts = shown.map((e) => `${e.key || 'matrix'} ${formatShape(e.shape ?? [])}`);
  // JSON numbers are float64 when read; say so once.
  return parts.length ? `${parts.join(' · ')} float64` : 'JSON matrix';
}
