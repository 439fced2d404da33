// The notebook renderer for application/vnd.attention-inspector.v1+json (package.json contributes.notebookRenderer;
// built by esbuild as an ES module into dist/notebookRenderer.js). VS Code calls activate() once per notebook
// webview, then renderOutputItem for each output of our mime type. Each output draws in its own shadow root, so
// the panel's stylesheet and element ids apply inside it and nothing leaks between outputs or into the notebook.
import heatmapCss from '../../media/heatmap.css';
import { decodePayload, PayloadError } from '../../src/shared/notebookPayload';
import { el } from '../dom';
import notebookCss from './notebook.css';
import { OutputView, type OutputUiState } from './outputView';

/** The parts of VS Code's OutputItem (vscode-notebook-renderer) this renderer reads. */
export interface OutputItem {
  readonly id: string;
  readonly mime: string;
  json(): unknown;
}

export interface AttentionRenderer {
  renderOutputItem(item: OutputItem, element: HTMLElement, signal?: AbortSignal): void;
  disposeOutputItem(id?: string): void;
}

let sheets: CSSStyleSheet[] | undefined;

/** One parsed copy of the styles for every output (constructable sheets need no inline-style permission). */
function styleRoot(root: ShadowRoot): void {
  try {
    if (!sheets) {
      sheets = [heatmapCss, notebookCss].map((text) => {
        const s = new CSSStyleSheet();
        s.replaceSync(text);
        return s;
      });
    }
    root.adoptedStyleSheets = sheets;
  } catch {
    root.append(el('style', {}, heatmapCss), el('style', {}, notebookCss));
  }
}

/** The message shown in place of a heatmap: text only, and the other outputs are untouched. */
function showError(root: ShadowRoot, message: string): void {
  root.append(el('div', { class: 'attention-output', 'data-state': 'error' }, el('div', { id: 'error', role: 'alert' }, message)));
}

export function activate(): AttentionRenderer {
  const views = new Map<string, OutputView>();
  // UI choices (colour map, scale, kind, head) per output, kept while the notebook is open so a re-render
  // (VS Code re-sends an output when it scrolls back into view or the notebook reloads its webview) keeps them.
  const states = new Map<string, OutputUiState>();

  const dispose = (id: string) => {
    views.get(id)?.dispose();
    views.delete(id);
  };

  return {
    renderOutputItem(item, element, signal) {
      dispose(item.id);
      if (signal?.aborted) return;
      const root = element.shadowRoot ?? element.attachShadow({ mode: 'open' });
      root.replaceChildren();
      styleRoot(root);
      let state = states.get(item.id);
      if (!state) {
        state = { colorMap: 'viridis', scaleMode: 'linear' };
        states.set(item.id, state);
      }
      try {
        // Decoding validates everything first: a malformed payload draws nothing and runs nothing.
        const payload = decodePayload(item.json());
        views.set(item.id, new OutputView(root, payload, state));
      } catch (err) {
        root.replaceChildren();
        styleRoot(root);
        const message = err instanceof PayloadError ? err.message
          : err instanceof SyntaxError ? `Attention Inspector cannot show this output: it is not JSON (${err.message})`
            : `Attention Inspector could not draw this output: ${err instanceof Error ? err.message : String(err)}`;
        showError(root, message);
      }
    },
    disposeOutputItem(id) {
      if (id === undefined) {
        for (const k of [...views.keys()]) dispose(k);
        states.clear();
      } else {
        dispose(id);
        states.delete(id);
      }
    },
  };
}
