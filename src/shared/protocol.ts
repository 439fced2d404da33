/**
 * The one message protocol between the heatmap host (src/heatmapView.ts) and the webview (webview/messages.ts, webview/host.ts).
 * Every message has a `type`; requests (either way) carry an `id` that the reply echoes, correlated by
 * src/shared/messageHandler.ts with the pairs in WEBVIEW_REQUESTS and HOST_REQUESTS. Matrices
 * travel as Float32Array (structured clone, binary), never as JSON arrays of numbers, and always as owning
 * buffers (a typed array view posts its whole underlying buffer).
 *
 * The webview is not trusted by the host: `parseFromWebview` checks every message's shape before use, and the
 * host range-checks indices against its model. The webview never sends paths, only kinds and indices.
 */
import type { CellDetails, RowDetails } from './inspect';
import { MAX_SELECTION, type ColumnDetails, type SelectionDetails } from './tokenRows';
import type { HeadMetric, NearHead, WireHeadTable } from './heads';
import { VIEW_KINDS, type AxisPicker, type HeatmapGrid, type ViewKind } from './types';

// ------------------------------------------------------------------------------------------------ host → webview

/** One view kind as the webview draws it: an overview (max-pooled when large) plus ranges and row statistics. */
export interface WireMatrix {
  kind: ViewKind;
  /** Full-resolution size. */
  rows: number;
  cols: number;
  /** The overview, ovRows × ovCols; blockRows = blockCols = 1 means it is the full matrix. */
  overview: Float32Array;
  ovRows: number;
  ovCols: number;
  blockRows: number;
  blockCols: number;
  /** Finite range of the full matrix, and how many cells are not finite. */
  min: number;
  max: number;
  nonFinite: number;
  /** Signed data is pooled by largest magnitude. */
  signed: boolean;
  /** "4096×4096 shown as 512×512, max of 8×8 blocks" when pooled. */
  poolingNote?: string;
  /** Per-row max and (weights) entropy in bits, full length: the side strip. */
  rowMax: Float32Array;
  rowEntropy?: Float32Array;
}

/** Everything about a model but its matrices. */
export interface WireModel {
  title: string;
  subtitle?: string;
  kinds: ViewKind[];
  defaultKind: ViewKind;
  queryLabels?: string[];
  keyLabels?: string[];
  valueLabels?: string[];
  grid?: HeatmapGrid;
  selection?: { layer: number; head: number; extra?: number[] };
  /** A dump's axes before layers × heads (batch, sample…): a select each in the header. */
  pickers?: AxisPicker[];
  info: { file?: string; shape?: number[]; dtype?: string };
  warnings: string[];
  /**
   * Small models come whole (every kind and V at full resolution) so hover and pinning need no round trip;
   * large ones are asked for cell and row details, and tiles when zoomed.
   */
  full?: { kinds: Partial<Record<ViewKind, Float32Array>>; shapes: Partial<Record<ViewKind, [number, number]>>; values?: { rows: number; cols: number; data: Float32Array } };
}

export interface Settings {
  colorMap: string;
}

/**
 * Replies to the webview's requests. `seq` is the model (the `model` message's seq) the host answered from: the
 * host's controller stamps it (ModelServer.respond leaves it out); the webview drops a reply for an older model.
 * Absent, the reply is taken as answered from the model the webview holds (the host answers in order).
 */
export type HostReply =
  | { type: 'matrix'; id: number; seq?: number; matrix: WireMatrix | undefined }
  | { type: 'tile'; id: number; seq?: number; kind: ViewKind; r0: number; c0: number; rows: number; cols: number; data: Float32Array }
  | { type: 'cell'; id: number; seq?: number; details: CellDetails | undefined }
  | { type: 'row'; id: number; seq?: number; details: RowDetails | undefined }
  /** The token view's "attended by": one column of the query × key matrix (src/shared/tokenRows.ts). */
  | { type: 'column'; id: number; seq?: number; details: ColumnDetails | undefined }
  /** Several query tokens read as one row: their sum, mean and the mean row's output. */
  | { type: 'selection'; id: number; seq?: number; details: SelectionDetails | undefined };

export type ToWebview =
  | { type: 'model'; seq: number; sourceId: string; model: WireModel; matrix: WireMatrix; settings: Settings }
  | HostReply
  | { type: 'error'; message: string }
  | { type: 'settings'; settings: Settings }
  | { type: 'exportPng'; id: number }
  | { type: 'loading'; message: string }
  | HeadsMessage;

/**
 * Head work (the head table, heads like this one) is a job, not a request: it can take seconds to minutes, reports
 * progress and can be cancelled. The webview numbers its jobs (`job`); every message about one carries its number,
 * and the webview ignores those of jobs it no longer waits for. A job ends with its result or `headsStopped`.
 */
export type HeadsMessage =
  | { type: 'headsProgress'; job: number; fraction: number }
  | { type: 'headTable'; job: number; table: WireHeadTable }
  | { type: 'nearHeads'; job: number; layer: number; head: number; near: NearHead[] }
  | { type: 'headsStopped'; job: number; cancelled: boolean; message: string };

// ------------------------------------------------------------------------------------------------ webview → host

/** A rectangle of full-resolution cells. */
export interface Region {
  r0: number;
  c0: number;
  rows: number;
  cols: number;
}

export type FromWebview =
  /** Sent once the script runs (and again after revival); `kind` is the view kind it had before. */
  | { type: 'ready'; kind?: ViewKind }
  | { type: 'requestMatrix'; id: number; kind: ViewKind }
  | { type: 'requestTile'; id: number; kind: ViewKind; region: Region }
  | { type: 'requestCell'; id: number; kind: ViewKind; row: number; col: number }
  | { type: 'requestRow'; id: number; kind: ViewKind; row: number }
  | { type: 'requestColumn'; id: number; kind: ViewKind; col: number }
  /** `rows`: the selected query rows (at most MAX_SELECTION). */
  | { type: 'requestSelection'; id: number; kind: ViewKind; rows: number[] }
  /** What is on screen, so the host exports the same kind and region. `region` is absent at "fit". */
  | { type: 'viewState'; kind: ViewKind; region?: Region }
  /** `extra`: an index on each picker axis of a dump (batch, sample…), in file order; absent keeps them. */
  | { type: 'selectHead'; layer: number; head: number; extra?: number[] }
  | { type: 'export'; format: 'png' | 'csv' }
  | { type: 'png'; id: number; bytes?: Uint8Array; error?: string }
  | { type: 'copyCell'; kind: ViewKind; row: number; col: number }
  | { type: 'timing'; name: 'firstFrame' | 'hover'; ms: number }
  /** The head table of what is shown (a job: HeadsMessage replies). */
  | { type: 'requestHeads'; job: number }
  | { type: 'requestNearHeads'; job: number; layer: number; head: number }
  /** Ask the user for a tokens file, then compute the head table again with it (a job). */
  | { type: 'pickTokens'; job: number }
  | { type: 'cancelHeads'; job: number };

/** The webview's reply to the host's `exportPng` request. */
export type WebviewReply = Extract<FromWebview, { type: 'png' }>;

// ------------------------------------------------------------------------------------------------ request pairs

/** What the webview asks the host, and the reply type each request gets (src/shared/messageHandler.ts). */
export const WEBVIEW_REQUESTS = {
  requestMatrix: 'matrix', requestTile: 'tile', requestCell: 'cell', requestRow: 'row',
  requestColumn: 'column', requestSelection: 'selection',
} as const satisfies Partial<Record<FromWebview['type'], HostReply['type']>>;

/** What the host asks the webview, and the reply type. */
export const HOST_REQUESTS = { exportPng: 'png' } as const satisfies Partial<Record<ToWebview['type'], WebviewReply['type']>>;

/** Whether a message to the webview is the reply to one of its requests. */
export function isHostReply(m: ToWebview): m is HostReply {
  return m.type === 'matrix' || m.type === 'tile' || m.type === 'cell' || m.type === 'row' || m.type === 'column' || m.type === 'selection';
}

/** Most picker axes a selectHead message may carry (a dump's axes before layers × heads). */
export const MAX_PICKERS = 16;

/** Largest PNG the host accepts from the webview (a 4K canvas with a legend is well under this). */
export const MAX_PNG_BYTES = 64 * 1024 * 1024;

// ------------------------------------------------------------------------------------------------ validation

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isIndex = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isKind = (x: unknown): x is ViewKind => typeof x === 'string' && (VIEW_KINDS as readonly string[]).includes(x);

function isRegion(x: unknown): x is Region {
  return isObj(x) && isIndex(x.r0) && isIndex(x.c0) && isIndex(x.rows) && isIndex(x.cols) && x.rows > 0 && x.cols > 0;
}

/**
 * A well-formed FromWebview message, or undefined. Checks types only (indices are non-negative safe integers,
 * kinds are known); the host still checks indices against the model it holds.
 */
export function parseFromWebview(m: unknown): FromWebview | undefined {
  if (!isObj(m) || typeof m.type !== 'string') return undefined;
  switch (m.type) {
    case 'ready':
      return isKind(m.kind) ? { type: 'ready', kind: m.kind } : { type: 'ready' };
    case 'requestMatrix':
      return isIndex(m.id) && isKind(m.kind) ? { type: 'requestMatrix', id: m.id, kind: m.kind } : undefined;
    case 'requestTile':
      return isIndex(m.id) && isKind(m.kind) && isRegion(m.region)
        ? { type: 'requestTile', id: m.id, kind: m.kind, region: pickRegion(m.region) } : undefined;
    case 'requestCell':
      return isIndex(m.id) && isKind(m.kind) && isIndex(m.row) && isIndex(m.col)
        ? { type: 'requestCell', id: m.id, kind: m.kind, row: m.row, col: m.col } : undefined;
    case 'requestRow':
      return isIndex(m.id) && isKind(m.kind) && isIndex(m.row) ? { type: 'requestRow', id: m.id, kind: m.kind, row: m.row } : undefined;
    case 'requestColumn':
      return isIndex(m.id) && isKind(m.kind) && isIndex(m.col) ? { type: 'requestColumn', id: m.id, kind: m.kind, col: m.col } : undefined;
    case 'requestSelection':
      return isIndex(m.id) && isKind(m.kind) && Array.isArray(m.rows) && m.rows.length > 0 && m.rows.length <= MAX_SELECTION && m.rows.every(isIndex)
        ? { type: 'requestSelection', id: m.id, kind: m.kind, rows: m.rows.slice() as number[] } : undefined;
    case 'viewState':
      if (!isKind(m.kind)) return undefined;
      if (m.region === undefined) return { type: 'viewState', kind: m.kind };
      return isRegion(m.region) ? { type: 'viewState', kind: m.kind, region: pickRegion(m.region) } : undefined;
    case 'selectHead':
      if (!isIndex(m.layer) || !isIndex(m.head)) return undefined;
      if (m.extra === undefined) return { type: 'selectHead', layer: m.layer, head: m.head };
      return Array.isArray(m.extra) && m.extra.length <= MAX_PICKERS && m.extra.every(isIndex)
        ? { type: 'selectHead', layer: m.layer, head: m.head, extra: [...(m.extra as number[])] } : undefined;
    case 'export':
      return m.format === 'png' || m.format === 'csv' ? { type: 'export', format: m.format } : undefined;
    case 'png':
      if (!isIndex(m.id)) return undefined;
      if (m.bytes instanceof Uint8Array && m.bytes.length <= MAX_PNG_BYTES) return { type: 'png', id: m.id, bytes: m.bytes };
      return typeof m.error === 'string' ? { type: 'png', id: m.id, error: m.error.slice(0, 500) } : undefined;
    case 'copyCell':
      return isKind(m.kind) && isIndex(m.row) && isIndex(m.col) ? { type: 'copyCell', kind: m.kind, row: m.row, col: m.col } : undefined;
    case 'timing':
      return (m.name === 'firstFrame' || m.name === 'hover') && typeof m.ms === 'number' && Number.isFinite(m.ms) && m.ms >= 0
        ? { type: 'timing', name: m.name, ms: m.ms } : undefined;
    case 'requestHeads':
    case 'pickTokens':
    case 'cancelHeads':
      return isIndex(m.job) ? { type: m.type, job: m.job } : undefined;
    case 'requestNearHeads':
      return isIndex(m.job) && isIndex(m.layer) && isIndex(m.head) ? { type: 'requestNearHeads', job: m.job, layer: m.layer, head: m.head } : undefined;
    default:
      return undefined;
  }
}

function pickRegion(r: Region): Region {
  return { r0: r.r0, c0: r.c0, rows: r.rows, cols: r.cols };
}

/** Clip a region to a rows × cols matrix; undefined when nothing is left. */
export function clipRegion(r: Region, rows: number, cols: number): Region | undefined {
  const r0 = Math.min(r.r0, rows);
  const c0 = Math.min(r.c0, cols);
  const r1 = Math.min(rows, r.r0 + r.rows);
  const c1 = Math.min(cols, r.c0 + r.cols);
  return r1 > r0 && c1 > c0 ? { r0, c0, rows: r1 - r0, cols: c1 - c0 } : undefined;
}

/** For exhaustive switches: a compile error when a message type is not handled. */
export function assertNever(x: never): never {
  throw new Error(`unhandled message ${JSON.stringify(x)}`);
}

/** What the webview persists (getState/setState): UI state only, never matrices. */
export interface HeatmapPanelState {
  /** The source's id (file URI plus "#member"), so a revived panel can rebuild its source. */
  sourceId?: string;
  kind?: ViewKind;
  colorMap?: string;
  scaleMode?: 'linear' | 'log';
  /** View centre in fractions of the matrix and zoom relative to fit. */
  view?: { cx: number; cy: number; zoom: number; rows: number; cols: number };
  pinnedRow?: number;
  /** The token view: which way hovering reads (its row: attends to; its column: attended by) and the search box. */
  tokens?: { direction: 'row' | 'col'; search: string; regex: boolean; caseSensitive: boolean };
  /** The head table's sort, filter and grid tint. */
  heads?: {
    sort?: HeadMetric; ascending?: boolean; tint?: HeadMetric; order?: boolean; filterMetric?: HeadMetric; filterMin?: number;
  };
}
