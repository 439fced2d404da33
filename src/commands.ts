/**
 * Registers the command palette (category "Attention"); each command lives in its own file. Commands that need a
 * matrix file or a focused heatmap are hidden by `when` clauses on attentionInspector.activeIsMatrixFile /
 * attentionInspector.heatmapFocused (contextKeys.ts). Every command accepts its target as arguments (a Uri, a
 * member, an export path) so CodeLenses, menus and the end-to-end tests can call it without dialogs; without them
 * it asks.
 */
import * as vscode from 'vscode';
import type { CommandDeps } from './commandDeps';
import { compareWith } from './compareCommand';
import { computeAttentionCommand } from './computeWizard';
import { describeError } from './errors';
import { exportView } from './exportCommand';
import { selectLayerHead } from './layerHeadCommand';
import { openHeatmap, showInSidePanel } from './openCommands';
import { openSamples } from './samplesCommand';
import { setAxes } from './setAxesCommand';

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
    register('selectLayerHead', (layer, head, extra) => selectLayerHead(deps, layer, head, extra)),
    register('setAxes', (names) => setAxes(deps, names)),
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
