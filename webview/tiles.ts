// Zoom and pan settle into work: the view is remembered, the host told what is on screen (for CSV export), and
// a full-resolution tile fetched when the visible region is small enough to be sharp.
import { clampView, visibleRange, zoomOf, type View } from '../src/shared/hit';
import type { Region } from '../src/shared/protocol';
import { requestDraw } from './draw';
import { ignoreUnanswered, post, requests } from './host';
import { renderer } from './page';
import { persisted, ui, vp } from './state';

/** Tiles are asked for once the visible region is at most this many cells (the host's limit too). */
const TILE_CELLS = 1024 * 1024;

export function setView(v: View): void {
  ui.view = clampView(v, vp());
  requestDraw();
  scheduleViewWork();
}

let viewTimer: ReturnType<typeof setTimeout> | undefined;
/** After zoom/pan settles: remember it, tell the host what is on screen (for CSV), fetch a tile if useful. */
export function scheduleViewWork(): void {
  if (viewTimer) clearTimeout(viewTimer);
  viewTimer = setTimeout(() => {
    viewTimer = undefined;
    const { mat, view, size } = ui;
    if (!mat) return;
    const z = zoomOf(view, vp());
    persisted.save({
      view: { cx: (view.x0 + size.w / view.cellPx / 2) / mat.cols, cy: (view.y0 + size.h / view.cellPx / 2) / mat.rows, zoom: z, rows: mat.rows, cols: mat.cols },
    });
    const r = visibleRange(view, vp());
    const region = { r0: r.r0, c0: r.c0, rows: r.r1 - r.r0, cols: r.c1 - r.c0 };
    post({ type: 'viewState', kind: ui.kind, region: z > 1.001 ? region : undefined });
    maybeRequestTile(region);
  }, 120);
}

/** Forget the tile (a new matrix is shown). */
export function dropTile(): void {
  ui.tile = undefined;
  renderer.setTile(undefined);
}

/** The tile request in flight: a newer one supersedes it. */
let tileRequest: AbortController | undefined;

function maybeRequestTile(visible: Region): void {
  const { mat, tile, kind } = ui;
  if (!mat || (mat.blockRows === 1 && mat.blockCols === 1)) return;
  if (visible.rows * visible.cols > TILE_CELLS) {
    if (tile) {
      dropTile();
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
    if (m.kind !== ui.kind || m.rows === 0 || !ui.mat) return;
    ui.tile = { kind: m.kind, r0: m.r0, c0: m.c0, rows: m.rows, cols: m.cols };
    renderer.setTile({ data: m.data, texRows: m.rows, texCols: m.cols, r0: m.r0, c0: m.c0, blockRows: 1, blockCols: 1 });
    requestDraw();
  }, ignoreUnanswered);
}
