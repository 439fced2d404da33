// The token view's texts as panes of virtualized lines (tokens.ts drives them): each token is converted to its shown
// text and measured once, the tokens are broken into lines for the pane's width (src/shared/tokenLayout.ts), and
// only the lines in the scrolled window are elements. Painting a token reads the view's state: hover, keyboard
// cursor, search hits, selection, the pinned row, the map's hovered cell and the current tint.
// Token text is untrusted: it goes in through textContent only.
import { layoutLines, lineOf, lineTokens, visibleLines } from '../src/shared/tokenLayout';
import { isHit } from '../src/shared/tokenSearch';
import { displayToken, endsLine } from '../src/shared/tokenText';
import { usesValueLabels, type ViewKind } from '../src/shared/types';
import { el } from './dom';
import type { Side, TokenHost, TokenRef, TokenState } from './tokenState';

export const LINE_H = 22;
/** Padding (2 × 3 px), border (2 × 1 px), the gap after each token and a pixel of slack, added to the text width. */
const TOKEN_PAD = 10;

export interface Pane {
  side: Side;
  scroller: HTMLElement;
  sizer: HTMLElement;
  win: HTMLElement;
  heading: HTMLElement;
  shown: string[];
  widths: Float32Array;
  breaks: Uint8Array;
  starts: Int32Array;
  /** Width the lines were laid out for. */
  laidOut: number;
  rendered: { first: number; end: number };
}

/** What the text is tinted by: a row or column of values over one side's tokens. */
export interface Tint {
  target: Side;
  values: Float32Array;
  peak: number;
  kind: ViewKind;
}

function makePane(side: Side): Pane {
  const win = el('div', { class: 'token-window' });
  const sizer = el('div', { class: 'token-sizer' }, win);
  const scroller = el('div', {
    class: 'token-text', id: side === 'q' ? 'token-text' : 'token-text-keys', tabindex: '0', role: 'group', 'data-side': side,
    'aria-label': side === 'q' ? 'Query tokens. Arrow keys move, Enter pins the row, Space adds to the selection, Shift+arrows extend it, Escape clears it.'
      : 'Key tokens. Arrow keys move; hovering shows which queries attend to a key.',
  }, sizer);
  const heading = el('div', { class: 'token-heading muted' }, side === 'q' ? 'queries' : 'keys');
  return { side, scroller, sizer, win, heading, shown: [], widths: new Float32Array(0), breaks: new Uint8Array(0), starts: new Int32Array(0), laidOut: -1, rendered: { first: 0, end: 0 } };
}

let measureCtx: CanvasRenderingContext2D | null | undefined;

/** The query text and, for cross-attention, the key text of one token view. */
export class TokenPanes {
  readonly panes: Record<Side, Pane> = { q: makePane('q'), k: makePane('k') };
  private tint: Tint | undefined;
  private selectedSet = new Set<number>();

  constructor(private readonly tok: TokenState, private readonly host: TokenHost) {}

  /** Tint the tokens (undefined: no tint); repaint() shows it. */
  setTint(t: Tint | undefined): void {
    this.tint = t;
  }

  labelsOf(side: Side): readonly string[] {
    return side === 'q' || this.tok.self ? this.tok.queries : this.tok.keys;
  }

  paneOf(side: Side): Pane {
    return this.tok.self ? this.panes.q : this.panes[side];
  }

  activePanes(): Pane[] {
    return this.tok.self ? [this.panes.q] : [this.panes.q, this.panes.k];
  }

  // ---------------------------------------------------------------------------------------------- layout

  measure(p: Pane): void {
    const cs = getComputedStyle(p.scroller);
    measureCtx ??= document.createElement('canvas').getContext('2d');
    const ctx = measureCtx;
    if (ctx) ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    // A vocabulary repeats: each distinct token is converted and measured once.
    const seen = new Map<string, { shown: string; width: number; ends: boolean }>();
    const labels = this.labelsOf(p.side);
    p.shown = new Array<string>(labels.length);
    p.widths = new Float32Array(labels.length);
    p.breaks = new Uint8Array(labels.length);
    for (let i = 0; i < labels.length; i++) {
      const raw = labels[i];
      let t = seen.get(raw);
      if (!t) {
        const shown = displayToken(raw);
        t = { shown, width: Math.ceil(ctx ? ctx.measureText(shown).width : shown.length * 8) + TOKEN_PAD, ends: endsLine(raw) };
        seen.set(raw, t);
      }
      p.shown[i] = t.shown;
      p.widths[i] = t.width;
      p.breaks[i] = t.ends ? 1 : 0;
    }
    p.laidOut = -1;
  }

  layout(p: Pane): void {
    const width = Math.max(40, p.scroller.clientWidth - 8);
    if (width === p.laidOut) return;
    p.laidOut = width;
    p.starts = layoutLines(p.widths, width, p.breaks);
    const total = p.starts.length * LINE_H;
    p.sizer.style.height = `${total}px`;
    const maxH = Math.max(LINE_H * 2, Math.floor(window.innerHeight * 0.26));
    p.scroller.style.height = `${Math.min(total, maxH) + 6}px`;
    p.rendered = { first: 0, end: 0 };
    this.render(p, true);
  }

  // ---------------------------------------------------------------------------------------------- rendering

  render(p: Pane, force = false): void {
    const r = visibleLines(p.scroller.scrollTop, p.scroller.clientHeight, LINE_H, p.starts.length, 6);
    if (!force && r.first === p.rendered.first && r.end === p.rendered.end) return;
    p.rendered = r;
    const t0 = performance.now();
    const lines: HTMLElement[] = [];
    const count = p.shown.length;
    for (let k = r.first; k < r.end; k++) {
      const line = el('div', { class: 'token-line' });
      const { first, end } = lineTokens(p.starts, k, count);
      for (let i = first; i < end; i++) {
        const span = document.createElement('span');
        span.id = `token-${p.side}-${i}`;
        span.dataset.i = String(i);
        span.textContent = p.shown[i];
        span.style.width = `${p.widths[i] - 1}px`;
        this.paintSpan(p, i, span);
        line.append(span);
      }
      lines.push(line);
    }
    p.win.style.transform = `translateY(${r.first * LINE_H}px)`;
    p.win.replaceChildren(...lines);
    this.host.stats.dataset.tokenRenderMs = (performance.now() - t0).toFixed(2);
  }

  /** Classes and tint of one token from the state (hover, cursor, hits, selection, map hover, pin). */
  private paintSpan(p: Pane, i: number, span: HTMLElement): void {
    const { tok, host } = this;
    const side = p.side;
    const map = host.map();
    let cls = 'tok';
    if (tok.hover && tok.hover.side === side && tok.hover.i === i) cls += ' hovered';
    if (tok.cursor.side === side && tok.cursor.i === i && host.root.activeElement === p.scroller) cls += ' cursor';
    if (isHit(side === 'q' ? tok.hitsQ : tok.hitsK, i)) cls += ' hit';
    if (tok.currentHit && tok.currentHit.side === side && tok.currentHit.i === i) cls += ' current-hit';
    if (side === 'q' && this.selectedSet.has(i)) cls += ' selected';
    if (side === 'q' && map.pinned === i) cls += ' pinned';
    const mh = map.hover;
    if (mh) {
      if ((side === 'q' || tok.self) && mh.row === i) cls += ' cell-row';
      if ((side === 'k' || tok.self) && mh.col === i && !usesValueLabels(map.kind)) cls += ' cell-col';
    }
    const t = this.tint && this.tint.target === side ? this.tint : undefined;
    if (t && i < t.values.length && Number.isFinite(t.values[i])) {
      const v = t.values[i];
      cls += v < 0 ? ' tinted negative' : ' tinted';
      span.style.setProperty('--tint', t.peak > 0 ? (Math.abs(v) / t.peak).toFixed(3) : '0');
      span.dataset.weight = String(v);
    } else {
      span.style.removeProperty('--tint');
      delete span.dataset.weight;
    }
    span.className = cls;
  }

  /** Repaint the rendered tokens (state changed; nothing to lay out). */
  repaint(): void {
    if (!this.tok.enabled) return;
    this.selectedSet = new Set(this.tok.selection);
    for (const p of this.activePanes()) {
      for (const span of p.win.querySelectorAll<HTMLElement>('.tok')) this.paintSpan(p, Number(span.dataset.i), span);
    }
  }

  /** Scroll the text so token t is in view. */
  scrollToToken(t: TokenRef): void {
    const p = this.paneOf(t.side);
    const y = lineOf(p.starts, t.i) * LINE_H;
    const s = p.scroller;
    if (y < s.scrollTop) s.scrollTop = y;
    else if (y + LINE_H > s.scrollTop + s.clientHeight) s.scrollTop = y + LINE_H - s.clientHeight;
    this.render(p);
  }
}
