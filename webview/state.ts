// The webview's state. `persisted` is the getState/setState wrapper: UI state only (kind, colours, zoom, pinned
// row), never matrices. `ui` is what the features share while the page lives; the data in it is only what the
// host sent for the current model.
import type { ScaleMode } from '../src/shared/colormap';
import type { View, Viewport } from '../src/shared/hit';
import type { InspectSource } from '../src/shared/inspect';
import type { HeatmapPanelState, Region, WireMatrix, WireModel } from '../src/shared/protocol';
import type { ViewKind } from '../src/shared/types';
import { vscodeApi } from './host';
import type { Colors } from './render';

let saved: HeatmapPanelState = (vscodeApi.getState() as HeatmapPanelState | undefined) ?? {};

export const persisted = {
  get: (): Readonly<HeatmapPanelState> => saved,
  save(patch: Partial<HeatmapPanelState>): void {
    saved = { ...saved, ...patch };
    vscodeApi.setState(saved);
  },
};

export interface UiState {
  model: WireModel | undefined;
  sourceId: string | undefined;
  /** The matrix on screen (its overview). */
  mat: WireMatrix | undefined;
  /** Whole small models, for hover and pinning without a round trip. */
  local: InspectSource | undefined;
  kind: ViewKind;
  colorMap: string;
  scaleMode: ScaleMode;
  colors: Colors | undefined;
  view: View;
  /** The map's stage in CSS pixels. */
  size: { w: number; h: number };
  /** Row-axis width and column-axis height for the current labels. */
  axes: { rowW: number; colH: number };
  /** The full-resolution tile the renderer holds. */
  tile: (Region & { kind: ViewKind }) | undefined;
  hover: { row: number; col: number } | undefined;
  /** Where the pointer last hovered a cell, so a refresh in place can re-read that cell's tooltip. */
  hoverAt: { x: number; y: number } | undefined;
  cursor: { row: number; col: number };
  pinned: number | undefined;
  /** Counts model messages (a frame timing belongs to the model it started with). */
  modelSeq: number;
}

export const ui: UiState = {
  model: undefined,
  sourceId: undefined,
  mat: undefined,
  local: undefined,
  kind: saved.kind ?? 'weights',
  colorMap: saved.colorMap ?? 'viridis',
  scaleMode: saved.scaleMode ?? 'linear',
  colors: undefined,
  view: { x0: 0, y0: 0, cellPx: 1 },
  size: { w: 1, h: 1 },
  axes: { rowW: 110, colH: 90 },
  tile: undefined,
  hover: undefined,
  hoverAt: undefined,
  cursor: { row: 0, col: 0 },
  pinned: saved.pinnedRow,
  modelSeq: 0,
};

/** The viewport for hit-testing and zoom (src/shared/hit.ts). */
export function vp(): Viewport {
  return { width: ui.size.w, height: ui.size.h, rows: ui.mat?.rows ?? 1, cols: ui.mat?.cols ?? 1 };
}
