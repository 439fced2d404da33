/**
 * Editor-area heatmap panels: one per source id, revived after a reload of the window through a
 * WebviewPanelSerializer. The webview stores only its source's id (path or URI plus "#member") in its state; the
 * host injects `reviveSource` (reviveSource.ts) to turn that id back into a HeatmapSource.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { HeatmapPanelState } from './shared/protocol';
import { attachHeatmap, heatmapWebviewOptions, type HeatmapController, type HeatmapSource } from './heatmapView';
import { MatrixError } from './core/ndarray';
import { fileOfId } from './sourceIds';
import type { SettingsSource } from './core/settings';

export const HEATMAP_VIEW_TYPE = 'attentionInspector.heatmap';

export type ReviveSource = (state: { sourceId: string }) => HeatmapSource | undefined;

interface Entry {
  panel: vscode.WebviewPanel;
  controller: HeatmapController;
}

export class HeatmapPanels implements vscode.Disposable {
  private readonly entries = new Set<Entry>();
  private readonly disposables: vscode.Disposable[] = [];
  private activeEntry: Entry | undefined;
  private readonly extensionUri: vscode.Uri;
  private readonly activeChanged = new vscode.EventEmitter<void>();
  /** Fires when another panel comes to the front, none is, or the front panel shows a new model. */
  readonly onDidChangeActive = this.activeChanged.event;

  constructor(
    context: { readonly extensionUri: vscode.Uri }, private readonly settings: SettingsSource, private readonly reviveSource: ReviveSource,
  ) {
    this.extensionUri = context.extensionUri;
    this.disposables.push(
      this.activeChanged,
      vscode.window.registerWebviewPanelSerializer(HEATMAP_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => this.revive(panel, state),
      }),
    );
  }

  /** Show `source` in its panel (created if needed), revealed in `column`. */
  show(source: HeatmapSource, column?: vscode.ViewColumn): HeatmapController {
    for (const e of this.entries) {
      if (e.controller.source.id !== source.id) continue;
      e.panel.reveal(column ?? e.panel.viewColumn);
      void e.controller.setSource(source);
      return e.controller;
    }
    const panel = vscode.window.createWebviewPanel(HEATMAP_VIEW_TYPE, source.title, column ?? vscode.ViewColumn.Active, heatmapWebviewOptions(this.extensionUri));
    return this.adopt(panel, source).controller;
  }

  /** The focused panel's controller. */
  get active(): HeatmapController | undefined {
    return this.activeEntry?.panel.active ? this.activeEntry.controller : undefined;
  }

  /** Controllers of panels showing `uri` (any member of it). */
  forFile(uri: vscode.Uri): HeatmapController[] {
    return [...this.entries].filter((e) => fileOfId(e.controller.source.id) === uri.fsPath).map((e) => e.controller);
  }

  get all(): HeatmapController[] {
    return [...this.entries].map((e) => e.controller);
  }

  private adopt(panel: vscode.WebviewPanel, source: HeatmapSource): Entry {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'attention.svg');
    const controller = attachHeatmap(panel.webview, this.extensionUri, source, this.settings);
    const entry: Entry = { panel, controller };
    this.entries.add(entry);
    if (panel.active) this.activeEntry = entry;
    const subs = [
      panel.onDidChangeViewState(() => {
        if (panel.active) this.activeEntry = entry;
        else if (this.activeEntry === entry) this.activeEntry = undefined;
        panel.title = controller.source.title;
        this.activeChanged.fire();
      }),
      controller.onDidChangeModel(() => {
        if (this.activeEntry === entry) this.activeChanged.fire();
      }),
    ];
    panel.onDidDispose(() => {
      this.entries.delete(entry);
      if (this.activeEntry === entry) {
        this.activeEntry = undefined;
        this.activeChanged.fire();
      }
      for (const d of subs) d.dispose();
      controller.dispose();
    });
    return entry;
  }

  private revive(panel: vscode.WebviewPanel, state: unknown): void {
    const st = (typeof state === 'object' && state !== null ? state : {}) as HeatmapPanelState;
    const id = typeof st.sourceId === 'string' && st.sourceId.length < 4096 ? st.sourceId : undefined;
    let source = id ? this.reviveSource({ sourceId: id }) : undefined;
    if (!source) {
      // Keep the panel and say why it is empty, rather than a blank tab.
      const title = id ? path.basename(fileOfId(id) ?? id) : 'Attention heatmap';
      source = {
        id: id ?? 'unavailable',
        title,
        load: async () => {
          throw new MatrixError(id ? 'this heatmap cannot be reopened: its file is no longer available' : 'this heatmap cannot be reopened');
        },
      };
    }
    panel.webview.options = heatmapWebviewOptions(this.extensionUri);
    this.adopt(panel, source);
  }

  dispose(): void {
    for (const e of [...this.entries]) e.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
