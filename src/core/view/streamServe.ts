/**
 * The host side of the heatmap protocol for a streamed long-context head: the same requests as ModelServer
 * (overview, tiles, cells, rows, CSV), answered without any n_q × n_k array. The weights overview, row max and
 * entropy come from the streamed sweep; tiles, hover cells and pinned rows are computed on demand from Q and K
 * (stream/detail.ts); kinds that are small (the output O) are served by a ModelServer as usual.
 */
import type { FromWebview, Region, ToWebview, WireMatrix, WireModel } from '../../shared/protocol';
import { clipRegion } from '../../shared/protocol';
import { formatFloat32 } from '../../shared/format';
import { weightedSum } from '../../shared/inspect';
import type { CellDetails, RowDetails } from '../../shared/inspect';
import { labelOf } from '../../shared/labels';
import { columnDetails, normaliseRows, selectionDetails } from '../../shared/tokenRows';
import type { ColumnDetails, SelectionDetails } from '../../shared/tokenRows';
import type { HeatmapModel, Matrix2D, ViewKind } from '../../shared/types';
import { MAX_STREAM_TILE_CELLS } from '../stream/detail';
import type { StreamDetail } from '../stream/detail';
import type { StreamResult } from '../stream/engine';
import { toCsv } from '../../shared/csv';
import { ModelServer } from './serve';
import type { ServeOptions } from './serve';

/** What a streamed head's model carries besides its small kinds: the sweep's results and the on-demand detail. */
export interface StreamedHead {
  detail: StreamDetail;
  result: StreamResult;
}

/** The streamed part of each model built by streamedModel (kept beside the model, never posted). */
const streamedParts = new WeakMap<HeatmapModel, StreamedHead>();

/**
 * A model for a streamed head: `base` holds the title, labels, V (for contributions and the pinned row's output
 * line), warnings and any small kinds; weights are the streamed kind.
 */
export function streamedModel(base: HeatmapModel, head: StreamedHead): HeatmapModel {
  const model: HeatmapModel = { ...base, defaultKind: 'weights' };
  streamedParts.set(model, head);
  return model;
}

export function streamedPart(model: HeatmapModel): StreamedHead | undefined {
  return streamedParts.get(model);
}

/** Largest selection of a streamed head's rows read as one (each row is computed whole). */
export const MAX_STREAM_SELECTION = 1024;

/** Largest CSV export of a streamed kind, in cells (the visible region when zoomed, or a row). */
export const MAX_STREAM_CSV_CELLS = 4 * 1024 * 1024;

/**
 * What the host asks of a server whose replies are computed on demand (a streamed head, a difference involving
 * one): ModelServer's requests, answered asynchronously.
 */
export interface OnDemandServer {
  readonly model: HeatmapModel;
  readonly kinds: ViewKind[];
  hasKind(kind: ViewKind): boolean;
  pickKind(wanted: ViewKind | undefined): ViewKind;
  wireModel(): WireModel;
  wireMatrix(kind: ViewKind): WireMatrix | undefined;
  csv(kind: ViewKind, region?: Region): Promise<string | undefined>;
  cellText(kind: ViewKind, row: number, col: number): Promise<string | undefined>;
  hasHead(layer: number, head: number): boolean;
  respond(msg: FromWebview): Promise<ToWebview | undefined>;
}

/** Models served by a server of their own (kept beside the model, never posted): see servedBy. */
const ownServers = new WeakMap<HeatmapModel, (opts: ServeOptions) => OnDemandServer>();

/** Serve `model` with the server `make` builds (a module that cannot be imported here without a cycle registers so). */
export function servedBy<M extends HeatmapModel>(model: M, make: (opts: ServeOptions) => OnDemandServer): M {
  ownServers.set(model, make);
  return model;
}

/**
 * The server the host uses for a model: streamed heads get a StreamServer, models with a server of their own that
 * one, everything else a ModelServer.
 */
export function serverFor(model: HeatmapModel, opts: ServeOptions): ModelServer | OnDemandServer {
  const head = streamedParts.get(model);
  if (head) return new StreamServer(model, head, opts);
  const own = ownServers.get(model);
  return own ? own(opts) : new ModelServer(model, opts);
}

export class StreamServer implements OnDemandServer {
  private readonly small: ModelServer;
  private wire: WireMatrix | undefined;

  constructor(readonly model: HeatmapModel, readonly head: StreamedHead, private readonly opts: ServeOptions) {
    this.small = new ModelServer(model, opts);
  }

  get rows(): number {
    return this.head.result.nq;
  }

  get cols(): number {
    return this.head.result.nk;
  }

  get kinds(): ViewKind[] {
    return ['weights', ...this.small.kinds.filter((k) => k !== 'weights')];
  }

  hasKind(kind: ViewKind): boolean {
    return this.kinds.includes(kind);
  }

  pickKind(wanted: ViewKind | undefined): ViewKind {
    return wanted && this.hasKind(wanted) ? wanted : 'weights';
  }

  wireModel(): WireModel {
    const m = this.model;
    return {
      title: m.title, subtitle: m.subtitle, kinds: this.kinds, defaultKind: 'weights',
      queryLabels: m.queryLabels, keyLabels: m.keyLabels, valueLabels: m.valueLabels,
      grid: m.grid ? { ...m.grid, cells: m.grid.cells.slice(), extras: m.grid.extras?.map((e) => ({ name: e.name, data: e.data.slice(), kind: e.kind })) } : undefined,
      selection: m.selection, info: m.info, warnings: m.warnings,
    };
  }

  /** The weights overview from the sweep (pooled with maxPool's blocks), or a small kind's. */
  wireMatrix(kind: ViewKind): WireMatrix | undefined {
    if (kind !== 'weights') return this.small.wireMatrix(kind);
    if (!this.wire) {
      const r = this.head.result;
      const ov = r.overview;
      if (!ov) return undefined;
      let max = 0;
      let nonFinite = 0;
      for (let i = 0; i < r.nq; i++) {
        const x = r.rowMax[i];
        if (x > max) max = x;
        else if (Number.isNaN(x)) nonFinite += r.nk;
      }
      const pooled = ov.blockRows > 1 || ov.blockCols > 1;
      this.wire = {
        kind, rows: r.nq, cols: r.nk, overview: ov.data, ovRows: ov.rows, ovCols: ov.cols, blockRows: ov.blockRows, blockCols: ov.blockCols,
        // Weights are ≥ 0; the smallest is not tracked by the sweep (a compare per cell), so the scale starts at 0.
        min: 0, max, nonFinite, signed: false,
        poolingNote: pooled ? `${r.nq}×${r.nk} shown as ${ov.rows}×${ov.cols}, max of ${ov.blockRows}×${ov.blockCols} blocks (computed from Q and K, never held whole)` : undefined,
        rowMax: r.rowMax,
        rowEntropy: r.rowEntropy && Float32Array.from(r.rowEntropy, (h) => h / Math.LN2),
      };
    }
    const w = this.wire;
    return { ...w, overview: w.overview.slice(), rowMax: w.rowMax.slice(), rowEntropy: w.rowEntropy?.slice() };
  }

  async tile(kind: ViewKind, region: Region): Promise<{ region: Region; data: Float32Array } | undefined> {
    if (kind !== 'weights') return this.small.tile(kind, region);
    const r = clipRegion(region, this.rows, this.cols);
    if (!r || r.rows * r.cols > MAX_STREAM_TILE_CELLS) return undefined;
    return this.head.detail.tile('weights', r);
  }

  async cellDetails(kind: ViewKind, row: number, col: number): Promise<CellDetails | undefined> {
    if (kind !== 'weights') return cellOf(this.small, kind, row, col);
    if (row >= this.rows || col >= this.cols) return undefined;
    const m = this.model;
    const c = await this.head.detail.cell(row, col);
    const d: CellDetails = {
      kind, row, col, value: c.weight, rowLabel: labelOf(m.queryLabels, row), colLabel: labelOf(m.keyLabels, col),
      score: c.score, scaled: c.scaled, weight: c.weight, rank: c.rank, of: c.of,
    };
    const v = m.values;
    if (v && col < v.rows) d.contribution = Array.from(v.data.subarray(col * v.cols, (col + 1) * v.cols), (x) => c.weight * x);
    return d;
  }

  async rowDetails(row: number): Promise<RowDetails | undefined> {
    if (row >= this.rows) return undefined;
    const m = this.model;
    const r = await this.head.detail.row(row);
    const v = m.values;
    let valuesNonNegative = false;
    if (v) {
      valuesNonNegative = true;
      for (let i = 0; i < v.data.length; i++) if (!(v.data[i] >= 0)) { valuesNonNegative = false; break; }
    }
    const output = r.output ?? (v && v.rows === this.cols ? weightedSum(r.weights, v) : undefined);
    return { row, rowLabel: labelOf(m.queryLabels, row), weights: r.weights.slice(), kind: 'weights', output, valuesNonNegative };
  }

  /** Column `col` of the weights ("attended by"), computed for every query row from the sweep's normalisers. */
  async columnDetails(kind: ViewKind, col: number): Promise<ColumnDetails | undefined> {
    if (kind !== 'weights' && this.small.hasKind(kind)) return columnDetails(this.model, kind, col);
    if (col >= this.cols) return undefined;
    return { col, colLabel: labelOf(this.model.keyLabels, col), kind: 'weights', values: await this.head.detail.column(col) };
  }

  /** Selected query rows read as one: each row computed whole (exactly), at most MAX_STREAM_SELECTION of them. */
  async selectionDetails(kind: ViewKind, rows: readonly number[]): Promise<SelectionDetails | undefined> {
    if (kind !== 'weights' && this.small.hasKind(kind)) return selectionDetails(this.model, kind, rows);
    const picked = normaliseRows(rows, this.rows);
    if (picked.length === 0 || picked.length > MAX_STREAM_SELECTION) return undefined;
    const acc = new Float64Array(this.cols);
    let out: Float64Array | undefined;
    for (const i of picked) {
      const r = await this.head.detail.row(i);
      for (let j = 0; j < this.cols; j++) acc[j] += r.weights[j];
      if (r.output) {
        out ??= new Float64Array(r.output.length);
        for (let c = 0; c < r.output.length; c++) out[c] += r.output[c];
      }
    }
    const v = this.model.values;
    let valuesNonNegative = false;
    if (v) {
      valuesNonNegative = true;
      for (let x = 0; x < v.data.length; x++) if (!(v.data[x] >= 0)) { valuesNonNegative = false; break; }
    }
    return {
      rows: picked, kind: 'weights', sum: Float32Array.from(acc), mean: Float32Array.from(acc, (x) => x / picked.length),
      output: out && Array.from(out, (x) => x / picked.length), valuesNonNegative,
    };
  }

  /** CSV of the region on screen (or of one row); the whole map of a streamed head is refused, with what to do. */
  async csv(kind: ViewKind, region?: Region): Promise<string | undefined> {
    if (kind !== 'weights') return this.small.csv(kind, region);
    const r = region ? clipRegion(region, this.rows, this.cols) : undefined;
    return csvByTiles(this.model, 'weights', this.rows, this.cols, r, async (t) => (await this.head.detail.tile('weights', t)).data);
  }

  async cellText(kind: ViewKind, row: number, col: number): Promise<string | undefined> {
    if (kind !== 'weights') return this.small.cellText(kind, row, col);
    if (row >= this.rows || col >= this.cols) return undefined;
    return formatFloat32((await this.head.detail.cell(row, col)).weight);
  }

  hasHead(layer: number, head: number): boolean {
    return this.small.hasHead(layer, head);
  }

  /** The reply to a data request (see ModelServer.respond), computed on demand for the streamed kind. */
  respond(msg: FromWebview): Promise<ToWebview | undefined> {
    return respondOnDemand(this, msg);
  }
}

/**
 * The CSV of region `r` of a map computed on demand, read in tiles of at most MAX_STREAM_TILE_CELLS (as the view
 * asks for them); no region, or one over MAX_STREAM_CSV_CELLS, is refused with what to do.
 */
export async function csvByTiles(
  model: HeatmapModel, what: string, rows: number, cols: number, r: Region | undefined,
  tile: (region: Region) => Promise<Float32Array | undefined>,
): Promise<string> {
  if (!r || r.rows * r.cols > MAX_STREAM_CSV_CELLS) {
    throw new Error(`the ${rows}×${cols} ${what} is computed on demand and too large for one CSV; zoom in to at most ${MAX_STREAM_CSV_CELLS.toLocaleString('en-US')} cells and export the visible region`);
  }
  const data = new Float32Array(r.rows * r.cols);
  const band = Math.max(1, Math.floor(MAX_STREAM_TILE_CELLS / r.cols));
  for (let r0 = r.r0; r0 < r.r0 + r.rows; r0 += band) {
    const n = Math.min(band, r.r0 + r.rows - r0);
    const t = await tile({ r0, c0: r.c0, rows: n, cols: r.cols });
    if (t) data.set(t, (r0 - r.r0) * r.cols);
  }
  const m: Matrix2D = { rows: r.rows, cols: r.cols, data };
  return toCsv(m, model.queryLabels?.slice(r.r0, r.r0 + r.rows), model.keyLabels?.slice(r.c0, r.c0 + r.cols));
}

/** What a server computing on demand answers per data request (StreamServer, StreamDiffServer). */
export interface OnDemandParts {
  wireMatrix(kind: ViewKind): WireMatrix | undefined;
  tile(kind: ViewKind, region: Region): Promise<{ region: Region; data: Float32Array } | undefined>;
  cellDetails(kind: ViewKind, row: number, col: number): Promise<CellDetails | undefined>;
  rowDetails(row: number): Promise<RowDetails | undefined>;
  columnDetails(kind: ViewKind, col: number): Promise<ColumnDetails | undefined>;
  selectionDetails(kind: ViewKind, rows: readonly number[]): Promise<SelectionDetails | undefined>;
}

/** The reply to a data request from the webview, each part computed on demand (an empty tile when refused). */
export async function respondOnDemand(s: OnDemandParts, msg: FromWebview): Promise<ToWebview | undefined> {
  switch (msg.type) {
    case 'requestMatrix':
      return { type: 'matrix', id: msg.id, matrix: s.wireMatrix(msg.kind) };
    case 'requestTile': {
      const t = await s.tile(msg.kind, msg.region);
      return t
        ? { type: 'tile', id: msg.id, kind: msg.kind, ...t.region, data: t.data }
        : { type: 'tile', id: msg.id, kind: msg.kind, r0: 0, c0: 0, rows: 0, cols: 0, data: new Float32Array(0) };
    }
    case 'requestCell':
      return { type: 'cell', id: msg.id, details: await s.cellDetails(msg.kind, msg.row, msg.col) };
    case 'requestRow':
      return { type: 'row', id: msg.id, details: await s.rowDetails(msg.row) };
    case 'requestColumn':
      return { type: 'column', id: msg.id, details: await s.columnDetails(msg.kind, msg.col) };
    case 'requestSelection':
      return { type: 'selection', id: msg.id, details: await s.selectionDetails(msg.kind, msg.rows) };
    default:
      return undefined;
  }
}

function cellOf(s: ModelServer, kind: ViewKind, row: number, col: number): CellDetails | undefined {
  const reply = s.respond({ type: 'requestCell', id: 0, kind, row, col });
  return reply?.type === 'cell' ? reply.details : undefined;
}
