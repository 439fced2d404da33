/**
 * The rows and columns the token view tints by, and a selection of several query tokens read as one row. Pure,
 * so the host (from full-resolution data, src/core/view/serve.ts) and the webview (small models it holds whole)
 * compute the same numbers.
 */
import { weightedSum, type InspectSource } from './inspect';
import { labelOf } from './labels';
import { isAggregateKind, usesValueLabels, type Matrix2D, type ViewKind } from './types';

/**
 * The query × key matrix a token view reads for a kind, the same rule as the pinned row (rowDetails): an
 * aggregate reads itself, otherwise the weights when there are any, else the kind itself when its columns are keys.
 */
export function tokenKind(src: Pick<InspectSource, 'kinds'>, kind: ViewKind): ViewKind | undefined {
  if (isAggregateKind(kind) && src.kinds[kind]) return kind;
  if (src.kinds.weights) return 'weights';
  return !usesValueLabels(kind) && src.kinds[kind] ? kind : undefined;
}

export interface ColumnDetails {
  col: number;
  colLabel: string;
  /** Which matrix the column came from (tokenKind). */
  kind: ViewKind;
  /** Column `col` of that matrix: how much each query attends to this key. */
  values: Float32Array;
}

/** Column `col` of the token view's matrix ("attended by"), or undefined out of range. */
export function columnDetails(src: InspectSource, kind: ViewKind, col: number): ColumnDetails | undefined {
  const k = tokenKind(src, kind);
  const m = k ? src.kinds[k] : undefined;
  if (!k || !m || col < 0 || col >= m.cols) return undefined;
  const values = new Float32Array(m.rows);
  for (let r = 0; r < m.rows; r++) values[r] = m.data[r * m.cols + col];
  return { col, colLabel: labelOf(src.keyLabels, col), kind: k, values };
}

/**
 * Row i ("attends to", over the keys) or column i ("attended by", over the queries) of the token view's matrix,
 * from a model held whole (the panel's small models, a notebook output's payload); undefined out of range.
 */
export function tokenLine(src: InspectSource, kind: ViewKind, dir: 'row' | 'col', i: number): { values: Float32Array; kind: ViewKind } | undefined {
  if (dir === 'col') {
    const c = columnDetails(src, kind, i);
    return c ? { values: c.values, kind: c.kind } : undefined;
  }
  const k = tokenKind(src, kind);
  const m = k ? src.kinds[k] : undefined;
  if (!k || !m || i < 0 || i >= m.rows) return undefined;
  return { values: m.data.subarray(i * m.cols, (i + 1) * m.cols), kind: k };
}

export interface SelectionDetails {
  /** The selected query rows, ascending and unique (as answered: out-of-range rows are dropped). */
  rows: number[];
  kind: ViewKind;
  /** Σ over the selected rows, per key, in float64 then stored as float32. */
  sum: Float32Array;
  /** sum / rows.length. */
  mean: Float32Array;
  /**
   * The output for the mean row: mean of the selected output rows when the model has an output map (the same
   * vector the pinned row shows, averaged; equal to Σ_j mean_j v_j by linearity), else Σ_j mean_j v_j.
   */
  output?: number[];
  valuesNonNegative: boolean;
}

/** Largest selection the host sums (every query of a 32k-token context). */
export const MAX_SELECTION = 1 << 16;

/** Sorted unique row indices below `limit`. */
export function normaliseRows(rows: readonly number[], limit: number): number[] {
  const out = [...new Set(rows.filter((r) => Number.isInteger(r) && r >= 0 && r < limit))];
  return out.sort((a, b) => a - b);
}

function rowMean(m: Matrix2D, rows: readonly number[]): { sum: Float32Array; mean: Float32Array } {
  const acc = new Float64Array(m.cols);
  for (const r of rows) {
    const base = r * m.cols;
    for (let c = 0; c < m.cols; c++) acc[c] += m.data[base + c];
  }
  const sum = Float32Array.from(acc);
  const mean = Float32Array.from(acc, (x) => x / rows.length);
  return { sum, mean };
}

/** The selected query rows read as one: their sum, mean and the mean row's output. */
export function selectionDetails(src: InspectSource, kind: ViewKind, rows: readonly number[]): SelectionDetails | undefined {
  const k = tokenKind(src, kind);
  const m = k ? src.kinds[k] : undefined;
  if (!k || !m) return undefined;
  const picked = normaliseRows(rows, m.rows);
  if (picked.length === 0) return undefined;
  const { sum, mean } = rowMean(m, picked);
  const v = src.values;
  const o = src.kinds.output;
  let output: number[] | undefined;
  if (o && o.rows === m.rows) output = Array.from(rowMean(o, picked).mean);
  else if (v && k === 'weights' && v.rows === m.cols) output = weightedSum(mean, v);
  let valuesNonNegative = false;
  if (v) {
    valuesNonNegative = true;
    for (let i = 0; i < v.data.length; i++) if (!(v.data[i] >= 0)) { valuesNonNegative = false; break; }
  }
  return { rows: picked, kind: k, sum, mean, output, valuesNonNegative };
}

/** Rows i…j inclusive in either order (a dragged span). */
export function spanRows(a: number, b: number): number[] {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

/** The selection with row i added, or removed when it was in (Ctrl/Cmd-click). */
export function toggleRow(rows: readonly number[], i: number): number[] {
  return rows.includes(i) ? rows.filter((r) => r !== i) : [...rows, i].sort((a, b) => a - b);
}

/** The k largest entries of a row as [index, value], largest first (ties by index), non-finite skipped. */
export function topEntries(v: ArrayLike<number>, k: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!Number.isFinite(x)) continue;
    if (out.length < k || x > out[out.length - 1][1]) {
      out.push([i, x]);
      out.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      if (out.length > k) out.pop();
    }
  }
  return out;
}

/** The largest finite magnitude of a row: tints are value / this, in [−1, 1]. */
export function tintScale(v: ArrayLike<number>): number {
  let peak = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]);
    if (Number.isFinite(a) && a > peak) peak = a;
  }
  return peak;
}
