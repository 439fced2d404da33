// The token view's state and what it needs from the heatmap around it. A token view is an instance (tokens.ts's
// TokenView): the panel has one, each notebook output its own. What differs between them is the TokenHost: the
// panel reads rows and columns from the extension host (or its local copy), a notebook output from its payload.
// No imports of drawing code, so the pieces (panes, search, selection, overlay) can share these types without a cycle.
import type { SelectionDetails } from '../src/shared/tokenRows';
import type { ViewKind } from '../src/shared/types';

/** Which text a token is in: the queries (rows) or, for cross-attention, the keys (columns). */
export type Side = 'q' | 'k';

export interface TokenRef {
  side: Side;
  i: number;
}

export interface TokenState {
  /** The model has token labels and the view is shown. */
  enabled: boolean;
  /** Self-attention: one text is both the queries and the keys. */
  self: boolean;
  queries: readonly string[];
  keys: readonly string[];
  /** Hovering reads the token's row (attends to) or its column (attended by); one text only. */
  direction: 'row' | 'col';
  hover: TokenRef | undefined;
  /** The keyboard's token. */
  cursor: TokenRef;
  /** Selected query rows, ascending. */
  selection: number[];
  /** The selection's mean row, drawn under the map. */
  selectionMean: Float32Array | undefined;
  /** Search hits per text, ascending; in one text, hitsK is hitsQ. */
  hitsQ: Int32Array;
  hitsK: Int32Array;
  currentHit: TokenRef | undefined;
}

export function createTokenState(): TokenState {
  return {
    enabled: false,
    self: true,
    queries: [],
    keys: [],
    direction: 'row',
    hover: undefined,
    cursor: { side: 'q', i: 0 },
    selection: [],
    selectionMean: undefined,
    hitsQ: new Int32Array(0),
    hitsK: new Int32Array(0),
    currentHit: undefined,
  };
}

/** A row (over the keys) or column (over the queries) of the matrix the token view reads, and its kind. */
export interface TokenLine {
  values: Float32Array;
  kind: ViewKind;
}

/** The token view's UI choices that outlive a page (the panel keeps them in its webview state). */
export interface TokenUiSaved {
  direction: 'row' | 'col';
  search: string;
  regex: boolean;
  caseSensitive: boolean;
}

/** What a token view reads from, and does to, the heatmap it belongs to. */
export interface TokenHost {
  /** Where focus is read (the page's document, or the output's shadow root). */
  readonly root: DocumentOrShadowRoot;
  /** The element whose data attributes report timings and counts (data-tokens, data-token-hover-ms, …). */
  readonly stats: HTMLElement;
  /** The live region that announces the keyboard's token. */
  readonly live: HTMLElement;
  /** Where theme colours are read for the map's marks. */
  readonly themed: HTMLElement;
  /** The map now: its kind and rows, the pinned row and hovered cell, and a key that changes with the data. */
  map(): { kind: ViewKind; rows: number; cols: number; pinned: number | undefined; hover: { row: number; col: number } | undefined; generation: string };
  /** The kind the token view's rows read as (for the selection's tint). */
  tokenKind(): ViewKind;
  valueLabels(): string[] | undefined;
  line(dir: 'row' | 'col', i: number): Promise<TokenLine | undefined>;
  selection(rows: number[], signal: AbortSignal): Promise<SelectionDetails | undefined>;
  /** Pin a query row as clicking the map does. */
  pin(row: number): void;
  /** Move the map so this row and column are in view. */
  showOnMap(row: number | undefined, col: number | undefined): void;
  drawOverlay(): void;
  /** A row under the map appeared or went: lay the stage out again. */
  relayout(): void;
  saved(): TokenUiSaved | undefined;
  save(s: TokenUiSaved): void;
}

/** Height of the selection's row under the map (0 without a selection). */
export const SELECTION_ROW_H = 14;
export function selectionRowHeight(tok: TokenState): number {
  return tok.enabled && tok.selectionMean ? SELECTION_ROW_H : 0;
}

/** The map row and column a token stands for (one text: both). */
export function mapLines(tok: TokenState, t: TokenRef): { row?: number; col?: number } {
  if (tok.self) return { row: t.i, col: t.i };
  return t.side === 'q' ? { row: t.i } : { col: t.i };
}
