/**
 * The token view's text layout, kept out of the DOM so 32,768 tokens never become 32,768 elements: tokens are
 * measured once (their widths), broken greedily into lines of a given width (and after newlines), and only the
 * lines in the scrolled window are rendered.
 */
import { clampView, fitCellPx, maxCellPx, visibleRange, type View, type Viewport } from './hit';

/**
 * Line starts for tokens of the given widths in lines at most `maxWidth` wide: a token that does not fit starts
 * a new line (one wider than the line sits alone on its own); `breakAfter[i]` ends the line after token i.
 * Returns the first token of every line (line k holds tokens starts[k] … starts[k+1] − 1; the last runs to the end).
 */
export function layoutLines(widths: ArrayLike<number>, maxWidth: number, breakAfter?: ArrayLike<boolean | number>): Int32Array {
  const starts: number[] = [];
  let x = 0;
  let open = false;
  for (let i = 0; i < widths.length; i++) {
    const w = widths[i];
    if (!open) {
      starts.push(i);
      open = true;
      x = 0;
    } else if (x > 0 && x + w > maxWidth) {
      starts.push(i);
      x = 0;
    }
    x += w;
    if (breakAfter && breakAfter[i]) open = false;
  }
  return Int32Array.from(starts);
}

/** The line holding token i (binary search over the line starts). */
export function lineOf(starts: ArrayLike<number>, i: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  if (hi < 0) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Tokens [first, end) of line k. */
export function lineTokens(starts: ArrayLike<number>, k: number, count: number): { first: number; end: number } {
  return { first: starts[k], end: k + 1 < starts.length ? starts[k + 1] : count };
}

/**
 * Lines [first, end) to render for a window scrolled to `scrollTop` of `height` pixels with lines `lineHeight`
 * tall, plus `overscan` lines on each side (so a small scroll shows text at once).
 */
export function visibleLines(scrollTop: number, height: number, lineHeight: number, lines: number, overscan = 4): { first: number; end: number } {
  if (lines <= 0 || !(lineHeight > 0)) return { first: 0, end: 0 };
  const top = Math.max(0, Math.floor(scrollTop / lineHeight));
  const bottom = Math.ceil((Math.max(0, scrollTop) + Math.max(0, height)) / lineHeight);
  return { first: Math.max(0, Math.min(lines, top - overscan)), end: Math.max(0, Math.min(lines, bottom + overscan)) };
}

/**
 * The token on the line above or below token i (keyboard Up/Down): the one at the same position in that line,
 * or that line's last token when it is shorter. Stays at i at the first or last line.
 */
export function tokenOnAdjacentLine(starts: ArrayLike<number>, count: number, i: number, dir: 1 | -1): number {
  const k = lineOf(starts, i);
  const target = k + dir;
  if (target < 0 || target >= starts.length) return i;
  const offset = i - starts[k];
  const t = lineTokens(starts, target, count);
  return Math.min(t.end - 1, t.first + offset);
}

/**
 * The map's view moved so a token's row and column are in view (either may be undefined): zoomed in to at least
 * 12 px a cell (within the zoom limits) so the line can be seen, and centred on a line only when it is off screen.
 */
export function revealLines(view: View, port: Viewport, row: number | undefined, col: number | undefined): View {
  let v = view;
  const minPx = Math.min(maxCellPx(port), Math.max(fitCellPx(port), 12));
  if (v.cellPx < minPx) v = { ...v, cellPx: minPx };
  const r = visibleRange(v, port);
  const visRows = port.height / v.cellPx;
  const visCols = port.width / v.cellPx;
  if (row !== undefined && row < port.rows && (row < r.r0 || row >= r.r1 || row + 1 > v.y0 + visRows)) v = { ...v, y0: row + 0.5 - visRows / 2 };
  if (col !== undefined && col < port.cols && (col < r.c0 || col >= r.c1 || col + 1 > v.x0 + visCols)) v = { ...v, x0: col + 0.5 - visCols / 2 };
  return clampView(v, port);
}
