/**
 * Error text for people: core errors name files by absolute path (the CLI prints them as given); in the editor a
 * path inside the workspace reads better relative to it ("fixtures/absurd.npy: …"), as VS Code's own messages do.
 */
import * as path from 'path';
import * as vscode from 'vscode';

/** `text` with every workspace folder's absolute path shortened (to nothing, or to the folder's name in a multi-root workspace). */
export function relativePaths(text: string): string {
  const folders = vscode.workspace.workspaceFolders ?? [];
  // Longest first, so a folder nested in another is shortened by its own name.
  const roots = folders.filter((f) => f.uri.scheme === 'file')
    .map((f) => ({ root: f.uri.fsPath.replace(/[\\/]+$/, '') + path.sep, shown: folders.length > 1 ? `${f.name}/` : '' }))
    .sort((a, b) => b.root.length - a.root.length);
  for (const { root, shown } of roots) text = text.split(root).join(shown);
  return text;
}

/** The message of any thrown value, with workspace paths shortened; never a stack. */
export function describeError(err: unknown): string {
  return relativePaths(err instanceof Error ? err.message : String(err));
}
