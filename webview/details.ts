// What a cell and a row say: the hover tooltip (and its spoken form for the keyboard cursor) and the pinned
// row's panel. Small models answer locally; large ones ask the host.
import { formatNumber, formatWeight } from '../src/shared/format';
import { cellDetails, rowDetails, type CellDetails, type RowDetails } from '../src/shared/inspect';
import { labelOf } from '../src/shared/labels';
import { usesValueLabels } from '../src/shared/types';
import { colLabels, drawOverlay } from './draw';
import { KIND_NAMES } from './dom';
import { ignoreUnanswered, post, requests } from './host';
import { detailContent, positionTooltip, tooltipContent } from './panels';
import { body, dom } from './page';
import { persisted, ui } from './state';

let lastHoverTiming = 0;

async function detailsAt(row: number, col: number): Promise<CellDetails | undefined> {
  if (ui.local) return cellDetails(ui.local, ui.kind, row, col);
  const reply = await requests.request({ type: 'requestCell', kind: ui.kind, row, col }).catch(ignoreUnanswered);
  return reply?.details;
}

/** The value under a cell from what the webview holds (tile if there, else the pooled overview). */
function shownValue(row: number, col: number): { value: number; exact: boolean } | undefined {
  const { mat, tile, kind } = ui;
  if (!mat) return undefined;
  if (tile && tile.kind === kind && row >= tile.r0 && col >= tile.c0 && row < tile.r0 + tile.rows && col < tile.c0 + tile.cols) {
    return undefined; // tile data lives in the renderer; the host answer follows quickly
  }
  const i = Math.floor(row / mat.blockRows);
  const j = Math.floor(col / mat.blockCols);
  return { value: mat.overview[i * mat.ovCols + j], exact: mat.blockRows === 1 && mat.blockCols === 1 };
}

export function placeTooltip(clientX: number, clientY: number): void {
  positionTooltip(dom.tooltip, clientX, clientY);
}

export function hideTooltip(): void {
  dom.tooltip.hidden = true;
}

/** Fill the tooltip for a cell (`announce`: the keyboard cursor's cell, also spoken through #live). */
export async function showCell(row: number, col: number, clientX: number, clientY: number, t0: number, announce: boolean): Promise<void> {
  const { model, mat, kind } = ui;
  if (!model || !mat) return;
  const key = `${row},${col}`;
  if (!ui.local) {
    const v = shownValue(row, col);
    if (v && !v.exact) {
      const provisional: CellDetails = {
        kind, row, col, value: v.value, rowLabel: labelOf(model.queryLabels, row), colLabel: labelOf(colLabels(), col),
      };
      dom.tooltip.replaceChildren(...tooltipContent(provisional, model.valueLabels, `block ${mat.blockRows}×${mat.blockCols} ${mat.signed ? 'largest magnitude' : 'max'}`));
      placeTooltip(clientX, clientY);
    }
  }
  const d = await detailsAt(row, col);
  const current = announce ? ui.cursor : ui.hover;
  if (!d || !current || `${current.row},${current.col}` !== key || !ui.model) return;
  dom.tooltip.replaceChildren(...tooltipContent(d, ui.model.valueLabels));
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
  const parts = [`query ${d.row} ${d.rowLabel}`, `${usesValueLabels(d.kind) ? 'dimension' : 'key'} ${d.col} ${d.colLabel}`];
  if (d.weight !== undefined) parts.push(`weight ${formatWeight(d.weight)}`);
  else parts.push(`${KIND_NAMES[d.kind] ?? d.kind} ${formatNumber(d.value)}`);
  if (d.rank !== undefined) parts.push(`rank ${d.rank} of ${d.of}`);
  return parts.join(', ');
}

export async function showPinned(): Promise<void> {
  if (ui.pinned === undefined || !ui.model || !ui.mat) {
    dom.detail.replaceChildren();
    dom.detail.classList.remove('pinned');
    return;
  }
  const row = ui.pinned;
  let r: RowDetails | undefined;
  if (ui.local) r = rowDetails(ui.local, ui.kind, row);
  else {
    const reply = await requests.request({ type: 'requestRow', kind: ui.kind, row }).catch(ignoreUnanswered);
    r = reply?.details;
  }
  if (!r || ui.pinned !== row || !ui.model) return;
  dom.detail.replaceChildren(...detailContent(r, ui.model.keyLabels, ui.model.valueLabels, () => pin(undefined)));
  dom.detail.classList.add('pinned');
}

/** Pin a query row (undefined unpins): its details stay beside the map. */
export function pin(row: number | undefined): void {
  ui.pinned = row;
  persisted.save({ pinnedRow: row });
  void showPinned();
  drawOverlay();
}
