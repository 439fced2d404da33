/**
 * The host side of the heatmap protocol without VS Code: turns a HeatmapModel into what the webview is sent
 * (overviews, tiles, cell and row details, CSV) and answers its requests. heatmapView.ts wires it to a
 * vscode.Webview; the webview harness and the unit tests drive it directly.
 */
import type { FromWebview, Region, ToWebview, WireMatrix, WireModel } from '../../shared/protocol';
import { clipRegion } from '../../shared/protocol';
import { toCsv } from '../../shared/csv';
import { formatFloat32 } from '../../shared/format';
import { cellDetails, rowDetails } from '../../shared/inspect';
import { columnLabels } from '../../shared/types';
import { sliceRegion } from '../../shared/pool';
import { columnDetails, selectionDetails } from '../../shared/tokenRows';
import type { HeatmapModel, Matrix2D, ViewKind } from '../../shared/types';
import { hasKind } from './model';
import { wireMatrixOf } from './overview';

export interface ServeOptions {
  /** Largest overview side (the attentionInspector.overviewSize setting). */
  overviewSize: number;
  /** Models with at most this many cells in all kinds together are sent whole (hover without a round trip). */
  fullLimit?: number;
  /** Largest tile, in cells. */
  maxTileCells?: number;
}

export const DEFAULT_FULL_LIMIT = 4 * 512 * 512;
export const DEFAULT_MAX_TILE_CELLS = 1024 * 1024;

export class ModelServer {
  private readonly matrices = new Map<ViewKind, WireMatrix>();
  private readonly posted = new WeakMap<Float32Array, Float32Array>();
  readonly fullLimit: number;
  readonly maxTileCells: number;

  constructor(readonly model: HeatmapModel, private readonly opts: ServeOptions) {
    this.fullLimit = opts.fullLimit ?? DEFAULT_FULL_LIMIT;
    this.maxTileCells = opts.maxTileCells ?? DEFAULT_MAX_TILE_CELLS;
  }

  /**
   * An array as it goes into a message. VS Code's postMessage (and the harness's window.postMessage) copies what
   * it sends and leaves the host's arrays intact, so nothing is copied for it here — except a view into a larger
   * buffer (a head of a multi-head result), since VS Code sends a view's whole underlying ArrayBuffer; that copy
   * is made once and reused. One array used twice in a message (a small map's overview and its full data) thus
   * crosses once: VS Code sends each buffer once.
   */
  private forPost(a: Float32Array): Float32Array {
    if (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) return a;
    let own = this.posted.get(a);
    if (!own) this.posted.set(a, (own = a.slice()));
    return own;
  }

  get kinds(): ViewKind[] {
    return (Object.keys(this.model.kinds) as ViewKind[]).filter((k) => hasKind(this.model, k));
  }

  hasKind(kind: ViewKind): boolean {
    return !!this.model.kinds[kind];
  }

  /** The kind to show: the one asked for when the model has it, else the model's default. */
  pickKind(wanted: ViewKind | undefined): ViewKind {
    return wanted && this.model.kinds[wanted] ? wanted : this.model.kinds[this.model.defaultKind] ? this.model.defaultKind : this.kinds[0];
  }

  /** Whether every kind fits under the whole-model limit and none needs pooling. */
  isSmall(): boolean {
    let cells = 0;
    for (const k of this.kinds) {
      const m = this.model.kinds[k] as Matrix2D;
      if (m.rows > this.opts.overviewSize || m.cols > this.opts.overviewSize) return false;
      cells += m.rows * m.cols;
    }
    return cells <= this.fullLimit;
  }

  wireModel(): WireModel {
    const m = this.model;
    const wire: WireModel = {
      title: m.title, subtitle: m.subtitle, kinds: this.kinds, defaultKind: this.pickKind(m.defaultKind),
      queryLabels: m.queryLabels, keyLabels: m.keyLabels, valueLabels: m.valueLabels,
      grid: m.grid ? { ...m.grid, cells: this.forPost(m.grid.cells), extras: m.grid.extras?.map((e) => ({ name: e.name, data: this.forPost(e.data), kind: e.kind })) } : undefined,
      selection: m.selection, info: m.info, warnings: m.warnings,
      ...(m.pickers ? { pickers: m.pickers } : {}),
    };
    if (this.isSmall()) {
      const kinds: Partial<Record<ViewKind, Float32Array>> = {};
      const shapes: Partial<Record<ViewKind, [number, number]>> = {};
      for (const k of this.kinds) {
        const x = m.kinds[k] as Matrix2D;
        kinds[k] = this.forPost(x.data);
        shapes[k] = [x.rows, x.cols];
      }
      wire.full = { kinds, shapes, values: m.values ? { rows: m.values.rows, cols: m.values.cols, data: this.forPost(m.values.data) } : undefined };
    }
    return wire;
  }

  /**
   * The overview of one kind (cached: pooling a 4096² map is the slowest step on the host), kept with the map
   * (overview.ts): a progressive dump load's models share their selected head's, made ahead of time.
   */
  wireMatrix(kind: ViewKind): WireMatrix | undefined {
    const m = this.model.kinds[kind];
    if (!m) return undefined;
    const cached = this.matrices.get(kind);
    // Posting copies (see forPost): the cached overview is sent as is, every time.
    if (cached) return cached;
    const matrix = wireMatrixOf(m, kind, this.opts.overviewSize, (a) => this.forPost(a));
    this.matrices.set(kind, matrix);
    return matrix;
  }

  /** Full-resolution cells of a region, clipped to the matrix; undefined when out of range or too large. */
  tile(kind: ViewKind, region: Region): { region: Region; data: Float32Array } | undefined {
    const m = this.model.kinds[kind];
    if (!m) return undefined;
    const r = clipRegion(region, m.rows, m.cols);
    if (!r || r.rows * r.cols > this.maxTileCells) return undefined;
    return { region: r, data: sliceRegion(m, r.r0, r.c0, r.rows, r.cols) };
  }

  /** The CSV of a kind, or of the region on screen when zoomed. */
  csv(kind: ViewKind, region?: Region): string | undefined {
    const m = this.model.kinds[kind];
    if (!m) return undefined;
    const r = region ? clipRegion(region, m.rows, m.cols) : undefined;
    return toCsv(m, this.model.queryLabels, columnLabels(this.model, kind), r);
  }

  /** The exact stored value of one cell as text (for copy), or undefined out of range. */
  cellText(kind: ViewKind, row: number, col: number): string | undefined {
    const m = this.model.kinds[kind];
    if (!m || row >= m.rows || col >= m.cols) return undefined;
    return formatFloat32(m.data[row * m.cols + col]);
  }

  hasHead(layer: number, head: number): boolean {
    const g = this.model.grid;
    return !!g && layer < g.layers && head < g.heads;
  }

  /**
   * The reply to a data request, or undefined for messages that are not requests (ready, export, timing… are the
   * caller's business). Out-of-range requests get an empty reply rather than silence, so the webview never waits.
   */
  respond(msg: FromWebview): ToWebview | undefined {
    switch (msg.type) {
      case 'requestMatrix':
        return { type: 'matrix', id: msg.id, matrix: this.wireMatrix(msg.kind) };
      case 'requestTile': {
        const t = this.tile(msg.kind, msg.region);
        return t
          ? { type: 'tile', id: msg.id, kind: msg.kind, ...t.region, data: t.data }
          : { type: 'tile', id: msg.id, kind: msg.kind, r0: 0, c0: 0, rows: 0, cols: 0, data: new Float32Array(0) };
      }
      case 'requestCell':
        return { type: 'cell', id: msg.id, details: cellDetails(this.model, msg.kind, msg.row, msg.col) };
      case 'requestRow':
        return { type: 'row', id: msg.id, details: rowDetails(this.model, msg.kind, msg.row) };
      case 'requestColumn':
        return { type: 'column', id: msg.id, details: columnDetails(this.model, msg.kind, msg.col) };
      case 'requestSelection':
        return { type: 'selection', id: msg.id, details: selectionDetails(this.model, msg.kind, msg.rows) };
      default:
        return undefined;
    }
  }
}
