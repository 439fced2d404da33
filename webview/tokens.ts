// The panel's token view (tokenView.ts), wired to the page: rows and columns come from the model the page holds
// whole (ui.local) or from the extension host; pinning, the map's view and the overlay are the page's own. The
// map's drawing reads the view's marks through draw.ts's setTokenLayer (no import of draw code back here is needed
// by draw.ts, so there is no cycle).
import { tokenKind, tokenLine, selectionDetails } from '../src/shared/tokenRows';
import { revealLines } from '../src/shared/tokenLayout';
import { pin } from './details';
import { drawOverlay, relayout, setTokenLayer } from './draw';
import { ignoreUnanswered, requests } from './host';
import { body, dom } from './page';
import { persisted, ui, vp } from './state';
import { setView } from './tiles';
import type { TokenHost } from './tokenState';
import { TokenView } from './tokenView';

const host: TokenHost = {
  root: document,
  stats: body,
  live: dom.live,
  themed: body,
  map: () => ({
    kind: ui.kind, rows: ui.mat?.rows ?? 0, cols: ui.mat?.cols ?? 0, pinned: ui.pinned, hover: ui.hover,
    generation: `${ui.modelSeq}|${ui.kind}`,
  }),
  tokenKind: () => (ui.local ? tokenKind(ui.local, ui.kind) : undefined)
    ?? (ui.kind === 'headMean' || ui.kind === 'headMax' || ui.kind === 'rollout' ? ui.kind : 'weights'),
  valueLabels: () => ui.model?.valueLabels,
  async line(dir, i) {
    if (ui.local) return tokenLine(ui.local, ui.kind, dir, i);
    if (dir === 'row') {
      const reply = await requests.request({ type: 'requestRow', kind: ui.kind, row: i }).catch(ignoreUnanswered);
      return reply?.details ? { values: reply.details.weights, kind: reply.details.kind } : undefined;
    }
    const reply = await requests.request({ type: 'requestColumn', kind: ui.kind, col: i }).catch(ignoreUnanswered);
    return reply?.details ? { values: reply.details.values, kind: reply.details.kind } : undefined;
  },
  async selection(rows, signal) {
    if (ui.local) return selectionDetails(ui.local, ui.kind, rows);
    const reply = await requests.request({ type: 'requestSelection', kind: ui.kind, rows }, { signal }).catch(ignoreUnanswered);
    return reply?.details;
  },
  pin(row) {
    ui.cursor = { row, col: ui.cursor.col };
    pin(row);
  },
  showOnMap(row, col) {
    const mat = ui.mat;
    if (!mat) return;
    setView(revealLines(ui.view, vp(), row, col));
    if (row !== undefined && row < mat.rows) ui.cursor = { row, col: col ?? ui.cursor.col };
  },
  drawOverlay,
  relayout,
  saved: () => persisted.get().tokens,
  save: (tokens) => persisted.save({ tokens }),
};

const view = new TokenView(host);

/** The map's hover moved: mark its cell's tokens in the text (input.ts calls this). */
export function followMap(): void {
  view.followMap();
}

/** The pinned row changed from the map (click, Enter, Escape): the resting tint follows. */
export function followPin(): void {
  view.followPin();
}

/** A model or kind arrived (a head, layer or view kind picked): show its tokens, read the same token again. */
export function refreshTokens(): void {
  view.refresh(ui.model?.queryLabels, ui.model?.keyLabels, ui.mat?.rows ?? 0);
}

export function installTokens(): void {
  setTokenLayer(view);
  view.mount(dom);
}
