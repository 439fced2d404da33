/** Open Samples: the worked examples shipped in samples/, opened read-only, in a new window, or copied. */
import * as vscode from 'vscode';
import type { CommandDeps } from './commandDeps';
import { describeError } from './errors';

export async function openSamples(deps: CommandDeps, mode: string | undefined): Promise<void> {
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
