/**
 * What the tooltip and the pinned-row panel say about a cell or a row. Pure, so the host (for large maps,
 * from full-resolution data) and the webview (for small maps it holds whole) compute the same text.
 */
import { isAggregateKind, usesValueLabels, type HeatmapModel, type Matrix2D, type ViewKind } from './types';
import { labelOf } from './labels';

/** The parts of a model that details are computed from. */
export type InspectSource = Pick<HeatmapModel, 'kinds' | 'values' | 'queryLabels' | 'keyLabels' | 'valueLabels'>;

export interface CellDetails {
  kind: ViewKind;
  row: number;
  col: number;
  rowLabel: string;
  colLabel: string;
  /** Value of the kind on screen. */
  value: number;
  score?: number;
  scaled?: number;
  weight?: number;
  /** 1-based rank of this key's weight in its row (ties share the better rank), and the row length. */
  rank?: number;
  of?: number;
  /** w_ij · v_j, one entry per value dimension. */
  contribution?: number[];
  /** A difference's two sides at this cell, when known (a difference computed on demand): value = A − B. */
  a?: number;
  b?: number;
}

export interface RowDetails {
  row: number;
  rowLabel: string;
  /** Weights of this query row (or the current kind's row when there are no weights). */
  weights: Float32Array;
  /** Which kind `weights` came from. */
  kind: ViewKind;
  /** Output vector O_i = Σ_j w_ij v_j, when values are known. */
  output?: number[];
  /** Whether every value entry is ≥ 0 (one-hot values → output shown as shares). */
  valuesNonNegative: boolean;
}

/** Kinds laid out as queries × keys: all but those that use value labels (src/shared/types.ts). */
export function isQueryKeyKind(kind: ViewKind): boolean {
  return !usesValueLabels(kind);
}

function at(m: Matrix2D | undefined, r: number, c: number): number | undefined {
  if (!m || r >= m.rows || c >= m.cols) return undefined;
  return m.cell ? m.cell(r, c) : m.data[r * m.cols + c];
}

/** 1-based rank of row[c] among row (descending), ties sharing the better rank. */
export function rankInRow(row: ArrayLike<number>, c: number): number {
  const w = row[c];
  let rank = 1;
  for (let j = 0; j < row.length; j++) if (row[j] > w) rank++;
  return rank;
}

export function cellDetails(src: InspectSource, kind: ViewKind, row: number, col: number): CellDetails | undefined {
  const m = src.kinds[kind];
  if (!m || row < 0 || col < 0 || row >= m.rows || col >= m.cols) return undefined;
  const value = at(m, row, col) as number;
  if (!isQueryKeyKind(kind)) {
    return { kind, row, col, rowLabel: labelOf(src.queryLabels, row), colLabel: labelOf(src.valueLabels, col), value };
  }
  if (isAggregateKind(kind)) {
    // A head mean or rollout is read on its own: its value and rank in its row, not the selected head's weight.
    return {
      kind, row, col, value, rowLabel: labelOf(src.queryLabels, row), colLabel: labelOf(src.keyLabels, col),
      rank: rankInRow(m.data.subarray(row * m.cols, (row + 1) * m.cols), col), of: m.cols,
    };
  }
  const d: CellDetails = {
    kind, row, col, value,
    rowLabel: labelOf(src.queryLabels, row),
    colLabel: labelOf(src.keyLabels, col),
    score: at(src.kinds.scores, row, col),
    scaled: at(src.kinds.scaled, row, col),
    weight: at(src.kinds.weights, row, col),
  };
  const ranked = src.kinds.weights ?? m;
  if (row < ranked.rows && col < ranked.cols) {
    d.rank = rankInRow(ranked.data.subarray(row * ranked.cols, (row + 1) * ranked.cols), col);
    d.of = ranked.cols;
  }
  const v = src.values;
  if (v && d.weight !== undefined && col < v.rows) {
    const w = d.weight;
    d.contribution = Array.from(v.data.subarray(col * v.cols, (col + 1) * v.cols), (x) => w * x);
  }
  return d;
}

export function rowDetails(src: InspectSource, kind: ViewKind, row: number): RowDetails | undefined {
  const rowKind: ViewKind | undefined = isAggregateKind(kind) && src.kinds[kind] ? kind
    : src.kinds.weights ? 'weights' : isQueryKeyKind(kind) && src.kinds[kind] ? kind : undefined;
  const m = rowKind ? src.kinds[rowKind] : undefined;
  if (!m || !rowKind || row < 0 || row >= m.rows) return undefined;
  const weights = m.data.slice(row * m.cols, (row + 1) * m.cols);
  const v = src.values;
  let output: number[] | undefined;
  const o = src.kinds.output;
  if (o && row < o.rows) output = Array.from(o.data.subarray(row * o.cols, (row + 1) * o.cols));
  else if (v && rowKind === 'weights' && v.rows === m.cols) output = weightedSum(weights, v);
  let valuesNonNegative = false;
  if (v) {
    valuesNonNegative = true;
    for (let i = 0; i < v.data.length; i++) if (!(v.data[i] >= 0)) { valuesNonNegative = false; break; }
  }
  return { row, rowLabel: labelOf(src.queryLabels, row), weights, kind: rowKind, output, valuesNonNegative };
}

/** Σ_j w_j v_j in float64. */
export function weightedSum(w: ArrayLike<number>, v: Matrix2D): number[] {
  const out = new Float64Array(v.cols);
  for (let j = 0; j < v.rows; j++) {
    const wj = w[j];
    if (!wj) continue;
    for (let d = 0; d < v.cols; d++) out[d] += wj * v.data[j * v.cols + d];
  }
  return Array.from(out);
}

/** Per-row max and (for weights) Shannon entropy in bits: the thin strip beside the map. */
export function rowStats(m: Matrix2D, entropy: boolean): { max: Float32Array; entropy?: Float32Array } {
  const max = new Float32Array(m.rows);
  const ent = entropy ? new Float32Array(m.rows) : undefined;
  for (let r = 0; r < m.rows; r++) {
    let mx = -Infinity;
    let h = 0;
    const base = r * m.cols;
    for (let c = 0; c < m.cols; c++) {
      const v = m.data[base + c];
      if (v > mx) mx = v;
      if (ent && v > 0) h -= v * Math.log(v);
    }
    max[r] = mx;
    if (ent) ent[r] = h / Math.LN2;
  }
  return { max, entropy: ent };
}
