// The token view: the sequence as wrapped text under the map (query and key texts side by side for
// cross-attention). Hovering a token tints the other tokens by its row (attends to) or its column (attended by)
// and outlines its row and column on the map; hovering the map marks the cell's two tokens; clicking pins the
// row as clicking the map does; Ctrl/Cmd-click, Shift-click and dragging select several (tokenSelection.ts); the
// search box finds tokens (tokenSearchBox.ts). The text is virtualized: tokens are measured once and laid out
// in lines (src/shared/tokenLayout.ts), and only the lines in view are elements, so 32,768 tokens stay smooth.
// Token text is untrusted: it goes in through textContent only.
import { clampView, fitCellPx, maxCellPx, visibleRange } from '../src/shared/hit';
import { labelOf } from '../src/shared/labels';
import { tokenOnAdjacentLine } from '../src/shared/tokenLayout';
import { columnDetails, spanRows, tintScale, toggleRow, tokenKind, topEntries } from '../src/shared/tokenRows';
import { displayToken } from '../src/shared/tokenText';
import { usesValueLabels, type ViewKind } from '../src/shared/types';
import { pin } from './details';
import { el } from './dom';
import { drawOverlay } from './draw';
import { ignoreUnanswered, requests } from './host';
import { body, dom } from './page';
import { persisted, ui, vp } from './state';
import { setView } from './tiles';
import { selectionRow } from './tokenOverlay';
import { activePanes, labelsOf, layout, LINE_H, measure, paneOf, panes, render, repaint, scrollToToken, setPaneTint, type Pane, type Tint } from './tokenPanes';
import { buildSearchBar, refreshSearch, saveTokenUi } from './tokenSearchBox';
import { formatShare, onSelectionChange, refreshSelection, selectionPanel, setSelection } from './tokenSelection';
import { mapLines, tok, type Side, type TokenRef } from './tokenState';

const TOP_SHOWN = 5;

const summary = el('div', { id: 'token-summary', 'aria-hidden': 'true' });
const direction = el('select', { id: 'token-direction', 'aria-label': 'Hovering a token shows' },
  el('option', { value: 'row' }, 'attends to (its row)'), el('option', { value: 'col' }, 'attended by (its column)'));
const section = el('section', { id: 'tokens', 'aria-label': 'Tokens', hidden: '' });
/** The texts laid out last (a new model with the same tokens keeps its layout and scroll). */
let laidOutFor: { self: boolean; q: readonly string[]; k: readonly string[] } | undefined;

// ------------------------------------------------------------------------------------------------ reading rows

const cache = new Map<string, { values: Float32Array; kind: ViewKind }>();

/** Row i (over the keys) or column i (over the queries) of the token view's matrix, from the page or the host. */
async function readLine(dir: 'row' | 'col', i: number): Promise<{ values: Float32Array; kind: ViewKind } | undefined> {
  const key = `${ui.modelSeq}|${ui.kind}|${dir}|${i}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let out: { values: Float32Array; kind: ViewKind } | undefined;
  if (ui.local) {
    const k = tokenKind(ui.local, ui.kind);
    const m = k ? ui.local.kinds[k] : undefined;
    if (k && m && dir === 'row' && i < m.rows) out = { values: m.data.subarray(i * m.cols, (i + 1) * m.cols), kind: k };
    else if (dir === 'col') {
      const c = columnDetails(ui.local, ui.kind, i);
      if (c) out = { values: c.values, kind: c.kind };
    }
  } else if (dir === 'row') {
    const reply = await requests.request({ type: 'requestRow', kind: ui.kind, row: i }).catch(ignoreUnanswered);
    if (reply?.details) out = { values: reply.details.weights, kind: reply.details.kind };
  } else {
    const reply = await requests.request({ type: 'requestColumn', kind: ui.kind, col: i }).catch(ignoreUnanswered);
    if (reply?.details) out = { values: reply.details.values, kind: reply.details.kind };
  }
  if (out) {
    if (cache.size > 48) cache.delete(cache.keys().next().value as string);
    cache.set(key, out);
  }
  return out;
}

/** Which way a token reads: one text follows the toggle; in two texts a query reads its row, a key its column. */
function dirOf(t: TokenRef): 'row' | 'col' {
  return tok.self ? tok.direction : t.side === 'q' ? 'row' : 'col';
}

function quoted(side: Side, i: number): string {
  return `“${displayToken(labelOf(labelsOf(side) as string[], i))}”`;
}

/** "“bank” (query 2) attends to: bank 42.9% · The 33.4% · river 23.8%" */
function describe(what: string, t: Tint): string {
  const names = labelsOf(t.target);
  const top = topEntries(t.values, TOP_SHOWN).filter(([, v]) => v !== 0).map(([j, v]) => `${displayToken(labelOf(names as string[], j))} ${formatShare(v, t.kind)}`);
  return `${what}: ${top.join(' · ') || 'nothing'}`;
}

function setTint(t: Tint | undefined, text: string): void {
  setPaneTint(t);
  summary.textContent = text;
  repaint();
}

/** The tint when no token is hovered: the selection's mean row, else the pinned row. */
async function restingTint(): Promise<void> {
  const target: Side = tok.self ? 'q' : 'k';
  if (tok.selectionMean && tok.selection.length) {
    const t = { target, values: tok.selectionMean, peak: tintScale(tok.selectionMean), kind: tokenKindNow() };
    setTint(t, describe(`mean of ${tok.selection.length} selected tokens attends to`, t));
    return;
  }
  const row = ui.pinned;
  if (row === undefined || row >= tok.queries.length) {
    setTint(undefined, 'Hover a token to see what it attends to; click to pin its row; Ctrl/Cmd-click or drag to select several.');
    return;
  }
  const line = await readLine('row', row);
  if (tok.hover || ui.pinned !== row || !line) return;
  const t = { target, values: line.values, peak: tintScale(line.values), kind: line.kind };
  setTint(t, describe(`pinned ${quoted('q', row)} (query ${row}) attends to`, t));
}

function tokenKindNow(): ViewKind {
  return (ui.local ? tokenKind(ui.local, ui.kind) : undefined) ?? (ui.kind === 'headMean' || ui.kind === 'headMax' || ui.kind === 'rollout' ? ui.kind : 'weights');
}

/** Hover (or the keyboard's cursor on) a token: tint the other text, outline its row and column on the map. */
async function hoverToken(t: TokenRef, t0: number, announce = false): Promise<void> {
  tok.hover = t;
  repaint();
  drawOverlay();
  const dir = dirOf(t);
  const line = await readLine(dir, t.i);
  if (!line || tok.hover !== t) return;
  const target: Side = tok.self ? 'q' : dir === 'row' ? 'k' : 'q';
  const tt = { target, values: line.values, peak: tintScale(line.values), kind: line.kind };
  const what = dir === 'row' ? `${quoted(t.side, t.i)} (query ${t.i}) attends to` : `${quoted(t.side, t.i)} (key ${t.i}) is attended by`;
  setTint(tt, describe(what, tt));
  const ms = performance.now() - t0;
  body.dataset.tokenHoverMs = ms.toFixed(2);
  if (announce) dom.live.textContent = `${quoted(t.side, t.i)}, token ${t.i + 1} of ${labelsOf(t.side).length}. ${summary.textContent}`;
}

function unhover(): void {
  if (!tok.hover) return;
  tok.hover = undefined;
  drawOverlay();
  void restingTint();
}

// ------------------------------------------------------------------------------------------------ moving

function showOnMap(t: TokenRef): void {
  const mat = ui.mat;
  if (!mat) return;
  const { row, col } = mapLines(t);
  const port = vp();
  let v = ui.view;
  const minPx = Math.min(maxCellPx(port), Math.max(fitCellPx(port), 12));
  if (v.cellPx < minPx) v = { ...v, cellPx: minPx };
  const r = visibleRange(v, port);
  const visRows = ui.size.h / v.cellPx;
  const visCols = ui.size.w / v.cellPx;
  if (row !== undefined && row < mat.rows && (row < r.r0 || row >= r.r1 || row + 1 > v.y0 + visRows)) v = { ...v, y0: row + 0.5 - visRows / 2 };
  const c = col !== undefined && !usesValueLabels(ui.kind) ? col : undefined;
  if (c !== undefined && c < mat.cols && (c < r.c0 || c >= r.c1 || c + 1 > v.x0 + visCols)) v = { ...v, x0: c + 0.5 - visCols / 2 };
  setView(clampView(v, port));
  if (row !== undefined && row < mat.rows) ui.cursor = { row, col: c ?? ui.cursor.col };
}

function goTo(t: TokenRef): void {
  tok.cursor = t;
  scrollToToken(t);
  showOnMap(t);
  repaint();
  drawOverlay();
  void hoverToken(t, performance.now(), document.activeElement === paneOf(t.side).scroller);
}

/** Click: pin the query's row, as clicking the map does (the detail shows its weights and output). */
function pinToken(i: number): void {
  if (i >= (ui.mat?.rows ?? 0)) return;
  ui.cursor = { row: i, col: ui.cursor.col };
  void setSelection([]);
  pin(i);
  repaint();
}

// ------------------------------------------------------------------------------------------------ input

function tokenAt(target: EventTarget | null): number | undefined {
  const span = target instanceof HTMLElement ? target.closest<HTMLElement>('.tok') : null;
  return span?.dataset.i !== undefined ? Number(span.dataset.i) : undefined;
}

function installPane(p: Pane): void {
  let frame = 0;
  p.scroller.addEventListener('scroll', () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      render(p);
    });
  });
  new ResizeObserver(() => {
    if (tok.enabled && p.shown.length) layout(p);
  }).observe(p.scroller);
  p.win.addEventListener('pointerover', (e) => {
    const t0 = performance.now();
    const i = tokenAt(e.target);
    if (i === undefined || (tok.hover && tok.hover.side === p.side && tok.hover.i === i)) return;
    void hoverToken({ side: p.side, i }, t0);
  });
  p.scroller.addEventListener('pointerleave', unhover);
  let drag: { start: number; moved: boolean; last: number } | undefined;
  p.win.addEventListener('pointerdown', (e) => {
    const i = tokenAt(e.target);
    if (i === undefined || e.button !== 0 || p.side !== 'q') return;
    drag = { start: i, moved: false, last: i };
  });
  p.win.addEventListener('pointermove', (e) => {
    if (!drag || (e.buttons & 1) === 0) return;
    const i = tokenAt(e.target);
    if (i === undefined || i === drag.last) return;
    drag.last = i;
    drag.moved = true;
    e.preventDefault();
    void setSelection(spanRows(drag.start, i));
  });
  p.win.addEventListener('click', (e) => {
    const i = tokenAt(e.target);
    const d = drag;
    drag = undefined;
    if (i === undefined || d?.moved) return;
    tok.cursor = { side: p.side, i };
    if (p.side !== 'q') {
      showOnMap(tok.cursor);
      return;
    }
    if (e.ctrlKey || e.metaKey) void setSelection(toggleRow(tok.selection, i));
    else if (e.shiftKey) void setSelection(spanRows(tok.selection[0] ?? ui.pinned ?? i, i));
    else pinToken(i);
  });
  p.scroller.addEventListener('keydown', (e) => onKey(p, e));
  p.scroller.addEventListener('focus', () => {
    if (tok.cursor.side !== p.side || tok.cursor.i >= p.shown.length) tok.cursor = { side: p.side, i: firstVisibleToken(p) };
    goTo(tok.cursor);
  });
  p.scroller.addEventListener('blur', () => {
    unhover();
    repaint();
  });
}

function firstVisibleToken(p: Pane): number {
  const k = Math.min(p.starts.length - 1, Math.floor(p.scroller.scrollTop / LINE_H));
  return k >= 0 ? p.starts[k] : 0;
}

function onKey(p: Pane, e: KeyboardEvent): void {
  const n = p.shown.length;
  if (!n) return;
  const i = tok.cursor.side === p.side ? tok.cursor.i : 0;
  let next: number | undefined;
  switch (e.key) {
    case 'ArrowLeft': next = Math.max(0, i - 1); break;
    case 'ArrowRight': next = Math.min(n - 1, i + 1); break;
    case 'ArrowUp': next = tokenOnAdjacentLine(p.starts, n, i, -1); break;
    case 'ArrowDown': next = tokenOnAdjacentLine(p.starts, n, i, 1); break;
    case 'Home': next = 0; break;
    case 'End': next = n - 1; break;
    case 'Enter':
      e.preventDefault();
      if (p.side === 'q') {
        if (e.ctrlKey || e.metaKey) void setSelection(toggleRow(tok.selection, i));
        else pinToken(i);
      }
      return;
    case ' ':
      e.preventDefault();
      if (p.side === 'q') void setSelection(toggleRow(tok.selection, i));
      return;
    case 'Escape':
      if (tok.selection.length) {
        e.preventDefault();
        void setSelection([]);
      }
      return;
    default:
      return;
  }
  e.preventDefault();
  if (e.shiftKey && p.side === 'q') {
    const anchor = tok.selection.length ? (tok.selection[0] === i ? tok.selection[tok.selection.length - 1] : tok.selection[0]) : i;
    void setSelection(spanRows(anchor, next));
  }
  goTo({ side: p.side, i: next });
}

/** The map's hover moved: mark its cell's tokens in the text (input.ts calls this). */
export function followMap(): void {
  if (tok.enabled) repaint();
}

/** The pinned row changed from the map (click, Enter, Escape): the resting tint follows. */
export function followPin(): void {
  if (!tok.enabled) return;
  repaint();
  if (!tok.hover) void restingTint();
}

// ------------------------------------------------------------------------------------------------ model

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A model or kind arrived (a head, layer or view kind picked): show its tokens, read the same token again. */
export function refreshTokens(): void {
  const m = ui.model;
  const mat = ui.mat;
  const q = m?.queryLabels;
  const rows = mat?.rows ?? 0;
  const enabled = !!m && !!q && q.length > 0 && q.length === rows;
  tok.enabled = enabled;
  section.hidden = !enabled;
  body.dataset.tokens = enabled ? String(q?.length) : '0';
  if (!enabled || !m || !q) {
    setPaneTint(undefined);
    tok.hover = undefined;
    tok.hitsQ = tok.hitsK = new Int32Array(0);
    if (tok.selection.length) void setSelection([]);
    return;
  }
  const k = m.keyLabels ?? q;
  const self = sameLabels(q, k);
  tok.queries = q;
  tok.keys = self ? q : k;
  tok.self = self;
  direction.disabled = !self;
  direction.title = self ? '' : 'Two texts: hover a query for its row, a key for its column';
  const t0 = performance.now();
  const last = laidOutFor;
  if (!last || last.self !== self || !sameLabels(last.q, q) || (!self && !sameLabels(last.k, k))) {
    laidOutFor = { self, q, k };
    panes.k.scroller.hidden = panes.k.heading.hidden = self;
    panes.q.heading.hidden = self;
    measure(panes.q);
    if (!self) measure(panes.k);
    if (tok.cursor.i >= labelsOf(tok.cursor.side).length) tok.cursor = { side: 'q', i: 0 };
  }
  for (const p of activePanes()) {
    p.laidOut = -1;
    layout(p);
  }
  body.dataset.tokenLayoutMs = (performance.now() - t0).toFixed(1);
  refreshSearch();
  void refreshSelection().then(() => {
    if (tok.hover && tok.hover.i < labelsOf(tok.hover.side).length) void hoverToken(tok.hover, performance.now());
    else {
      tok.hover = undefined;
      void restingTint();
    }
  });
}

export function installTokens(): void {
  const saved = persisted.get().tokens;
  tok.direction = saved?.direction ?? 'row';
  direction.value = tok.direction;
  direction.addEventListener('change', () => {
    tok.direction = direction.value === 'col' ? 'col' : 'row';
    saveTokenUi();
    if (tok.hover) void hoverToken(tok.hover, performance.now());
  });
  const bar = el('div', { class: 'token-bar' },
    ...buildSearchBar({ shown: (side) => paneOf(side).shown, repaint, goTo }),
    el('label', {}, 'Hover shows ', direction));
  const texts = el('div', { class: 'token-texts' },
    el('div', { class: 'token-col' }, panes.q.heading, panes.q.scroller),
    el('div', { class: 'token-col' }, panes.k.heading, panes.k.scroller));
  section.append(bar, summary, texts);
  const main = dom.plot.parentElement as HTMLElement;
  main.after(section);
  main.append(selectionPanel);
  // The selection's mean row sits under the map, in the plot's grid (its row is 0 px tall without a selection).
  dom.strip.after(selectionRow.label, selectionRow.canvas, document.createElement('div'));
  installPane(panes.q);
  installPane(panes.k);
  // The pinned row's Unpin button (details.ts) clears the pin: the resting tint follows.
  dom.detail.addEventListener('click', (e) => {
    if (e.target instanceof HTMLElement && e.target.closest('.unpin')) queueMicrotask(followPin);
  });
  onSelectionChange(() => {
    repaint();
    drawOverlay();
    if (!tok.hover) void restingTint();
  });
  // Keyboard users reach the search from the map with "/" (as in many viewers), and leave it with Escape.
  dom.heatmap.addEventListener('keydown', (e) => {
    if (e.key === '/' && tok.enabled) {
      e.preventDefault();
      (document.getElementById('token-search') as HTMLInputElement | null)?.focus();
    }
  });
}
