// The token view's state, shared by its parts (tokens.ts, tokenSearchBox.ts, tokenSelection.ts) and by the map's
// overlay (tokenOverlay.ts). No imports of drawing code, so draw.ts can read it without a cycle.

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

export const tok: TokenState = {
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

/** Height of the selection's row under the map (0 without a selection). */
export const SELECTION_ROW_H = 14;
export function selectionRowHeight(): number {
  return tok.enabled && tok.selectionMean ? SELECTION_ROW_H : 0;
}

/** The map row and column a token stands for (one text: both). */
export function mapLines(t: TokenRef): { row?: number; col?: number } {
  if (tok.self) return { row: t.i, col: t.i };
  return t.side === 'q' ? { row: t.i } : { col: t.i };
}
