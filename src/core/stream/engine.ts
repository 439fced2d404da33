/**
 * The streamed engine for one head: a sweep over chunks of query rows (on the worker pool when it is large) that
 * yields each row's softmax max and sum, its max weight and entropy, the max-pooled overview at a given size (the
 * same blocks and winners as shared/pool.ts maxPool over the full weights) and, when asked, the output O. Nothing of
 * size n_q × n_k is ever allocated: a thread holds one 16-row block of weights at a time. Explicit masks are read
 * lazily, a batch of rows at a time.
 */
import { maskedRowsWarning } from '../attention/rows';
import { findAsset } from '../compute/assets';
import { getPool } from '../compute/fast';
import { nativeFor } from '../compute/native';
import { abortError } from '../compute/pool';
import { MatrixError } from '../ndarray';
import { blockSize } from '../../shared/pool';
import { kernelFor } from './poolJob';
import { NativeRowBlocks } from './nativeRows';
import type { StreamPoolMessage } from './poolJob';
import type { KernelHead } from './rowBlock';
import { runSweepChunk, sweepChunks } from './sweep';
import type { SweepJob } from './sweep';
import type { RowStats, StreamHead, StreamSettings } from './types';
import { ROW_SUMS, streamedScores } from './metricsFold';
import type { SweepMetrics } from './metricsFold';
import type { HeadScores, TokenIndex } from '../heads';

export interface StreamOptions {
  /** Largest side of the max-pooled weights overview; 0 or absent: no overview. */
  overviewSize?: number;
  /** Compute the output rows O (needs head.v). */
  output?: boolean;
  /** Per-row entropy (default: with the overview). */
  entropy?: boolean;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  /** The head metrics of heads.ts (square heads only), with the token metrics when tokens are given. */
  metrics?: boolean;
  tokens?: TokenIndex;
  /**
   * Force a kernel or the pool (tests, bench); default (and `auto`): the process kernel preference as for the
   * in-memory path (compute/native.ts nativeFor: native where the addon loads), else WASM where it fits, and the
   * pool for large heads. `native` throws when the addon cannot run.
   */
  kernel?: 'auto' | 'native' | 'wasm' | 'ts';
  pool?: boolean;
}

export interface StreamOverview {
  rows: number;
  cols: number;
  data: Float32Array;
  blockRows: number;
  blockCols: number;
}

export interface StreamResult {
  nq: number;
  nk: number;
  stats: RowStats;
  /** The largest weight of each row (1/sum; 0 for a fully masked row). */
  rowMax: Float32Array;
  /** Shannon entropy of each row in nats. */
  rowEntropy?: Float64Array;
  overview?: StreamOverview;
  /** [n_q, d_v] */
  output?: Float32Array;
  maskedRows: number[];
  warnings: string[];
  /** With options.metrics. */
  scores?: HeadScores;
}

/** Below this many multiply-adds a sweep runs on this thread (as compute/fast.ts POOL_THRESHOLD). */
const POOL_THRESHOLD = 448 * 448 * 128;
/** Rows per chunk aimed at: ~25 ms of work at n_k = 32,768, d = 64, and fine enough for progress and balance. */
const CHUNK_TARGET = 256;
/** Bytes of explicit-mask rows read ahead per batch. */
const MASK_BATCH_BYTES = 16 << 20;

let nextId = 1;

function sharedFloat32(n: number, what: string): Float32Array {
  try {
    return new Float32Array(new SharedArrayBuffer(n * 4));
  } catch {
    throw new MatrixError(`not enough memory for the ${what} (${(n * 4 / 2 ** 20).toFixed(1)} MiB)`);
  }
}

/** A shared copy of `a` unless it already lives in shared memory (then the view itself travels). */
function share(a: Float32Array): Float32Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const out = sharedFloat32(a.length, 'streamed inputs');
  out.set(a);
  return out;
}

/** Rows scaled to unit length (zero rows stay zero: cosine with a zero vector is 0). */
function unitRows(a: Float32Array, rows: number, d: number, shared: boolean): Float32Array {
  const out = shared ? sharedFloat32(rows * d, 'normalised inputs') : new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += a[r * d + t] * a[r * d + t];
    const inv = s === 0 ? 0 : 1 / Math.sqrt(s);
    for (let t = 0; t < d; t++) out[r * d + t] = a[r * d + t] * inv;
  }
  return out;
}

/** Checks the head's views against its sizes (a wrong view would read past a head). */
export function checkHead(h: StreamHead): void {
  const ok = (x: number) => Number.isInteger(x) && x > 0;
  if (!ok(h.nq) || !ok(h.nk) || !ok(h.dk) || !(Number.isInteger(h.dv) && h.dv >= 0)) throw new MatrixError(`bad head sizes ${h.nq}×${h.nk}, d_k ${h.dk}, d_v ${h.dv}`);
  if (h.q.length !== h.nq * h.dk) throw new MatrixError(`Q holds ${h.q.length} values but should be ${h.nq}×${h.dk}`);
  if (h.k.length !== h.nk * h.dk) throw new MatrixError(`K holds ${h.k.length} values but should be ${h.nk}×${h.dk}`);
  if (h.v && h.v.length !== h.nk * h.dv) throw new MatrixError(`V holds ${h.v.length} values but should be ${h.nk}×${h.dv}`);
}

/** The kernel's view of a head: cosine as dot over unit rows; causal offset; shared when going to workers. */
export function kernelHead(h: StreamHead, s: StreamSettings, shared: boolean): KernelHead {
  const cosine = s.similarity === 'cosine';
  const q = cosine ? unitRows(h.q, h.nq, h.dk, shared) : shared ? share(h.q) : h.q;
  const k = cosine ? unitRows(h.k, h.nk, h.dk, shared) : shared ? share(h.k) : h.k;
  const v = h.v && (shared ? share(h.v) : h.v);
  return {
    q, k, v, nq: h.nq, nk: h.nk, dk: h.dk, dv: h.dv,
    similarity: s.similarity === 'cosine' ? 'dot' : s.similarity, scaleFactor: s.scaleFactor,
    causalOffset: s.mask.kind === 'causal' ? s.mask.offset : undefined,
  };
}

function wasmFiles(): string[] {
  return [findAsset('attention-fma.wasm'), findAsset('attention.wasm')].filter((f): f is string => f !== undefined);
}

/** Sweep one head (see the file comment). Rejects with an AbortError when cancelled. */
export async function streamHead(head: StreamHead, settings: StreamSettings, options: StreamOptions = {}): Promise<StreamResult> {
  checkHead(head);
  const { nq, nk, dk, dv } = head;
  const { signal, onProgress } = options;
  if (signal?.aborted) throw abortError();
  const withOutput = options.output === true;
  if (withOutput && !head.v) throw new MatrixError('the output needs V');
  if (settings.mask.kind === 'rows' && (settings.mask.source.nq !== nq || settings.mask.source.nk !== nk)) {
    throw new MatrixError(`mask is ${settings.mask.source.nq}×${settings.mask.source.nk} but scores are ${nq}×${nk}`);
  }
  const work = nq * nk * (dk + (withOutput ? dv : 0));
  const pool = (options.pool ?? (work >= POOL_THRESHOLD && nq >= 64)) ? getPool() : undefined;
  const shared = pool !== undefined;
  const alloc = (n: number, what: string) => (shared ? sharedFloat32(n, what) : new Float32Array(n));
  const alloc64 = (n: number) => (shared ? new Float64Array(new SharedArrayBuffer(n * 8)) : new Float64Array(n));

  const kh = kernelHead(withOutput ? head : { ...head, v: undefined }, settings, shared);
  const wasm = options.kernel !== 'ts' && kh.similarity === 'dot' && wasmFiles().length > 0;
  // nativeFor: undefined for `wasm`/`ts` and a `wasm` preference; throws when native was asked for by name.
  const native = nativeFor(options.kernel) !== undefined;
  const size = options.overviewSize ?? 0;
  let overview: StreamOverview | undefined;
  if (size > 0) {
    const br = blockSize(nq, size);
    const bc = blockSize(nk, size);
    const rows = Math.ceil(nq / br);
    const cols = Math.ceil(nk / bc);
    overview = { rows, cols, blockRows: br, blockCols: bc, data: alloc(rows * cols, 'overview').fill(-Infinity) };
  }
  const br = overview?.blockRows ?? 1;
  const chunkRows = br * Math.max(1, Math.round(CHUNK_TARGET / br));
  const stats: RowStats = { max: alloc64(nq), sum: alloc64(nq) };
  const entropy = (options.entropy ?? size > 0) ? alloc64(nq) : undefined;
  const output = withOutput ? alloc(nq * dv, 'output') : undefined;
  let metrics: SweepMetrics | undefined;
  if (options.metrics) {
    if (nq !== nk) throw new MatrixError(`the head metrics need square maps (each query also a key); these are ${nq} × ${nk}`);
    if (options.tokens && options.tokens.n !== nq) throw new MatrixError(`the tokens have ${options.tokens.n} entries but the head has ${nq} positions`);
    const t = options.tokens;
    metrics = { rows: alloc64(nq * ROW_SUMS), tokens: t && { ids: t.ids, occStart: t.occStart, occPos: t.occPos } };
  }
  const id = nextId++;
  const base: Omit<SweepJob, 'r0' | 'r1' | 'mask'> = {
    id, head: kh, wasm, native, chunkRows, reverse: kh.causalOffset !== undefined, stats, entropy, output, metrics,
    pooling: overview && { blockRows: overview.blockRows, blockCols: overview.blockCols, cols: overview.cols, data: overview.data },
  };

  const mask = settings.mask.kind === 'rows' ? settings.mask.source : undefined;
  // Batches of whole chunks: all rows at once, or as many mask rows as MASK_BATCH_BYTES holds.
  const batchRows = mask ? chunkRows * Math.max(1, Math.floor(MASK_BATCH_BYTES / (nk * chunkRows))) : nq;
  let done = 0;
  const progress = (rows: number) => onProgress?.(Math.min(1, (done + rows) / nq));
  onProgress?.(0);
  const local = pool ? undefined : kernelFor({ ...base, r0: 0, r1: 0 }, wasmFiles());
  for (let r0 = 0; r0 < nq; r0 += batchRows) {
    const r1 = Math.min(nq, r0 + batchRows);
    let maskRows: Uint8Array | undefined;
    if (mask) {
      const bytes = await mask.rows(r0, r1);
      maskRows = shared ? new Uint8Array(new SharedArrayBuffer(bytes.length)) : bytes;
      if (shared) maskRows.set(bytes);
    }
    if (signal?.aborted) throw abortError();
    const job: SweepJob = { ...base, r0, r1, mask: maskRows };
    if (pool) {
      await pool.runWith((control): StreamPoolMessage => ({ type: 'stream', job, control }), r1 - r0, (f) => progress(f * (r1 - r0)), signal);
    } else {
      try {
        await runHere(job, local as NonNullable<typeof local>, signal, progress);
      } finally {
        if (local instanceof NativeRowBlocks) local.release();
      }
    }
    done += r1 - r0;
  }
  if (signal?.aborted) throw abortError();

  const rowMax = new Float32Array(nq);
  const maskedRows: number[] = [];
  for (let i = 0; i < nq; i++) {
    const m = stats.max[i];
    if (m === -Infinity) maskedRows.push(i);
    rowMax[i] = m === -Infinity ? 0 : Number.isNaN(m) ? NaN : 1 / stats.sum[i];
  }
  const warnings: string[] = [];
  const w = maskedRowsWarning(0, 1, maskedRows);
  if (w) warnings.push(w);
  onProgress?.(1);
  const scores = metrics && streamedScores(metrics, nq);
  return { nq, nk, stats, rowMax, rowEntropy: entropy, overview, output, maskedRows, warnings, scores };
}

async function runHere(job: SweepJob, kernel: ReturnType<typeof kernelFor>, signal: AbortSignal | undefined, progress: (rows: number) => void): Promise<void> {
  const total = sweepChunks(job);
  let rows = 0;
  let last = Date.now();
  for (let c = 0; c < total; c++) {
    if (signal?.aborted) throw abortError();
    rows += runSweepChunk(job, c, kernel);
    progress(rows);
    // A turn for the event loop every ~20 ms, so cancelling and the rest of the host stay responsive.
    if (Date.now() - last > 20 && c + 1 < total) {
      await new Promise((r) => setImmediate(r));
      last = Date.now();
    }
  }
}
