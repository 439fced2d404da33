/** Compare With…: A − B of what is on screen (or the active file) and another file or member. */
import * as path from 'path';
import * as vscode from 'vscode';
import { currentFile } from './commandDeps';
import type { CommandDeps } from './commandDeps';
import { candidates, pickOne } from './matrixCandidates';
import type { Candidate } from './matrixCandidates';
import { splitRef } from './core/matrixFile';
import { fileOfId } from './sourceIds';
import { compareSource } from './sources/compareSource';
import { fileSource } from './sources/fileSource';

export async function compareWith(deps: CommandDeps, other: vscode.Uri | undefined): Promise<void> {
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
  await deps.panels.show(compareSource(aSource, fileSource(b.file, b.member, deps.env), deps.env), vscode.ViewColumn.Active);
}
