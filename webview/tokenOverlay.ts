// The token view's marks on the map: the hovered token's row and column, search hits (rows and columns, the
// current one stronger) and selected rows, drawn on the overlay canvas; and the selection's mean row under the map.
import { colorize } from '../src/shared/colormap';
import type { View } from '../src/shared/hit';
import { lowerBound } from '../src/shared/tokenSearch';
import { usesValueLabels } from '../src/shared/types';
import { prepare } from './axes';
import type { Colors } from './render';
import { mapLines, SELECTION_ROW_H, type TokenHost, type TokenState } from './tokenState';

function themeColor(at: HTMLElement, name: string, fallback: string): string {
  return getComputedStyle(at).getPropertyValue(name).trim() || fallback;
}

/** Marks over the map; `w`, `h`: the drawn matrix's size on the canvas in CSS pixels. */
export function drawTokenMarks(
  tok: TokenState, host: TokenHost, ctx: CanvasRenderingContext2D, view: View, w: number, h: number, rows: number, cols: number,
): void {
  if (!tok.enabled) return;
  const colsAreKeys = !usesValueLabels(host.map().kind);
  const at = host.themed;
  const k = view.cellPx;
  const band = Math.max(1, k);
  const rowsInView = { r0: Math.max(0, Math.floor(view.y0)), r1: Math.min(rows, Math.ceil(view.y0 + h / k)) };
  const colsInView = { c0: Math.max(0, Math.floor(view.x0)), c1: Math.min(cols, Math.ceil(view.x0 + w / k)) };
  const hit = themeColor(at, '--vscode-editor-findMatchHighlightBackground', 'rgba(234, 92, 0, 0.33)');
  const current = themeColor(at, '--vscode-editor-findMatchBorder', themeColor(at, '--vscode-focusBorder', '#e50'));
  const selected = themeColor(at, '--vscode-editor-selectionBackground', 'rgba(38, 79, 120, 0.6)');
  const hover = themeColor(at, '--vscode-focusBorder', '#07f');
  // Search hits: a translucent band per visible hit row (and column, in one text: the same tokens are keys).
  ctx.globalAlpha = 0.6;
  ctx.fillStyle = hit;
  const hitRows = tok.hitsQ;
  for (let j = lowerBound(hitRows, rowsInView.r0); j < hitRows.length && hitRows[j] < rowsInView.r1; j++) {
    ctx.fillRect(0, (hitRows[j] - view.y0) * k, w, band);
  }
  const hitCols = !colsAreKeys ? new Int32Array(0) : tok.self ? tok.hitsQ : tok.hitsK;
  for (let j = lowerBound(hitCols, colsInView.c0); j < hitCols.length && hitCols[j] < colsInView.c1; j++) {
    ctx.fillRect((hitCols[j] - view.x0) * k, 0, band, h);
  }
  // A solid tick on the map's edge per hit, so hits show even where a band is thinner than a pixel (32k rows at fit).
  ctx.globalAlpha = 1;
  ctx.fillStyle = current;
  for (let j = lowerBound(hitRows, rowsInView.r0); j < hitRows.length && hitRows[j] < rowsInView.r1; j++) {
    ctx.fillRect(0, (hitRows[j] - view.y0) * k, 3, band);
  }
  for (let j = lowerBound(hitCols, colsInView.c0); j < hitCols.length && hitCols[j] < colsInView.c1; j++) {
    ctx.fillRect((hitCols[j] - view.x0) * k, 0, band, 3);
  }
  ctx.globalAlpha = 0.6;
  ctx.fillStyle = selected;
  for (const r of tok.selection) if (r >= rowsInView.r0 && r < rowsInView.r1) ctx.fillRect(0, (r - view.y0) * k, w, band);
  ctx.globalAlpha = 1;
  const outline = (t: { row?: number; col?: number }, color: string, width: number) => {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    if (t.row !== undefined && t.row < rows) ctx.strokeRect(width / 2, (t.row - view.y0) * k + width / 2, w - width, Math.max(width, band - width));
    if (t.col !== undefined && t.col < cols && colsAreKeys) ctx.strokeRect((t.col - view.x0) * k + width / 2, width / 2, Math.max(width, band - width), h - width);
  };
  if (tok.currentHit) outline(mapLines(tok, tok.currentHit), current, 2);
  if (tok.hover) outline(mapLines(tok, tok.hover), hover, 2);
}

/** The canvas row under the map and its label (tokens.ts puts them into the plot's grid). */
export interface SelectionRow {
  label: HTMLElement;
  canvas: HTMLCanvasElement;
}

export function createSelectionRow(): SelectionRow {
  return {
    label: Object.assign(document.createElement('div'), { id: 'selection-row-label', className: 'selection-row-label' }),
    canvas: Object.assign(document.createElement('canvas'), { id: 'selection-row' }),
  };
}

/** The selection's mean row as one row of cells under the map, on the map's colour scale and columns. */
export function drawSelectionRow(
  tok: TokenState, row: SelectionRow, colors: Colors | undefined, view: View, width: number, cols: number, dpr: number,
): void {
  const canvas = row.canvas;
  row.label.textContent = tok.selectionMean ? `mean of ${tok.selection.length}` : '';
  const mean = tok.selectionMean;
  const ctx = prepare(canvas, width, mean ? SELECTION_ROW_H : 0, dpr);
  if (!ctx || !mean || !colors) return;
  const px = new Uint8ClampedArray(mean.length * 4);
  colorize(mean, colors.lut, colors.scale, colors.mask, px);
  const k = view.cellPx;
  const c0 = Math.max(0, Math.floor(view.x0));
  const c1 = Math.min(cols, mean.length, Math.ceil(view.x0 + width / k));
  for (let c = c0; c < c1; c++) {
    ctx.fillStyle = `rgba(${px[c * 4]}, ${px[c * 4 + 1]}, ${px[c * 4 + 2]}, ${px[c * 4 + 3] / 255})`;
    const x = (c - view.x0) * k;
    ctx.fillRect(x, 2, Math.max(1, k), SELECTION_ROW_H - 2);
  }
}
