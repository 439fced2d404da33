/**
 * Which matrix file is active, kept in two context keys so the command palette hides commands that need one:
 *   attentionInspector.activeIsMatrixFile — the active editor is a JSON matrix file or a .npy/.npz
 *   attentionInspector.heatmapFocused     — the active editor tab is one of our heatmaps (panel or custom editor)
 * The status bar and the side panel follow `current` (the last active matrix file), so focusing a heatmap panel
 * or the side panel itself does not make them forget what they show.
 */
import * as vscode from 'vscode';
import { Debouncer, TYPING_DEBOUNCE } from './core/coalesce';
import { scanJson } from './core/jsonMatrix';
import { fileKindOf } from './core/matrixFile';

export const CONTEXT_ACTIVE_IS_MATRIX = 'attentionInspector.activeIsMatrixFile';
export const CONTEXT_HEATMAP_FOCUSED = 'attentionInspector.heatmapFocused';
export const NPY_EDITOR_VIEW_TYPE = 'attentionInspector.npyEditor';

/** Whether a JSON document holds matrices, cached per version: scanJson is bounded but runs on every switch. */
const jsonKindCache = new WeakMap<vscode.TextDocument, { version: number; isMatrix: boolean }>();

export function isMatrixDocument(doc: vscode.TextDocument): boolean {
  const kind = fileKindOf(doc.uri.path);
  if (kind !== 'json') return kind !== undefined;
  const cached = jsonKindCache.get(doc);
  if (cached && cached.version === doc.version) return cached.isMatrix;
  let isMatrix = false;
  try {
    isMatrix = scanJson(doc.getText(), doc.uri.fsPath).kind !== 'none';
  } catch {
    isMatrix = false; // the scanner reports problems as errors; a throw still must not break the UI
  }
  jsonKindCache.set(doc, { version: doc.version, isMatrix });
  return isMatrix;
}

export class ActiveMatrixTracker implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<vscode.Uri | undefined>();
  /** Fires when `current` changes to another file. */
  readonly onDidChange = this.changed.event;
  private currentUri: vscode.Uri | undefined;
  private lastIsMatrix: boolean | undefined;
  private lastFocused: boolean | undefined;
  private readonly typing = new Debouncer(() => this.refresh(), TYPING_DEBOUNCE);

  constructor() {
    this.disposables.push(
      this.changed,
      vscode.window.tabGroups.onDidChangeTabs(() => this.refresh()),
      vscode.window.tabGroups.onDidChangeTabGroups(() => this.refresh()),
      vscode.window.onDidChangeActiveTextEditor(() => this.refresh()),
      // A JSON file becomes (or stops being) a matrix file as the user types: re-scan once typing pauses.
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === vscode.window.activeTextEditor?.document) this.typing.trigger();
      }),
      this.typing,
    );
    this.refresh();
  }

  /** The last active matrix file (JSON, .npy or .npz), if any. */
  get current(): vscode.Uri | undefined {
    return this.currentUri;
  }

  refresh(): void {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    let active: vscode.Uri | undefined;
    let focused = false;
    const editor = vscode.window.activeTextEditor;
    if (input instanceof vscode.TabInputCustom && input.viewType === NPY_EDITOR_VIEW_TYPE) {
      active = input.uri;
      focused = true;
    } else if (input instanceof vscode.TabInputWebview && input.viewType.includes('attentionInspector')) {
      focused = true;
    } else if (editor && isMatrixDocument(editor.document)) {
      active = editor.document.uri;
    }
    const isMatrix = active !== undefined;
    if (isMatrix !== this.lastIsMatrix) {
      this.lastIsMatrix = isMatrix;
      void vscode.commands.executeCommand('setContext', CONTEXT_ACTIVE_IS_MATRIX, isMatrix);
    }
    if (focused !== this.lastFocused) {
      this.lastFocused = focused;
      void vscode.commands.executeCommand('setContext', CONTEXT_HEATMAP_FOCUSED, focused);
    }
    if (active && active.toString() !== this.currentUri?.toString()) {
      this.currentUri = active;
      this.changed.fire(active);
    }
  }

  /** The file closed or deleted: forget it so the status bar does not point at nothing. */
  forget(uri: vscode.Uri): void {
    if (this.currentUri?.toString() === uri.toString()) {
      this.currentUri = undefined;
      this.changed.fire(undefined);
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
