// The token view: the sequence as wrapped text under the map (query and key texts side by side for
// cross-attention). Hovering a token tints the other tokens by its row (attends to) or its column (attended by)
// and outlines its row and column on the map; hovering the map marks the cell's two tokens; clicking pins the
// row as clicking the map does; Ctrl/Cmd-click, Shift-click and dragging select several (tokenSelection.ts); the
// search box finds tokens (tokenSearchBox.ts). The text is virtualized (tokenPanes.ts), so 32,768 tokens stay smooth.
// One instance per heatmap: the panel's page has one (tokens.ts gives it the extension host's rows), each notebook
// output its own (rows straight from its payload). Everything it reads or moves on the map goes through TokenHost.
// Token text is untrusted: it goes in through textContent only.
import type { View } from '../src/shared/hit';
import { labelOf } from '../src/shared/labels';
import { tokenOnAdjacentLine } from '../src/shared/tokenLayout';
import { spanRows, tintScale, toggleRow, topEntries } from '../src/shared/tokenRows';
import { displayToken } from '../src/shared/tokenText';
import { usesValueLabels } from '../src/shared/types';
import { el } from './dom';
import type { Colors } from './render';
import { createSelectionRow, drawSelectionRow, drawTokenMarks, type SelectionRow } from './tokenOverlay';
import { LINE_H, TokenPanes, type Pane, type Tint } from './tokenPanes';
import { TokenSearchBox } from './tokenSearchBox';
import { formatShare, TokenSelection } from './tokenSelection';
import { createTokenState, mapLines, selectionRowHeight, type Side, type TokenHost, type TokenLine, type TokenRef, type TokenState } from './tokenState';

const TOP_SHOWN = 5;

/** The parts of the heatmap's skeleton (dom.ts) the token view sits beside. */
export interface TokenMount {
  main: HTMLElement;
  strip: HTMLElement;
  detail: HTMLElement;
  heatmap: HTMLElement;
}

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class TokenView {
  private readonly panes: TokenPanes;
  private readonly search: TokenSearchBox;
  private readonly selection: TokenSelection;
  private readonly selectionRow: SelectionRow = createSelectionRow();
  private readonly summary = el('div', { id: 'token-summary', 'aria-hidden': 'true' });
  private readonly direction = el('select', { id: 'token-direction', 'aria-label': 'Hovering a token shows' },
    el('option', { value: 'row' }, 'attends to (its row)'), el('option', { value: 'col' }, 'attended by (its column)'));
  private readonly section = el('section', { id: 'tokens', 'aria-label': 'Tokens', hidden: '' });
  /** The texts laid out last (a new model with the same tokens keeps its layout and scroll). */
  private laidOutFor: { self: boolean; q: readonly string[]; k: readonly string[] } | undefined;
  private readonly cache = new Map<string, TokenLine>();
  private readonly observers: ResizeObserver[] = [];

  constructor(private readonly host: TokenHost, readonly tok: TokenState = createTokenState()) {
    this.panes = new TokenPanes(tok, host);
    this.search = new TokenSearchBox(tok, host, { shown: (side) => this.panes.paneOf(side).shown, repaint: () => this.panes.repaint(), goTo: (t) => this.goTo(t) });
    this.selection = new TokenSelection(tok, host, () => {
      this.panes.repaint();
      host.drawOverlay();
      if (!tok.hover) void this.restingTint();
    });
  }

  // ---------------------------------------------------------------------------------------------- the map's side

  /** Height of the selection's mean row under the map (0 without a selection). */
  rowUnderMap(): number {
    return selectionRowHeight(this.tok);
  }

  /** The token marks on the map's overlay (search hits, selection, hovered token's lines). */
  drawMarks(ctx: CanvasRenderingContext2D, view: View, w: number, h: number, rows: number, cols: number): void {
    drawTokenMarks(this.tok, this.host, ctx, view, w, h, rows, cols);
  }

  drawSelectionRow(colors: Colors | undefined, view: View, width: number, cols: number, dpr: number): void {
    drawSelectionRow(this.tok, this.selectionRow, colors, view, width, cols, dpr);
  }

  // ---------------------------------------------------------------------------------------------- reading rows

  private async readLine(dir: 'row' | 'col', i: number): Promise<TokenLine | undefined> {
    const key = `${this.host.map().generation}|${dir}|${i}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const out = await this.host.line(dir, i);
    if (out) {
      if (this.cache.size > 48) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, out);
    }
    return out;
  }

  /** Which way a token reads: one text follows the toggle; in two texts a query reads its row, a key its column. */
  private dirOf(t: TokenRef): 'row' | 'col' {
    return this.tok.self ? this.tok.direction : t.side === 'q' ? 'row' : 'col';
  }

  private quoted(side: Side, i: number): string {
    return `“${displayToken(labelOf(this.panes.labelsOf(side) as string[], i))}”`;
  }

  /** "“bank” (query 2) attends to: bank 42.9% · The 33.4% · river 23.8%" */
  private describe(what: string, t: Tint): string {
    const names = this.panes.labelsOf(t.target);
    const top = topEntries(t.values, TOP_SHOWN).filter(([, v]) => v !== 0).map(([j, v]) => `${displayToken(labelOf(names as string[], j))} ${formatShare(v, t.kind)}`);
    return `${what}: ${top.join(' · ') || 'nothing'}`;
  }

  private setTint(t: Tint | undefined, text: string): void {
    this.panes.setTint(t);
    this.summary.textContent = text;
    this.panes.repaint();
  }

  /** The tint when no token is hovered: the selection's mean row, else the pinned row. */
  private async restingTint(): Promise<void> {
    const { tok } = this;
    const target: Side = tok.self ? 'q' : 'k';
    if (tok.selectionMean && tok.selection.length) {
      const t = { target, values: tok.selectionMean, peak: tintScale(tok.selectionMean), kind: this.host.tokenKind() };
      this.setTint(t, this.describe(`mean of ${tok.selection.length} selected tokens attends to`, t));
      return;
    }
    const row = this.host.map().pinned;
    if (row === undefined || row >= tok.queries.length) {
      this.setTint(undefined, 'Hover a token to see what it attends to; click to pin its row; Ctrl/Cmd-click or drag to select several.');
      return;
    }
    const line = await this.readLine('row', row);
    if (tok.hover || this.host.map().pinned !== row || !line) return;
    const t = { target, values: line.values, peak: tintScale(line.values), kind: line.kind };
    this.setTint(t, this.describe(`pinned ${this.quoted('q', row)} (query ${row}) attends to`, t));
  }

  /** Hover (or the keyboard's cursor on) a token: tint the other text, outline its row and column on the map. */
  private async hoverToken(t: TokenRef, t0: number, announce = false): Promise<void> {
    const { tok, host } = this;
    tok.hover = t;
    this.panes.repaint();
    host.drawOverlay();
    const dir = this.dirOf(t);
    const line = await this.readLine(dir, t.i);
    if (!line || tok.hover !== t) return;
    const target: Side = tok.self ? 'q' : dir === 'row' ? 'k' : 'q';
    const tt = { target, values: line.values, peak: tintScale(line.values), kind: line.kind };
    const what = dir === 'row' ? `${this.quoted(t.side, t.i)} (query ${t.i}) attends to` : `${this.quoted(t.side, t.i)} (key ${t.i}) is attended by`;
    this.setTint(tt, this.describe(what, tt));
    host.stats.dataset.tokenHoverMs = (performance.now() - t0).toFixed(2);
    if (announce) host.live.textContent = `${this.quoted(t.side, t.i)}, token ${t.i + 1} of ${this.panes.labelsOf(t.side).length}. ${this.summary.textContent}`;
  }

  private unhover(): void {
    if (!this.tok.hover) return;
    this.tok.hover = undefined;
    this.host.drawOverlay();
    void this.restingTint();
  }

  // ---------------------------------------------------------------------------------------------- moving

  private showOnMap(t: TokenRef): void {
    const { row, col } = mapLines(this.tok, t);
    this.host.showOnMap(row, col !== undefined && !usesValueLabels(this.host.map().kind) ? col : undefined);
  }

  private goTo(t: TokenRef): void {
    this.tok.cursor = t;
    this.panes.scrollToToken(t);
    this.showOnMap(t);
    this.panes.repaint();
    this.host.drawOverlay();
    void this.hoverToken(t, performance.now(), this.host.root.activeElement === this.panes.paneOf(t.side).scroller);
  }

  /** Click: pin the query's row, as clicking the map does (the detail shows its weights and output). */
  private pinToken(i: number): void {
    if (i >= this.host.map().rows) return;
    void this.selection.set([]);
    this.host.pin(i);
    this.panes.repaint();
  }

  // ---------------------------------------------------------------------------------------------- input

  private static tokenAt(target: EventTarget | null): number | undefined {
    const span = target instanceof HTMLElement ? target.closest<HTMLElement>('.tok') : null;
    return span?.dataset.i !== undefined ? Number(span.dataset.i) : undefined;
  }

  private installPane(p: Pane): void {
    const { tok, panes } = this;
    const tokenAt = TokenView.tokenAt;
    let frame = 0;
    p.scroller.addEventListener('scroll', () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        panes.render(p);
      });
    });
    const resize = new ResizeObserver(() => {
      if (tok.enabled && p.shown.length) panes.layout(p);
    });
    resize.observe(p.scroller);
    this.observers.push(resize);
    p.win.addEventListener('pointerover', (e) => {
      const t0 = performance.now();
      const i = tokenAt(e.target);
      if (i === undefined || (tok.hover && tok.hover.side === p.side && tok.hover.i === i)) return;
      void this.hoverToken({ side: p.side, i }, t0);
    });
    p.scroller.addEventListener('pointerleave', () => this.unhover());
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
      void this.selection.set(spanRows(drag.start, i));
    });
    p.win.addEventListener('click', (e) => {
      const i = tokenAt(e.target);
      const d = drag;
      drag = undefined;
      if (i === undefined || d?.moved) return;
      tok.cursor = { side: p.side, i };
      if (p.side !== 'q') {
        this.showOnMap(tok.cursor);
        return;
      }
      if (e.ctrlKey || e.metaKey) void this.selection.set(toggleRow(tok.selection, i));
      else if (e.shiftKey) void this.selection.set(spanRows(tok.selection[0] ?? this.host.map().pinned ?? i, i));
      else this.pinToken(i);
    });
    p.scroller.addEventListener('keydown', (e) => this.onKey(p, e));
    p.scroller.addEventListener('focus', () => {
      if (tok.cursor.side !== p.side || tok.cursor.i >= p.shown.length) tok.cursor = { side: p.side, i: this.firstVisibleToken(p) };
      this.goTo(tok.cursor);
    });
    p.scroller.addEventListener('blur', () => {
      this.unhover();
      panes.repaint();
    });
  }

  private firstVisibleToken(p: Pane): number {
    const k = Math.min(p.starts.length - 1, Math.floor(p.scroller.scrollTop / LINE_H));
    return k >= 0 ? p.starts[k] : 0;
  }

  private onKey(p: Pane, e: KeyboardEvent): void {
    const { tok, selection } = this;
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
          if (e.ctrlKey || e.metaKey) void selection.set(toggleRow(tok.selection, i));
          else this.pinToken(i);
        }
        return;
      case ' ':
        e.preventDefault();
        if (p.side === 'q') void selection.set(toggleRow(tok.selection, i));
        return;
      case 'Escape':
        if (tok.selection.length) {
          e.preventDefault();
          void selection.set([]);
        }
        return;
      default:
        return;
    }
    e.preventDefault();
    if (e.shiftKey && p.side === 'q') {
      const anchor = tok.selection.length ? (tok.selection[0] === i ? tok.selection[tok.selection.length - 1] : tok.selection[0]) : i;
      void selection.set(spanRows(anchor, next));
    }
    this.goTo({ side: p.side, i: next });
  }

  /** The heatmap goes away (a notebook output disposed): stop watching the texts' size. */
  dispose(): void {
    for (const o of this.observers.splice(0)) o.disconnect();
    this.cache.clear();
  }

  /** The map's hover moved: mark its cell's tokens in the text. */
  followMap(): void {
    if (this.tok.enabled) this.panes.repaint();
  }

  /** The pinned row changed from the map (click, Enter, Escape): the resting tint follows. */
  followPin(): void {
    if (!this.tok.enabled) return;
    this.panes.repaint();
    if (!this.tok.hover) void this.restingTint();
  }

  // ---------------------------------------------------------------------------------------------- model

  /**
   * A model or kind arrived (a head, layer or view kind picked): show its tokens (`queries` undefined: none), read
   * the same token again. `rows`: the map's rows (the view is shown only when there is a token per row).
   */
  refresh(queries: readonly string[] | undefined, keys: readonly string[] | undefined, rows: number): void {
    const { tok, panes, host } = this;
    const q = queries;
    const enabled = !!q && q.length > 0 && q.length === rows;
    tok.enabled = enabled;
    this.section.hidden = !enabled;
    host.stats.dataset.tokens = enabled ? String(q?.length) : '0';
    this.cache.clear();
    if (!enabled || !q) {
      panes.setTint(undefined);
      tok.hover = undefined;
      tok.hitsQ = tok.hitsK = new Int32Array(0);
      if (tok.selection.length) void this.selection.set([]);
      return;
    }
    const k = keys ?? q;
    const self = sameLabels(q, k);
    tok.queries = q;
    tok.keys = self ? q : k;
    tok.self = self;
    this.direction.disabled = !self;
    this.direction.title = self ? '' : 'Two texts: hover a query for its row, a key for its column';
    const t0 = performance.now();
    const last = this.laidOutFor;
    if (!last || last.self !== self || !sameLabels(last.q, q) || (!self && !sameLabels(last.k, k))) {
      this.laidOutFor = { self, q, k };
      panes.panes.k.scroller.hidden = panes.panes.k.heading.hidden = self;
      panes.panes.q.heading.hidden = self;
      panes.measure(panes.panes.q);
      if (!self) panes.measure(panes.panes.k);
      if (tok.cursor.i >= panes.labelsOf(tok.cursor.side).length) tok.cursor = { side: 'q', i: 0 };
    }
    for (const p of panes.activePanes()) {
      p.laidOut = -1;
      panes.layout(p);
    }
    host.stats.dataset.tokenLayoutMs = (performance.now() - t0).toFixed(1);
    this.search.refresh();
    void this.selection.refresh().then(() => {
      if (tok.hover && tok.hover.i < panes.labelsOf(tok.hover.side).length) void this.hoverToken(tok.hover, performance.now());
      else {
        tok.hover = undefined;
        void this.restingTint();
      }
    });
  }

  /** Build the view beside a heatmap's skeleton: the texts under the plot, the selection beside the pinned row. */
  mount(at: TokenMount): void {
    const { tok, panes } = this;
    tok.direction = this.host.saved()?.direction ?? 'row';
    this.direction.value = tok.direction;
    this.direction.addEventListener('change', () => {
      tok.direction = this.direction.value === 'col' ? 'col' : 'row';
      this.search.save();
      if (tok.hover) void this.hoverToken(tok.hover, performance.now());
    });
    const bar = el('div', { class: 'token-bar' }, ...this.search.elements(), el('label', {}, 'Hover shows ', this.direction));
    const texts = el('div', { class: 'token-texts' },
      el('div', { class: 'token-col' }, panes.panes.q.heading, panes.panes.q.scroller),
      el('div', { class: 'token-col' }, panes.panes.k.heading, panes.panes.k.scroller));
    this.section.append(bar, this.summary, texts);
    at.main.after(this.section);
    at.main.append(this.selection.panel);
    // The selection's mean row sits under the map, in the plot's grid (its row is 0 px tall without a selection).
    at.strip.after(this.selectionRow.label, this.selectionRow.canvas, document.createElement('div'));
    this.installPane(panes.panes.q);
    this.installPane(panes.panes.k);
    // The pinned row's Unpin button (details.ts, panels.ts) clears the pin: the resting tint follows.
    at.detail.addEventListener('click', (e) => {
      if (e.target instanceof HTMLElement && e.target.closest('.unpin')) queueMicrotask(() => this.followPin());
    });
    // Keyboard users reach the search from the map with "/" (as in many viewers), and leave it with Escape.
    at.heatmap.addEventListener('keydown', (e) => {
      if (e.key === '/' && tok.enabled) {
        e.preventDefault();
        this.search.input.focus();
      }
    });
  }
}
