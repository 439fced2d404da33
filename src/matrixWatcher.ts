/**
 * Workspace watcher: when a training script rewrites a file an open heatmap shows, that heatmap reloads in place
 * (controller.reload(): same view, zoom and selection). Bursts coalesce per file — a script saving 1,000 times a
 * second gives a handful of reloads, never two at once — and a deleted file shows a clear message instead.
 * Globs come from attentionInspector.watchGlobs and are re-read when the setting changes.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { KeyedCoalescer, WATCH_BURST } from './core/coalesce';
import { followSetting } from './core/settings';
import type { SettingsSource } from './core/settings';
import type { HeatmapController } from './heatmapView';

/** Heatmaps outside the editor-area panels (side panel, custom editors) that show a file. */
export class LiveViews {
  private readonly byFile = new Map<string, Set<HeatmapController>>();

  register(uri: vscode.Uri, controller: HeatmapController): vscode.Disposable {
    const key = uri.toString();
    let set = this.byFile.get(key);
    if (!set) this.byFile.set(key, (set = new Set()));
    set.add(controller);
    return new vscode.Disposable(() => {
      set?.delete(controller);
      if (set?.size === 0 && this.byFile.get(key) === set) this.byFile.delete(key);
    });
  }

  forFile(uri: vscode.Uri): HeatmapController[] {
    return [...(this.byFile.get(uri.toString()) ?? [])];
  }

  all(): HeatmapController[] {
    const out = new Set<HeatmapController>();
    for (const set of this.byFile.values()) for (const c of set) out.add(c);
    return [...out];
  }
}

/**
 * The views to reload when `uri` changes: those showing it, then those whose source read it on its last load
 * (a spec's referenced .npy, a computation's Q, K or V), each once.
 */
export function viewsReading(uri: vscode.Uri, showing: readonly HeatmapController[], all: readonly HeatmapController[]): HeatmapController[] {
  const out = new Set(showing);
  for (const c of all) if (c.source.files?.().includes(uri.fsPath)) out.add(c);
  return [...out];
}

export interface WatcherDeps {
  /** Followed through its own event, which fires after the new globs are read (never one change behind). */
  readonly settings: SettingsSource;
  /** Every heatmap currently showing `uri` (editor panels, side panel, custom editors). */
  readonly viewsOf: (uri: vscode.Uri) => readonly HeatmapController[];
  /** Tells the rest of the extension (status bar) that a file went away. */
  readonly onDeleted?: (uri: vscode.Uri) => void;
}

export function registerMatrixWatcher(deps: WatcherDeps): vscode.Disposable {
  let watchers: vscode.FileSystemWatcher[] = [];

  const reload = new KeyedCoalescer<string>(async (key) => {
    const uri = vscode.Uri.parse(key);
    const views = deps.viewsOf(uri);
    if (views.length === 0) return;
    let exists = true;
    try {
      await vscode.workspace.fs.stat(uri);
    } catch {
      exists = false;
    }
    for (const view of deps.viewsOf(uri)) {
      // Re-read the list after the await: a view closed meanwhile must not be touched.
      if (!exists) {
        view.showError(`${path.basename(uri.path)}: the file was deleted or moved; showing its last contents.`);
        continue;
      }
      try {
        await view.reload();
      } catch (err) {
        // A half-written file (the script is mid-write) is an error now and fine on the next event.
        view.showError(err);
      }
    }
  }, WATCH_BURST);

  const onChange = (uri: vscode.Uri) => {
    if (deps.viewsOf(uri).length > 0) reload.trigger(uri.toString());
  };
  const onDelete = (uri: vscode.Uri) => {
    deps.onDeleted?.(uri);
    if (deps.viewsOf(uri).length > 0) reload.trigger(uri.toString());
  };

  const configSub = followSetting(deps.settings, (s) => s.watchGlobs, (globs) => {
    for (const w of watchers) w.dispose();
    watchers = globs.map((glob) => {
      const w = vscode.workspace.createFileSystemWatcher(glob);
      w.onDidChange(onChange);
      w.onDidCreate(onChange);
      w.onDidDelete(onDelete);
      return w;
    });
  });

  return new vscode.Disposable(() => {
    configSub.dispose();
    reload.dispose();
    for (const w of watchers) w.dispose();
    watchers = [];
  });
}
