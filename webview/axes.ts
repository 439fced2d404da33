// Axis labels, the per-row strip and the colour legend, drawn on canvases (text drawn with fillText is never
// parsed as HTML, and it lands in the exported PNG).
import { unit, type ColorScale } from '../src/shared/colormap';
import type { View } from '../src/shared/hit';
import { labelOf, shorten, swatchColor, thinLabels } from '../src/shared/labels';
import { scaleTicks } from '../src/shared/ticks';

/** Largest axis sizes; each axis is as big as its longest (shortened) label needs, up to these. */
export const ROW_AXIS_W = 110;
export const COL_AXIS_H = 90;
const ROW_CHARS = 14;
const COL_CHARS = 12;
export const STRIP_W = 22;
export const LEGEND_H = 46;
const FONT_PX = 11;

export interface Theme {
  fg: string;
  muted: string;
  font: string;
  border: string;
}

export function readTheme(): Theme {
  const cs = getComputedStyle(document.body);
  const family = cs.getPropertyValue('--vscode-font-family').trim() || 'sans-serif';
  return {
    fg: cs.color || '#000',
    muted: cs.getPropertyValue('--vscode-descriptionForeground').trim() || cs.color,
    border: cs.getPropertyValue('--vscode-panel-border').trim() || cs.getPropertyValue('--vscode-contrastBorder').trim() || '#888',
    font: `${FONT_PX}px ${family}`,
  };
}

/** Room the axes need for these labels: short labels ("0" … "9") leave no empty band above the map. */
export function axisSizes(
  rowLabels: readonly string[] | undefined, colLabels: readonly string[] | undefined, rows: number, cols: number, theme: Theme,
): { rowW: number; colH: number } {
  const ctx = document.createElement('canvas').getContext('2d');
  if (!ctx) return { rowW: ROW_AXIS_W, colH: COL_AXIS_H };
  ctx.font = theme.font;
  const widest = (labels: readonly string[] | undefined, n: number, chars: number) => {
    // Index labels: the last index is the widest.
    if (!labels) return ctx.measureText(String(Math.max(0, n - 1))).width;
    let w = 0;
    let swatches = false;
    // Long label lists: measuring a sample is enough (thinning shows few of them anyway).
    const step = Math.max(1, Math.floor(n / 2000));
    for (let i = 0; i < n; i += step) {
      const t = shorten(labelOf(labels, i), chars);
      if (swatchColor(t)) swatches = true;
      w = Math.max(w, ctx.measureText(t).width);
    }
    return w + (swatches ? 14 : 0);
  };
  return {
    rowW: Math.min(ROW_AXIS_W, Math.max(24, Math.ceil(widest(rowLabels, rows, ROW_CHARS)) + 8)),
    colH: Math.min(COL_AXIS_H, Math.max(20, Math.ceil(widest(colLabels, cols, COL_CHARS)) + 8)),
  };
}

/** Size a canvas for CSS size w × h at the device pixel ratio and return its context, scaled to CSS pixels. */
export function prepare(canvas: HTMLCanvasElement, w: number, h: number, dpr: number): CanvasRenderingContext2D | undefined {
  const cw = Math.max(1, Math.round(w * dpr));
  const ch = Math.max(1, Math.round(h * dpr));
  if (canvas.width !== cw || canvas.height !== ch) {
    canvas.width = cw;
    canvas.height = ch;
  }
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) return undefined;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return ctx;
}

function swatch(ctx: CanvasRenderingContext2D, color: string, x: number, y: number, theme: Theme): void {
  ctx.fillStyle = color;
  ctx.fillRect(x, y, 9, 9);
  ctx.strokeStyle = theme.border;
  ctx.lineWidth = 1;
  ctx.strokeRect(x + 0.5, y + 0.5, 8, 8);
}

/**
 * The labels along one axis that fit: thinned so they never overlap, each with its centre in CSS pixels from the
 * axis start (`from` is the view's first visible cell, `extent` the axis length), its text and its swatch colour.
 */
function axisLabels(
  labels: readonly string[] | undefined, count: number, from: number, extent: number, cellPx: number, maxChars: number,
): { index: number; at: number; text: string; color: string | undefined }[] {
  const first = Math.max(0, Math.floor(from));
  const last = Math.min(count - 1, Math.floor(from + extent / cellPx));
  return thinLabels(first, last, cellPx, FONT_PX + 3).map((index) => {
    const text = shorten(labelOf(labels, index), maxChars);
    return { index, at: (index + 0.5 - from) * cellPx, text, color: swatchColor(text) };
  });
}

/** `prepare`, then the axis font, vertically centred text and the given alignment. */
function prepareText(canvas: HTMLCanvasElement, w: number, h: number, dpr: number, theme: Theme, align: CanvasTextAlign): CanvasRenderingContext2D | undefined {
  const ctx = prepare(canvas, w, h, dpr);
  if (!ctx) return undefined;
  ctx.font = theme.font;
  ctx.textBaseline = 'middle';
  ctx.textAlign = align;
  return ctx;
}

/** Row labels, right-aligned next to the map; thinned so they never overlap. */
export function drawRowAxis(
  canvas: HTMLCanvasElement, labels: readonly string[] | undefined, rows: number, view: View, w: number, h: number,
  dpr: number, theme: Theme, highlight?: number,
): void {
  const ctx = prepareText(canvas, w, h, dpr, theme, 'right');
  if (!ctx) return;
  for (const { index, at: y, text, color } of axisLabels(labels, rows, view.y0, h, view.cellPx, ROW_CHARS)) {
    ctx.fillStyle = index === highlight ? theme.fg : theme.muted;
    ctx.fillText(text, w - (color ? 18 : 5), y);
    if (color) swatch(ctx, color, w - 14, y - 4.5, theme);
  }
}

/** Column labels written upwards above the map, thinned the same way. */
export function drawColAxis(
  canvas: HTMLCanvasElement, labels: readonly string[] | undefined, cols: number, view: View, w: number, h: number,
  dpr: number, theme: Theme, highlight?: number,
): void {
  const ctx = prepareText(canvas, w, h, dpr, theme, 'left');
  if (!ctx) return;
  for (const { index, at: x, text, color } of axisLabels(labels, cols, view.x0, w, view.cellPx, COL_CHARS)) {
    if (color) swatch(ctx, color, x - 4.5, h - 12, theme);
    ctx.save();
    ctx.translate(x, h - (color ? 16 : 4));
    ctx.rotate(-Math.PI / 2);
    ctx.fillStyle = index === highlight ? theme.fg : theme.muted;
    ctx.fillText(text, 0, 0);
    ctx.restore();
  }
}

/** Two thin columns beside the rows: row max (on the map's colours) and row entropy (darker = more spread). */
export function drawStrip(
  canvas: HTMLCanvasElement, rowMax: Float32Array, rowEntropy: Float32Array | undefined, cols: number,
  view: View, h: number, dpr: number, lut: Uint8Array, scale: ColorScale,
): void {
  const ctx = prepare(canvas, STRIP_W, h, dpr);
  if (!ctx) return;
  const first = Math.max(0, Math.floor(view.y0));
  const last = Math.min(rowMax.length - 1, Math.floor(view.y0 + h / view.cellPx));
  const step = Math.max(1, Math.floor(1 / view.cellPx));
  const hmax = Math.log2(Math.max(2, cols));
  for (let i = first; i <= last; i += step) {
    const y = (i - view.y0) * view.cellPx;
    const hh = Math.max(1, view.cellPx * step);
    const t = unit(rowMax[i], scale);
    const k = Number.isNaN(t) ? -1 : Math.min(255, Math.floor(t * 256));
    ctx.fillStyle = k < 0 ? '#808080' : `rgb(${lut[k * 4]},${lut[k * 4 + 1]},${lut[k * 4 + 2]})`;
    ctx.fillRect(2, y, 8, hh);
    if (rowEntropy) {
      const g = Math.round(255 * (1 - Math.min(1, rowEntropy[i] / hmax)));
      ctx.fillStyle = `rgb(${g},${g},${g})`;
      ctx.fillRect(12, y, 8, hh);
    }
  }
}

/** Gradient bar with ticks and the map's name. */
export function drawLegend(
  canvas: HTMLCanvasElement, w: number, dpr: number, lut: Uint8Array, scale: ColorScale, caption: string, theme: Theme,
): void {
  // At least wide enough for the caption, even under a narrow map.
  const width = Math.max(190, Math.min(420, w));
  const ctx = prepare(canvas, width, LEGEND_H, dpr);
  if (!ctx) return;
  const x0 = 8;
  const bw = width - 16;
  // The table as a 1-pixel-high image, stretched: one drawImage instead of 256 fills.
  const n = lut.length / 4;
  const strip = document.createElement('canvas');
  strip.width = n;
  strip.height = 1;
  const sctx = strip.getContext('2d');
  if (sctx) {
    const img = sctx.createImageData(n, 1);
    img.data.set(lut);
    sctx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(strip, x0, 6, bw, 12);
  }
  ctx.strokeStyle = theme.border;
  ctx.strokeRect(x0 + 0.5, 6.5, bw - 1, 11);
  ctx.font = theme.font;
  ctx.fillStyle = theme.fg;
  ctx.textBaseline = 'top';
  // Context state outlives a draw: the caption below leaves textAlign 'right'.
  ctx.textAlign = 'left';
  let lastRight = -Infinity;
  for (const t of scaleTicks(scale, Math.max(2, Math.floor(bw / 70)))) {
    const x = x0 + t.t * bw;
    const tw = ctx.measureText(t.label).width;
    const left = Math.min(Math.max(0, x - tw / 2), width - tw);
    if (left < lastRight + 4) continue;
    ctx.fillRect(x, 18, 1, 4);
    ctx.fillText(t.label, left, 23);
    lastRight = left + tw;
  }
  ctx.fillStyle = theme.muted;
  ctx.textAlign = 'right';
  ctx.fillText(caption, width - 2, 35);
}
