/**
 * Builds the HeatmapModel (what to draw) from a computed attention result, a plain array, or a lazily read
 * [L, H, n, n] dump. Pure and host-side: the full-resolution matrices stay in the host; the webview gets
 * overviews and tiles of them (see heatmapView.ts).
 */
import type { AttentionResult } from '../attention';
import { MatrixError, product, toFloat32 } from '../ndarray';
import type { DType, NdArray } from '../ndarray';
import { headMax, headMean, rollout } from '../stats';
import { describeScale } from '../../shared/format';
import { hasNegative, poolToSize } from '../../shared/pool';
import type { HeatmapGrid, HeatmapModel, Matrix2D, ViewKind } from '../../shared/types';

export type { HeatmapModel, Matrix2D, ViewKind, HeatmapGrid } from '../../shared/types';

/**
 * The parts of an AttentionSpec (src/core/jsonMatrix.ts) this module reads. Declared structurally so the real
 * AttentionSpec is accepted as is and this file does not depend on the JSON loader.
 */
export interface SpecForView {
  file: string;
  description?: string;
  similarity?: string;
  queryLabels?: string[];
  keyLabels?: string[];
  valueLabels?: string[];
  weights?: NdArray;
  matrix?: NdArray;
}

/** The parts of a MatrixHandle (src/core/matrixFile.ts) a dump needs: its shape and lazy reads of one head. */
export interface DumpHandle {
  readonly ref: string;
  readonly info: { shape: number[]; dtype: DType };
  read(index?: number[]): Promise<NdArray>;
}

export type Selection = { layer: number; head: number };

/** Rollout multiplies L matrices of n×n: above this many multiply-adds it is left out rather than stall the host. */
const ROLLOUT_BUDGET = 2e8;

function matrix(rows: number, cols: number, data: Float32Array): Matrix2D {
  return { rows, cols, data };
}

/** Keep labels only when they match the axis; otherwise say why they were dropped. */
function checkLabels(labels: string[] | undefined, n: number, what: string, warnings: string[]): string[] | undefined {
  if (!labels) return undefined;
  if (labels.length !== n) {
    warnings.push(`${what} has ${labels.length} entries but the axis has ${n}; labels not shown`);
    return undefined;
  }
  return labels.map((l) => String(l));
}

/** A row-stochastic non-negative matrix reads as attention weights (percentages, entropy strip). */
export function looksLikeWeights(m: Matrix2D): boolean {
  if (m.cols === 0) return false;
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    for (let c = 0; c < m.cols; c++) {
      const v = m.data[r * m.cols + c];
      if (!(v >= 0 && v <= 1)) return false;
      s += v;
    }
    if (Math.abs(s - 1) > 1e-3) return false;
  }
  return true;
}

/**
 * Contributions w_ij·v_j as a queries × keys map: w_ij·v_j itself for scalar values, else w_ij·‖v_j‖ (how much of
 * the output's size key j supplies; the tooltip shows the full vector w_ij·v_j).
 */
export function contributionMap(weights: Matrix2D, values: Matrix2D): Matrix2D {
  const out = new Float32Array(weights.rows * weights.cols);
  const scale = new Float64Array(values.rows);
  for (let j = 0; j < values.rows; j++) {
    if (values.cols === 1) scale[j] = values.data[j];
    else {
      let s = 0;
      for (let d = 0; d < values.cols; d++) s += values.data[j * values.cols + d] ** 2;
      scale[j] = Math.sqrt(s);
    }
  }
  for (let i = 0; i < weights.rows; i++) {
    for (let j = 0; j < weights.cols; j++) out[i * weights.cols + j] = weights.data[i * weights.cols + j] * scale[j];
  }
  return matrix(weights.rows, weights.cols, out);
}

/** Does the model have this kind? Without reading it: some kinds (contributions) are made on first read. */
export function hasKind(model: Pick<HeatmapModel, 'kinds'>, kind: ViewKind): boolean {
  const d = Object.getOwnPropertyDescriptor(model.kinds, kind);
  return d !== undefined && (d.get !== undefined || d.value !== undefined);
}

/**
 * Head mean, head max and rollout are kept at full resolution, as view kinds the grid's extra cells open, up to
 * this many cells each (a 1024 × 1024 map, 4 MiB); larger ones are only drawn pooled in the grid.
 */
export const AGGREGATE_FULL_CELLS = 1 << 20;

/** The grid's extra cells for these aggregates; small enough ones also become kinds of the model (opened by a click). */
function aggregateExtras(
  aggregates: { name: string; kind: ViewKind; map: Matrix2D }[], kinds: Partial<Record<ViewKind, Matrix2D>>, side: number,
): { name: string; data: Float32Array; kind?: ViewKind }[] {
  return aggregates.map(({ name, kind, map }) => {
    const data = poolToSize(map, side, side);
    if (map.rows * map.cols > AGGREGATE_FULL_CELLS) return { name, data };
    kinds[kind] = map;
    return { name, data, kind };
  });
}

/**
 * A computed attention (one or more heads) or a precomputed weights map from a spec. Multi-head results show the
 * selected head (default 0) with a grid of all heads plus head mean and max.
 */
export function buildModelFromSpec(
  spec: SpecForView, result: AttentionResult | undefined, title: string, selection?: Selection,
): HeatmapModel {
  const warnings: string[] = [];
  if (!result) {
    const a = spec.weights ?? spec.matrix;
    if (!a) throw new MatrixError('nothing to show: no Q/K to compute from and no weights or matrix', spec.file);
    const base = spec.weights ? weightsModel(a, title, selection) : buildModelFromArray(a, title);
    const nq = base.kinds[base.defaultKind]?.rows ?? 0;
    const nk = base.kinds[base.defaultKind]?.cols ?? 0;
    return {
      ...base,
      queryLabels: checkLabels(spec.queryLabels, nq, 'queryLabels', base.warnings),
      keyLabels: checkLabels(spec.keyLabels, nk, 'keyLabels', base.warnings),
      info: { file: spec.file, shape: [...a.shape], dtype: a.dtype },
    };
  }
  const { heads, nq, nk } = result;
  const head = selection ? Math.min(Math.max(0, selection.head), heads - 1) : 0;
  const cells = nq * nk;
  // Views of the result's arrays, not copies: nothing writes to a model's matrices, and a copy of a 4096² head
  // costs the host ~25 ms of page faults and copying per kind.
  const part = (all: Float32Array) => matrix(nq, nk, all.subarray(head * cells, (head + 1) * cells));
  const kinds: Partial<Record<ViewKind, Matrix2D>> = {
    weights: part(result.weights),
    scores: part(result.scores),
    scaled: part(result.scaled),
  };
  let values: Matrix2D | undefined;
  const vd = result.valueDim;
  if (vd > 0 && result.values.length >= heads * nk * vd) {
    values = matrix(nk, vd, result.values.slice(head * nk * vd, (head + 1) * nk * vd));
  } else if (vd > 0 && result.values.length === nk * vd) {
    values = matrix(nk, vd, result.values.slice());
  }
  if (heads === 1) {
    kinds.output = matrix(nq, result.outputDim, result.output.slice(0, nq * result.outputDim));
  } else {
    const dv = result.dv;
    kinds.output = matrix(nq, dv, result.headOutputs.slice(head * nq * dv, (head + 1) * nq * dv));
  }
  if (values) {
    // n_q × n_k more values that most sessions never look at: made when first asked for (the view toggle).
    const weights = kinds.weights as Matrix2D;
    const v = values;
    let contributions: Matrix2D | undefined;
    Object.defineProperty(kinds, 'contributions', {
      enumerable: true, configurable: true,
      get: () => (contributions ??= contributionMap(weights, v)),
    });
  }
  const valueLabels = values ? checkLabels(spec.valueLabels, kinds.output.cols, 'valueLabels', warnings) : undefined;
  const subtitle = [
    heads > 1 ? `head ${head} of ${heads}` : undefined,
    `${spec.similarity ?? 'dot'} · scale ${describeScale(result.scaleFactor)}`,
  ].filter(Boolean).join(' · ');
  let grid: HeatmapGrid | undefined;
  if (heads > 1) {
    grid = gridFrom(1, heads, nq, nk, (_l, h) => matrix(nq, nk, result.weights.subarray(h * cells, (h + 1) * cells)), 32);
    grid.extras = aggregateExtras([
      { name: 'head mean', kind: 'headMean', map: matrix(nq, nk, headMean(result.weights, heads, cells)) },
      { name: 'head max', kind: 'headMax', map: matrix(nq, nk, headMax(result.weights, heads, cells)) },
    ], kinds, grid.cellSize);
  }
  return {
    title, subtitle, kinds, defaultKind: 'weights',
    queryLabels: checkLabels(spec.queryLabels, nq, 'queryLabels', warnings),
    keyLabels: checkLabels(spec.keyLabels, nk, 'keyLabels', warnings),
    valueLabels, values, grid,
    selection: heads > 1 ? { layer: 0, head } : undefined,
    info: { file: spec.file, shape: heads > 1 ? [heads, nq, nk] : [nq, nk], dtype: 'float32' },
    warnings: [...result.warnings, ...warnings],
  };
}

/** Precomputed weights of any rank: 2-D shown directly, [H, n, m] / [L, H, n, m] as a grid. */
function weightsModel(a: NdArray, title: string, selection?: Selection): HeatmapModel {
  const m = buildModelFromArray(a, title, selection);
  const shown = m.kinds.data ?? m.kinds.weights;
  if (!shown) return m;
  const { data: _data, ...rest } = m.kinds;
  return { ...m, kinds: { ...rest, weights: shown }, defaultKind: 'weights' };
}

/** Leading [layers, heads] of a 3-D or 4-D shape. */
function layersHeads(shape: readonly number[]): { layers: number; heads: number } {
  return shape.length === 4 ? { layers: shape[0], heads: shape[1] } : { layers: 1, heads: shape[0] };
}

function clampSel(sel: Selection | undefined, layers: number, heads: number): Selection {
  return {
    layer: Math.min(Math.max(0, Math.floor(sel?.layer ?? 0)), layers - 1),
    head: Math.min(Math.max(0, Math.floor(sel?.head ?? 0)), heads - 1),
  };
}

/**
 * A plain array: 0-D/1-D as one row, 2-D directly (as `weights` when its rows are probability distributions,
 * else `data`), [H, n, m] and [L, H, n, m] as the selected head plus a grid of all heads.
 */
export function buildModelFromArray(a: NdArray, title: string, selection?: Selection): HeatmapModel {
  const shape = a.shape;
  const info = { shape: [...shape], dtype: a.dtype };
  if (shape.length > 4) {
    throw new MatrixError(`cannot show a ${shape.length}-D array (${shape.join('×')}); expected up to [layers, heads, n, n]`);
  }
  if (product(shape) === 0) throw new MatrixError(`the array is empty (${shape.join('×')})`);
  const f32 = toFloat32(a);
  const data = f32 === a.data ? f32.slice() : f32;
  if (shape.length <= 2) {
    const rows = shape.length === 2 ? shape[0] : 1;
    const cols = shape.length === 0 ? 1 : shape[shape.length - 1];
    const m = matrix(rows, cols, data);
    const kind: ViewKind = looksLikeWeights(m) ? 'weights' : 'data';
    return { title, kinds: { [kind]: m }, defaultKind: kind, info, warnings: nonFiniteWarning(data) };
  }
  const { layers, heads } = layersHeads(shape);
  const n = shape[shape.length - 2];
  const k = shape[shape.length - 1];
  const cells = n * k;
  const sel = clampSel(selection, layers, heads);
  const get = (l: number, h: number) => matrix(n, k, data.subarray((l * heads + h) * cells, (l * heads + h + 1) * cells));
  const grid = gridFrom(layers, heads, n, k, get, 32);
  const shown = get(sel.layer, sel.head);
  const m = matrix(n, k, shown.data.slice());
  const kind: ViewKind = looksLikeWeights(m) ? 'weights' : 'data';
  const kinds: Partial<Record<ViewKind, Matrix2D>> = { [kind]: m };
  grid.extras = aggregateExtras(aggregatesOf(layers, heads, n, k, (l, h) => get(l, h).data, sel.layer), kinds, grid.cellSize);
  return {
    title,
    subtitle: layers > 1 ? `layer ${sel.layer} · head ${sel.head}` : `head ${sel.head}`,
    kinds, defaultKind: kind, grid, selection: sel, info,
    warnings: nonFiniteWarning(data),
  };
}

function nonFiniteWarning(data: Float32Array): string[] {
  let bad = 0;
  for (let i = 0; i < data.length; i++) if (data[i] - data[i] !== 0 && data[i] !== -Infinity) bad++;
  return bad ? [`${bad} cell${bad === 1 ? ' is' : 's are'} NaN or +∞`] : [];
}

/** Small multiples: every (layer, head) max-pooled to one shared cell size. */
function gridFrom(layers: number, heads: number, n: number, k: number, get: (l: number, h: number) => Matrix2D, cellSize: number): HeatmapGrid {
  const side = Math.max(1, Math.min(cellSize, Math.max(n, k)));
  const cells = new Float32Array(layers * heads * side * side);
  for (let l = 0; l < layers; l++) {
    for (let h = 0; h < heads; h++) {
      const m = get(l, h);
      cells.set(poolToSize(m, side, side, hasNegative(m.data)), (l * heads + h) * side * side);
    }
  }
  return { layers, heads, cellSize: side, cells };
}

/** Head mean and max of the selected layer, and rollout across layers when square and affordable. */
function aggregatesOf(
  layers: number, heads: number, n: number, k: number, get: (l: number, h: number) => Float32Array, layer: number,
): { name: string; kind: ViewKind; map: Matrix2D }[] {
  const cells = n * k;
  const stack = new Float32Array(heads * cells);
  for (let h = 0; h < heads; h++) stack.set(get(layer, h), h * cells);
  const prefix = layers > 1 ? `layer ${layer} ` : '';
  const aggregates: { name: string; kind: ViewKind; map: Matrix2D }[] = [
    { name: `${prefix}head mean`, kind: 'headMean', map: matrix(n, k, headMean(stack, heads, cells)) },
    { name: `${prefix}head max`, kind: 'headMax', map: matrix(n, k, headMax(stack, heads, cells)) },
  ];
  if (layers > 1 && n === k && layers * n * n * n <= ROLLOUT_BUDGET) {
    const means = new Float32Array(layers * cells);
    for (let l = 0; l < layers; l++) {
      const s = new Float32Array(heads * cells);
      for (let h = 0; h < heads; h++) s.set(get(l, h), h * cells);
      means.set(headMean(s, heads, cells), l * cells);
    }
    aggregates.push({ name: 'rollout', kind: 'rollout', map: matrix(n, n, rollout(means, layers, 1, n)) });
  }
  return aggregates;
}

/**
 * A [L, H, n, n] or [H, n, n] file read one head at a time (the whole dump may not fit in memory): the grid of all
 * heads max-pooled to `cellSize`, the selected head at full resolution, and head mean/max (and rollout) extras.
 */
export async function buildModelFromDump(h: DumpHandle, sel: Selection | undefined, opts: { cellSize: number }): Promise<HeatmapModel> {
  const shape = h.info.shape;
  if (shape.length !== 3 && shape.length !== 4) {
    throw new MatrixError(`expected a [layers, heads, n, n] or [heads, n, n] array, got shape ${shape.join('×')}`, h.ref);
  }
  const { layers, heads } = layersHeads(shape);
  const n = shape[shape.length - 2];
  const k = shape[shape.length - 1];
  if (layers * heads * n * k === 0) throw new MatrixError(`the array is empty (${shape.join('×')})`, h.ref);
  const s = clampSel(sel, layers, heads);
  const index = (l: number, hd: number) => (shape.length === 4 ? [l, hd] : [hd]);
  const side = Math.max(1, Math.min(Math.floor(opts.cellSize) || 32, Math.max(n, k)));
  const cells = new Float32Array(layers * heads * side * side);
  const meanAcc = new Float64Array(n * k);
  const maxAcc = new Float32Array(n * k).fill(-Infinity);
  const wantRollout = layers > 1 && n === k && layers * n * n * n <= ROLLOUT_BUDGET;
  const layerMeans = wantRollout ? new Float32Array(layers * n * k) : undefined;
  let shown: Matrix2D | undefined;
  let bad = 0;
  for (let l = 0; l < layers; l++) {
    const layerAcc = layerMeans ? new Float64Array(n * k) : undefined;
    for (let hd = 0; hd < heads; hd++) {
      const a = await h.read(index(l, hd));
      const data = toFloat32(a);
      const m = matrix(n, k, data);
      cells.set(poolToSize(m, side, side), (l * heads + hd) * side * side);
      for (let i = 0; i < data.length; i++) if (data[i] - data[i] !== 0 && data[i] !== -Infinity) bad++;
      if (l === s.layer) {
        for (let i = 0; i < data.length; i++) {
          meanAcc[i] += data[i];
          if (data[i] > maxAcc[i]) maxAcc[i] = data[i];
        }
        if (hd === s.head) shown = matrix(n, k, data === a.data ? data.slice() : data);
      }
      if (layerAcc) for (let i = 0; i < data.length; i++) layerAcc[i] += data[i];
    }
    if (layerMeans && layerAcc) for (let i = 0; i < layerAcc.length; i++) layerMeans[l * n * k + i] = layerAcc[i] / heads;
  }
  const mean = new Float32Array(n * k);
  for (let i = 0; i < mean.length; i++) mean[i] = meanAcc[i] / heads;
  const prefix = layers > 1 ? `layer ${s.layer} ` : '';
  const m = shown as Matrix2D;
  const kind: ViewKind = looksLikeWeights(m) ? 'weights' : 'data';
  const kinds: Partial<Record<ViewKind, Matrix2D>> = { [kind]: m };
  const aggregates: { name: string; kind: ViewKind; map: Matrix2D }[] = [
    { name: `${prefix}head mean`, kind: 'headMean', map: matrix(n, k, mean) },
    { name: `${prefix}head max`, kind: 'headMax', map: matrix(n, k, maxAcc) },
  ];
  if (layerMeans) aggregates.push({ name: 'rollout', kind: 'rollout', map: matrix(n, n, rollout(layerMeans, layers, 1, n)) });
  const extras = aggregateExtras(aggregates, kinds, side);
  const file = h.ref.split(/[\\/]/).pop() ?? h.ref;
  return {
    title: file,
    subtitle: layers > 1 ? `layer ${s.layer} · head ${s.head}` : `head ${s.head}`,
    kinds, defaultKind: kind,
    grid: { layers, heads, cellSize: side, cells, extras },
    selection: s,
    info: { file: h.ref, shape: [...shape], dtype: h.info.dtype },
    warnings: bad ? [`${bad} cell${bad === 1 ? ' is' : 's are'} NaN or +∞`] : [],
  };
}

/**
 * A − B of one kind on the diverging map. Both must have that kind at the same size; A's labels are kept when
 * B's agree (or B has none).
 */
export function diffModels(a: HeatmapModel, b: HeatmapModel, kind: ViewKind): HeatmapModel {
  const ma = a.kinds[kind];
  const mb = b.kinds[kind];
  if (!ma || !mb) {
    const missing = !ma ? a.title : b.title;
    throw new MatrixError(`cannot compare: ${missing} has no ${kind}`);
  }
  if (ma.rows !== mb.rows || ma.cols !== mb.cols) {
    throw new MatrixError(`cannot compare: ${a.title} is ${ma.rows}×${ma.cols} but ${b.title} is ${mb.rows}×${mb.cols}`);
  }
  const d = new Float32Array(ma.data.length);
  for (let i = 0; i < d.length; i++) {
    const x = ma.data[i];
    const y = mb.data[i];
    // Both masked: no difference rather than NaN (−∞ − −∞).
    d[i] = x === y ? 0 : x - y;
  }
  const same = (p?: string[], q?: string[]) => !q || (p && p.length === q.length && p.every((s, i) => s === q[i]));
  return {
    title: `${a.title} − ${b.title}`,
    subtitle: `${kind}: A − B`,
    kinds: { difference: matrix(ma.rows, ma.cols, d) },
    defaultKind: 'difference',
    queryLabels: same(a.queryLabels, b.queryLabels) ? a.queryLabels : undefined,
    keyLabels: same(a.keyLabels, b.keyLabels) ? (kind === 'output' ? a.valueLabels : a.keyLabels) : undefined,
    info: { shape: [ma.rows, ma.cols] },
    warnings: [...a.warnings.map((w) => `A: ${w}`), ...b.warnings.map((w) => `B: ${w}`)],
  };
}
