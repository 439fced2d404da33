/**
 * A − B of two heads' weights when either is a streamed long-context head (computed from Q and K, never n_q × n_k in
 * memory): the overview is made in bands of query rows from each head's exact weights (the streamed engine's
 * row-block kernels; a head held whole is read in place), pooled by shared/pool.ts's rule for signed maps; tiles,
 * hover cells, pinned rows, columns and CSV are computed on demand from each head's on-demand detail (stream/detail.ts).
 * The cell rule (diffValue) and the framing (diffFrame: checks, title, labels) are model.ts's, as for diffModels.
 */
import type { FromWebview, Region, ToWebview, WireMatrix, WireModel } from '../../shared/protocol';
import { clipRegion } from '../../shared/protocol';
import { formatFloat32 } from '../../shared/format';
import { rankInRow, rowStats } from '../../shared/inspect';
import type { CellDetails, RowDetails } from '../../shared/inspect';
import { labelOf } from '../../shared/labels';
import { finiteRange, poolAccumulator, poolingNote, poolRowsInto, sliceRegion } from '../../shared/pool';
import type { PoolAccumulator, Pooled } from '../../shared/pool';
import { normaliseRows } from '../../shared/tokenRows';
import type { ColumnDetails, SelectionDetails } from '../../shared/tokenRows';
import type { HeatmapModel, Matrix2D, ViewKind } from '../../shared/types';
import { findAsset } from '../compute/assets';
import { loadBestWasm } from '../compute/kernel';
import { nativeFor } from '../compute/native';
import { abortError } from '../compute/pool';
import { kernelHead } from '../stream/engine';
import { MAX_STREAM_TILE_CELLS } from '../stream/detail';
import { NativeRowBlocks } from '../stream/nativeRows';
import { TsRowBlocks } from '../stream/rowBlock';
import type { RowBlockKernel } from '../stream/rowBlock';
import { WasmRowBlocks } from '../stream/wasmRows';
import { diffFrame, diffValue } from './model';
import type { ServeOptions } from './serve';
import { csvByTiles, MAX_STREAM_SELECTION, respondOnDemand, servedBy, streamedPart } from './streamServe';
import type { OnDemandServer, StreamedHead } from './streamServe';

/** One side of A − B: a streamed head (weights on demand) or weights held whole. */
export type DiffSide = { streamed: StreamedHead; weights?: undefined } | { weights: Matrix2D; streamed?: undefined };

/** What a difference involving a streamed head keeps beside its model (never posted). */
export interface StreamedDiff {
  a: DiffSide;
  b: DiffSide;
  rows: number;
  cols: number;
  overview: DiffOverview;
}

export interface DiffOverview {
  /** Max-pooled by magnitude (ModelServer's rule for a signed map); the difference itself when it fits. */
  pooled: Pooled;
  /** Smallest and largest finite difference and how many cells are not finite (finiteRange over every cell). */
  min: number;
  max: number;
  nonFinite: number;
  /** Each row's largest difference (the strip beside the map, as rowStats gives for a held difference). */
  rowMax: Float32Array;
}

export interface StreamDiffOptions {
  overviewSize: number;
  /** false: the bands in TypeScript even where the native kernel could do it all (tests compare the two). */
  native?: boolean;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

/** The side a model offers for a weights difference; undefined when it has no weights. */
export function diffSideOf(m: HeatmapModel): DiffSide | undefined {
  const s = streamedPart(m);
  if (s) return { streamed: s };
  const w = m.kinds.weights;
  return w ? { weights: w } : undefined;
}

function sizeOf(side: DiffSide | undefined): { rows: number; cols: number } | undefined {
  if (!side) return undefined;
  return side.streamed ? { rows: side.streamed.result.nq, cols: side.streamed.result.nk } : side.weights;
}

/** Cells per band of the overview: ~4 MiB of weights per side, a few ms of kernel work at 32k keys. */
const BAND_CELLS = 1 << 20;
/** The exact TypeScript kernel is ~20× slower: smaller bands keep each step short. */
const TS_BAND_CELLS = 1 << 16;

/** Reads rows [r0, r1) of a side's weights (n × cols, C order), for the overview's bands. */
type BandReader = { read(r0: number, r1: number): Promise<Float32Array>; cells: number };

/** The fastest kernel this thread has for a head, bound to it once (K packed once for the whole overview). */
function kernelOf(s: StreamedHead): { kernel: RowBlockKernel; fast: boolean } {
  const kh = kernelHead(s.detail.head.v ? { ...s.detail.head, v: undefined } : s.detail.head, s.detail.settings, false);
  const addon = nativeFor(undefined);
  if (addon) return { kernel: new NativeRowBlocks(addon).bind(kh, kh), fast: true };
  const module = kh.similarity === 'dot' ? loadBestWasm([findAsset('attention-fma.wasm'), findAsset('attention.wasm')])?.module : undefined;
  if (module) return { kernel: new WasmRowBlocks(module).bind(kh, kh), fast: true };
  return { kernel: new TsRowBlocks(kh), fast: false };
}

function bandReader(side: DiffSide, cols: number): BandReader {
  if (side.weights) {
    const w = side.weights.data;
    return { cells: BAND_CELLS, read: async (r0, r1) => w.subarray(r0 * cols, r1 * cols) };
  }
  const s = side.streamed;
  const { kernel, fast } = kernelOf(s);
  const mask = s.detail.settings.mask;
  const cells = fast ? BAND_CELLS : TS_BAND_CELLS;
  const buf = new Float32Array(Math.max(1, Math.floor(cells / cols)) * cols);
  return {
    cells,
    read: async (r0, r1) => {
      const rows = mask.kind === 'rows' ? await mask.source.rows(r0, r1) : undefined;
      kernel.attend(r0, r1, rows, (b) => {
        for (let i = 0; i < b.rows; i++) {
          const o = (b.row0 + i - r0) * cols;
          buf.set(b.weights.subarray(i * b.stride, i * b.stride + b.stored), o);
          // Keys past the stored prefix (causal) have weight 0.
          buf.fill(0, o + b.stored, o + cols);
        }
      });
      return buf.subarray(0, (r1 - r0) * cols);
    },
  };
}

/**
 * The difference's overview by the native kernel in one call off the event loop (a libuv thread and the addon's
 * helpers), when both sides are streamed heads it can compute (no explicit mask file: those are read by rows in
 * TypeScript) and the addon has it; undefined otherwise. The rules are poolRowsInto's and finiteRange's, kept in C.
 */
async function nativeDiffOverview(a: DiffSide, b: DiffSide, rows: number, cols: number, acc: PoolAccumulator, opts: StreamDiffOptions): Promise<DiffOverview | undefined> {
  const addon = nativeFor(undefined);
  if (!addon?.diffAsync || !a.streamed || !b.streamed) return undefined;
  const heads = [a.streamed, b.streamed];
  if (heads.some((s) => s.detail.settings.mask.kind === 'rows')) return undefined;
  const [pa, pb] = heads.map((s) => {
    const kh = kernelHead({ ...s.detail.head, v: undefined }, s.detail.settings, false);
    return new NativeRowBlocks(addon).bind(kh, kh).headParams();
  });
  const { signal, onProgress } = opts;
  if (signal?.aborted) throw abortError();
  const control = new Int32Array(new SharedArrayBuffer(8));
  pa.control = control;
  pa.threads = 0; // every core: this runs off the event loop, beside an idle pool
  const outs = {
    pooled: acc.data, pooledMag: acc.mag as Float32Array, rowMin: new Float32Array(rows), rowMax: new Float32Array(rows),
    rowNonFinite: new Int32Array(rows), poolBlockRows: acc.blockRows, poolBlockCols: acc.blockCols, poolCols: acc.cols,
  };
  const onAbort = () => Atomics.store(control, 0, 1);
  signal?.addEventListener('abort', onAbort);
  const timer = setInterval(() => onProgress?.(Math.min(1, Atomics.load(control, 1) / rows)), 100);
  let code: number;
  try {
    onProgress?.(0);
    code = await addon.diffAsync(pa, pb, outs);
  } finally {
    clearInterval(timer);
    signal?.removeEventListener('abort', onAbort);
  }
  if (code === -1 || signal?.aborted) throw abortError();
  if (code !== 0) throw new Error(`the native kernel failed (code ${code})`);
  let min = Infinity;
  let max = -Infinity;
  let nonFinite = 0;
  for (let i = 0; i < rows; i++) {
    if (outs.rowMin[i] < min) min = outs.rowMin[i];
    if (outs.rowMax[i] > max) max = outs.rowMax[i];
    nonFinite += outs.rowNonFinite[i];
  }
  if (min > max) min = max = 0;
  onProgress?.(1);
  return {
    pooled: { rows: acc.rows, cols: acc.cols, data: acc.data, srcRows: rows, srcCols: cols, blockRows: acc.blockRows, blockCols: acc.blockCols },
    min, max, nonFinite, rowMax: outs.rowMax,
  };
}

/**
 * The difference's overview, range and row maxima in bands of rows, yielding to the event loop between steps;
 * rejects with an AbortError when `signal` aborts. Nothing of size n_q × n_k is held (unless it fits the overview).
 */
export async function diffOverview(a: DiffSide, b: DiffSide, rows: number, cols: number, opts: StreamDiffOptions): Promise<DiffOverview> {
  const { signal, onProgress } = opts;
  const size = opts.overviewSize;
  const fits = rows <= size && cols <= size;
  if (!fits && opts.native !== false) {
    const done = await nativeDiffOverview(a, b, rows, cols, poolAccumulator(rows, cols, size, true), opts);
    if (done) return done;
  }
  // Pooled by magnitude: the map is signed unless no cell is negative, and then magnitude and max pick the same
  // winners (weights are never −∞), so one pass serves both of ModelServer's cases.
  const acc = fits ? undefined : poolAccumulator(rows, cols, size, true);
  const whole = fits ? new Float32Array(rows * cols) : undefined;
  const ra = bandReader(a, cols);
  const rb = bandReader(b, cols);
  const band = Math.max(1, Math.floor(Math.min(ra.cells, rb.cells) / cols));
  const d = new Float32Array(band * cols);
  const rowMax = new Float32Array(rows);
  let min = Infinity;
  let max = -Infinity;
  let nonFinite = 0;
  // A turn for the event loop between every step (a band of one side, then the fold: each ≤ ~25 ms at 32k keys),
  // so the host never stalls on a long difference; a few thousand turns cost nothing beside the work.
  const breathe = async () => {
    await new Promise<void>((r) => setImmediate(r));
    if (signal?.aborted) throw abortError();
  };
  onProgress?.(0);
  for (let r0 = 0; r0 < rows; r0 += band) {
    const r1 = Math.min(rows, r0 + band);
    const n = r1 - r0;
    await breathe();
    const xa = await ra.read(r0, r1);
    await breathe();
    const xb = await rb.read(r0, r1);
    await breathe();
    const part = d.subarray(0, n * cols);
    for (let i = 0; i < part.length; i++) part[i] = diffValue(xa[i], xb[i]);
    const range = finiteRange(part);
    // A band with no finite cell says min = max = 0, which is not a value of the map.
    if (range.nonFinite < part.length) {
      if (range.min < min) min = range.min;
      if (range.max > max) max = range.max;
    }
    nonFinite += range.nonFinite;
    rowMax.set(rowStats({ rows: n, cols, data: part }, false).max, r0);
    if (acc) poolRowsInto(acc, part, r0, n);
    else whole?.set(part, r0 * cols);
    onProgress?.(r1 / rows);
  }
  if (signal?.aborted) throw abortError();
  if (min > max) min = max = 0;
  const pooled: Pooled = acc
    ? { rows: acc.rows, cols: acc.cols, data: acc.data, srcRows: rows, srcCols: cols, blockRows: acc.blockRows, blockCols: acc.blockCols }
    : { rows, cols, data: whole as Float32Array, srcRows: rows, srcCols: cols, blockRows: 1, blockCols: 1 };
  onProgress?.(1);
  return { pooled, min, max, nonFinite, rowMax };
}

/** The parts of each difference model built here (kept beside the model, never posted). */
const diffParts = new WeakMap<HeatmapModel, StreamedDiff>();

export function streamedDiffPart(model: HeatmapModel): StreamedDiff | undefined {
  return diffParts.get(model);
}

/**
 * A − B of the weights of two models of which at least one is a streamed head (the other may be one too, or held
 * whole): the same checks, title and labels as diffModels; the overview made now (the long step: progress and
 * cancel through opts), the rest served on demand by StreamDiffServer.
 */
export async function buildStreamedDiff(ma: HeatmapModel, mb: HeatmapModel, opts: StreamDiffOptions): Promise<HeatmapModel> {
  const a = diffSideOf(ma);
  const b = diffSideOf(mb);
  const { rows, cols, ...frame } = diffFrame(ma, mb, 'weights', sizeOf(a), sizeOf(b));
  const sa = a as DiffSide;
  const sb = b as DiffSide;
  const overview = await diffOverview(sa, sb, rows, cols, opts);
  const on = [sa.streamed && 'A', sb.streamed && 'B'].filter(Boolean).join(' and ');
  const model: HeatmapModel = { ...frame, subtitle: `${frame.subtitle ?? ''} · ${rows.toLocaleString('en-US')}×${cols.toLocaleString('en-US')}, ${on} streamed from Q and K`, kinds: {} };
  const part: StreamedDiff = { a: sa, b: sb, rows, cols, overview };
  diffParts.set(model, part);
  return servedBy(model, (o) => new StreamDiffServer(model, part, o));
}

async function sideTile(side: DiffSide, r: Region): Promise<Float32Array> {
  if (side.weights) return sliceRegion(side.weights, r.r0, r.c0, r.rows, r.cols);
  return (await side.streamed.detail.tile('weights', r)).data;
}

async function sideRow(side: DiffSide, i: number): Promise<Float32Array> {
  if (side.weights) return side.weights.data.subarray(i * side.weights.cols, (i + 1) * side.weights.cols);
  return (await side.streamed.detail.rowWeights(i)).weights;
}

async function sideColumn(side: DiffSide, j: number): Promise<Float32Array> {
  if (side.streamed) return side.streamed.detail.column(j);
  const w = side.weights;
  return Float32Array.from({ length: w.rows }, (_, i) => w.data[i * w.cols + j]);
}

/** Cellwise A − B as float32 (what a held difference stores). */
function diffOf(x: ArrayLike<number>, y: ArrayLike<number>): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = diffValue(x[i], y[i]);
  return out;
}

/** The heatmap protocol for a StreamedDiff: ModelServer's replies for a held difference, computed on demand. */
export class StreamDiffServer implements OnDemandServer {
  private wire: WireMatrix | undefined;
  /** The last difference row computed (hovering along a row asks for it again and again). */
  private lastRow: { row: number; a: Float32Array; b: Float32Array; d: Float32Array } | undefined;

  constructor(readonly model: HeatmapModel, readonly part: StreamedDiff, private readonly opts: ServeOptions) {}

  get rows(): number {
    return this.part.rows;
  }

  get cols(): number {
    return this.part.cols;
  }

  get kinds(): ViewKind[] {
    return ['difference'];
  }

  hasKind(kind: ViewKind): boolean {
    return kind === 'difference';
  }

  pickKind(_wanted: ViewKind | undefined): ViewKind {
    return 'difference';
  }

  wireModel(): WireModel {
    const m = this.model;
    return {
      title: m.title, subtitle: m.subtitle, kinds: this.kinds, defaultKind: 'difference',
      queryLabels: m.queryLabels, keyLabels: m.keyLabels, info: m.info, warnings: m.warnings,
    };
  }

  wireMatrix(kind: ViewKind): WireMatrix | undefined {
    if (kind !== 'difference') return undefined;
    if (!this.wire) {
      const o = this.part.overview;
      const p = o.pooled;
      const signed = o.min < 0;
      const note = poolingNote(p, signed);
      this.wire = {
        kind, rows: this.rows, cols: this.cols, overview: p.data, ovRows: p.rows, ovCols: p.cols, blockRows: p.blockRows, blockCols: p.blockCols,
        min: o.min, max: o.max, nonFinite: o.nonFinite, signed,
        poolingNote: note && `${note} (computed on demand, never held whole)`,
        rowMax: o.rowMax,
      };
    }
    const w = this.wire;
    return { ...w, overview: w.overview.slice(), rowMax: w.rowMax.slice() };
  }

  async tile(kind: ViewKind, region: Region): Promise<{ region: Region; data: Float32Array } | undefined> {
    if (kind !== 'difference') return undefined;
    const r = clipRegion(region, this.rows, this.cols);
    if (!r || r.rows * r.cols > (this.opts.maxTileCells ?? MAX_STREAM_TILE_CELLS) || r.rows * r.cols > MAX_STREAM_TILE_CELLS) return undefined;
    const [ta, tb] = [await sideTile(this.part.a, r), await sideTile(this.part.b, r)];
    return { region: r, data: diffOf(ta, tb) };
  }

  /** Row i of A, of B (copies: a side's row buffer is reused) and of A − B. */
  private async row(i: number): Promise<{ a: Float32Array; b: Float32Array; d: Float32Array }> {
    if (this.lastRow?.row === i) return this.lastRow;
    const a = (await sideRow(this.part.a, i)).slice();
    const b = (await sideRow(this.part.b, i)).slice();
    this.lastRow = { row: i, a, b, d: diffOf(a, b) };
    return this.lastRow;
  }

  async cellDetails(kind: ViewKind, row: number, col: number): Promise<CellDetails | undefined> {
    if (kind !== 'difference' || !inRange(row, this.rows) || !inRange(col, this.cols)) return undefined;
    const r = await this.row(row);
    const m = this.model;
    return {
      kind, row, col, value: r.d[col], rowLabel: labelOf(m.queryLabels, row), colLabel: labelOf(m.keyLabels, col),
      rank: rankInRow(r.d, col), of: this.cols, a: r.a[col], b: r.b[col],
    };
  }

  async rowDetails(row: number): Promise<RowDetails | undefined> {
    if (!inRange(row, this.rows)) return undefined;
    const r = await this.row(row);
    return { row, rowLabel: labelOf(this.model.queryLabels, row), weights: r.d.slice(), kind: 'difference', valuesNonNegative: false };
  }

  async columnDetails(kind: ViewKind, col: number): Promise<ColumnDetails | undefined> {
    if (kind !== 'difference' || !inRange(col, this.cols)) return undefined;
    const values = diffOf(await sideColumn(this.part.a, col), await sideColumn(this.part.b, col));
    return { col, colLabel: labelOf(this.model.keyLabels, col), kind: 'difference', values };
  }

  /** Selected query rows read as one (sum and mean of their differences), at most MAX_STREAM_SELECTION of them. */
  async selectionDetails(kind: ViewKind, rows: readonly number[]): Promise<SelectionDetails | undefined> {
    if (kind !== 'difference') return undefined;
    const picked = normaliseRows(rows, this.rows);
    if (picked.length === 0 || picked.length > MAX_STREAM_SELECTION) return undefined;
    const acc = new Float64Array(this.cols);
    for (const i of picked) {
      const d = (await this.row(i)).d;
      for (let j = 0; j < this.cols; j++) acc[j] += d[j];
    }
    return { rows: picked, kind: 'difference', sum: Float32Array.from(acc), mean: Float32Array.from(acc, (x) => x / picked.length), valuesNonNegative: false };
  }

  /** CSV of the region on screen, of one row, or of the whole difference when it is small enough. */
  async csv(kind: ViewKind, region?: Region): Promise<string | undefined> {
    if (kind !== 'difference') return undefined;
    const r = clipRegion(region ?? { r0: 0, c0: 0, rows: this.rows, cols: this.cols }, this.rows, this.cols);
    return csvByTiles(this.model, 'difference', this.rows, this.cols, r, async (t) => (await this.tile('difference', t))?.data);
  }

  async cellText(kind: ViewKind, row: number, col: number): Promise<string | undefined> {
    const d = await this.cellDetails(kind, row, col);
    return d && formatFloat32(d.value);
  }

  hasHead(): boolean {
    return false;
  }

  respond(msg: FromWebview): Promise<ToWebview | undefined> {
    return respondOnDemand(this, msg);
  }
}

function inRange(i: number, n: number): boolean {
  return Number.isInteger(i) && i >= 0 && i < n;
}
