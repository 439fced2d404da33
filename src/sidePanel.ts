/**
 * The "Live Heatmap" side panel (webview view attentionInspector.sidePanel): follows the active matrix file and,
 * for a JSON file, recomputes from the unsaved text ~150 ms after the last keystroke. While the JSON is briefly
 * invalid the last good picture stays and the error shows beside it (controller.showError).
 */
import * as vscode from 'vscode';
import { Debouncer, TYPING_DEBOUNCE } from './core/coalesce';
import type { ActiveMatrixTracker } from './contextKeys';
import type { SourceEnv } from './loadPipeline';
import { fileKindOf } from './core/matrixFile';
import { fileSource } from './sources/fileSource';
import { attachHeatmap } from './heatmapView';
import type { SettingsSource } from './core/settings';
import type { HeatmapController, HeatmapSource } from './heatmapView';
import type { LiveViews } from './matrixWatcher';

export const SIDE_PANEL_VIEW_ID = 'attentionInspector.sidePanel';

/** Shown until a matrix file has been active: its load "fails" with the hint, which the view shows as #error. */
const placeholder: HeatmapSource = {
  id: 'attentionInspector:none',
  title: 'Attention Inspector',
  load: () => Promise.reject(new Error('Open a JSON, .npy, .npz or .safetensors matrix file to see its heatmap here.')),
};

export class SidePanel implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private controller: HeatmapController | undefined;
  private shown: vscode.Uri | undefined;
  /** The file to show once the view resolves (show() may run before VS Code creates the view). */
  private wanted: vscode.Uri | undefined;
  private liveRegistration: vscode.Disposable | undefined;
  private viewSubs: vscode.Disposable[] = [];
  private readonly subs: vscode.Disposable[] = [];
  private readonly typing: Debouncer;
  private disposed = false;
  private stale = false;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly tracker: ActiveMatrixTracker,
    private readonly env: SourceEnv,
    private readonly live: LiveViews,
    private readonly settings: SettingsSource,
  ) {
    this.typing = new Debouncer(() => this.reload(), TYPING_DEBOUNCE, (err) => this.showError(err));
    this.wanted = tracker.current;
    this.subs.push(
      vscode.window.registerWebviewViewProvider(SIDE_PANEL_VIEW_ID, this),
      tracker.onDidChange((uri) => {
        if (uri) void this.showFile(uri);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length > 0 && this.shown && e.document.uri.toString() === this.shown.toString()) {
          this.typing.trigger();
        }
      }),
    );
  }

  /** The controller while the view is visible (commands such as Export act on it). */
  get visibleController(): HeatmapController | undefined {
    return this.view?.visible ? this.controller : undefined;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    if (this.disposed) return;
    this.view = view;
    const target = this.wanted ?? this.tracker.current;
    this.shown = target;
    this.controller = attachHeatmap(view.webview, this.extensionUri, target ? this.sourceFor(target) : placeholder, this.settings);
    this.registerLive();
    this.viewSubs = [
      this.controller,
      view.onDidDispose(() => this.dropView()),
      // Work skipped while hidden catches up when shown (the webview re-asks for the last model on its own).
      view.onDidChangeVisibility(() => {
        if (!view.visible) return;
        if (this.wanted && this.wanted.toString() !== this.shown?.toString()) void this.showFile(this.wanted);
        else if (this.stale) void this.reload();
      }),
    ];
  }

  /** Shows a file in the panel, revealing the panel (the "Show in Side Panel" command). */
  async show(uri: vscode.Uri): Promise<void> {
    this.wanted = uri;
    await vscode.commands.executeCommand(`${SIDE_PANEL_VIEW_ID}.focus`);
    await this.showFile(uri);
  }

  private async showFile(uri: vscode.Uri): Promise<void> {
    this.wanted = uri;
    if (!this.controller || this.disposed) return; // resolveWebviewView picks it up
    if (!this.view?.visible) return; // nobody sees it: load when the view is shown again
    if (this.shown?.toString() === uri.toString()) return;
    this.shown = uri;
    this.typing.cancel();
    this.registerLive();
    try {
      await this.controller?.setSource(this.sourceFor(uri));
    } catch (err) {
      this.showError(err);
    }
  }

  private sourceFor(uri: vscode.Uri): HeatmapSource {
    return fileSource(uri.fsPath, undefined, this.env);
  }

  private async reload(): Promise<void> {
    const controller = this.controller;
    if (!controller || this.disposed || !this.shown) return;
    if (!this.view?.visible) {
      this.stale = true; // typed into while hidden: recompute when shown
      return;
    }
    this.stale = false;
    try {
      await controller.reload();
    } catch (err) {
      if (controller === this.controller) this.showError(err);
    }
  }

  private showError(err: unknown): void {
    if (this.disposed) return;
    this.controller?.showError(err);
  }

  /** Lets the workspace watcher refresh this view when its file changes on disk. */
  private registerLive(): void {
    this.liveRegistration?.dispose();
    this.liveRegistration = undefined;
    if (this.controller && this.shown && fileKindOf(this.shown.path)) {
      this.liveRegistration = this.live.register(this.shown, this.controller);
    }
  }

  private dropView(): void {
    this.typing.cancel();
    this.liveRegistration?.dispose();
    this.liveRegistration = undefined;
    for (const d of this.viewSubs) d.dispose();
    this.viewSubs = [];
    this.view = undefined;
    this.controller = undefined;
    this.shown = undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.typing.dispose();
    this.dropView();
    for (const d of this.subs) d.dispose();
  }
}
