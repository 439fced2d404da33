// A model (or another kind of it) arriving: apply its matrix, keep or restore the view, rebuild the layer ×
// head grid, refresh the tooltip and pinned row, and time the first frame.
import { chooseScale, isColorMapName } from '../src/shared/colormap';
import { clampView, fitCellPx, fitView } from '../src/shared/hit';
import type { InspectSource } from '../src/shared/inspect';
import { finiteRange, hasNegative } from '../src/shared/pool';
import type { ToWebview, WireMatrix, WireModel } from '../src/shared/protocol';
import { clampCell } from '../src/shared/selection';
import type { Matrix2D, ViewKind } from '../src/shared/types';
import { lutFor } from './colormaps';
import { hideTooltip, showCell, showPinned } from './details';
import { KIND_NAMES, setOptions } from './dom';
import { draw, layoutStage, requestDraw, updateColors } from './draw';
import { ignoreUnanswered, post, requests } from './host';
import { buildGrid } from './panels';
import { decorateGrid, headsOnModel } from './headsPanel';
import { openHead } from './openHead';
import { renderPickers } from './pickers';
import { body, dom, renderer } from './page';
import { persisted, ui, vp } from './state';
import { dropTile, scheduleViewWork } from './tiles';
import { refreshTokens } from './tokens';

/** `keepView`: same source, so keep zoom and pan when the size is unchanged; `restore`: first model after a reload of the page. */
function applyMatrix(m: WireMatrix, keepView: boolean, restore = false): void {
  const sameSize = ui.mat && ui.mat.rows === m.rows && ui.mat.cols === m.cols;
  ui.mat = m;
  ui.kind = m.kind;
  layoutStage(m.rows, m.cols);
  dropTile();
  renderer.setOverview({ data: m.overview, texRows: m.ovRows, texCols: m.ovCols, r0: 0, c0: 0, blockRows: m.blockRows, blockCols: m.blockCols });
  updateColors();
  if (!(keepView && sameSize)) {
    const sv = persisted.get().view;
    if (restore && sv && sv.rows === m.rows && sv.cols === m.cols && sv.zoom > 1) {
      const cellPx = fitCellPx(vp()) * sv.zoom;
      ui.view = clampView({ cellPx, x0: sv.cx * m.cols - ui.size.w / cellPx / 2, y0: sv.cy * m.rows - ui.size.h / cellPx / 2 }, vp());
    } else ui.view = fitView(vp());
    ui.cursor = clampCell(ui.cursor, m.rows, m.cols);
  } else ui.view = clampView(ui.view, vp());
  body.dataset.rows = String(m.rows);
  body.dataset.cols = String(m.cols);
  body.dataset.kind = ui.kind;
  dom.kind.value = ui.kind;
  persisted.save({ kind: ui.kind });
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

let firstFrameStart: number | undefined;

export function onModel(msg: Extract<ToWebview, { type: 'model' }>, t0: number): void {
  const sameSource = ui.sourceId === msg.sourceId;
  const tooltipOpen = !dom.tooltip.hidden; // applyMatrix hides it; a refresh in place re-reads it below
  // The page was (re)loaded for the source it showed before (revival, or a hidden view shown again): restore its view.
  const restore = ui.sourceId === undefined && persisted.get().sourceId === msg.sourceId;
  ui.modelSeq++;
  // Requests still in flight get their replies if answered from this model, and are dropped if from the last.
  requests.generation = msg.seq;
  const model = ui.model = msg.model;
  ui.sourceId = msg.sourceId;
  ui.local = localSource(msg.model);
  persisted.save({ sourceId: ui.sourceId });
  if (!persisted.get().colorMap && isColorMapName(msg.settings.colorMap)) ui.colorMap = msg.settings.colorMap;
  dom.colormap.value = ui.colorMap;
  dom.scale.value = ui.scaleMode;
  dom.title.textContent = model.title;
  dom.subtitle.textContent = model.subtitle ?? '';
  renderPickers(model);
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
  headsOnModel();
  if (ui.pinned !== undefined && ui.pinned >= msg.matrix.rows) ui.pinned = undefined;
  void showPinned();
  refreshTokens();
  // A refresh in place (file rewritten, JSON edited) must not leave the old value in an open tooltip.
  const { hover, hoverAt } = ui;
  if (hover && hoverAt && tooltipOpen && sameSource) {
    if (hover.row < msg.matrix.rows && hover.col < msg.matrix.cols) void showCell(hover.row, hover.col, hoverAt.x, hoverAt.y, t0, false);
    else {
      ui.hover = undefined;
      hideTooltip();
    }
  }
  firstFrameStart = t0;
  body.dataset.state = 'drawing';
  draw();
  // Synchronous part of the first frame (the rest is the browser compositing it), for the bench.
  body.dataset.syncMs = (performance.now() - t0).toFixed(1);
  const seq = ui.modelSeq;
  requestAnimationFrame(() => {
    if (seq !== ui.modelSeq || firstFrameStart === undefined) return;
    const ms = performance.now() - firstFrameStart;
    firstFrameStart = undefined;
    body.dataset.state = 'ready';
    body.dataset.firstFrameMs = ms.toFixed(1);
    post({ type: 'timing', name: 'firstFrame', ms });
  });
  scheduleViewWork();
}

/** The layer × head grid of small multiples (hidden for a single map). */
export function renderGrid(): void {
  const model = ui.model;
  const g = model?.grid;
  if (!g) {
    dom.grid.hidden = true;
    dom.grid.replaceChildren();
    return;
  }
  const r = finiteRange(g.cells);
  const scale = chooseScale(hasNegative(g.cells) ? 'data' : 'weights', r.min, r.max, ui.scaleMode);
  buildGrid(dom.grid, g, model.selection, lutFor(ui.colorMap, scale.diverging), scale, openHead,
    { kinds: model.kinds, shown: ui.kind, onKind: (k) => void switchKind(k) });
  dom.grid.hidden = false;
  decorateGrid();
}

/** Show another kind of the model (asked of the host: only the shown kind's overview is held). */
export async function switchKind(k: ViewKind): Promise<void> {
  if (!ui.model || !ui.model.kinds.includes(k)) return;
  const reply = await requests.request({ type: 'requestMatrix', kind: k }).catch(ignoreUnanswered);
  if (!reply?.matrix || !ui.model) return;
  const t0 = performance.now();
  applyMatrix(reply.matrix, true);
  draw();
  void showPinned();
  refreshTokens();
  scheduleViewWork();
  if (ui.model.grid?.extras?.some((e) => e.kind)) renderGrid(); // which extra cell is pressed
  body.dataset.kindSwitchMs = (performance.now() - t0).toFixed(1);
}

/** Colours changed (map or scale): recolour the map, the legend and the grid. */
export function recolour(): void {
  updateColors();
  renderGrid();
  requestDraw();
}
