/**
 * Problems in JSON matrix files (ragged rows, non-numbers, Q/K widths that disagree) as squiggles and Problems
 * panel entries, at the line and column scanJson's MatrixError.location gives; re-checked ~150 ms after typing stops.
 * Only matrix files are checked: a file counts once it has scanned as one (or is named *.attention.json /
 * *.attn.json), so breaking its JSON keeps the squiggles instead of dropping them, and package.json never gets ours.
 * Files a spec names ("Q": "q.npy") are checked too (core/refs.ts): a missing file or .npz member is squiggled at
 * the string, and the check runs again when a .npy/.npz appears or goes.
 */
import * as vscode from 'vscode';
import { KeyedCoalescer, TYPING_DEBOUNCE } from './core/coalesce';
import { scanJson } from './core/jsonMatrix';
import { shapeProblems } from './core/lenses';
import { checkRefs } from './core/refs';
import type { MatrixError } from './core/ndarray';
import { fileKindOf } from './core/matrixFile';

const MATRIX_NAME = /\.(attention|attn)\.json$/i;
/** Past this many problems a file is not a matrix file being edited but something else; stop listing. */
const MAX_PROBLEMS = 100;

export function registerDiagnostics(): vscode.Disposable {
  const collection = vscode.languages.createDiagnosticCollection('attentionInspector');
  const knownMatrix = new Set<string>();

  /** The diagnostics each document's last check set, so a slower reference check never overwrites a newer one. */
  const latest = new Map<string, vscode.Diagnostic[]>();
  const check = (doc: vscode.TextDocument): void => {
    if (doc.isClosed || fileKindOf(doc.uri.path) !== 'json') return;
    const key = doc.uri.toString();
    let scan: ReturnType<typeof scanJson>;
    try {
      scan = scanJson(doc.getText(), vscode.workspace.asRelativePath(doc.uri));
    } catch (err) {
      collection.set(doc.uri, [new vscode.Diagnostic(new vscode.Range(0, 0, 0, 1), errorText(err), vscode.DiagnosticSeverity.Error)]);
      return;
    }
    if (scan.kind !== 'none') knownMatrix.add(key);
    if (!knownMatrix.has(key) && !MATRIX_NAME.test(doc.uri.path)) {
      collection.delete(doc.uri);
      return;
    }
    const diagnostics: vscode.Diagnostic[] = [];
    const textLength = doc.getText().length;
    for (const err of scan.errors.slice(0, MAX_PROBLEMS)) diagnostics.push(fromMatrixError(doc, err, textLength));
    if (scan.errors.length === 0) {
      for (const p of shapeProblems(scan)) {
        diagnostics.push(make(doc, p.offset, p.length, p.message));
      }
    }
    collection.set(doc.uri, diagnostics);
    latest.set(key, diagnostics);
    const refs = scan.entries.filter((e) => e.isRef !== undefined);
    if (refs.length === 0 || doc.uri.scheme !== 'file') return;
    const version = doc.version;
    void checkRefs(refs, doc.uri.fsPath).then((problems) => {
      // Only onto the diagnostics of the same text: a newer check owns the file otherwise.
      if (problems.length === 0 || doc.isClosed || doc.version !== version || latest.get(key) !== diagnostics) return;
      collection.set(doc.uri, [...diagnostics, ...problems.map((p) => make(doc, p.offset, p.length, p.message))]);
    });
  };

  const later = new KeyedCoalescer<vscode.TextDocument>((doc) => check(doc), TYPING_DEBOUNCE);

  const subs: vscode.Disposable[] = [
    collection,
    vscode.workspace.onDidOpenTextDocument(check),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length > 0) later.trigger(e.document);
    }),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      later.cancel(doc);
      collection.delete(doc.uri);
      latest.delete(doc.uri.toString());
    }),
  ];
  // A referenced file that appears (or goes) changes the squiggles of the open specs naming it.
  const files = vscode.workspace.createFileSystemWatcher('**/*.{npy,npz,safetensors}', false, true, false);
  const recheckSpecs = () => {
    for (const doc of vscode.workspace.textDocuments) {
      if (knownMatrix.has(doc.uri.toString()) || MATRIX_NAME.test(doc.uri.path)) later.trigger(doc);
    }
  };
  subs.push(files, files.onDidCreate(recheckSpecs), files.onDidDelete(recheckSpecs));
  for (const doc of vscode.workspace.textDocuments) check(doc);
  return new vscode.Disposable(() => {
    later.dispose();
    for (const s of subs) s.dispose();
  });
}

function make(doc: vscode.TextDocument, offset: number, length: number, message: string): vscode.Diagnostic {
  const start = doc.positionAt(offset);
  const end = doc.positionAt(offset + Math.max(1, length));
  const d = new vscode.Diagnostic(new vscode.Range(start, end), message, vscode.DiagnosticSeverity.Error);
  d.source = 'Attention Inspector';
  return d;
}

function fromMatrixError(doc: vscode.TextDocument, err: MatrixError, textLength: number): vscode.Diagnostic {
  const loc = err.location;
  const problem = typeof err.problem === 'string' ? err.problem : err.message;
  if (loc) {
    // Prefer the offset (exact); fall back to the 1-based line/column when the offset is out of this text.
    if (loc.offset >= 0 && loc.offset <= textLength) return make(doc, loc.offset, loc.length, problem);
    const pos = new vscode.Position(Math.max(0, loc.line - 1), Math.max(0, loc.column - 1));
    return make(doc, doc.offsetAt(pos), loc.length, problem);
  }
  return make(doc, 0, 1, problem);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
