/**
 * Wires the features together; each feature lives in its own file and returns its disposables. Nothing here
 * reads files or computes: activation stays cheap, and everything registered is owned by context.subscriptions.
 */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { progressRunner } from './progressRunner';
import { disposeAttentionWorkers } from './core/attention';
import { disposeDumpPool } from './core/view/dumpOnPool';
import { ActiveMatrixTracker } from './contextKeys';
import { registerDiagnostics } from './diagnostics';
import type { SourceEnv } from './loadPipeline';
import { sourceFromId } from './reviveSource';
import { settingsEffect } from './core/settings';
import { registerSettings } from './settings';
import { HeatmapPanels } from './heatmapPanel';
import { registerMatrixCodeLens } from './matrixCodeLens';
import { LiveViews, registerMatrixWatcher, viewsReading } from './matrixWatcher';
import { NpyEditorProvider } from './npyEditor';
import { SidePanel } from './sidePanel';
import { registerStatusBar } from './statusBar';
import { rememberedAxes } from './setAxesCommand';

export function activate(context: vscode.ExtensionContext): void {
  const subs = context.subscriptions;

  const settings = registerSettings();
  subs.push(settings);
  const env: SourceEnv = {
    settings: () => settings.current,
    // Unsaved edits win: the side panel and lenses follow what the user sees, not what is on disk.
    textOf: (file) => vscode.workspace.textDocuments.find((d) => d.uri.scheme !== 'git' && d.uri.fsPath === file)?.getText(),
    runLong: progressRunner,
    // Source ids are the editor's own URI strings, so panels match files and revive exactly.
    uriOf: (file) => vscode.Uri.file(file).toString(),
    // Axis names chosen with Set Axes…, per file.
    axesOf: (ref) => rememberedAxes(context.workspaceState, ref),
  };

  const tracker = new ActiveMatrixTracker();
  const live = new LiveViews();
  // A revived panel knows only its source id; turn it back into a source (file, compute or compare).
  const panels = new HeatmapPanels(context, settings, ({ sourceId }) => sourceFromId(sourceId, env));
  const sidePanel = new SidePanel(context.extensionUri, tracker, env, live, settings);
  const npyEditors = new NpyEditorProvider(context.extensionUri, env, live, settings);
  subs.push(tracker, panels, sidePanel, npyEditors);

  subs.push(
    registerCommands({ context, env, tracker, panels, sidePanel, npyEditors }),
    registerMatrixCodeLens(),
    registerDiagnostics(),
    registerStatusBar(tracker, panels),
    registerMatrixWatcher({
      settings,
      viewsOf: (uri) => viewsReading(uri, [...panels.forFile(uri), ...live.forFile(uri)], [...panels.all, ...live.all()]),
      onDeleted: (uri) => tracker.forget(uri),
    }),
    settings.onDidChange(({ changed }) => {
      // Defaults and caps change what a source computes: recompute what is open. The views re-serve a new
      // overview size and repaint a new colour map themselves; the watcher follows its globs itself.
      if (!settingsEffect(changed).reload) return;
      // reload() shows its own errors in the view.
      for (const c of new Set([...live.all(), ...panels.all])) void c.reload();
    }),
  );
}

export function deactivate(): Promise<void> {
  // Registrations go through context.subscriptions; the compute and dump worker threads are process-wide, so end them here.
  disposeDumpPool();
  return disposeAttentionWorkers();
}
