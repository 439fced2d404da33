/**
 * The heatmap's view-model types, shared by the host (which builds them) and the webview (which draws them).
 * Kept free of any other import so the webview bundle can use them without pulling in file readers or the engine.
 */

/**
 * What a matrix shows. `data` is a plain array file; `difference` is A − B from diffModels; `headMean`,
 * `headMax` and `rollout` are aggregates over the heads (of the selected layer) or the layers of a dump.
 */
export type ViewKind = 'weights' | 'scores' | 'scaled' | 'output' | 'contributions' | 'data' | 'difference'
  | 'headMean' | 'headMax' | 'rollout';

export const VIEW_KINDS: readonly ViewKind[] = [
  'weights', 'scores', 'scaled', 'output', 'contributions', 'data', 'difference', 'headMean', 'headMax', 'rollout',
];

/** Maps made from several heads or layers: read on their own, not beside one head's scores and weights. */
export function isAggregateKind(kind: ViewKind): boolean {
  return kind === 'headMean' || kind === 'headMax' || kind === 'rollout';
}

/**
 * Kinds laid out as queries × value dimensions (`output`): their columns are named by the value labels, every
 * other kind's by the key labels. The one place that says so (axes, tooltip, CSV, difference maps).
 */
export function usesValueLabels(kind: ViewKind): boolean {
  return kind === 'output';
}

/** The labels along the column axis of `kind`: keyLabels for query × key kinds, valueLabels for the output. */
export function columnLabels<T>(labels: { keyLabels?: T; valueLabels?: T }, kind: ViewKind): T | undefined {
  return usesValueLabels(kind) ? labels.valueLabels : labels.keyLabels;
}

/** A dense row-major matrix. `data.length === rows * cols`. */
export interface Matrix2D {
  rows: number;
  cols: number;
  data: Float32Array;
}

export interface HeatmapGrid {
  layers: number;
  heads: number;
  /** Side of one small multiple, in cells. */
  cellSize: number;
  /** layers × heads × cellSize², each head max-pooled to cellSize × cellSize. */
  cells: Float32Array;
  /**
   * Aggregates drawn as extra cells after the heads: head mean, head max, rollout (each cellSize²). `kind` names
   * the model's full-resolution matrix of the same map, when it has one (then the cell opens it).
   */
  extras?: { name: string; data: Float32Array; kind?: ViewKind }[];
}

export interface HeatmapModel {
  title: string;
  /** e.g. "layer 2 · head 5", "dot · scale 1/√3". */
  subtitle?: string;
  kinds: Partial<Record<ViewKind, Matrix2D>>;
  defaultKind: ViewKind;
  queryLabels?: string[];
  keyLabels?: string[];
  valueLabels?: string[];
  /** V [nk, dv]: for contributions and the pinned-row output line. */
  values?: Matrix2D;
  grid?: HeatmapGrid;
  /** `extra`: the index on each picker axis (batch, sample…) of a dump, in file order. */
  selection?: { layer: number; head: number; extra?: number[] };
  /** A dump's axes before layers × heads (batch, sample…), one picker each, with the index shown now. */
  pickers?: AxisPicker[];
  /** A dump's axis names, one per file axis (what Set Axes… starts from). */
  axisNames?: string[];
  info: { file?: string; shape?: number[]; dtype?: string };
  warnings: string[];
}

/** One extra axis of a dump the panel picks an index on. */
export interface AxisPicker {
  name: string;
  size: number;
  index: number;
}

/** Kinds whose values are signed around a meaningful zero and so use the diverging colour map. */
export function isDivergingKind(kind: ViewKind): boolean {
  return kind === 'scores' || kind === 'scaled' || kind === 'difference';
}
