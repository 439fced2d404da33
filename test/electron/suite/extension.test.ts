// Runs inside a real (downloaded) VS Code: the extension activates, contributes its commands, and
// "Open Attention Heatmap" on samples/colours.attention.json opens its heatmap panel (titled after the file).
import * as assert from 'assert';
import * as vscode from 'vscode';

const EXTENSION_ID = 'attention-inspector.attention-inspector';

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Attention Inspector in VS Code (electron)', () => {
  it('activates and registers its commands', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not installed in the test instance`);
    await extension.activate();
    assert.strictEqual(extension.isActive, true);
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['openHeatmap', 'computeAttention', 'showInSidePanel', 'exportPng', 'exportCsv', 'openSamples']) {
      assert.ok(commands.includes(`attentionInspector.${id}`), `command attentionInspector.${id} is not registered`);
    }
  });

  it('opens a heatmap panel for samples/colours.attention.json', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test instance should open samples/ as its workspace');
    const uri = vscode.Uri.joinPath(folder.uri, 'colours.attention.json');
    // Start from no tabs, so only a panel this test opens can count.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.window.showTextDocument(uri);
    await vscode.commands.executeCommand('attentionInspector.openHeatmap', uri);
    // Our heatmap, not any webview: its view type (VS Code may prefix it) and the file's name as its title.
    const heatmapTabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) =>
      t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('attentionInspector.heatmap'));
    await until('the colours heatmap tab', () => heatmapTabs().some((t) => t.label === 'colours.attention.json'));
    assert.strictEqual(heatmapTabs().length, 1, 'exactly one heatmap panel is open');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
