// Pointer, wheel and keyboard on the map, and the toolbar's controls.
import { isColorMapName } from '../src/shared/colormap';
import { cellAt, ensureVisible, fitView, panBy, visibleRange, zoomAt } from '../src/shared/hit';
import { clampCell } from '../src/shared/selection';
import type { ViewKind } from '../src/shared/types';
import { hideTooltip, pin, placeTooltip, showCell } from './details';
import { draw, drawOverlay, requestDraw } from './draw';
import { post } from './host';
import { dom } from './page';
import { persisted, ui, vp } from './state';
import { recolour, switchKind } from './showModel';
import { setView } from './tiles';
import { followMap, followPin } from './tokens';

function localPoint(e: { clientX: number; clientY: number }): { x: number; y: number } {
  const r = dom.heatmap.getBoundingClientRect();
  return { x: e.clientX - r.left, y: e.clientY - r.top };
}

function cursorClient(): { x: number; y: number } {
  const r = dom.heatmap.getBoundingClientRect();
  const { cursor, view } = ui;
  return { x: r.left + (cursor.col + 1 - view.x0) * view.cellPx, y: r.top + (cursor.row + 0.5 - view.y0) * view.cellPx };
}

function moveCursor(dr: number, dc: number): void {
  if (!ui.mat) return;
  ui.cursor = clampCell({ row: ui.cursor.row + dr, col: ui.cursor.col + dc }, ui.mat.rows, ui.mat.cols);
  setView(ensureVisible(ui.view, vp(), ui.cursor.row, ui.cursor.col));
  const p = cursorClient();
  ui.hover = undefined;
  draw();
  void showCell(ui.cursor.row, ui.cursor.col, p.x, p.y, performance.now(), true);
}

function copyCell(): void {
  const c = ui.hover ?? ui.cursor;
  if (ui.mat) post({ type: 'copyCell', kind: ui.kind, row: c.row, col: c.col });
}

function installPointer(): void {
  let drag: { x: number; y: number; moved: boolean; id: number } | undefined;
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
        setView(panBy(ui.view, vp(), dx, dy));
        hideTooltip();
        return;
      }
    }
    if (!ui.mat) return;
    const p = localPoint(e);
    const c = cellAt(ui.view, vp(), p.x, p.y);
    if (!c) {
      if (ui.hover) {
        ui.hover = undefined;
        hideTooltip();
        requestDraw();
        followMap();
      }
      return;
    }
    if (ui.hover && ui.hover.row === c.row && ui.hover.col === c.col) {
      placeTooltip(e.clientX, e.clientY);
      return;
    }
    ui.hover = c;
    ui.hoverAt = { x: e.clientX, y: e.clientY };
    drawOverlay();
    followMap();
    void showCell(c.row, c.col, e.clientX, e.clientY, t0, false);
  });

  dom.heatmap.addEventListener('pointerup', (e) => {
    const wasDrag = drag?.moved;
    drag = undefined;
    if (dom.heatmap.hasPointerCapture(e.pointerId)) dom.heatmap.releasePointerCapture(e.pointerId);
    if (wasDrag || !ui.mat) return;
    const p = localPoint(e);
    const c = cellAt(ui.view, vp(), p.x, p.y);
    if (!c) return;
    ui.cursor = c;
    // Clicking pins (never toggles: a second click must not hide what the first showed); Unpin or Escape clears.
    pin(c.row);
    followPin();
  });

  dom.heatmap.addEventListener('pointerleave', () => {
    ui.hover = undefined;
    hideTooltip();
    requestDraw();
    followMap();
  });

  dom.heatmap.addEventListener('wheel', (e) => {
    if (!ui.mat) return;
    e.preventDefault();
    const p = localPoint(e);
    const unitPx = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? ui.size.h : 1;
    setView(zoomAt(ui.view, vp(), Math.exp(-e.deltaY * unitPx * 0.0015), p.x, p.y));
  }, { passive: false });
}

function installKeyboard(): void {
  dom.heatmap.addEventListener('keydown', (e) => {
    if (!ui.mat) return;
    const arrows: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const a = arrows[e.key];
    const { size, view } = ui;
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
      pin(ui.cursor.row);
      followPin();
    } else if (e.key === 'Escape') {
      hideTooltip();
      if (ui.pinned !== undefined) pin(undefined);
      followPin();
    } else if (e.key === 'c' || e.key === 'C') {
      copyCell();
    }
  });

  dom.heatmap.addEventListener('focus', () => {
    if (!ui.mat) return;
    // Focusing must not pan: a cursor left off screen moves to the middle of what is shown.
    const r = visibleRange(ui.view, vp());
    const { cursor } = ui;
    if (cursor.row < r.r0 || cursor.row >= r.r1 || cursor.col < r.c0 || cursor.col >= r.c1) {
      ui.cursor = { row: Math.floor((r.r0 + r.r1 - 1) / 2), col: Math.floor((r.c0 + r.c1 - 1) / 2) };
    }
    moveCursor(0, 0);
  });
  dom.heatmap.addEventListener('blur', () => {
    hideTooltip();
    requestDraw();
  });
}

function installControls(): void {
  dom.kind.addEventListener('change', () => void switchKind(dom.kind.value as ViewKind));
  dom.colormap.addEventListener('change', () => {
    if (!isColorMapName(dom.colormap.value)) return;
    ui.colorMap = dom.colormap.value;
    persisted.save({ colorMap: ui.colorMap });
    recolour();
  });
  dom.scale.addEventListener('change', () => {
    ui.scaleMode = dom.scale.value === 'log' ? 'log' : 'linear';
    persisted.save({ scaleMode: ui.scaleMode });
    recolour();
  });
  dom.reset.addEventListener('click', () => setView(fitView(vp())));
  dom.exportPng.addEventListener('click', () => post({ type: 'export', format: 'png' }));
  dom.exportCsv.addEventListener('click', () => post({ type: 'export', format: 'csv' }));
  dom.copy.addEventListener('click', copyCell);
}

export function installInput(): void {
  installPointer();
  installKeyboard();
  installControls();
}
