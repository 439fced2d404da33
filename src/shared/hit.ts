/**
 * The view transform shared by drawing, hit-testing and keyboard navigation. A view is the fractional cell
 * at the top-left corner and the size of one cell in CSS pixels; zoom is that size relative to "fit".
 */

export interface View {
  /** Cell coordinates (column, row) at the canvas's top-left corner. */
  x0: number;
  y0: number;
  /** CSS pixels per cell. */
  cellPx: number;
}

export interface Viewport {
  width: number;
  height: number;
  rows: number;
  cols: number;
}

/** Cell size that fits the whole matrix; cells are kept square so the map is not distorted. */
export function fitCellPx(vp: Viewport): number {
  return Math.max(1e-6, Math.min(vp.width / vp.cols, vp.height / vp.rows));
}

export function fitView(vp: Viewport): View {
  return { x0: 0, y0: 0, cellPx: fitCellPx(vp) };
}

export function zoomOf(v: View, vp: Viewport): number {
  return v.cellPx / fitCellPx(vp);
}

/** Largest zoom: a cell at least 64 px… or 4× fit for a map that already shows big cells. */
export function maxCellPx(vp: Viewport): number {
  return Math.max(64, fitCellPx(vp) * 4);
}

/** Keep the zoom within [fit, max] and the matrix on screen (centred when smaller than the canvas). */
export function clampView(v: View, vp: Viewport): View {
  const fit = fitCellPx(vp);
  const cellPx = Math.min(maxCellPx(vp), Math.max(fit, v.cellPx));
  const visCols = vp.width / cellPx;
  const visRows = vp.height / cellPx;
  const x0 = visCols >= vp.cols ? 0 : Math.min(vp.cols - visCols, Math.max(0, v.x0));
  const y0 = visRows >= vp.rows ? 0 : Math.min(vp.rows - visRows, Math.max(0, v.y0));
  return { x0, y0, cellPx };
}

/** Zoom by `factor` keeping the cell under (px, py) fixed. */
export function zoomAt(v: View, vp: Viewport, factor: number, px: number, py: number): View {
  const cx = v.x0 + px / v.cellPx;
  const cy = v.y0 + py / v.cellPx;
  const fit = fitCellPx(vp);
  const cellPx = Math.min(maxCellPx(vp), Math.max(fit, v.cellPx * factor));
  return clampView({ x0: cx - px / cellPx, y0: cy - py / cellPx, cellPx }, vp);
}

/** Pan by a distance in CSS pixels. */
export function panBy(v: View, vp: Viewport, dx: number, dy: number): View {
  return clampView({ x0: v.x0 - dx / v.cellPx, y0: v.y0 - dy / v.cellPx, cellPx: v.cellPx }, vp);
}

/** The cell under canvas point (px, py) in CSS pixels, or undefined outside the matrix. */
export function cellAt(v: View, vp: Viewport, px: number, py: number): { row: number; col: number } | undefined {
  const cx = v.x0 + px / v.cellPx;
  const cy = v.y0 + py / v.cellPx;
  if (!(cx >= 0 && cy >= 0)) return undefined;
  const col = Math.floor(cx);
  const row = Math.floor(cy);
  if (col >= vp.cols || row >= vp.rows) return undefined;
  return { row, col };
}

/** Visible cell range [r0, r1) × [c0, c1), clipped to the matrix. */
export function visibleRange(v: View, vp: Viewport): { r0: number; r1: number; c0: number; c1: number } {
  return {
    r0: Math.max(0, Math.floor(v.y0)),
    r1: Math.min(vp.rows, Math.ceil(v.y0 + vp.height / v.cellPx)),
    c0: Math.max(0, Math.floor(v.x0)),
    c1: Math.min(vp.cols, Math.ceil(v.x0 + vp.width / v.cellPx)),
  };
}

/** Pan just enough that cell (row, col) is on screen (keyboard cursor). */
export function ensureVisible(v: View, vp: Viewport, row: number, col: number): View {
  const visCols = vp.width / v.cellPx;
  const visRows = vp.height / v.cellPx;
  let { x0, y0 } = v;
  if (col < x0) x0 = col;
  else if (col + 1 > x0 + visCols) x0 = col + 1 - visCols;
  if (row < y0) y0 = row;
  else if (row + 1 > y0 + visRows) y0 = row + 1 - visRows;
  return clampView({ x0, y0, cellPx: v.cellPx }, vp);
}
