/**
 * The one clamp for a selection: a layer and head of a dump, or a cell of a matrix. Out-of-range, negative and
 * fractional indices land on the nearest valid one, so a stale selection (a file rewritten with fewer heads, a
 * smaller matrix) still shows something rather than nothing.
 */

export interface HeadSelection {
  layer: number;
  head: number;
  /** A dump's index on each picker axis (batch, sample…), in file order. */
  extra?: number[];
}

/** `i` as a whole index in 0…n−1 (0 when n is 0 or i is not a number). */
export function clampIndex(i: number, n: number): number {
  const whole = Number.isFinite(i) ? Math.floor(i) : 0;
  return Math.max(0, Math.min(whole, n - 1));
}

/** A layer and head inside layers × heads; no selection means the first head of the first layer. */
export function clampSelection(sel: HeadSelection | undefined, layers: number, heads: number): HeadSelection {
  return { layer: clampIndex(sel?.layer ?? 0, layers), head: clampIndex(sel?.head ?? 0, heads) };
}

/** A cell inside rows × cols (the webview's keyboard cursor). */
export function clampCell(cell: { row: number; col: number }, rows: number, cols: number): { row: number; col: number } {
  return { row: clampIndex(cell.row, rows), col: clampIndex(cell.col, cols) };
}
