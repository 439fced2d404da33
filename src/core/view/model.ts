/**
 * Builds the HeatmapModel (what to draw) from a computed attention result, a plain array, or a lazily read
 * [L, H, n, n] dump. Pure and host-side: the full-resolution matrices stay in the host; the webview gets
 * overviews and tiles of them (see heatmapView.ts).
 */
import { clampSelection } from '../../shared/selection';
import type { AttentionResult } from '../attention';
import { MatrixError, product, toFloat32 } from '../ndarray';
import type { NdArray } from '../ndarray';
import { countNonFinite, rollout } from '../stats';
import { columnLabels } from '../../shared/types';
import { describeScale } from '../../shared/format';
import { poolToSize, spans } from '../../shared/pool';
import type { HeatmapGrid, HeatmapModel, Matrix2D, ViewKind } from '../../shared/types';
import { axisPickers, describeMap, dumpAxes, gridSize, mapIndex } from './dumpAxes';
import type { DumpAxes } from './dumpAxes';
import { poolHeadInto, poolScratch } from './gridPool';
import type { PoolScratch } from './gridPool';
import type { Spans } from '../../shared/pool';
import { prepareWireMatrix } from './overview';
import { aggregatesOnPool, getDumpPool, mapStart, poolGrid, POOL_DUMP_BYTES, poolSource } from './dumpOnPool';
import type { PoolAggregates } from './dumpOnPool';
import type { ComputePool } from '../compute/pool';
import type { FileLayout } from '../matrixFile';

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
  readonly info: { shape: number[]; dtype: string };
  read(index?: number[]): Promise<NdArray>;
  /** Where the elements lie in the file (a .npy or safetensors handle): then the worker pool reads big dumps. */
  layout?(): FileLayout | undefined;
  /** False when the file changed since the handle last read it. */
  unchanged?(): Promise<boolean>;
}

/** A layer and head of the grid; `extra`: the index on each picker axis of a dump (batch, sample), in file order. */
export type Selection = { layer: number; head: number; extra?: number[] };

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
  aggregates: { name: string; kind: ViewKind; map: Matrix2D; pooled?: Float32Array }[], kinds: Partial<Record<ViewKind, Matrix2D>>, side: number,
): { name: string; data: Float32Array; kind?: ViewKind }[] {
  return aggregates.map(({ name, kind, map, pooled }) => {
    // Pooled on the workers: the same poolToSize, copied out of shared memory (slice gives a plain buffer).
    const data = pooled ? pooled.slice() : poolToSize(map, side, side);
    if (map.rows * map.cols > AGGREGATE_FULL_CELLS) return { name, data };
    kinds[kind] = pooled ? matrix(map.rows, map.cols, map.data.slice()) : map;
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
  const kinds: Partial<Record<ViewKind, Matrix2D>> = { weights: part(result.weights) };
  const scoreAt = result.scoreAt;
  if (scoreAt) {
    // Score views on demand: the engine makes a view's n_q×n_k array when a view first reads it; a hover reads
    // single cells (one computed row at a time), so a panel that only shows weights holds one n×n array.
    for (const which of ['scores', 'scaled'] as const) {
      let data: Float32Array | undefined;
      kinds[which] = {
        rows: nq, cols: nk,
        get data() {
          return (data ??= result[which].subarray(head * cells, (head + 1) * cells));
        },
        cell: (r, c) => (data ? data[r * nk + c] : which === 'scores' ? scoreAt(head, r, c).score : scoreAt(head, r, c).scaled),
      };
    }
  } else {
    kinds.scores = part(result.scores);
    kinds.scaled = part(result.scaled);
  }
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
    // Grouped-query attention: which KV head this query head reads.
    result.kvHeads !== undefined && result.kvHeads < heads ? `KV head ${Math.floor((head * result.kvHeads) / heads)} of ${result.kvHeads}` : undefined,
    `${spec.similarity ?? 'dot'} · scale ${describeScale(result.scaleFactor)}`,
    result.kernel, // which kernel computed it (native (avx512), wasm (fma), …); absent for the exact reference
  ].filter(Boolean).join(' · ');
  let grid: HeatmapGrid | undefined;
  if (heads > 1) {
    const b = new GridBuilder(1, heads, nq, nk, 32, { layer: 0, head });
    for (let h = 0; h < heads; h++) b.add(0, h, result.weights.subarray(h * cells, (h + 1) * cells), true);
    grid = b.grid(kinds);
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

/**
 * A plain array: 0-D/1-D as one row, 2-D directly (as `weights` when its rows are probability distributions,
 * else `data`), [H, n, m] and [L, H, n, m] as the selected head plus a grid of all heads. `owned`: the caller
 * gives up `a` (a fresh read from a file), so the model may keep its data instead of a copy.
 */
export function buildModelFromArray(a: NdArray, title: string, selection?: Selection, opts: { owned?: boolean } = {}): HeatmapModel {
  const shape = a.shape;
  const info = { shape: [...shape], dtype: a.dtype };
  if (shape.length > 4) {
    throw new MatrixError(`cannot show a ${shape.length}-D array (${shape.join('×')}); expected up to [layers, heads, n, n]`);
  }
  if (product(shape) === 0) throw new MatrixError(`the array is empty (${shape.join('×')})`);
  const f32 = toFloat32(a);
  if (shape.length > 2) {
    // The grid builder reads views of each head; it copies only the head it keeps.
    const b = GridBuilder.forShape(shape, selection, 32);
    const cells = b.n * b.k;
    for (let l = 0; l < b.layers; l++) {
      for (let h = 0; h < b.heads; h++) b.add(l, h, f32.subarray((l * b.heads + h) * cells, (l * b.heads + h + 1) * cells), false);
    }
    return { ...b.model(), title, info };
  }
  // The model must own its data: unless given up, a.data may be the caller's (a spec's arrays, a reused buffer).
  const data = f32 === a.data && !opts.owned ? f32.slice() : f32;
  const rows = shape.length === 2 ? shape[0] : 1;
  const cols = shape.length === 0 ? 1 : shape[shape.length - 1];
  const m = matrix(rows, cols, data);
  const kind: ViewKind = looksLikeWeights(m) ? 'weights' : 'data';
  return { title, kinds: { [kind]: m }, defaultKind: kind, info, warnings: nonFiniteWarning(badCells(data)) };
}

/** NaN and +∞ cells (−∞ is a masked cell, not a problem). */
function badCells(data: Float32Array): number {
  const c = countNonFinite(data);
  return c.nan + c.posInf;
}

function nonFiniteWarning(bad: number): string[] {
  return bad ? [`${bad} cell${bad === 1 ? ' is' : 's are'} NaN or +∞`] : [];
}

/**
 * The one grid builder, fed one head at a time (in any order) by a dump read from disk, an in-memory stack or a
 * multi-head result: the small multiples (every head pooled to one cell size; signed heads by magnitude), the
 * selected head at full resolution, head mean and max of the selected layer, and the rollout across layers when
 * square and affordable, all accumulated on the way so no more than one head need be in memory.
 */
class GridBuilder {
  readonly side: number;
  readonly sel: Selection;
  readonly cells: Float32Array;
  private readonly meanAcc: Float64Array;
  private readonly maxAcc: Float32Array;
  private readonly layerAcc: Float64Array[] | undefined;
  readonly wantRollout: boolean;
  private shown: Float32Array | undefined;
  private shownKind: ViewKind | undefined;
  private shownMatrix: Matrix2D | undefined;
  private bad = 0;
  private added = 0;
  readonly filled: Uint8Array;
  /** The filled flags as syncPooled last read them: a model shows those heads, and its count says as many. */
  readonly synced: Uint8Array;
  /** NaN and +∞ count per grid cell, written by the workers (onPool only). */
  readonly badOf: Int32Array;
  private readonly rowSpans: Spans;
  private readonly colSpans: Spans;
  private readonly scratch: PoolScratch;
  /** Aggregates made on the worker pool (dumpOnPool.ts), each with its grid thumbnail. */
  private fromPool: PoolAggregates | undefined;

  /** `onPool`: the workers write the cells (shared memory) and make the aggregates; no accumulators here. */
  constructor(
    readonly layers: number, readonly heads: number, readonly n: number, readonly k: number, cellSize: number,
    sel: Selection | undefined, onPool = false,
  ) {
    this.sel = clampSelection(sel, layers, heads);
    this.side = Math.max(1, Math.min(Math.floor(cellSize) || 32, Math.max(n, k)));
    const cellCount = layers * heads * this.side * this.side;
    // Heads not read yet (a progressive load) stay NaN: drawn as empty cells.
    this.cells = (onPool ? new Float32Array(new SharedArrayBuffer(cellCount * 4)) : new Float32Array(cellCount)).fill(NaN);
    this.filled = onPool ? new Uint8Array(new SharedArrayBuffer(layers * heads)) : new Uint8Array(layers * heads);
    this.badOf = new Int32Array(onPool ? new SharedArrayBuffer(layers * heads * 4) : new ArrayBuffer(0));
    this.synced = new Uint8Array(onPool ? layers * heads : 0);
    this.rowSpans = spans(n, this.side);
    this.colSpans = spans(k, this.side);
    this.scratch = poolScratch(this.side);
    this.meanAcc = new Float64Array(onPool ? 0 : n * k);
    this.maxAcc = new Float32Array(onPool ? 0 : n * k).fill(-Infinity);
    this.wantRollout = layers > 1 && n === k && layers * n * n * n <= ROLLOUT_BUDGET;
    this.layerAcc = this.wantRollout && !onPool ? Array.from({ length: layers }, () => new Float64Array(n * k)) : undefined;
  }

  /** The selected head at full resolution (a read on the pool reads it here; the workers only pool it). */
  show(data: Float32Array, owned: boolean): void {
    this.shown = owned ? data : data.slice();
  }

  /** Counts the heads the workers have pooled so far (filled flags) and their NaN and +∞ cells. */
  syncPooled(): void {
    let added = 0;
    let bad = 0;
    for (let c = 0; c < this.filled.length; c++) {
      this.synced[c] = Atomics.load(this.filled, c);
      if (this.synced[c]) {
        added++;
        bad += this.badOf[c];
      }
    }
    this.added = added;
    this.bad = bad;
  }

  /** The workers' aggregates: complete from now on. */
  setPooled(aggregates: PoolAggregates): void {
    this.fromPool = aggregates;
  }

  /** For a [H, n, m] or [L, H, n, m] shape. */
  static forShape(shape: readonly number[], sel: Selection | undefined, cellSize: number): GridBuilder {
    const { layers, heads } = layersHeads(shape);
    return new GridBuilder(layers, heads, shape[shape.length - 2], shape[shape.length - 1], cellSize, sel);
  }

  /** One head's n × k values; `owned` says the builder may keep `data` itself rather than a copy. */
  add(l: number, h: number, data: Float32Array, owned: boolean): void {
    this.pool(l, h, data);
    this.accumulate(l, h, data, owned);
  }

  /** The head's grid cell (the first half of add: a progressive read yields between the halves). */
  pool(l: number, h: number, data: Float32Array): void {
    this.bad += poolHeadInto(data, this.k, this.rowSpans, this.colSpans, this.cells, (l * this.heads + h) * this.side * this.side, this.scratch);
    this.filled[l * this.heads + h] = 1;
  }

  /** The head's share of the aggregates (mean, max, rollout) and the shown head: the second half of add. */
  accumulate(l: number, h: number, data: Float32Array, owned: boolean): void {
    this.added++;
    if (l === this.sel.layer) {
      const mean = this.meanAcc;
      const max = this.maxAcc;
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        mean[i] += v;
        if (v > max[i]) max[i] = v;
      }
      if (h === this.sel.head) this.shown = owned ? data : data.slice();
    }
    const acc = this.layerAcc?.[l];
    if (acc) for (let i = 0; i < data.length; i++) acc[i] += data[i];
  }

  /** Every head added: the aggregates (mean, max, rollout) are whole. */
  get complete(): boolean {
    return this.added >= this.layers * this.heads && (this.meanAcc.length > 0 || this.fromPool !== undefined);
  }

  /** How many distinct heads have been added so far. */
  get done(): number {
    return this.added;
  }

  /** The grid with its aggregate extras; small enough aggregates also become kinds in `kinds`. */
  grid(kinds: Partial<Record<ViewKind, Matrix2D>>): HeatmapGrid {
    const { n, k, heads, layers } = this;
    // Aggregates of a partial read would mislead: they appear once every head is in.
    if (!this.complete) return { layers, heads, cellSize: this.side, cells: this.cellsSoFar(), extras: [] };
    const prefix = layers > 1 ? `layer ${this.sel.layer} ` : '';
    const p = this.fromPool;
    if (p) {
      // Copied out of shared memory: what the panel posts is a plain buffer, as for a read on this thread.
      const aggregates = [
        { name: `${prefix}head mean`, kind: 'headMean' as const, map: matrix(n, k, p.mean), pooled: p.pooledMean },
        { name: `${prefix}head max`, kind: 'headMax' as const, map: matrix(n, k, p.max), pooled: p.pooledMax },
        ...(p.rollout && p.pooledRollout ? [{ name: 'rollout', kind: 'rollout' as const, map: matrix(n, n, p.rollout), pooled: p.pooledRollout }] : []),
      ];
      return { layers, heads, cellSize: this.side, cells: this.cells.slice(), extras: aggregateExtras(aggregates, kinds, this.side) };
    }
    const mean = new Float32Array(n * k);
    for (let i = 0; i < mean.length; i++) mean[i] = this.meanAcc[i] / heads;
    const aggregates: { name: string; kind: ViewKind; map: Matrix2D }[] = [
      { name: `${prefix}head mean`, kind: 'headMean', map: matrix(n, k, mean) },
      { name: `${prefix}head max`, kind: 'headMax', map: matrix(n, k, this.maxAcc) },
    ];
    if (this.layerAcc) {
      const means = new Float32Array(layers * n * k);
      this.layerAcc.forEach((acc, l) => {
        for (let i = 0; i < acc.length; i++) means[l * n * k + i] = acc[i] / heads;
      });
      aggregates.push({ name: 'rollout', kind: 'rollout', map: matrix(n, n, rollout(means, layers, 1, n)) });
    }
    return { layers, heads, cellSize: this.side, cells: this.cells, extras: aggregateExtras(aggregates, kinds, this.side) };
  }

  /**
   * A copy of the cells; on the pool only the cells of the heads finished when syncPooled last looked (another
   * may be half written, and one finished since would not match the count the model states).
   */
  private cellsSoFar(): Float32Array {
    if (this.badOf.length === 0) return this.cells.slice();
    const out = new Float32Array(this.cells.length).fill(NaN);
    const size = this.side * this.side;
    for (let c = 0; c < this.synced.length; c++) {
      if (this.synced[c]) out.set(this.cells.subarray(c * size, (c + 1) * size), c * size);
    }
    return out;
  }

  /** The selected head as shown: weights when its rows are distributions, else data. */
  shownMap(): { kind: ViewKind; map: Matrix2D } {
    // One Matrix2D for every model of this builder: the panel's overview of it is made once (overview.ts).
    const map = (this.shownMatrix ??= matrix(this.n, this.k, this.shown as Float32Array));
    // Once per builder: a progressive read makes a model of the same shown head every ~200 ms.
    const kind: ViewKind = (this.shownKind ??= looksLikeWeights(map) ? 'weights' : 'data');
    return { kind, map };
  }

  /** A model of the selected head (weights when its rows are distributions, else data) with the grid. */
  model(): Omit<HeatmapModel, 'title' | 'info'> {
    const { kind, map: m } = this.shownMap();
    const kinds: Partial<Record<ViewKind, Matrix2D>> = { [kind]: m };
    const grid = this.grid(kinds);
    const s = this.sel;
    return {
      subtitle: this.layers > 1 ? `layer ${s.layer} · head ${s.head}` : `head ${s.head}`,
      kinds, defaultKind: kind, grid, selection: s, warnings: nonFiniteWarning(this.bad),
    };
  }
}

/** Runs the rest of a progressive read with a signal (Cancel) and a progress report (the host's notification). */
export type DumpRunner = (work: (signal: AbortSignal, report: (fraction: number) => void) => Promise<void>) => Promise<void>;

/** A progressive read: the selected head at once, then the rest in the background with partial models. */
export interface DumpProgress {
  /** Hears a model with the selected head and the grid so far: first after one head, then at most every `everyMs`. */
  onPartial: (model: HeatmapModel) => void;
  /** Runs the reading of the other heads (default: directly, without cancellation). */
  run?: DumpRunner;
  everyMs?: number;
}

/**
 * A dump of rank ≥ 3 ending in [n_q, n_k], read one map at a time (the whole dump may not fit in memory): the
 * grid of all layers × heads at the picked extra axes (batch, sample), max-pooled to `cellSize`, the selected
 * head at full resolution, and head mean/max (and rollout) extras. `axes` says which axis is which (default: the
 * guess of dumpAxes.ts); the model's `pickers` are the extra axes, its subtitle names every axis shown.
 * With `progress` the selected head is read first and handed over at once; the other heads follow under
 * `progress.run`, yielding to the event loop between heads; a cancelled read returns the grid so far with a note.
 */
export async function buildModelFromDump(
  h: DumpHandle, sel: Selection | undefined,
  opts: { cellSize: number; axes?: DumpAxes; progress?: DumpProgress; pool?: ComputePool | false; poolBytes?: number; overviewSize?: number },
): Promise<HeatmapModel> {
  const shape = h.info.shape;
  if (shape.length < 3) {
    throw new MatrixError(`expected a dump of rank 3 or more ending in [n_q, n_k] (such as [layers, heads, n, n]), got shape ${shape.join('×')}`, h.ref);
  }
  if (product(shape) === 0) throw new MatrixError(`the array is empty (${shape.join('×')})`, h.ref);
  const axes = opts.axes ?? dumpAxes(shape, undefined, 'guess', h.ref);
  const { layers, heads } = gridSize(shape, axes);
  const extra = sel?.extra ?? [];
  // A big dump in a .npy or safetensors file is read, widened and pooled on the worker pool (dumpOnPool.ts).
  const src = opts.pool === false ? undefined : poolSource(h.layout?.(), shape, h.info.dtype, layers * heads, opts.poolBytes ?? POOL_DUMP_BYTES);
  const pool = src && (opts.pool || getDumpPool());
  const b = new GridBuilder(layers, heads, shape[shape.length - 2], shape[shape.length - 1], opts.cellSize, sel, pool !== undefined);
  // Between the steps of a head a progressive read lets the editor run: decoding, pooling and accumulating a
  // 2048² head are each ~10 ms, together more than the 50 ms a stall may last on a busy machine.
  const yieldNow = (on: boolean) => (on ? new Promise<void>((r) => setImmediate(r)) : undefined);
  const readHead = async (l: number, hd: number, yielding = false) => {
    const a = await h.read(mapIndex(shape, axes, l, hd, extra));
    await yieldNow(yielding);
    const data = toFloat32(a);
    await yieldNow(yielding);
    b.pool(l, hd, data);
    await yieldNow(yielding);
    // A converted head is the builder's own; a float32 read may share a buffer the reader reuses.
    b.accumulate(l, hd, data, data !== a.data);
  };
  const file = h.ref.split(/[\\/]/).pop() ?? h.ref;
  const pickers = axisPickers(shape, axes, extra);
  const selection = { ...b.sel, ...(pickers.length ? { extra: pickers.map((p) => p.index) } : {}) };
  const finish = (note?: string): HeatmapModel => {
    const model = b.model();
    return {
      ...model, title: file, subtitle: describeMap(shape, axes, b.sel.layer, b.sel.head, extra) || model.subtitle,
      selection, ...(pickers.length ? { pickers } : {}), axisNames: axes.names,
      info: { file: h.ref, shape: [...shape], dtype: h.info.dtype },
      warnings: note ? [...model.warnings, note] : model.warnings,
    };
  };
  const progress = opts.progress;
  const total = layers * heads;
  // The panel's overview of the selected head, made ahead of time between event-loop turns (overview.ts), so
  // showing the first model does not hold the editor's thread for the 70–100 ms a 2048² head takes in one go.
  const prepareOverview = async () => {
    if (!opts.overviewSize) return;
    const { kind, map } = b.shownMap();
    await prepareWireMatrix(map, kind, opts.overviewSize);
  };
  const pendingNote = () => `grid: ${b.done} of ${total} heads read so far`;
  const cancelNote = () => `grid: stopped after ${b.done} of ${total} heads (cancelled); head mean and max need every head`;
  if (src && pool) {
    const starts: number[] = [];
    for (let l = 0; l < layers; l++) for (let hd = 0; hd < heads; hd++) starts.push(mapStart(shape, mapIndex(shape, axes, l, hd, extra)));
    const selCell = b.sel.layer * heads + b.sel.head;
    // The selected head at full resolution is read here (one read; the addon widens it); the workers pool it first.
    const a = await h.read(mapIndex(shape, axes, b.sel.layer, b.sel.head, extra));
    const data = toFloat32(a);
    b.show(data, true); // a file handle's read owns its buffer (MatrixHandle.read)
    const order = [selCell, ...starts.map((_, c) => c).filter((c) => c !== selCell)];
    let cancelled = false;
    const every = progress?.everyMs ?? 200;
    let last = 0;
    let firstSent = false;
    let gridDone = false;
    let overviewReady = false;
    // The first partial once the selected head's cell and overview are both in (always, as on this thread: even
    // when the workers were quicker and the grid is whole, until the aggregates are in); then at most every
    // `everyMs` while the grid fills.
    const partial = () => {
      if (!progress || b.complete || (firstSent && gridDone)) return;
      b.syncPooled();
      if (!firstSent ? overviewReady && b.synced[selCell] === 1 : b.done < total && Date.now() - last >= every) {
        firstSent = true;
        last = Date.now();
        progress.onPartial(finish(pendingNote()));
      }
    };
    // Made on this thread while the workers pool the grid.
    const overview = prepareOverview().catch(() => undefined).then(() => { overviewReady = true; partial(); });
    const work = async (signal?: AbortSignal, report?: (fraction: number) => void) => {
      try {
        await poolGrid(pool, src, starts, order, b.side, { cells: b.cells, filled: b.filled, bad: b.badOf }, () => {
          b.syncPooled();
          report?.(b.done / total);
          partial();
        }, signal);
      } catch (e) {
        if ((e as Error).name !== 'AbortError') throw new MatrixError((e as Error).message, h.ref);
        cancelled = true;
      } finally {
        gridDone = true;
      }
      b.syncPooled();
      if (cancelled) return;
      b.setPooled(await aggregatesOnPool(pool, src, starts, layers, heads, b.sel.layer, b.wantRollout, b.side)
        .catch((e: Error) => { throw new MatrixError(e.message, h.ref); }));
      if (h.unchanged && !(await h.unchanged())) throw new MatrixError('file changed while reading', h.ref);
    };
    try {
      if (progress) await (progress.run ?? ((w) => w(new AbortController().signal, () => undefined)))(work);
      else await work();
    } finally {
      await overview;
    }
    return finish(cancelled ? cancelNote() : undefined);
  }
  if (!progress) {
    for (let l = 0; l < layers; l++) {
      for (let hd = 0; hd < heads; hd++) await readHead(l, hd);
    }
    await prepareOverview();
    return finish();
  }
  await readHead(b.sel.layer, b.sel.head);
  await prepareOverview();
  if (!b.complete) progress.onPartial(finish(pendingNote()));
  let cancelled = false;
  const run: DumpRunner = progress.run ?? ((work) => work(new AbortController().signal, () => undefined));
  await run(async (signal, report) => {
    const every = progress.everyMs ?? 200;
    let last = Date.now();
    for (let l = 0; l < layers; l++) {
      for (let hd = 0; hd < heads; hd++) {
        if (l === b.sel.layer && hd === b.sel.head) continue;
        // Between heads: let the editor handle input (a head is at most a few ms of work) and see Cancel.
        await new Promise<void>((r) => setImmediate(r));
        if (signal.aborted) { cancelled = true; return; }
        await readHead(l, hd, true);
        report(b.done / total);
        if (!b.complete && Date.now() - last >= every) {
          last = Date.now();
          progress.onPartial(finish(pendingNote()));
        }
      }
    }
  });
  return finish(cancelled ? cancelNote() : undefined);
}

/** An in-memory array as a dump handle: reads are views of it (a JSON manifest's weights). */
export function arrayDumpHandle(a: NdArray, ref: string): DumpHandle {
  return {
    ref, info: { shape: [...a.shape], dtype: a.dtype },
    read: async (index = []) => {
      const rest = a.shape.slice(index.length);
      const size = product(rest);
      let offset = 0;
      let stride = product(a.shape);
      index.forEach((i, k) => {
        stride /= a.shape[k];
        offset += i * stride;
      });
      return { shape: rest, dtype: a.dtype, data: a.data.subarray(offset, offset + size) as NdArray['data'] };
    },
  };
}

/** One cell of A − B: both equal (both masked too) is no difference rather than NaN (−∞ − −∞). */
export function diffValue(x: number, y: number): number {
  return x === y ? 0 : x - y;
}

/**
 * A − B of one kind without its cells: the checks (both have it, at the same size) and the framing (title, labels,
 * warnings). `sa`/`sb`: the kind's size on each side (undefined: that side lacks it). A's labels are kept when B's
 * agree (or B has none).
 */
export function diffFrame(
  a: HeatmapModel, b: HeatmapModel, kind: ViewKind, sa: { rows: number; cols: number } | undefined, sb: { rows: number; cols: number } | undefined,
): Omit<HeatmapModel, 'kinds'> & { rows: number; cols: number } {
  if (!sa || !sb) {
    const missing = !sa ? a.title : b.title;
    throw new MatrixError(`cannot compare: ${missing} has no ${kind}`);
  }
  if (sa.rows !== sb.rows || sa.cols !== sb.cols) {
    throw new MatrixError(`cannot compare: ${a.title} is ${sa.rows}×${sa.cols} but ${b.title} is ${sb.rows}×${sb.cols}`);
  }
  const same = (p?: string[], q?: string[]) => !q || (p && p.length === q.length && p.every((s, i) => s === q[i]));
  return {
    rows: sa.rows, cols: sa.cols,
    title: `${a.title} − ${b.title}`,
    subtitle: `${kind}: A − B`,
    defaultKind: 'difference',
    queryLabels: same(a.queryLabels, b.queryLabels) ? a.queryLabels : undefined,
    // The difference is laid out like `kind`: its columns keep that kind's names (value names for the output).
    keyLabels: same(columnLabels(a, kind), columnLabels(b, kind)) ? columnLabels(a, kind) : undefined,
    info: { shape: [sa.rows, sa.cols] },
    warnings: [...a.warnings.map((w) => `A: ${w}`), ...b.warnings.map((w) => `B: ${w}`)],
  };
}

/** A − B of one kind on the diverging map, both held whole (see diffFrame for the checks and labels). */
export function diffModels(a: HeatmapModel, b: HeatmapModel, kind: ViewKind): HeatmapModel {
  const ma = a.kinds[kind];
  const mb = b.kinds[kind];
  const { rows, cols, ...frame } = diffFrame(a, b, kind, ma, mb);
  const x = (ma as Matrix2D).data;
  const y = (mb as Matrix2D).data;
  const d = new Float32Array(x.length);
  for (let i = 0; i < d.length; i++) d[i] = diffValue(x[i], y[i]);
  return { ...frame, kinds: { difference: matrix(rows, cols, d) } };
}
