/**
 * The one reader of the attentionInspector.* settings in the host: parses them once per configuration change
 * (src/core/settings.ts) and fires one event after the new values are in. Everything else subscribes here, never
 * to onDidChangeConfiguration, so no listener can run before the re-read.
 */
import * as vscode from 'vscode';
import { parseSettings, SettingsStore } from './core/settings';
import type { SettingsSource } from './core/settings';

export function registerSettings(): SettingsSource & vscode.Disposable {
  const read = () => {
    const config = vscode.workspace.getConfiguration('attentionInspector');
    return parseSettings((key) => config.get(key));
  };
  const store = new SettingsStore(read);
  const sub = vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('attentionInspector')) store.refresh();
  });
  return {
    get current() {
      return store.current;
    },
    onDidChange: (listener) => store.onDidChange(listener),
    dispose: () => sub.dispose(),
  };
}
