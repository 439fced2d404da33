/**
 * The command palette (category "Attention"). Commands that need a matrix file or a focused heatmap are hidden
 * by `when` clauses on attentionInspector.activeIsMatrixFile / attentionInspector.heatmapFocused (contextKeys.ts).
 * Every command accepts its target as arguments (a Uri, a member, an export path) so CodeLenses, menus and the
 * end-to-end tests can call it without dialogs; without them it asks.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { scanJson } from './core/jsonMatrix';
import { formatShape } from './core/lenses';
import { listMembers } from './core/matrixFile';
import type { ActiveMatrixTracker } from './contextKeys';
import {
  computeSource, compareSource, describeFile, fileOfId, fileSource, matrixKindOf, parseComputeChoice, splitRef,
} from './heatmapSources';
import { SIMILARITIES } from './core/attention';
import { parseScale } from './core/settings';
import type { ComputeChoice, LongRunner, SourceEnv } from './heatmapSources';
import type { HeatmapController, HeatmapSource } from './heatmapView';
import type { NpyEditorProvider } from './npyEditor';
import type { SidePanel } from './sidePanel';
import { describeError } from './errors';
import { askExportTarget } from './exportDialog';

/** What commands need from the editor-area heatmap panels (HeatmapPanels in heatmapPanel.ts). */
export interface PanelHost {
  show(source: HeatmapSource, column?: vscode.ViewColumn): unknown;
  readonly active: HeatmapController | undefined;
}

export interface CommandDeps {
  readonly context: vscode.ExtensionContext;
  readonly env: SourceEnv;
  readonly tracker: ActiveMatrixTracker;
  readonly panels: PanelHost;
  readonly sidePanel: SidePanel;
  readonly npyEditors: NpyEditorProvider;
}

const LAST_COMPUTE_KEY = 'attentionInspector.lastCompute';
const MATRIX_GLOB = '**/*.{npy,npz,json}';
const EXCLUDE_GLOB = '{**/node_modules/**,**/.git/**,**/out/**,**/dist/**}';
/** Quick picks list at most this many files: a big workspace must not stall the palette. */
const MAX_FILES = 200;
/** JSON files larger than this are not opened just to list their keys in a quick pick. */
const MAX_SCAN_BYTES = 4 * 1024 * 1024;

/** withProgress as a LongRunner: a cancellable notification whose Cancel aborts the computation. */
export const progressRunner: LongRunner = (title, work) =>
  Promise.resolve(vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      let last = 0;
      try {
        return await work(abort.signal, (fraction) => {
          const pct = Math.max(0, Math.min(100, fraction * 100));
          if (pct > last) progress.report({ increment: pct - last, message: `${Math.round(pct)}%` });
          last = Math.max(last, pct);
        });
      } finally {
        sub.dispose();
      }
    }));

export function registerCommands(deps: CommandDeps): vscode.Disposable {
  const register = (id: string, fn: (...args: unknown[]) => unknown) =>
    vscode.commands.registerCommand(`attentionInspector.${id}`, async (...args: unknown[]) => {
      try {
        await fn(...args);
      } catch (err) {
        // Bad input is a MatrixError whose message names the file: show it, never a stack trace.
        void vscode.window.showErrorMessage(`Attention Inspector: ${describeError(err)}`);
      }
    });
  return vscode.Disposable.from(
    register('openHeatmap', (uri, member) => openHeatmap(deps, asUri(uri), typeof member === 'string' ? member : undefined)),
    register('computeAttention', () => computeAttentionCommand(deps)),
    register('showInSidePanel', (uri) => showInSidePanel(deps, asUri(uri))),
    register('selectLayerHead', (layer, head) => selectLayerHead(deps, layer, head)),
    register('compareWith', (uri) => compareWith(deps, asUri(uri))),
    register('exportPng', (target) => exportView(deps, 'png', asUri(target))),
    register('exportCsv', (target) => exportView(deps, 'csv', asUri(target))),
    register('openSamples', (mode) => openSamples(deps, typeof mode === 'string' ? mode : undefined)),
  );
}

/** Menus pass a Uri (explorer also passes the selection array second); tests may pass a path string. */
function asUri(value: unknown): vscode.Uri | undefined {
  if (value instanceof vscode.Uri) return value;
  if (typeof value === 'string' && value.length > 0) {
    return /^[a-z][a-z0-9+.-]+:\/\//i.test(value) ? vscode.Uri.parse(value) : vscode.Uri.file(value);
  }
  return undefined;
}

// ----------------------------------------------------------------------------------------------- open

async function currentFile(deps: CommandDeps, ask: boolean): Promise<vscode.Uri | undefined> {
  const focused = deps.npyEditors.active;
  const fromEditor = focused ? deps.npyEditors.fileOf(focused) : undefined;
  const panelFile = deps.panels.active ? fileOfId(deps.panels.active.source.id) : undefined;
  const editorDoc = vscode.window.activeTextEditor?.document.uri;
  const found = fromEditor ?? (panelFile ? vscode.Uri.file(panelFile) : undefined) ?? deps.tracker.current
    ?? (editorDoc && matrixKindOf(editorDoc.path) ? editorDoc : undefined);
  if (found || !ask) return found;
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false, openLabel: 'Open Heatmap', filters: { 'Matrix files': ['json', 'npy', 'npz'] },
  });
  return picked?.[0];
}

async function openHeatmap(deps: CommandDeps, uri: vscode.Uri | undefined, member: string | undefined): Promise<void> {
  const target = uri ?? (await currentFile(deps, true));
  if (!target) return;
  if (!matrixKindOf(target.path)) {
    throw new Error(`${path.basename(target.path)} is not a JSON, .npy or .npz matrix file`);
  }
  const source = fileSource(target.fsPath, member, deps.env);
  // Beside a JSON file so the text and the picture are seen together; a binary file has no text to keep.
  const column = matrixKindOf(target.path) === 'json' ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
  await deps.panels.show(source, column);
}

async function showInSidePanel(deps: CommandDeps, uri: vscode.Uri | undefined): Promise<void> {
  const target = uri ?? (await currentFile(deps, true));
  if (!target) return;
  await deps.sidePanel.show(target);
}

// -------------------------------------------------------------------------------------------- compute

interface Candidate extends vscode.QuickPickItem {
  readonly ref: string;        // "path" or "path#member"
  readonly file: string;
  readonly name: string;       // member, or file base name
}

/** Every matrix in the workspace a quick pick can offer: .npy files, .npz members, JSON matrix keys. */
async function candidates(): Promise<Candidate[]> {
  const uris = await vscode.workspace.findFiles(MATRIX_GLOB, EXCLUDE_GLOB, MAX_FILES);
  uris.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  const out: Candidate[] = [];
  for (const uri of uris) {
    const file = uri.fsPath;
    const rel = vscode.workspace.asRelativePath(uri);
    try {
      switch (matrixKindOf(file)) {
        case 'npy': {
          const info = await describeFile(file);
          out.push({ ref: file, file, name: path.basename(file, '.npy'), label: path.basename(file), description: `${formatShape(info.shape)} ${info.dtype} · ${rel}` });
          break;
        }
        case 'npz':
          for (const m of await listMembers(file)) {
            out.push({ ref: `${file}#${m.name}`, file, name: m.name, label: `${path.basename(file)}#${m.name}`, description: `${formatShape(m.info.shape)} ${m.info.dtype} · ${rel}` });
          }
          break;
        case 'json': {
          const stat = await vscode.workspace.fs.stat(uri);
          if (stat.size > MAX_SCAN_BYTES) break;
          const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
          const text = open ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
          const scan = scanJson(text, rel);
          if (scan.kind === 'none' || scan.errors.length > 0) break;
          for (const e of scan.entries) {
            if (!e.shape || !e.key || /labels$|^description$/i.test(e.key)) continue;
            out.push({ ref: `${file}#${e.key}`, file, name: e.key, label: `${path.basename(file)}#${e.key}`, description: `${formatShape(e.shape)} · ${rel}` });
          }
          break;
        }
        default:
          break;
      }
    } catch {
      // An unreadable file is left out of the list; opening it directly shows why.
    }
  }
  return out;
}

type Role = 'q' | 'k' | 'v';
const ROLE_NAMES: Record<Role, RegExp> = {
  q: /^(q|query|queries|x|inputs?)$/i,
  k: /^(k|key|keys)$/i,
  v: /^(v|value|values)$/i,
};

/** Orders candidates so Enter picks the likely one: last choice, then a role-named member of the same file. */
export function rankFor(role: Role, items: readonly Candidate[], last: string | undefined, sameFileAs?: string): Candidate[] {
  const score = (c: Candidate) =>
    (c.ref === last ? 8 : 0) + (ROLE_NAMES[role].test(c.name) ? 4 : 0) + (sameFileAs && c.file === sameFileAs ? 2 : 0);
  return [...items].map((c, i) => ({ c, i, s: score(c) })).sort((a, b) => b.s - a.s || a.i - b.i).map((x) => x.c);
}

async function pickOne<T extends vscode.QuickPickItem>(items: T[], title: string, placeHolder: string): Promise<T | undefined> {
  return vscode.window.showQuickPick(items, { title, placeHolder, matchOnDescription: true, ignoreFocusOut: true });
}

async function computeAttentionCommand(deps: CommandDeps): Promise<void> {
  const state = deps.context.workspaceState;
  const last = parseComputeChoice(state.get(LAST_COMPUTE_KEY));
  const settings = deps.env.settings();
  const all = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: 'Listing matrix files' }, () => candidates());
  if (all.length === 0) {
    void vscode.window.showInformationMessage('Attention Inspector: no .npy, .npz or JSON matrix files in this workspace. Try "Attention: Open Samples".');
    return;
  }
  const title = 'Compute Attention';
  const q = await pickOne(rankFor('q', all, last?.q), `${title} (1/6)`, 'Q: the queries');
  if (!q) return;
  const same: Candidate = { ref: '', file: q.file, name: '', label: '$(arrow-both) Same as Q (self-attention)' };
  const kItems = rankFor('k', all.filter((c) => c !== q), last?.k, q.file);
  const kPicks = ROLE_NAMES.k.test(kItems[0]?.name ?? '') || (last?.k && kItems[0]?.ref === last.k) ? [...kItems, same] : [same, ...kItems];
  const k = await pickOne(kPicks, `${title} (2/6)`, 'K: the keys');
  if (!k) return;
  const kRef = k.ref || undefined;
  const sameK: Candidate = { ref: '', file: q.file, name: '', label: '$(arrow-both) Same as K' };
  const vItems = rankFor('v', all.filter((c) => c !== q && c !== k), last?.v, (kRef ? k.file : q.file));
  const vPicks = ROLE_NAMES.v.test(vItems[0]?.name ?? '') || (last?.v && vItems[0]?.ref === last.v) ? [...vItems, sameK] : [sameK, ...vItems];
  const v = await pickOne(vPicks, `${title} (3/6)`, 'V: the values');
  if (!v) return;

  const similarityDefault = last?.similarity ?? settings.similarity;
  const sim = await pickOne(
    [similarityDefault, ...SIMILARITIES.filter((s) => s !== similarityDefault)].map((s) => ({ label: s, description: SIM_HELP[s] })),
    `${title} (4/6)`, 'Similarity measure');
  if (!sim) return;

  const scaleDefault = String(last?.scale ?? settings.scale);
  const scales = ['sqrt', 'dk', 'none'];
  const scaleItems = [scaleDefault, ...scales.filter((s) => s !== scaleDefault)].map((s) => ({ label: s, description: SCALE_HELP[s] ?? 'a fixed factor' }));
  scaleItems.push({ label: 'Custom…', description: 'a number that multiplies the scores' });
  const scalePick = await pickOne(scaleItems, `${title} (5/6)`, 'Scale applied to the scores before softmax');
  if (!scalePick) return;
  let scale = parseScale(scalePick.label);
  if (scalePick.label === 'Custom…') {
    const typed = await vscode.window.showInputBox({
      title, prompt: 'Scale factor (a positive number)', value: '1', ignoreFocusOut: true,
      validateInput: (s) => (parseScale(s) === undefined ? 'Enter a positive number, or sqrt, dk or none' : undefined),
    });
    if (typed === undefined) return;
    scale = parseScale(typed);
  }
  if (scale === undefined) return;

  const maskDefault = last?.mask ?? 'none';
  const mask = await pickOne(
    [maskDefault, maskDefault === 'none' ? 'causal' : 'none'].map((m) => ({ label: m, description: m === 'causal' ? 'query i sees keys 0…i only' : 'every query sees every key' })),
    `${title} (6/6)`, 'Mask');
  if (!mask) return;

  const headsText = await vscode.window.showInputBox({
    title, prompt: 'Number of heads (1 = single-head attention; widths are split evenly among heads)',
    value: String(last?.heads ?? 1), ignoreFocusOut: true,
    validateInput: (s) => (/^\d+$/.test(s.trim()) && Number(s) >= 1 && Number(s) <= 1024 ? undefined : 'A whole number from 1 to 1024'),
  });
  if (headsText === undefined) return;

  const choice: ComputeChoice = {
    q: q.ref, k: kRef, v: v.ref || kRef,
    similarity: sim.label as ComputeChoice['similarity'], scale, mask: mask.label as 'none' | 'causal', heads: Number(headsText.trim()),
  };
  await state.update(LAST_COMPUTE_KEY, choice);
  await deps.panels.show(computeSource(choice, deps.env), vscode.ViewColumn.Active);
}

const SIM_HELP: Record<string, string> = {
  dot: 'q · k (scaled dot-product attention)',
  cosine: 'cos(q, k)',
  laplacian: '−‖q − k‖₁',
  euclidean: '−‖q − k‖²',
};
const SCALE_HELP: Record<string, string> = { sqrt: '1/√d_k', dk: '1/d_k', none: 'no scaling' };

// ------------------------------------------------------------------------------------ layer/head, compare

/** The heatmap commands act on: the focused panel or custom editor, else the visible side panel. */
function activeController(deps: CommandDeps): HeatmapController | undefined {
  return deps.panels.active ?? deps.npyEditors.active ?? deps.sidePanel.visibleController ?? deps.npyEditors.recent;
}

async function selectLayerHead(deps: CommandDeps, layerArg: unknown, headArg: unknown): Promise<void> {
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
  if (fromEditor && matrixKindOf(fromEditor.path) === 'npz') {
    for (const m of await listMembers(fromEditor.fsPath)) {
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

async function compareWith(deps: CommandDeps, other: vscode.Uri | undefined): Promise<void> {
  // A is what is on screen when a heatmap is focused (a computed result too), else the active matrix file.
  const shown = deps.panels.active ?? deps.npyEditors.active;
  const a = shown ? undefined : await currentFile(deps, true);
  const aSource = shown?.source ?? (a ? fileSource(a.fsPath, undefined, deps.env) : undefined);
  if (!aSource) return;
  const aFile = a?.fsPath ?? fileOfId(aSource.id) ?? '';
  let bRef: string | undefined = other?.fsPath;
  if (!bRef) {
    const items = (await candidates()).filter((c) => c.ref !== aFile);
    // Whole files first (same shape comparisons are the common case: two checkpoints of one dump).
    const files = new Map<string, Candidate>();
    for (const c of items) if (!files.has(c.file) && c.file !== aFile) {
      files.set(c.file, { ref: c.file, file: c.file, name: path.basename(c.file), label: path.basename(c.file), description: vscode.workspace.asRelativePath(c.file) });
    }
    const picked = await pickOne([...files.values(), ...items.filter((c) => c.ref !== c.file)],
      'Compare With', `${aSource.title} − …`);
    if (!picked) return;
    bRef = picked.ref;
  }
  const b = splitRef(bRef);
  await deps.panels.show(compareSource(aSource, fileSource(b.file, b.member, deps.env)), vscode.ViewColumn.Active);
}

// ---------------------------------------------------------------------------------------------- export

async function exportView(deps: CommandDeps, format: 'png' | 'csv', target: vscode.Uri | undefined): Promise<void> {
  const controller = activeController(deps);
  if (!controller) {
    void vscode.window.showInformationMessage('Attention Inspector: focus a heatmap to export it.');
    return;
  }
  const where = target ?? (await askExportTarget(controller.source, format));
  if (!where) return; // cancelled: nothing is written anywhere
  if (format === 'png') await controller.exportPng(where);
  else await controller.exportCsv(where);
  vscode.window.setStatusBarMessage(`Attention Inspector: exported ${path.basename(where.path)}`, 4000);
}

// --------------------------------------------------------------------------------------------- samples

async function openSamples(deps: CommandDeps, mode: string | undefined): Promise<void> {
  const samples = vscode.Uri.joinPath(deps.context.extensionUri, 'samples');
  if (mode === 'window') {
    await vscode.commands.executeCommand('vscode.openFolder', samples, { forceNewWindow: true });
    return;
  }
  if (mode === 'copy') {
    await copySamples(samples);
    return;
  }
  // Show the first worked example at once (its CodeLenses lead on), and offer the whole folder.
  const first = vscode.Uri.joinPath(samples, 'colours.attention.json');
  await vscode.window.showTextDocument(first, { preview: true });
  // Not awaited: the command is done once the sample shows; the offer stays until the user answers or closes it.
  void vscode.window.showInformationMessage(
    'Attention Inspector: samples opened read-only from the extension. Open the folder, or copy it to edit?',
    'Open Folder in New Window', 'Copy to Folder…').then(async (answer) => {
    try {
      if (answer === 'Open Folder in New Window') await vscode.commands.executeCommand('vscode.openFolder', samples, { forceNewWindow: true });
      else if (answer === 'Copy to Folder…') await copySamples(samples);
    } catch (err) {
      void vscode.window.showErrorMessage(`Attention Inspector: ${describeError(err)}`);
    }
  });
}

async function copySamples(samples: vscode.Uri): Promise<void> {
  const folder = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Copy Samples Here' });
  if (!folder?.[0]) return;
  const dest = vscode.Uri.joinPath(folder[0], 'attention-samples');
  try {
    await vscode.workspace.fs.stat(dest);
    const answer = await vscode.window.showWarningMessage(`${dest.fsPath} already exists. Replace it?`, { modal: true }, 'Replace');
    if (answer !== 'Replace') return;
  } catch {
    // Does not exist: the normal case.
  }
  await vscode.workspace.fs.copy(samples, dest, { overwrite: true });
  const open = await vscode.window.showInformationMessage(`Samples copied to ${dest.fsPath}.`, 'Open Folder');
  if (open === 'Open Folder') await vscode.commands.executeCommand('vscode.openFolder', dest, { forceNewWindow: true });
}
