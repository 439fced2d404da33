// Drawing the map and what surrounds it: colours, axes, side strip, legend, the hover/cursor/pin overlay, and
// the stage's size. Hovering redraws only the overlay.
import { chooseScale } from '../src/shared/colormap';
import { clampView, fitView, visibleRange, zoomOf, type View } from '../src/shared/hit';
import { columnLabels } from '../src/shared/types';
import { axisSizes, drawColAxis, drawLegend, drawRowAxis, drawStrip, LEGEND_H, prepare, readTheme, STRIP_W } from './axes';
import { lutFor, mapName } from './colormaps';
import { drawMarks, markColors, stageSize } from './picture';
import { KIND_NAMES } from './dom';
import { body, dom, renderer } from './page';
import type { Colors } from './render';
import { ui, vp } from './state';

/** What the token view draws on and under the map (tokens.ts installs the page's TokenView). */
export interface TokenLayer {
  rowUnderMap(): number;
  drawMarks(ctx: CanvasRenderingContext2D, view: View, w: number, h: number, rows: number, cols: number): void;
  drawSelectionRow(colors: Colors | undefined, view: View, width: number, cols: number, dpr: number): void;
}

let tokens: TokenLayer | undefined;
export function setTokenLayer(layer: TokenLayer): void {
  tokens = layer;
}
const selectionRowHeight = (): number => tokens?.rowUnderMap() ?? 0;

const MASK: [number, number, number, number] = [128, 128, 128, 255];

export function updateColors(): void {
  if (!ui.mat) return;
  const scale = chooseScale(ui.kind, ui.mat.min, ui.mat.max, ui.scaleMode);
  ui.colors = { lut: lutFor(ui.colorMap, scale.diverging), scale, mask: MASK };
  renderer.setColors(ui.colors);
  dom.colormap.disabled = scale.diverging;
  dom.colormap.title = scale.diverging ? 'Signed values use the diverging RdBu map, centred on 0' : 'Colour map for weights';
}

let frameRequested = false;
export function requestDraw(): void {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    draw();
  });
}

/** The labels along the column axis for the kind shown. */
export function colLabels(): string[] | undefined {
  return ui.model ? columnLabels(ui.model, ui.kind) : undefined;
}

export function draw(): void {
  const { mat, colors, model, view, size, axes } = ui;
  if (!mat || !colors || !model) return;
  const dpr = window.devicePixelRatio || 1;
  renderer.draw(view, mat.rows, mat.cols, size.w, size.h, dpr);
  const theme = readTheme();
  const hl = ui.hover ?? (document.activeElement === dom.heatmap ? ui.cursor : undefined);
  drawRowAxis(dom.rowAxis, model.queryLabels, mat.rows, view, axes.rowW, size.h, dpr, theme, hl?.row);
  drawColAxis(dom.colAxis, colLabels(), mat.cols, view, size.w, axes.colH, dpr, theme, hl?.col);
  drawStrip(dom.strip, mat.rowMax, mat.rowEntropy, mat.cols, view, size.h, dpr, colors.lut, colors.scale);
  tokens?.drawSelectionRow(colors, view, size.w, mat.cols, dpr);
  drawLegend(dom.legend, size.w, dpr, colors.lut, colors.scale,
    `${KIND_NAMES[ui.kind] ?? ui.kind} · ${mapName(ui.colorMap, colors.scale.diverging)}${ui.scaleMode === 'log' ? ' · log' : ''}`, theme);
  drawOverlay();
  body.dataset.zoom = String(+zoomOf(view, vp()).toFixed(3));
  const r = visibleRange(view, vp());
  body.dataset.visible = `${r.r0},${r.r1},${r.c0},${r.c1}`;
}

/** Hover cross-hair, keyboard cursor and pinned row on a separate canvas, so hovering never redraws the map. */
export function drawOverlay(): void {
  const { mat, view, size, hover, cursor, pinned } = ui;
  const dpr = window.devicePixelRatio || 1;
  if (!mat) {
    prepare(dom.overlay, size.w, size.h, dpr);
    return;
  }
  const focused = document.activeElement === dom.heatmap;
  drawMarks(dom.overlay, mat.rows, mat.cols, view, size, dpr, { pinned, hover, cursor: focused ? cursor : undefined }, markColors(body),
    (ctx, w, h) => tokens?.drawMarks(ctx, view, w, h, mat.rows, mat.cols));
}

/** Size the map's stage to the matrix at "fit" inside the space the plot has (see stageSize). */
export function layoutStage(rows: number, cols: number): void {
  const r = dom.plot.getBoundingClientRect();
  if (ui.model) {
    ui.axes = axisSizes(ui.model.queryLabels, colLabels(), rows, cols, readTheme());
    dom.plot.style.gridTemplateColumns = `${ui.axes.rowW}px auto ${STRIP_W}px`;
    dom.plot.style.gridTemplateRows = `${ui.axes.colH}px auto ${selectionRowHeight()}px ${LEGEND_H}px`;
  }
  ui.size = stageSize(r.width, r.height, ui.axes, rows, cols, selectionRowHeight());
  const stage = dom.heatmap.parentElement as HTMLElement;
  stage.style.width = `${ui.size.w}px`;
  stage.style.height = `${ui.size.h}px`;
}

/** Lay the stage out again for the space the plot has (resized, or a row under the map shown or hidden). */
export function relayout(): void {
  if (!ui.mat) return;
  const atFit = zoomOf(ui.view, vp()) <= 1.0001;
  layoutStage(ui.mat.rows, ui.mat.cols);
  ui.view = atFit ? fitView(vp()) : clampView(ui.view, vp());
  draw();
}

/** Re-fit on resize, redraw when the renderer's context comes back or VS Code switches the theme. */
export function watchLayout(): void {
  renderer.onRestored = () => requestDraw();
  new ResizeObserver(relayout).observe(dom.plot);
  // VS Code switches themes by changing the body's class and variables: canvases drawn with theme colours follow.
  new MutationObserver(() => requestDraw()).observe(body, { attributes: true, attributeFilter: ['class'] });
}
