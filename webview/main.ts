// The heatmap webview (built into dist/webview.js). It keeps UI state only — view kind, colours, zoom, pinned
// row — and asks the host for data: an overview per kind, full-resolution tiles when zoomed, and cell/row details
// for maps too large to hold whole. See src/shared/protocol.ts for the messages.
import { chooseScale, type ScaleMode } from '../src/shared/colormap';
import { formatNumber, formatWeight } from '../src/shared/format';
import {
  cellAt, clampView, ensureVisible, fitCellPx, fitView, panBy, visibleRange, zoomAt, zoomOf, type View, type Viewport,
} from '../src/shared/hit';
import { cellDetails, rowDetails, type CellDetails, type InspectSource, type RowDetails } from '../src/shared/inspect';
import { finiteRange, hasNegative } from '../src/shared/pool';
import { isAggregateKind, type Matrix2D, type ViewKind } from '../src/shared/types';
import {
  assertNever, WEBVIEW_REQUESTS, type FromWebview, type HeatmapPanelState, type HostReply, type Region, type ToWebview,
  type WireMatrix, type WireModel,
} from '../src/shared/protocol';
import { isRequestError, MessageHandler } from '../src/shared/messageHandler';
import { axisSizes, drawColAxis, drawLegend, drawRowAxis, drawStrip, LEGEND_H, prepare, readTheme, STRIP_W } from './axes';
import { lutFor, mapName, SEQUENTIAL } from './colormaps';
import { buildDom, KIND_NAMES, setOptions } from './dom';
import { buildGrid, detailContent, tooltipContent } from './panels';
import { createRenderer, type Colors } from './render';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const post = (m: FromWebview): void => vscode.postMessage(m);

let saved: HeatmapPanelState = (vscode.getState() as HeatmapPanelState | undefined) ?? {};
function save(patch: Partial<HeatmapPanelState>): void {
  saved = { ...saved, ...patch };
  vscode.setState(saved);
}

const dom = buildDom(Object.keys(SEQUENTIAL));
const renderer = createRenderer(dom.heatmap, document.documentElement.dataset.preferRenderer === '2d');
const body = document.body;
body.dataset.renderer = renderer.name;
renderer.onRestored = () => requestDraw();
body.dataset.state = 'loading';

const MASK: [number, number, number, number] = [128, 128, 128, 255];
/** Tiles are asked for once the visible region is at most this many cells (the host's limit too). */
const TILE_CELLS = 1024 * 1024;

// ------------------------------------------------------------------------------------------------ state

let model: WireModel | undefined;
let sourceId: string | undefined;
let mat: WireMatrix | undefined;
/** Whole small models, for hover and pinning without a round trip. */
let local: InspectSource | undefined;
let kind: ViewKind = saved.kind ?? 'weights';
let colorMap = saved.colorMap ?? 'viridis';
let scaleMode: ScaleMode = saved.scaleMode ?? 'linear';
let colors: Colors | undefined;
let view: View = { x0: 0, y0: 0, cellPx: 1 };
let size = { w: 1, h: 1 };
/** Row-axis width and column-axis height for the current labels. */
let axes = { rowW: 110, colH: 90 };
let tile: Region & { kind: ViewKind } | undefined;
let hover: { row: number; col: number } | undefined;
/** Where the pointer last hovered a cell, so a refresh in place can re-read that cell's tooltip. */
let hoverAt: { x: number; y: number } | undefined;
let cursor = { row: 0, col: 0 };
let pinned: number | undefined = saved.pinnedRow;
let modelSeq = 0;
/**
 * Tiles, details and other kinds asked of the host. Requests outlive a new model: a reply answered from the
 * model on screen is used whenever it comes; one answered from a replaced model is dropped (generation = the
 * host's model seq).
 */
const requests = new MessageHandler<FromWebview, HostReply, typeof WEBVIEW_REQUESTS>(post, {
  pairs: WEBVIEW_REQUESTS, timeoutMs: 30_000, generationOf: (r) => r.seq,
});
/** A request that ended without a reply (timeout, cancelled, stale) just leaves things as they are. */
function ignoreUnanswered(e: unknown): undefined {
  if (isRequestError(e)) return undefined;
  throw e;
}
/** The tile request in flight: a newer one supersedes it. */
let tileRequest: AbortController | undefined;

function vp(): Viewport {
  return { width: size.w, height: size.h, rows: mat?.rows ?? 1, cols: mat?.cols ?? 1 };
}

// ------------------------------------------------------------------------------------------------ drawing

function updateColors(): void {
  if (!mat) return;
  const scale = chooseScale(kind, mat.min, mat.max, scaleMode);
  colors = { lut: lutFor(colorMap, scale.diverging), scale, mask: MASK };
  renderer.setColors(colors);
  dom.colormap.disabled = scale.diverging;
  dom.colormap.title = scale.diverging ? 'Signed values use the diverging RdBu map, centred on 0' : 'Colour map for weights';
}

let frameRequested = false;
function requestDraw(): void {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    draw();
  });
}

function draw(): void {
  if (!mat || !colors || !model) return;
  const dpr = window.devicePixelRatio || 1;
  renderer.draw(view, mat.rows, mat.cols, size.w, size.h, dpr);
  const isOutput = kind === 'output';
  const theme = readTheme();
  const hl = hover ?? (document.activeElement === dom.heatmap ? cursor : undefined);
  drawRowAxis(dom.rowAxis, model.queryLabels, mat.rows, view, axes.rowW, size.h, dpr, theme, hl?.row);
  drawColAxis(dom.colAxis, isOutput ? model.valueLabels : model.keyLabels, mat.cols, view, size.w, axes.colH, dpr, theme, hl?.col);
  drawStrip(dom.strip, mat.rowMax, mat.rowEntropy, mat.cols, view, size.h, dpr, colors.lut, colors.scale);
  drawLegend(dom.legend, size.w, dpr, colors.lut, colors.scale,
    `${KIND_NAMES[kind] ?? kind} · ${mapName(colorMap, colors.scale.diverging)}${scaleMode === 'log' ? ' · log' : ''}`, theme);
  drawOverlay();
  body.dataset.zoom = String(+zoomOf(view, vp()).toFixed(3));
}

/** Hover cross-hair, keyboard cursor and pinned row on a separate canvas, so hovering never redraws the map. */
function drawOverlay(): void {
  const dpr = window.devicePixelRatio || 1;
  const ctx = prepare(dom.overlay, size.w, size.h, dpr);
  if (!ctx || !mat) return;
  const k = view.cellPx;
  const cs = getComputedStyle(body);
  const fg = cs.color || '#000';
  const focus = cs.getPropertyValue('--vscode-focusBorder').trim() || fg;
  const w = Math.min(size.w, (mat.cols - view.x0) * k);
  const h = Math.min(size.h, (mat.rows - view.y0) * k);
  if (pinned !== undefined && pinned < mat.rows) {
    ctx.strokeStyle = fg;
    ctx.lineWidth = 2;
    ctx.strokeRect(1, (pinned - view.y0) * k + 1, w - 2, Math.max(2, k - 2));
  }
  if (hover) {
    ctx.globalAlpha = 0.9;
    ctx.strokeStyle = fg;
    ctx.lineWidth = 1;
    ctx.strokeRect(0.5, (hover.row - view.y0) * k + 0.5, w - 1, Math.max(1, k - 1));
    ctx.strokeRect((hover.col - view.x0) * k + 0.5, 0.5, Math.max(1, k - 1), h - 1);
    ctx.globalAlpha = 1;
  }
  if (document.activeElement === dom.heatmap) {
    ctx.strokeStyle = focus;
    ctx.lineWidth = 2;
    ctx.strokeRect((cursor.col - view.x0) * k + 1, (cursor.row - view.y0) * k + 1, Math.max(2, k - 2), Math.max(2, k - 2));
  }
}

function setView(v: View): void {
  view = clampView(v, vp());
  requestDraw();
  scheduleViewWork();
}

let viewTimer: ReturnType<typeof setTimeout> | undefined;
/** After zoom/pan settles: remember it, tell the host what is on screen (for CSV), fetch a tile if useful. */
function scheduleViewWork(): void {
  if (viewTimer) clearTimeout(viewTimer);
  viewTimer = setTimeout(() => {
    viewTimer = undefined;
    if (!mat) return;
    const z = zoomOf(view, vp());
    save({
      view: { cx: (view.x0 + size.w / view.cellPx / 2) / mat.cols, cy: (view.y0 + size.h / view.cellPx / 2) / mat.rows, zoom: z, rows: mat.rows, cols: mat.cols },
    });
    const r = visibleRange(view, vp());
    const region = { r0: r.r0, c0: r.c0, rows: r.r1 - r.r0, cols: r.c1 - r.c0 };
    post({ type: 'viewState', kind, region: z > 1.001 ? region : undefined });
    maybeRequestTile(region);
  }, 120);
}

function maybeRequestTile(visible: Region): void {
  if (!mat || (mat.blockRows === 1 && mat.blockCols === 1)) return;
  if (visible.rows * visible.cols > TILE_CELLS) {
    if (tile) {
      tile = undefined;
      renderer.setTile(undefined);
      requestDraw();
    }
    return;
  }
  if (tile && tile.kind === kind && tile.r0 <= visible.r0 && tile.c0 <= visible.c0 &&
    tile.r0 + tile.rows >= visible.r0 + visible.rows && tile.c0 + tile.cols >= visible.c0 + visible.cols) return;
  // Pad by a quarter on each side (within the cell budget) so small pans stay sharp.
  const pr = Math.floor(Math.min(visible.rows / 4, (Math.sqrt(TILE_CELLS) - visible.rows) / 2));
  const pc = Math.floor(Math.min(visible.cols / 4, (Math.sqrt(TILE_CELLS) - visible.cols) / 2));
  const r0 = Math.max(0, visible.r0 - Math.max(0, pr));
  const c0 = Math.max(0, visible.c0 - Math.max(0, pc));
  const region = {
    r0, c0,
    rows: Math.min(mat.rows - r0, visible.rows + 2 * Math.max(0, pr)),
    cols: Math.min(mat.cols - c0, visible.cols + 2 * Math.max(0, pc)),
  };
  tileRequest?.abort();
  const ac = tileRequest = new AbortController();
  void requests.request({ type: 'requestTile', kind, region }, { signal: ac.signal }).then((m) => {
    if (m.kind !== kind || m.rows === 0 || !mat) return;
    tile = { kind: m.kind, r0: m.r0, c0: m.c0, rows: m.rows, cols: m.cols };
    renderer.setTile({ data: m.data, texRows: m.rows, texCols: m.cols, r0: m.r0, c0: m.c0, blockRows: 1, blockCols: 1 });
    requestDraw();
  }, ignoreUnanswered);
}

// ------------------------------------------------------------------------------------------------ data in

let firstFrameStart: number | undefined;

/** `keepView`: same source, so keep zoom and pan when the size is unchanged; `restore`: first model after a reload of the page. */
function applyMatrix(m: WireMatrix, keepView: boolean, restore = false): void {
  const sameSize = mat && mat.rows === m.rows && mat.cols === m.cols;
  mat = m;
  kind = m.kind;
  layoutStage(m.rows, m.cols);
  tile = undefined;
  renderer.setTile(undefined);
  renderer.setOverview({ data: m.overview, texRows: m.ovRows, texCols: m.ovCols, r0: 0, c0: 0, blockRows: m.blockRows, blockCols: m.blockCols });
  updateColors();
  if (!(keepView && sameSize)) {
    const sv = saved.view;
    if (restore && sv && sv.rows === m.rows && sv.cols === m.cols && sv.zoom > 1) {
      const cellPx = fitCellPx(vp()) * sv.zoom;
      view = clampView({ cellPx, x0: sv.cx * m.cols - size.w / cellPx / 2, y0: sv.cy * m.rows - size.h / cellPx / 2 }, vp());
    } else view = fitView(vp());
    cursor = { row: Math.min(cursor.row, m.rows - 1), col: Math.min(cursor.col, m.cols - 1) };
  } else view = clampView(view, vp());
  body.dataset.rows = String(m.rows);
  body.dataset.cols = String(m.cols);
  body.dataset.kind = kind;
  dom.kind.value = kind;
  save({ kind });
  dom.poolingNote.textContent = m.poolingNote ?? '';
  dom.poolingNote.hidden = !m.poolingNote;
  hideTooltip();
}

function localSource(w: WireModel): InspectSource | undefined {
  if (!w.full) return undefined;
  const kinds: Partial<Record<ViewKind, Matrix2D>> = {};
  for (const [k, data] of Object.entries(w.full.kinds) as [ViewKind, Float32Array][]) {
    const shape = w.full.shapes[k];
    if (shape) kinds[k] = { rows: shape[0], cols: shape[1], data };
  }
  return { kinds, values: w.full.values, queryLabels: w.queryLabels, keyLabels: w.keyLabels, valueLabels: w.valueLabels };
}

function onModel(msg: Extract<ToWebview, { type: 'model' }>, t0: number): void {
  const sameSource = sourceId === msg.sourceId;
  const tooltipOpen = !dom.tooltip.hidden; // applyMatrix hides it; a refresh in place re-reads it below
  // The page was (re)loaded for the source it showed before (revival, or a hidden view shown again): restore its view.
  const restore = sourceId === undefined && saved.sourceId === msg.sourceId;
  modelSeq++;
  requests.generation = msg.seq;
  model = msg.model;
  sourceId = msg.sourceId;
  local = localSource(msg.model);
  save({ sourceId });
  if (!saved.colorMap && SEQUENTIAL[msg.settings.colorMap]) colorMap = msg.settings.colorMap;
  dom.colormap.value = colorMap;
  dom.scale.value = scaleMode;
  dom.title.textContent = model.title;
  dom.subtitle.textContent = model.subtitle ?? '';
  setOptions(dom.kind, model.kinds, KIND_NAMES, msg.matrix.kind);
  dom.warnings.replaceChildren(...model.warnings.map((w) => {
    const li = document.createElement('li');
    li.textContent = w;
    return li;
  }));
  dom.warnings.hidden = model.warnings.length === 0;
  dom.error.hidden = true;
  delete body.dataset.error;
  applyMatrix(msg.matrix, sameSource, restore);
  renderGrid();
  if (pinned !== undefined && pinned >= msg.matrix.rows) pinned = undefined;
  void showPinned();
  // A refresh in place (file rewritten, JSON edited) must not leave the old value in an open tooltip.
  if (hover && hoverAt && tooltipOpen && sameSource) {
    if (hover.row < msg.matrix.rows && hover.col < msg.matrix.cols) void showCell(hover.row, hover.col, hoverAt.x, hoverAt.y, t0, false);
    else {
      hover = undefined;
      hideTooltip();
    }
  }
  firstFrameStart = t0;
  body.dataset.state = 'drawing';
  draw();
  // Synchronous part of the first frame (the rest is the browser compositing it), for the bench.
  body.dataset.syncMs = (performance.now() - t0).toFixed(1);
  const seq = modelSeq;
  requestAnimationFrame(() => {
    if (seq !== modelSeq || firstFrameStart === undefined) return;
    const ms = performance.now() - firstFrameStart;
    firstFrameStart = undefined;
    body.dataset.state = 'ready';
    body.dataset.firstFrameMs = ms.toFixed(1);
    post({ type: 'timing', name: 'firstFrame', ms });
  });
  scheduleViewWork();
}

function renderGrid(): void {
  const g = model?.grid;
  if (!g) {
    dom.grid.hidden = true;
    dom.grid.replaceChildren();
    return;
  }
  const r = finiteRange(g.cells);
  const scale = chooseScale(hasNegative(g.cells) ? 'data' : 'weights', r.min, r.max, scaleMode);
  buildGrid(dom.grid, g, model?.selection, lutFor(colorMap, scale.diverging), scale, (layer, head) => {
    body.dataset.state = 'loading';
    // Picking a head means "show me this head": leave a head mean or rollout now, so that a view-state message
    // still in flight does not ask the host for the aggregate again.
    if (isAggregateKind(kind) && model) kind = model.defaultKind;
    post({ type: 'selectHead', layer, head });
  }, model ? { kinds: model.kinds, shown: kind, onKind: (k) => void switchKind(k) } : undefined);
  dom.grid.hidden = false;
}

async function switchKind(k: ViewKind): Promise<void> {
  if (!model || !model.kinds.includes(k)) return;
  const reply = await requests.request({ type: 'requestMatrix', kind: k }).catch(ignoreUnanswered);
  if (!reply?.matrix) return;
  const t0 = performance.now();
  applyMatrix(reply.matrix, true);
  draw();
  void showPinned();
  scheduleViewWork();
  if (model.grid?.extras?.some((e) => e.kind)) renderGrid(); // which extra cell is pressed
  body.dataset.kindSwitchMs = (performance.now() - t0).toFixed(1);
}

// ------------------------------------------------------------------------------------------------ details

let lastHoverTiming = 0;

async function detailsAt(row: number, col: number): Promise<CellDetails | undefined> {
  if (local) return cellDetails(local, kind, row, col);
  const reply = await requests.request({ type: 'requestCell', kind, row, col }).catch(ignoreUnanswered);
  return reply?.details;
}

/** The value under a cell from what the webview holds (tile if there, else the pooled overview). */
function shownValue(row: number, col: number): { value: number; exact: boolean } | undefined {
  if (!mat) return undefined;
  if (tile && tile.kind === kind && row >= tile.r0 && col >= tile.c0 && row < tile.r0 + tile.rows && col < tile.c0 + tile.cols) {
    return undefined; // tile data lives in the renderer; the host answer follows quickly
  }
  const i = Math.floor(row / mat.blockRows);
  const j = Math.floor(col / mat.blockCols);
  return { value: mat.overview[i * mat.ovCols + j], exact: mat.blockRows === 1 && mat.blockCols === 1 };
}

function placeTooltip(clientX: number, clientY: number): void {
  const tt = dom.tooltip;
  tt.hidden = false;
  const r = tt.getBoundingClientRect();
  const x = clientX + 14 + r.width > window.innerWidth ? clientX - 14 - r.width : clientX + 14;
  const y = clientY + 14 + r.height > window.innerHeight ? clientY - 14 - r.height : clientY + 14;
  tt.style.left = `${Math.max(0, x)}px`;
  tt.style.top = `${Math.max(0, y)}px`;
}

function hideTooltip(): void {
  dom.tooltip.hidden = true;
}

async function showCell(row: number, col: number, clientX: number, clientY: number, t0: number, announce: boolean): Promise<void> {
  if (!model || !mat) return;
  const key = `${row},${col}`;
  if (!local) {
    const v = shownValue(row, col);
    if (v && !v.exact) {
      const provisional: CellDetails = {
        kind, row, col, value: v.value, rowLabel: model.queryLabels?.[row] ?? String(row),
        colLabel: (kind === 'output' ? model.valueLabels : model.keyLabels)?.[col] ?? String(col),
      };
      dom.tooltip.replaceChildren(...tooltipContent(provisional, model.valueLabels, `block ${mat.blockRows}×${mat.blockCols} ${mat.signed ? 'largest magnitude' : 'max'}`));
      placeTooltip(clientX, clientY);
    }
  }
  const d = await detailsAt(row, col);
  const current = announce ? cursor : hover;
  if (!d || !current || `${current.row},${current.col}` !== key) return;
  dom.tooltip.replaceChildren(...tooltipContent(d, model.valueLabels));
  placeTooltip(clientX, clientY);
  const ms = performance.now() - t0;
  body.dataset.hoverMs = ms.toFixed(2);
  if (performance.now() - lastHoverTiming > 100) {
    lastHoverTiming = performance.now();
    post({ type: 'timing', name: 'hover', ms });
  }
  if (announce) dom.live.textContent = spoken(d);
}

function spoken(d: CellDetails): string {
  const parts = [`query ${d.row} ${d.rowLabel}`, `${d.kind === 'output' ? 'dimension' : 'key'} ${d.col} ${d.colLabel}`];
  if (d.weight !== undefined) parts.push(`weight ${formatWeight(d.weight)}`);
  else parts.push(`${KIND_NAMES[d.kind] ?? d.kind} ${formatNumber(d.value)}`);
  if (d.rank !== undefined) parts.push(`rank ${d.rank} of ${d.of}`);
  return parts.join(', ');
}

async function showPinned(): Promise<void> {
  if (pinned === undefined || !model || !mat) {
    dom.detail.replaceChildren();
    dom.detail.classList.remove('pinned');
    return;
  }
  const row = pinned;
  let r: RowDetails | undefined;
  if (local) r = rowDetails(local, kind, row);
  else {
    const reply = await requests.request({ type: 'requestRow', kind, row }).catch(ignoreUnanswered);
    r = reply?.details;
  }
  if (!r || pinned !== row || !model) return;
  dom.detail.replaceChildren(...detailContent(r, model.keyLabels, model.valueLabels, () => pin(undefined)));
  dom.detail.classList.add('pinned');
}

function pin(row: number | undefined): void {
  pinned = row;
  save({ pinnedRow: row });
  void showPinned();
  drawOverlay();
}

// ------------------------------------------------------------------------------------------------ input

function localPoint(e: { clientX: number; clientY: number }): { x: number; y: number } {
  const r = dom.heatmap.getBoundingClientRect();
  return { x: e.clientX - r.left, y: e.clientY - r.top };
}

let drag: { x: number; y: number; moved: boolean; id: number } | undefined;

dom.overlay.style.pointerEvents = 'none';
dom.heatmap.addEventListener('pointerdown', (e) => {
  if (e.button !== 0) return;
  drag = { x: e.clientX, y: e.clientY, moved: false, id: e.pointerId };
  dom.heatmap.setPointerCapture(e.pointerId);
});

dom.heatmap.addEventListener('pointermove', (e) => {
  const t0 = performance.now();
  if (drag && drag.id === e.pointerId) {
    const dx = e.clientX - drag.x;
    const dy = e.clientY - drag.y;
    if (drag.moved || Math.abs(dx) + Math.abs(dy) > 3) {
      drag.moved = true;
      drag.x = e.clientX;
      drag.y = e.clientY;
      setView(panBy(view, vp(), dx, dy));
      hideTooltip();
      return;
    }
  }
  if (!mat) return;
  const p = localPoint(e);
  const c = cellAt(view, vp(), p.x, p.y);
  if (!c) {
    if (hover) {
      hover = undefined;
      hideTooltip();
      requestDraw();
    }
    return;
  }
  if (hover && hover.row === c.row && hover.col === c.col) {
    placeTooltip(e.clientX, e.clientY);
    return;
  }
  hover = c;
  hoverAt = { x: e.clientX, y: e.clientY };
  drawOverlay();
  void showCell(c.row, c.col, e.clientX, e.clientY, t0, false);
});

dom.heatmap.addEventListener('pointerup', (e) => {
  const wasDrag = drag?.moved;
  drag = undefined;
  if (dom.heatmap.hasPointerCapture(e.pointerId)) dom.heatmap.releasePointerCapture(e.pointerId);
  if (wasDrag || !mat) return;
  const p = localPoint(e);
  const c = cellAt(view, vp(), p.x, p.y);
  if (!c) return;
  cursor = c;
  // Clicking pins (never toggles: a second click must not hide what the first showed); Unpin or Escape clears.
  pin(c.row);
});

dom.heatmap.addEventListener('pointerleave', () => {
  hover = undefined;
  hideTooltip();
  requestDraw();
});

dom.heatmap.addEventListener('wheel', (e) => {
  if (!mat) return;
  e.preventDefault();
  const p = localPoint(e);
  const unitPx = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? size.h : 1;
  setView(zoomAt(view, vp(), Math.exp(-e.deltaY * unitPx * 0.0015), p.x, p.y));
}, { passive: false });

function cursorClient(): { x: number; y: number } {
  const r = dom.heatmap.getBoundingClientRect();
  return { x: r.left + (cursor.col + 1 - view.x0) * view.cellPx, y: r.top + (cursor.row + 0.5 - view.y0) * view.cellPx };
}

function moveCursor(dr: number, dc: number): void {
  if (!mat) return;
  cursor = { row: Math.min(mat.rows - 1, Math.max(0, cursor.row + dr)), col: Math.min(mat.cols - 1, Math.max(0, cursor.col + dc)) };
  setView(ensureVisible(view, vp(), cursor.row, cursor.col));
  const p = cursorClient();
  hover = undefined;
  draw();
  void showCell(cursor.row, cursor.col, p.x, p.y, performance.now(), true);
}

function copyCell(): void {
  const c = hover ?? cursor;
  if (mat) post({ type: 'copyCell', kind, row: c.row, col: c.col });
}

dom.heatmap.addEventListener('keydown', (e) => {
  if (!mat) return;
  const arrows: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  const a = arrows[e.key];
  const centre = { x: size.w / 2, y: size.h / 2 };
  if (a) {
    e.preventDefault();
    if (e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) setView(panBy(view, vp(), -a[1] * size.w * 0.2, -a[0] * size.h * 0.2));
    else moveCursor(a[0], a[1]);
  } else if (e.key === '+' || e.key === '=') {
    e.preventDefault();
    setView(zoomAt(view, vp(), 1.5, centre.x, centre.y));
  } else if (e.key === '-' || e.key === '_') {
    e.preventDefault();
    setView(zoomAt(view, vp(), 1 / 1.5, centre.x, centre.y));
  } else if (e.key === '0') {
    e.preventDefault();
    setView(fitView(vp()));
  } else if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    pin(cursor.row);
  } else if (e.key === 'Escape') {
    hideTooltip();
    if (pinned !== undefined) pin(undefined);
  } else if (e.key === 'c' || e.key === 'C') {
    copyCell();
  }
});

dom.heatmap.addEventListener('focus', () => {
  if (!mat) return;
  // Focusing must not pan: a cursor left off screen moves to the middle of what is shown.
  const r = visibleRange(view, vp());
  if (cursor.row < r.r0 || cursor.row >= r.r1 || cursor.col < r.c0 || cursor.col >= r.c1) {
    cursor = { row: Math.floor((r.r0 + r.r1 - 1) / 2), col: Math.floor((r.c0 + r.c1 - 1) / 2) };
  }
  moveCursor(0, 0);
});
dom.heatmap.addEventListener('blur', () => {
  hideTooltip();
  requestDraw();
});

dom.kind.addEventListener('change', () => void switchKind(dom.kind.value as ViewKind));
dom.colormap.addEventListener('change', () => {
  colorMap = dom.colormap.value;
  save({ colorMap });
  updateColors();
  renderGrid();
  requestDraw();
});
dom.scale.addEventListener('change', () => {
  scaleMode = dom.scale.value === 'log' ? 'log' : 'linear';
  save({ scaleMode });
  updateColors();
  renderGrid();
  requestDraw();
});
dom.reset.addEventListener('click', () => setView(fitView(vp())));
dom.exportPng.addEventListener('click', () => post({ type: 'export', format: 'png' }));
dom.exportCsv.addEventListener('click', () => post({ type: 'export', format: 'csv' }));
dom.copy.addEventListener('click', copyCell);

/**
 * Size the map's stage to the matrix at "fit" inside the space the plot has, so axes and legend hug the map
 * (a 1×8 map is a strip, not a strip in a big empty box). Zooming magnifies inside this stage.
 */
function layoutStage(rows: number, cols: number): void {
  const r = dom.plot.getBoundingClientRect();
  if (model) {
    axes = axisSizes(model.queryLabels, kind === 'output' ? model.valueLabels : model.keyLabels, rows, cols, readTheme());
    dom.plot.style.gridTemplateColumns = `${axes.rowW}px auto ${STRIP_W}px`;
    dom.plot.style.gridTemplateRows = `${axes.colH}px auto ${LEGEND_H}px`;
  }
  const availW = Math.max(40, Math.floor(r.width) - axes.rowW - STRIP_W);
  const availH = Math.max(40, Math.floor(r.height) - axes.colH - LEGEND_H);
  const cellPx = Math.min(availW / cols, availH / rows);
  size = { w: Math.max(1, Math.min(availW, Math.ceil(cols * cellPx))), h: Math.max(1, Math.min(availH, Math.ceil(rows * cellPx))) };
  const stage = dom.heatmap.parentElement as HTMLElement;
  stage.style.width = `${size.w}px`;
  stage.style.height = `${size.h}px`;
}

new ResizeObserver(() => {
  if (!mat) return;
  const atFit = zoomOf(view, vp()) <= 1.0001;
  layoutStage(mat.rows, mat.cols);
  view = atFit ? fitView(vp()) : clampView(view, vp());
  draw();
}).observe(dom.plot);

// VS Code switches themes by changing the body's class and variables: canvases drawn with theme colours follow.
new MutationObserver(() => requestDraw()).observe(body, { attributes: true, attributeFilter: ['class'] });

// ------------------------------------------------------------------------------------------------ export

/** Canvas + axes + strip + legend composed into one PNG, posted to the host which writes the file. */
function exportPng(id: number): void {
  draw(); // WebGL's buffer is only readable in the task that drew it
  const dpr = window.devicePixelRatio || 1;
  const w = axes.rowW + size.w + STRIP_W;
  const h = axes.colH + size.h + LEGEND_H;
  const out = document.createElement('canvas');
  out.width = Math.round(w * dpr);
  out.height = Math.round(h * dpr);
  const ctx = out.getContext('2d');
  if (!ctx) {
    post({ type: 'png', id, error: 'no 2D canvas' });
    return;
  }
  ctx.fillStyle = getComputedStyle(body).backgroundColor || '#fff';
  ctx.fillRect(0, 0, out.width, out.height);
  const put = (c: HTMLCanvasElement, x: number, y: number) => ctx.drawImage(c, Math.round(x * dpr), Math.round(y * dpr));
  put(dom.colAxis, axes.rowW, 0);
  put(dom.rowAxis, 0, axes.colH);
  put(dom.heatmap, axes.rowW, axes.colH);
  put(dom.strip, axes.rowW + size.w, axes.colH);
  put(dom.legend, axes.rowW, axes.colH + size.h);
  out.toBlob((blob) => {
    if (!blob) {
      post({ type: 'png', id, error: 'the canvas could not be encoded' });
      return;
    }
    void blob.arrayBuffer().then((buf) => post({ type: 'png', id, bytes: new Uint8Array(buf) }));
  }, 'image/png');
}

// ------------------------------------------------------------------------------------------------ messages

window.addEventListener('message', (event: MessageEvent) => {
  const t0 = performance.now();
  const msg = event.data as ToWebview;
  if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return;
  switch (msg.type) {
    case 'model':
      onModel(msg, t0);
      break;
    case 'matrix':
    case 'tile':
    case 'cell':
    case 'row':
      requests.handleReply(msg);
      break;
    case 'error':
      dom.error.textContent = msg.message;
      dom.error.hidden = false;
      body.dataset.error = 'true';
      body.dataset.state = model ? 'ready' : 'error';
      break;
    case 'settings':
      if (SEQUENTIAL[msg.settings.colorMap]) {
        colorMap = msg.settings.colorMap;
        save({ colorMap: undefined });
        dom.colormap.value = colorMap;
        updateColors();
        renderGrid();
        requestDraw();
      }
      break;
    case 'exportPng':
      exportPng(msg.id);
      break;
    case 'loading':
      body.dataset.state = 'loading';
      break;
    default:
      assertNever(msg);
  }
});

post({ type: 'ready', kind: saved.kind });
