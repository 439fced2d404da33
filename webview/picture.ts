// The pieces of the heatmap that the panel's page and each notebook output draw the same way, written once:
// the stage's size at fit, the hover/cursor/pin marks over the map, and the exported picture.
import type { View } from '../src/shared/hit';
import { LEGEND_H, prepare, STRIP_W } from './axes';

/** The canvases that make the picture: the map with its axes, side strip and legend. */
export interface PictureParts {
  colAxis: HTMLCanvasElement;
  rowAxis: HTMLCanvasElement;
  heatmap: HTMLCanvasElement;
  strip: HTMLCanvasElement;
  legend: HTMLCanvasElement;
}

/**
 * The map's stage at "fit" inside the room the plot has (plot size less the axes, strip and legend), so axes and
 * legend hug the map: a 1×8 map is a strip, not a strip in a big empty box. Zooming magnifies inside this stage.
 */
export function stageSize(
  plotW: number, plotH: number, axes: { rowW: number; colH: number }, rows: number, cols: number, extraH = 0,
): { w: number; h: number } {
  const availW = Math.max(40, Math.floor(plotW) - axes.rowW - STRIP_W);
  const availH = Math.max(40, Math.floor(plotH) - axes.colH - extraH - LEGEND_H);
  const cellPx = Math.min(availW / cols, availH / rows);
  return { w: Math.max(1, Math.min(availW, Math.ceil(cols * cellPx))), h: Math.max(1, Math.min(availH, Math.ceil(rows * cellPx))) };
}

export interface Marks {
  pinned?: number;
  hover?: { row: number; col: number };
  /** The keyboard cursor, drawn only while the map has focus. */
  cursor?: { row: number; col: number };
}

/** Hover cross-hair, keyboard cursor and pinned row on the overlay canvas, so hovering never redraws the map. */
export function drawMarks(
  overlay: HTMLCanvasElement, rows: number, cols: number, view: View, size: { w: number; h: number }, dpr: number,
  marks: Marks, color: { fg: string; focus: string },
  underlay?: (ctx: CanvasRenderingContext2D, w: number, h: number) => void,
): void {
  const ctx = prepare(overlay, size.w, size.h, dpr);
  if (!ctx) return;
  const k = view.cellPx;
  const w = Math.min(size.w, (cols - view.x0) * k);
  const h = Math.min(size.h, (rows - view.y0) * k);
  underlay?.(ctx, w, h);
  const { pinned, hover, cursor } = marks;
  if (pinned !== undefined && pinned < rows) {
    ctx.strokeStyle = color.fg;
    ctx.lineWidth = 2;
    ctx.strokeRect(1, (pinned - view.y0) * k + 1, w - 2, Math.max(2, k - 2));
  }
  if (hover) {
    ctx.globalAlpha = 0.9;
    ctx.strokeStyle = color.fg;
    ctx.lineWidth = 1;
    ctx.strokeRect(0.5, (hover.row - view.y0) * k + 0.5, w - 1, Math.max(1, k - 1));
    ctx.strokeRect((hover.col - view.x0) * k + 0.5, 0.5, Math.max(1, k - 1), h - 1);
    ctx.globalAlpha = 1;
  }
  if (cursor) {
    ctx.strokeStyle = color.focus;
    ctx.lineWidth = 2;
    ctx.strokeRect((cursor.col - view.x0) * k + 1, (cursor.row - view.y0) * k + 1, Math.max(2, k - 2), Math.max(2, k - 2));
  }
}

/** The foreground and focus colours the marks use, from the theme as it applies to `element`. */
export function markColors(element: Element): { fg: string; focus: string } {
  const cs = getComputedStyle(element);
  const fg = cs.color || '#000';
  return { fg, focus: cs.getPropertyValue('--vscode-focusBorder').trim() || fg };
}

/**
 * Axes, map, strip and legend composed into one canvas on `background`. Call right after drawing the map: a
 * WebGL canvas's buffer is only readable in the task that drew it.
 */
export function composePicture(
  parts: PictureParts, axes: { rowW: number; colH: number }, size: { w: number; h: number }, dpr: number, background: string,
): HTMLCanvasElement | undefined {
  const out = document.createElement('canvas');
  out.width = Math.round((axes.rowW + size.w + STRIP_W) * dpr);
  out.height = Math.round((axes.colH + size.h + LEGEND_H) * dpr);
  const ctx = out.getContext('2d');
  if (!ctx) return undefined;
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, out.width, out.height);
  const put = (c: HTMLCanvasElement, x: number, y: number) => ctx.drawImage(c, Math.round(x * dpr), Math.round(y * dpr));
  put(parts.colAxis, axes.rowW, 0);
  put(parts.rowAxis, 0, axes.colH);
  put(parts.heatmap, axes.rowW, axes.colH);
  put(parts.strip, axes.rowW + size.w, axes.colH);
  put(parts.legend, axes.rowW, axes.colH + size.h);
  return out;
}
