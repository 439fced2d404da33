/**
 * Read-only custom editor for .npy and .npz (viewType attentionInspector.npyEditor). The editor is the heatmap
 * itself: the header (shape, dtype, order, size) goes in the model's subtitle, an .npz lists its members there and
 * shows the first attention-like one (others via "Select Layer/Head…" or the explorer), 4-D dumps get the
 * layers × heads grid, other >2-D arrays a slice. Hostile or broken files fail in the source with a MatrixError,
 * which the view shows as its error message: never a crash.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { listMembers } from './core/matrixFile';
import type { ArrayInfo } from './core/matrixFile';
import { formatShape } from './core/lenses';
import { isStringDType, MatrixError } from './core/ndarray';
import { NPY_EDITOR_VIEW_TYPE } from './contextKeys';
import { defaultMember } from './loadPipeline';
import type { SourceEnv } from './loadPipeline';
import { holdsMembers } from './core/matrixFile';
import { fileSource } from './sources/fileSource';
import { attachHeatmap } from './heatmapView';
import type { SettingsSource } from './core/settings';
import type { HeatmapController, HeatmapSource } from './heatmapView';
import type { LiveViews } from './matrixWatcher';
import { describeError } from './errors';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** The header line for one array: "2×4×10×10 · float32 · C order · 3.1 KiB". */
export function headerOf(info: { shape: readonly number[]; dtype: string; fortranOrder: boolean; byteLength: number }): string {
  return `${formatShape(info.shape)} · ${info.dtype} · ${info.fortranOrder ? 'Fortran order' : 'C order'} · ${formatBytes(info.byteLength)}`;
}

/**
 * The source of a file or member whose model carries the header (and, for .npz, the member list) as its subtitle.
 * The header is the one the load itself read, not a second open of the file.
 */
export function withHeader(file: string, member: string | undefined, env: SourceEnv, members?: readonly string[]): HeatmapSource {
  let info: ArrayInfo | undefined;
  const inner = fileSource(file, member, env, (i) => (info = i));
  return {
    id: inner.id,
    title: inner.title,
    load: async (selection) => {
      info = undefined;
      const model = await inner.load(selection);
      const parts = info ? [headerOf(info)] : [];
      if (members && members.length > 1) parts.push(`members: ${members.join(', ')}`);
      if (model.subtitle) parts.push(model.subtitle);
      return { ...model, subtitle: parts.join(' — ') };
    },
    heads: () => inner.heads?.(),
  };
}

class NpyDocument implements vscode.CustomDocument {
  constructor(readonly uri: vscode.Uri) {}
  dispose(): void {
    // Nothing held open: sources open the file for each load and close it again.
  }
}

export class NpyEditorProvider implements vscode.CustomReadonlyEditorProvider<NpyDocument>, vscode.Disposable {
  private readonly editors = new Set<{ uri: vscode.Uri; panel: vscode.WebviewPanel; controller: HeatmapController }>();
  private lastActive: HeatmapController | undefined;
  private readonly registration: vscode.Disposable;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly env: SourceEnv,
    private readonly live: LiveViews,
    private readonly settings: SettingsSource,
  ) {
    this.registration = vscode.window.registerCustomEditorProvider(NPY_EDITOR_VIEW_TYPE, this, {
      supportsMultipleEditorsPerDocument: true,
      // No retainContextWhenHidden: the view re-posts its model when shown again (the matrix stays in the host).
    });
  }

  /** The controller of the focused .npy editor, if one is focused. */
  get active(): HeatmapController | undefined {
    for (const e of this.editors) if (e.panel.active) return e.controller;
    return undefined;
  }

  /** The custom editor focused most recently (commands run from the palette after focus moved). */
  get recent(): HeatmapController | undefined {
    return this.active ?? this.lastActive;
  }

  openCustomDocument(uri: vscode.Uri): NpyDocument {
    return new NpyDocument(uri);
  }

  async resolveCustomEditor(doc: NpyDocument, panel: vscode.WebviewPanel): Promise<void> {
    let disposed = false;
    panel.onDidDispose(() => (disposed = true));
    const source = await this.sourceFor(doc.uri);
    if (disposed) return; // closed while listing members
    const controller = attachHeatmap(panel.webview, this.extensionUri, source, this.settings);
    const entry = { uri: doc.uri, panel, controller };
    this.editors.add(entry);
    const liveReg = this.live.register(doc.uri, controller);
    const viewState = panel.onDidChangeViewState(() => {
      if (panel.active) this.lastActive = controller;
    });
    if (panel.active) this.lastActive = controller;
    panel.onDidDispose(() => {
      this.editors.delete(entry);
      if (this.lastActive === controller) this.lastActive = undefined;
      viewState.dispose();
      liveReg.dispose();
      controller.dispose();
    });
  }

  /** Shows another member of an open .npz in its focused editor. */
  async showMember(controller: HeatmapController, member: string): Promise<void> {
    for (const e of this.editors) {
      if (e.controller !== controller) continue;
      const file = e.uri.fsPath;
      const members = (await listMembers(file)).map((m) => m.name);
      await controller.setSource(withHeader(file, member, this.env, members));
    }
  }

  /** The file the given editor shows (for Select Layer/Head… and Compare With…). */
  fileOf(controller: HeatmapController): vscode.Uri | undefined {
    for (const e of this.editors) if (e.controller === controller) return e.uri;
    return undefined;
  }

  private async sourceFor(uri: vscode.Uri): Promise<HeatmapSource> {
    const file = uri.fsPath;
    if (!holdsMembers(file)) return withHeader(file, undefined, this.env);
    let members: string[];
    let drawable: string[];
    try {
      const all = await listMembers(file);
      members = all.map((m) => m.name);
      drawable = all.filter((m) => !isStringDType(m.info.dtype)).map((m) => m.name);
    } catch (err) {
      return failing(uri, err);
    }
    if (drawable.length === 0) return failing(uri, new MatrixError('the archive holds no numeric arrays', path.basename(file)));
    const member = defaultMember(drawable) ?? drawable[0];
    return withHeader(file, member, this.env, members);
  }

  dispose(): void {
    this.registration.dispose();
    for (const e of this.editors) e.controller.dispose();
    this.editors.clear();
  }
}

/** A source whose every load fails with the file's problem, so the editor shows it as its error message. */
function failing(uri: vscode.Uri, err: unknown): HeatmapSource {
  const message = describeError(err);
  return { id: uri.toString(), title: path.basename(uri.fsPath), load: () => Promise.reject(new MatrixError(message)) };
}
