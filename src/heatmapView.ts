/**
 * Renders a HeatmapSource into any vscode.Webview (editor panel, side view, custom editor): sets a strict CSP,
 * answers the webview's typed requests from the full-resolution model it keeps (ModelServer), and writes
 * exports. The webview gets overviews, tiles and details — never paths, never the whole of a large matrix.
 */
import { randomBytes } from 'crypto';
import * as vscode from 'vscode';
import { isPng } from './core/view/csv';
import type { ModelServer } from './core/view/serve';
import { serverFor } from './core/view/streamServe';
import type { OnDemandServer } from './core/view/streamServe';
import { isAggregateKind, type HeatmapModel, type ViewKind } from './shared/types';
import {
  assertNever, HOST_REQUESTS, parseFromWebview, type FromWebview, type Region, type Settings, type ToWebview, type WebviewReply,
} from './shared/protocol';
import { MessageHandler } from './shared/messageHandler';
import type { HeadSelection } from './shared/selection';
import { describeError } from './errors';
import { askExportTarget } from './exportDialog';
import { settingsEffect } from './core/settings';
import type { SettingsSource } from './core/settings';
import type { HeadsInput } from './core/headAnalysis';
import { HeadTableHost } from './headTable';

export interface HeatmapSource {
  /** Stable, e.g. the file path or URI plus "#member". */
  readonly id: string;
  readonly title: string;
  /**
   * Throws MatrixError for bad input. `onPartial` (a big dump) hears models before the final one: the selected
   * head at once, then the grid as it fills.
   */
  load(selection?: HeadSelection, onPartial?: (model: HeatmapModel) => void): Promise<HeatmapModel>;
  /**
   * Absolute paths of the files the last load read or tried to read (for a spec: the .npy/.npz it names; for
   * a computation: its Q, K, V files): when one changes, appears or goes, the heatmap reloads.
   */
  files?(): readonly string[];
  /** The heads behind the last load (a dump, a computed multi-head attention), for the head table. */
  heads?(): HeadsInput | undefined;
}

export interface HeatmapController extends vscode.Disposable {
  readonly source: HeatmapSource;
  /** The model on screen (undefined before the first successful load). */
  readonly model: HeatmapModel | undefined;
  /** Re-load the source and re-post in place (the webview keeps zoom and selection). Errors go to showError. */
  reload(): Promise<void>;
  setSource(source: HeatmapSource): Promise<void>;
  /** Post a model directly (same zoom and selection when the size is unchanged). */
  update(model: HeatmapModel): void;
  /**
   * Keep the last picture and show the problem beside it (#error): a message, or an error described by its
   * message (never a stack), with workspace paths shortened.
   */
  showError(problem: unknown): void;
  exportPng(target: vscode.Uri): Promise<void>;
  exportCsv(target: vscode.Uri): Promise<void>;
  /** `extra`: the index on each picker axis of a dump (batch, sample…); default the ones shown now. */
  selectHead(layer: number, head: number, extra?: readonly number[]): Promise<void>;
  readonly onDidReceiveTiming: vscode.Event<{ name: string; ms: number }>;
  /** Fires when a new model is on screen. */
  readonly onDidChangeModel: vscode.Event<HeatmapModel>;
}

/** Options every heatmap webview needs: scripts on, resources only from dist/ and media/. */
export function heatmapWebviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The page: a CSP with a per-load nonce, the stylesheet and the script; the script builds the DOM. */
export function heatmapHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const src = escapeAttr(webview.cspSource);
  const script = escapeAttr(webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js')).toString());
  const css = escapeAttr(webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'heatmap.css')).toString());
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src ${src}; img-src ${src} data: blob:; font-src ${src}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${css}">
<title>Attention heatmap</title>
</head>
<body>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

const PNG_TIMEOUT_MS = 15000;

class Controller implements HeatmapController {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly timing = new vscode.EventEmitter<{ name: string; ms: number }>();
  readonly onDidReceiveTiming = this.timing.event;
  private readonly modelChanged = new vscode.EventEmitter<HeatmapModel>();
  readonly onDidChangeModel = this.modelChanged.event;
  /** A ModelServer, or an on-demand server (a streamed long-context head, a difference of one; async replies). */
  private server: ModelServer | OnDemandServer | undefined;
  private ready = false;
  private disposed = false;
  private lastError: string | undefined;
  private kind: ViewKind | undefined;
  private region: Region | undefined;
  private selection: HeadSelection | undefined;
  private loadSeq = 0;
  private seq = 0;
  /** The head table's jobs, on the heads of whatever the source last loaded. */
  private readonly headTable = new HeadTableHost((m) => this.post(m), () => this.source.heads?.());
  /** The host's requests to the webview (the PNG export). */
  private readonly requests = new MessageHandler<ToWebview, WebviewReply, typeof HOST_REQUESTS>((m) => this.post(m), {
    pairs: HOST_REQUESTS, timeoutMs: PNG_TIMEOUT_MS,
  });

  constructor(
    private readonly webview: vscode.Webview, extensionUri: vscode.Uri, public source: HeatmapSource,
    private readonly settings: SettingsSource,
  ) {
    webview.options = heatmapWebviewOptions(extensionUri);
    webview.html = heatmapHtml(webview, extensionUri);
    this.disposables.push(
      this.timing,
      this.modelChanged,
      this.headTable,
      webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)),
      settings.onDidChange(({ changed }) => {
        const effect = settingsEffect(changed);
        if (effect.colorMap) this.post({ type: 'settings', settings: this.webviewSettings() });
        // A reload (extension.ts) serves its new model at the new size anyway: re-serve only when none comes.
        if (effect.reserve && this.server) this.update(this.server.model);
      }),
    );
    void this.reload();
  }

  private webviewSettings(): Settings {
    return { colorMap: this.settings.current.colorMap };
  }

  get model(): HeatmapModel | undefined {
    return this.server?.model;
  }

  async reload(): Promise<void> {
    if (this.disposed) return;
    const token = ++this.loadSeq;
    this.post({ type: 'loading', message: `Loading ${this.source.title}…` });
    try {
      const model = await this.source.load(this.selection, (partial) => {
        // Each partial is posted in place (zoom and selection kept) unless a newer load took over.
        if (!this.disposed && token === this.loadSeq) this.update(partial);
      });
      // A newer load (or dispose) overtook this one: its result is stale.
      if (this.disposed || token !== this.loadSeq) return;
      this.update(model);
    } catch (err) {
      if (this.disposed || token !== this.loadSeq) return;
      this.showError(err);
    }
  }

  async setSource(source: HeatmapSource): Promise<void> {
    if (source.id !== this.source.id) this.selection = undefined;
    this.source = source;
    await this.reload();
  }

  update(model: HeatmapModel): void {
    if (this.disposed) return;
    this.server = serverFor(model, { overviewSize: this.settings.current.overviewSize });
    this.selection = model.selection;
    this.lastError = undefined;
    this.postModel();
    this.modelChanged.fire(model);
  }

  private postModel(): void {
    const s = this.server;
    if (!this.ready || this.disposed || !s) return;
    const kind = s.pickKind(this.kind);
    const matrix = s.wireMatrix(kind);
    if (!matrix) return;
    this.kind = kind;
    this.region = undefined;
    this.post({ type: 'model', seq: ++this.seq, sourceId: this.source.id, model: s.wireModel(), matrix, settings: this.webviewSettings() });
  }

  showError(problem: unknown): void {
    if (this.disposed) return;
    const message = describeError(problem);
    this.lastError = message;
    this.post({ type: 'error', message });
  }

  async selectHead(layer: number, head: number, extra?: readonly number[]): Promise<void> {
    if (!Number.isSafeInteger(layer) || !Number.isSafeInteger(head) || layer < 0 || head < 0) {
      throw new Error(`no layer ${layer}, head ${head}`);
    }
    const g = this.server?.model.grid;
    if (g && (layer >= g.layers || head >= g.heads)) {
      throw new Error(`no layer ${layer}, head ${head}: the file has ${g.layers} layer(s) × ${g.heads} head(s)`);
    }
    const pickers = this.server?.model.pickers ?? [];
    const picked = extra ?? this.selection?.extra;
    if (extra && (extra.length !== pickers.length || extra.some((i, k) => !Number.isSafeInteger(i) || i < 0 || i >= pickers[k].size))) {
      throw new Error(`no ${pickers.map((p, k) => `${p.name} ${extra[k]}`).join(', ') || 'such axis'}: the sizes are ${pickers.map((p) => `${p.name} ${p.size}`).join(', ') || 'none'}`);
    }
    this.selection = { layer, head, ...(picked ? { extra: [...picked] } : {}) };
    // Picking a head means "show me this head": leave a head mean or rollout for the head's own map.
    if (this.kind && isAggregateKind(this.kind)) this.kind = undefined;
    await this.reload();
  }

  async exportPng(target: vscode.Uri): Promise<void> {
    if (!this.ready || !this.server) throw new Error('the heatmap is not shown yet');
    const reply = await this.requests.request({ type: 'exportPng' }, { timeoutMessage: 'the heatmap did not answer (is it visible?)' });
    const bytes = reply.bytes;
    if (!bytes) throw new Error(`PNG export failed: ${reply.error ?? 'unknown error'}`);
    if (!isPng(bytes)) throw new Error('the heatmap sent something that is not a PNG');
    await vscode.workspace.fs.writeFile(target, bytes);
  }

  async exportCsv(target: vscode.Uri): Promise<void> {
    const s = this.server;
    if (!s) throw new Error('nothing to export yet');
    const text = await s.csv(s.pickKind(this.kind), this.region);
    if (text === undefined) throw new Error('nothing to export');
    await vscode.workspace.fs.writeFile(target, Buffer.from(text, 'utf8'));
  }

  private post(m: ToWebview): void {
    if (this.disposed || !this.ready) return;
    void this.webview.postMessage(m);
  }

  private onMessage(raw: unknown): void {
    if (this.disposed) return;
    const msg = parseFromWebview(raw);
    if (!msg) return; // malformed or hostile: ignored
    this.handle(msg);
  }

  private handle(msg: FromWebview): void {
    switch (msg.type) {
      case 'ready':
        // Also after the webview was hidden and rebuilt: re-post everything it needs.
        this.ready = true;
        if (msg.kind) this.kind = msg.kind;
        this.postModel();
        if (this.lastError !== undefined) this.post({ type: 'error', message: this.lastError });
        return;
      case 'requestMatrix':
      case 'requestTile':
      case 'requestCell':
      case 'requestRow':
      case 'requestColumn':
      case 'requestSelection': {
        if (msg.type === 'requestMatrix' && this.server?.hasKind(msg.kind)) this.kind = msg.kind;
        // Stamped with the model it was answered from: the webview drops replies for a model it has replaced. A
        // streamed head answers asynchronously (tiles, cells and rows computed from Q and K), so the stamp is taken first.
        const seq = this.seq;
        void Promise.resolve(this.server?.respond(msg)).then(
          (reply) => { if (reply) this.post({ ...reply, seq } as ToWebview); },
          (err: unknown) => this.showError(err),
        );
        return;
      }
      case 'viewState':
        if (this.server?.hasKind(msg.kind)) this.kind = msg.kind;
        this.region = msg.region;
        return;
      case 'selectHead':
        if (this.server?.hasHead(msg.layer, msg.head)) void this.selectHead(msg.layer, msg.head, msg.extra).catch((e: unknown) => this.showError(String(e)));
        return;
      case 'export':
        void this.exportInteractive(msg.format);
        return;
      case 'png':
        this.requests.handleReply(msg);
        return;
      case 'copyCell': {
        void Promise.resolve(this.server?.cellText(msg.kind, msg.row, msg.col)).then((text) => {
          if (text === undefined || this.disposed) return;
          void vscode.env.clipboard.writeText(text);
          void vscode.window.setStatusBarMessage(`Copied ${text}`, 2000);
        }, (err: unknown) => this.showError(err));
        return;
      }
      case 'timing':
        this.timing.fire({ name: msg.name, ms: msg.ms });
        return;
      case 'requestHeads':
      case 'requestNearHeads':
      case 'pickTokens':
      case 'cancelHeads':
        this.headTable.handle(msg);
        return;
      default:
        assertNever(msg);
    }
  }

  /** The webview's Export buttons: ask where, then write. */
  private async exportInteractive(format: 'png' | 'csv'): Promise<void> {
    const target = await askExportTarget(this.source, format);
    if (!target || this.disposed) return;
    try {
      if (format === 'png') await this.exportPng(target);
      else await this.exportCsv(target);
    } catch (err) {
      void vscode.window.showErrorMessage(`Attention Inspector: ${describeError(err)}`);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.requests.cancelAll('the heatmap was closed');
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** Render `source` into `webview`. The caller owns the returned controller (dispose it with the view). */
export function attachHeatmap(
  webview: vscode.Webview, extensionUri: vscode.Uri, source: HeatmapSource, settings: SettingsSource,
): HeatmapController {
  return new Controller(webview, extensionUri, source, settings);
}
