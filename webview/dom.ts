// The page skeleton, built with DOM calls (never HTML strings: labels come from untrusted files).

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

function option(value: string, text: string): HTMLOptionElement {
  const o = el('option', { value }, text);
  return o;
}

export interface Dom {
  title: HTMLElement;
  subtitle: HTMLElement;
  /** A select per extra axis of a dump (batch, sample…): pickers.ts. */
  pickers: HTMLElement;
  kind: HTMLSelectElement;
  colormap: HTMLSelectElement;
  scale: HTMLSelectElement;
  reset: HTMLButtonElement;
  exportPng: HTMLButtonElement;
  exportCsv: HTMLButtonElement;
  copy: HTMLButtonElement;
  poolingNote: HTMLElement;
  warnings: HTMLElement;
  error: HTMLElement;
  /** The plot and the pinned-row panel side by side. */
  main: HTMLElement;
  plot: HTMLElement;
  colAxis: HTMLCanvasElement;
  rowAxis: HTMLCanvasElement;
  heatmap: HTMLCanvasElement;
  overlay: HTMLCanvasElement;
  strip: HTMLCanvasElement;
  legend: HTMLCanvasElement;
  tooltip: HTMLElement;
  detail: HTMLElement;
  grid: HTMLElement;
  live: HTMLElement;
}

export const KIND_NAMES: Record<string, string> = {
  weights: 'weights (softmax)',
  scores: 'raw scores',
  scaled: 'scaled scores',
  output: 'output O',
  contributions: 'contributions w·v',
  data: 'values',
  difference: 'difference A − B',
  headMean: 'head mean',
  headMax: 'head max',
  rollout: 'attention rollout',
};

export function buildDom(colorMaps: readonly string[], parent: ParentNode = document.body): Dom {
  const kind = el('select', { id: 'view-kind', 'aria-label': 'What to show' });
  const colormap = el('select', { id: 'colormap', 'aria-label': 'Colour map for weights' });
  for (const n of colorMaps) colormap.append(option(n, n));
  const scale = el('select', { id: 'scale', 'aria-label': 'Colour scale' }, option('linear', 'linear'), option('log', 'log'));
  const reset = el('button', { id: 'reset-view', type: 'button', title: 'Reset zoom and pan (0)' }, 'Reset view');
  const exportPng = el('button', { id: 'export-png', type: 'button' }, 'Export PNG');
  const exportCsv = el('button', { id: 'export-csv', type: 'button', title: 'The current matrix, or the zoomed region' }, 'Export CSV');
  const copy = el('button', { id: 'copy-cell', type: 'button', title: 'Copy the cursor cell’s value (C)' }, 'Copy value');
  const title = el('h1', { id: 'title' });
  const subtitle = el('div', { id: 'subtitle' });
  const pickers = el('div', { id: 'axis-pickers', role: 'group', 'aria-label': 'Dump axes', hidden: '' });
  const poolingNote = el('div', { id: 'pooling-note', hidden: '' });
  const warnings = el('ul', { id: 'warnings', hidden: '' });
  const error = el('div', { id: 'error', role: 'alert', hidden: '' });
  const colAxis = el('canvas', { id: 'col-axis', 'aria-hidden': 'true' });
  const rowAxis = el('canvas', { id: 'row-axis', 'aria-hidden': 'true' });
  const heatmap = el('canvas', {
    id: 'heatmap', tabindex: '0', role: 'img',
    'aria-label': 'Heatmap. Arrow keys move the cursor cell, Shift+arrows pan, + and − zoom, 0 resets, Enter pins the row, C copies the value.',
  });
  const overlay = el('canvas', { id: 'overlay', 'aria-hidden': 'true' });
  const strip = el('canvas', { id: 'strip', 'aria-hidden': 'true', title: 'Per row: max (left), entropy (right; lighter = more focused)' });
  const legend = el('canvas', { id: 'legend', role: 'img', 'aria-label': 'Colour legend' });
  const stage = el('div', { id: 'stage' }, heatmap, overlay);
  const plot = el('div', { id: 'plot' }, el('div', { id: 'corner' }), colAxis, el('div'), rowAxis, stage, strip, el('div'), legend, el('div'));
  const tooltip = el('div', { id: 'tooltip', role: 'tooltip', hidden: '' });
  const detail = el('aside', { id: 'detail', 'aria-label': 'Pinned query row' });
  const grid = el('section', { id: 'grid', 'aria-label': 'Layers and heads', hidden: '' });
  const live = el('div', { id: 'live', 'aria-live': 'polite', class: 'visually-hidden' });
  const controls = el('div', { id: 'controls' },
    el('label', {}, 'Show ', kind), el('label', {}, 'Colours ', colormap), el('label', {}, 'Scale ', scale),
    reset, exportPng, exportCsv, copy);
  const header = el('header', {}, el('div', { id: 'titles' }, title, subtitle, pickers), controls);
  const main = el('div', { id: 'main' }, plot, detail);
  // The grid and the head table (webview/heads.ts adds itself) side by side.
  const gridArea = el('div', { id: 'grid-area' }, grid);
  parent.append(header, poolingNote, error, warnings, main, gridArea, tooltip, live);
  return {
    title, subtitle, pickers, kind, colormap, scale, reset, exportPng, exportCsv, copy, poolingNote, warnings, error,
    main, plot, colAxis, rowAxis, heatmap, overlay, strip, legend, tooltip, detail, grid, live,
  };
}

/** Replace a select's options (texts are ours; values are view kinds). */
export function setOptions(select: HTMLSelectElement, values: string[], names: Record<string, string>, selected: string): void {
  select.replaceChildren(...values.map((v) => option(v, names[v] ?? v)));
  select.value = selected;
}
