/**
 * The heatmap model of a decoded notebook payload: what the panel's webview draws, built in the renderer itself
 * (a notebook output has no extension host to build it). Maps larger than MAX_FULL_SIDE are max-pooled with a note.
 */
import { MAX_FULL_SIDE, type NotebookPayload } from './notebookPayload';
import { hasNegative, maxPool, poolingNote, poolToSize } from './pool';
import { clampSelection, type HeadSelection } from './selection';
import type { HeatmapGrid, HeatmapModel, Matrix2D, ViewKind } from './types';

export interface NotebookView {
  model: HeatmapModel;
  /** Set when the map is drawn max-pooled: "2048×2048 shown as 1024×1024, max of 2×2 blocks; …". */
  poolingNote?: string;
}

export interface NotebookViewOptions {
  /** Longest side drawn at full resolution (default MAX_FULL_SIDE). */
  maxSide?: number;
  /** Side of one small multiple in the layers × heads grid (default 32, as the panel's). */
  cellSize?: number;
}

function mean(stack: Matrix2D[]): Matrix2D {
  const { rows, cols } = stack[0];
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (const m of stack) s += m.data[i];
    out[i] = s / stack.length;
  }
  return { rows, cols, data: out };
}

function max(stack: Matrix2D[]): Matrix2D {
  const { rows, cols } = stack[0];
  const out = new Float32Array(rows * cols).fill(-Infinity);
  for (let i = 0; i < out.length; i++) for (const m of stack) if (m.data[i] > out[i]) out[i] = m.data[i];
  return { rows, cols, data: out };
}

/** The selected head as a HeatmapModel: its weights (and scores, output and V when computed from Q/K/V), and a grid of all heads. */
export function notebookView(p: NotebookPayload, selection?: HeadSelection, opts: NotebookViewOptions = {}): NotebookView {
  const maxSide = opts.maxSide ?? MAX_FULL_SIDE;
  const sel = clampSelection(selection, p.layers, p.heads);
  const { rows, cols } = p;
  const cells = rows * cols;
  const headAt = (all: Float32Array, l: number, h: number): Matrix2D => {
    const off = (l * p.heads + h) * cells;
    return { rows, cols, data: all.subarray(off, off + cells) };
  };
  const pooled = rows > maxSide || cols > maxSide;
  const signedAll = hasNegative(p.weights);
  // Pooled maps keep their peaks (max of each block); the labels no longer match the blocks and are dropped.
  const shown = (m: Matrix2D, signed = hasNegative(m.data)): Matrix2D => {
    if (!pooled) return m;
    const q = maxPool(m, maxSide, signed);
    return { rows: q.rows, cols: q.cols, data: q.data };
  };
  const weights = headAt(p.weights, sel.layer, sel.head);
  let note: string | undefined;
  if (pooled) {
    const q = maxPool(weights, maxSide, signedAll);
    note = `${poolingNote(q, signedAll)} (maps with a side over ${maxSide} are pooled in notebooks)`;
  }
  // Weights are non-negative; anything else the payload calls weights is shown as plain data on the diverging map.
  const kind: ViewKind = p.computed || !signedAll ? 'weights' : 'data';
  const kinds: Partial<Record<ViewKind, Matrix2D>> = { [kind]: shown(weights, signedAll) };
  let values: Matrix2D | undefined;
  if (p.computed) {
    if (p.scores) kinds.scores = shown(headAt(p.scores, 0, sel.head));
    if (p.scaled) kinds.scaled = shown(headAt(p.scaled, 0, sel.head));
    if (p.values && p.outputs && !pooled) {
      const dv = p.valueDim;
      values = { rows: cols, cols: dv, data: p.values.subarray(sel.head * cols * dv, (sel.head + 1) * cols * dv) };
      kinds.output = { rows, cols: dv, data: p.outputs.subarray(sel.head * rows * dv, (sel.head + 1) * rows * dv) };
    }
  }
  let grid: HeatmapGrid | undefined;
  if (p.layers * p.heads > 1) {
    const side = Math.max(1, Math.min(opts.cellSize ?? 32, Math.max(rows, cols)));
    const gridCells = new Float32Array(p.layers * p.heads * side * side);
    for (let l = 0; l < p.layers; l++) {
      for (let h = 0; h < p.heads; h++) {
        const m = headAt(p.weights, l, h);
        gridCells.set(poolToSize(m, side, side, signedAll), (l * p.heads + h) * side * side);
      }
    }
    grid = { layers: p.layers, heads: p.heads, cellSize: side, cells: gridCells };
    if (p.heads > 1) {
      const layer = Array.from({ length: p.heads }, (_, h) => headAt(p.weights, sel.layer, h));
      const prefix = p.layers > 1 ? `${p.axes[0]} ${sel.layer} ` : '';
      const aggregates: { name: string; kind: ViewKind; map: Matrix2D }[] = [
        { name: `${prefix}head mean`, kind: 'headMean', map: mean(layer) },
        { name: `${prefix}head max`, kind: 'headMax', map: max(layer) },
      ];
      grid.extras = aggregates.map(({ name, kind: k, map }) => {
        kinds[k] = shown(map, signedAll);
        return { name, data: poolToSize(map, side, side, signedAll), kind: k };
      });
    }
  }
  const where = [
    p.layers > 1 ? `${p.axes[0]} ${sel.layer}` : undefined,
    p.heads > 1 ? `${p.axes[1]} ${sel.head}` : undefined,
    p.computed ? 'softmax(QKᵀ/√d)' : undefined,
  ].filter(Boolean).join(' · ');
  const warnings = [...p.warnings];
  if (pooled && (p.queryLabels || p.keyLabels)) warnings.push('tokens are not shown on a pooled map');
  const model: HeatmapModel = {
    title: p.title,
    subtitle: where || undefined,
    kinds,
    defaultKind: kind,
    queryLabels: pooled ? undefined : p.queryLabels,
    keyLabels: pooled ? undefined : p.keyLabels,
    valueLabels: values ? p.valueLabels : undefined,
    values,
    grid,
    selection: grid ? sel : undefined,
    info: { shape: [...p.shape], dtype: p.dtype },
    warnings,
  };
  return { model, poolingNote: note };
}
