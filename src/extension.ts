import * as vscode from 'vscode';

/** Wires the features together; each feature lives in its own file and returns its disposables. */
export function activate(context: vscode.ExtensionContext): void {
  const notYet = (name: string) => () =>
    void vscode.window.showInformationMessage(`Attention Inspector: "${name}" is not available yet in this build.`);
  for (const [id, name] of [
    ['openHeatmap', 'Open Attention Heatmap'],
    ['computeAttention', 'Compute Attention from Q, K, V…'],
    ['showInSidePanel', 'Show in Side Panel'],
    ['selectLayerHead', 'Select Layer/Head…'],
    ['compareWith', 'Compare With…'],
    ['exportPng', 'Export PNG…'],
    ['exportCsv', 'Export CSV…'],
    ['openSamples', 'Open Samples'],
  ] as const) {
    context.subscriptions.push(vscode.commands.registerCommand(`attentionInspector.${id}`, notYet(name)));
  }
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
