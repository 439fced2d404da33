/** The matrices in the workspace a quick pick can offer (Compute Attention…, Compare With…). */
import * as path from 'path';
import * as vscode from 'vscode';
import { scanJson } from './core/jsonMatrix';
import { formatShape } from './core/lenses';
import { drawableMembers } from './core/matrixFile';
import { describeFile } from './loadPipeline';
import { fileKindOf } from './core/matrixFile';

const MATRIX_GLOB = '**/*.{npy,npz,safetensors,json}';
const EXCLUDE_GLOB = '{**/node_modules/**,**/.git/**,**/out/**,**/dist/**}';
/** Quick picks list at most this many files: a big workspace must not stall the palette. */
const MAX_FILES = 200;
/** JSON files larger than this are not opened just to list their keys in a quick pick. */
const MAX_SCAN_BYTES = 4 * 1024 * 1024;

export interface Candidate extends vscode.QuickPickItem {
  readonly ref: string;        // "path" or "path#member"
  readonly file: string;
  readonly name: string;       // member, or file base name
  readonly shape?: readonly number[];
}

/** Every matrix in the workspace a quick pick can offer: .npy files, .npz members, JSON matrix keys. */
export async function candidates(): Promise<Candidate[]> {
  const uris = await vscode.workspace.findFiles(MATRIX_GLOB, EXCLUDE_GLOB, MAX_FILES);
  uris.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  const out: Candidate[] = [];
  for (const uri of uris) {
    const file = uri.fsPath;
    const rel = vscode.workspace.asRelativePath(uri);
    try {
      switch (fileKindOf(file)) {
        case 'npy': {
          const info = await describeFile(file);
          out.push({ ref: file, file, name: path.basename(file, '.npy'), shape: info.shape, label: path.basename(file), description: `${formatShape(info.shape)} ${info.dtype} · ${rel}` });
          break;
        }
        case 'npz':
        case 'safetensors':
          // String members (tokens) label maps; they are not matrices to pick.
          for (const m of await drawableMembers(file)) {
            out.push({ ref: `${file}#${m.name}`, file, name: m.name, shape: m.info.shape, label: `${path.basename(file)}#${m.name}`, description: `${formatShape(m.info.shape)} ${m.info.dtype} · ${rel}` });
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
            out.push({ ref: `${file}#${e.key}`, file, name: e.key, shape: e.shape, label: `${path.basename(file)}#${e.key}`, description: `${formatShape(e.shape)} · ${rel}` });
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

export async function pickOne<T extends vscode.QuickPickItem>(items: T[], title: string, placeHolder: string): Promise<T | undefined> {
  return vscode.window.showQuickPick(items, { title, placeHolder, matchOnDescription: true, ignoreFocusOut: true });
}
