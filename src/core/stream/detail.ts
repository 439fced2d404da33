/**
 * Exact detail of a streamed head, computed on demand from Q and K: a tile of weights (or raw / scaled scores) from
 * the per-row max and sum the sweep kept, and a single cell or row computed whole in float64 — the same arithmetic, in
 * the same order, as the in-memory reference (attention.ts attendRows), so a row's weights and a cell's rank are the
 * ones a full computation would give.
 */
import { findAsset } from '../compute/assets';
import { loadBestWasm } from '../compute/kernel';
import { rankInRow } from '../../shared/inspect';
import { MatrixError } from '../ndarray';
import { dotScores, similarityScore } from '../attention/rows';
import { kernelHead } from './engine';
import type { RowStats, StreamHead, StreamSettings } from './types';
import { WasmRowBlocks } from './wasmRows';

export type StreamKind = 'weights' | 'scores' | 'scaled';

export interface StreamRegion {
  r0: number;
  c0: number;
  rows: number;
  cols: number;
}

export interface StreamCell {
  row: number;
  col: number;
  weight: number;
  /** Raw similarity (dot / cosine / −L1 / −L2²). */
  score: number;
  /** After scale and mask (−∞ where masked). */
  scaled: number;
  /** 1-based rank of the weight in its row (ties share the better rank), of n_k. */
  rank: number;
  of: number;
}

export interface StreamRow {
  row: number;
  weights: Float32Array;
  scores: Float32Array;
  scaled: Float32Array;
  /** O_i = Σ_j w_ij v_j (float64 sums), when V is known. */
  output?: number[];
}

/** Largest tile served, in cells (as the in-memory server's DEFAULT_MAX_TILE_CELLS). */
export const MAX_STREAM_TILE_CELLS = 1024 * 1024;

/** This thread's WASM instance for tiles (dot products of a tile's rows and columns), made on first use. */
let tileKernel: WasmRowBlocks | null | undefined;
let tileKey = 0;

function getTileKernel(): WasmRowBlocks | undefined {
  if (tileKernel === undefined) {
    const module = loadBestWasm([findAsset('attention-fma.wasm'), findAsset('attention.wasm')])?.module;
    tileKernel = module ? new WasmRowBlocks(module) : null;
  }
  return tileKernel ?? undefined;
}

export class StreamDetail {
  /** |k_j| for cosine, computed on first use. */
  private kNorms: Float64Array | undefined;
  private lastMask: { row: number; data: Uint8Array } | undefined;
  /** The last row computed (hovering along a row asks for it again and again). */
  private lastRow: StreamRow | undefined;
  private scratch = new Float64Array(0);
  private scratch2 = new Float64Array(0);
  /** Tiles through the WASM kernel (dot and cosine); false: float64 TypeScript for every tile (tests). */
  wasmTiles = true;

  constructor(readonly head: StreamHead, readonly settings: StreamSettings, readonly stats: RowStats) {}

  private keyNorms(): Float64Array {
    if (!this.kNorms) {
      const { k, nk, dk } = this.head;
      const out = new Float64Array(nk);
      for (let j = 0; j < nk; j++) {
        let s = 0;
        for (let t = 0; t < dk; t++) s += k[j * dk + t] * k[j * dk + t];
        out[j] = Math.sqrt(s);
      }
      this.kNorms = out;
    }
    return this.kNorms;
  }

  /** Which keys of rows [r0, r1) are visible: undefined for no explicit mask (causal is arithmetic). */
  private async maskRows(r0: number, r1: number): Promise<Uint8Array | undefined> {
    const m = this.settings.mask;
    if (m.kind !== 'rows') return undefined;
    if (r1 - r0 === 1 && this.lastMask?.row === r0) return this.lastMask.data;
    const data = await m.source.rows(r0, r1);
    if (r1 - r0 === 1) this.lastMask = { row: r0, data };
    return data;
  }

  private visible(i: number, j: number, mask: Uint8Array | undefined, maskAt: number): boolean {
    const m = this.settings.mask;
    if (m.kind === 'causal') return j <= i + m.offset;
    return !mask || mask[maskAt + j] !== 0;
  }

  /** Raw scores of row i against keys [c0, c1) (float64, as attendRows sums them). */
  private scoreRow(i: number, c0: number, c1: number, out: Float64Array): void {
    const { q, k, dk } = this.head;
    const sim = this.settings.similarity;
    const qo = i * dk;
    let qNorm = 0;
    if (sim === 'cosine') {
      for (let t = 0; t < dk; t++) qNorm += q[qo + t] * q[qo + t];
      qNorm = Math.sqrt(qNorm);
    }
    const kNorm = sim === 'cosine' ? this.keyNorms() : undefined;
    if (sim === 'dot' || (sim === 'cosine' && kNorm)) {
      dotScores(q, qo, k, dk, c0, c1, out);
      if (kNorm) {
        // As similarityScore's cosine: the dot over the product of the norms, 0 when either is 0.
        for (let j = c0; j < c1; j++) {
          const n = qNorm * kNorm[j];
          out[j - c0] = n === 0 ? 0 : out[j - c0] / n;
        }
      }
      return;
    }
    for (let j = c0; j < c1; j++) {
      const ko = j * dk;
      const s = similarityScore(sim, q, qo, k, ko, dk, qNorm, kNorm ? kNorm[j] : 0);
      out[j - c0] = s;
    }
  }

  private checkRow(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.head.nq) throw new MatrixError(`row ${i} is outside 0…${this.head.nq - 1}`);
  }

  /** Row i whole, exactly as the reference computes it, with its output O_i when V is known. */
  async row(i: number): Promise<StreamRow> {
    const r = await this.rowWeights(i);
    const { nk, dv, v } = this.head;
    if (v && !r.output) {
      // O_i = Σ_j w_ij v_j in float64, in key order (as the reference); only asked for by a pin, not by hover.
      const acc = new Float64Array(dv);
      const w = r.weights;
      for (let j = 0; j < nk; j++) {
        const x = w[j];
        if (x === 0) continue;
        for (let c = 0; c < dv; c++) acc[c] += x * v[j * dv + c];
      }
      r.output = Array.from(acc);
    }
    return r;
  }

  /** Row i's weights, scores and scaled scores (no output: a hover needs only these and the rank; so does a difference). */
  async rowWeights(i: number): Promise<StreamRow> {
    this.checkRow(i);
    if (this.lastRow?.row === i) return this.lastRow;
    const { nk } = this.head;
    const sf = this.settings.scaleFactor;
    const mask = await this.maskRows(i, i + 1);
    // Float64 scratch kept between rows (a hover moves from row to row: ~0.5 MiB less garbage each time).
    if (this.scratch.length !== nk) this.scratch = new Float64Array(nk);
    if (this.scratch2.length !== nk) this.scratch2 = new Float64Array(nk);
    const s = this.scratch;
    const x = this.scratch2;
    this.scoreRow(i, 0, nk, s);
    const scores = new Float32Array(s);
    const scaled = new Float32Array(nk);
    let max = -Infinity;
    for (let j = 0; j < nk; j++) {
      const y = this.visible(i, j, mask, 0) ? s[j] * sf : -Infinity;
      x[j] = y;
      scaled[j] = y;
      if (!(y <= max)) max = y;
    }
    const weights = new Float32Array(nk);
    if (max !== -Infinity) {
      let sum = 0;
      for (let j = 0; j < nk; j++) {
        const e = Math.exp(x[j] - max);
        x[j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < nk; j++) weights[j] = x[j] * inv;
    }
    this.lastRow = { row: i, weights, scores, scaled };
    return this.lastRow;
  }

  /** Column j's weights for every query row (n_q dot products), from the sweep's per-row max and sum. */
  async column(j: number): Promise<Float32Array> {
    const { nq, nk } = this.head;
    if (!Number.isInteger(j) || j < 0 || j >= nk) throw new MatrixError(`column ${j} is outside 0…${nk - 1}`);
    const out = new Float32Array(nq);
    const s = new Float64Array(1);
    const sf = this.settings.scaleFactor;
    const m = this.settings.mask;
    // Explicit masks by batches of rows (one column of each row is needed, but rows are what the file holds).
    const BATCH = 1024;
    for (let r0 = 0; r0 < nq; r0 += BATCH) {
      const r1 = Math.min(nq, r0 + BATCH);
      const mask = m.kind === 'rows' ? await m.source.rows(r0, r1) : undefined;
      for (let i = r0; i < r1; i++) {
        const max = this.stats.max[i];
        if (max === -Infinity || !this.visible(i, j, mask, (i - r0) * nk)) continue;
        this.scoreRow(i, j, j + 1, s);
        out[i] = Math.exp(s[0] * sf - max) / this.stats.sum[i];
      }
    }
    return out;
  }

  /** One cell: weight, raw and scaled score, and its rank in the row (which needs the row). */
  async cell(i: number, j: number): Promise<StreamCell> {
    this.checkRow(i);
    if (!Number.isInteger(j) || j < 0 || j >= this.head.nk) throw new MatrixError(`column ${j} is outside 0…${this.head.nk - 1}`);
    const r = await this.rowWeights(i);
    return { row: i, col: j, weight: r.weights[j], score: r.scores[j], scaled: r.scaled[j], rank: rankInRow(r.weights, j), of: this.head.nk };
  }

  /**
   * A region of one kind at full resolution, clipped to the head; weights from the sweep's per-row max and sum.
   * At most MAX_STREAM_TILE_CELLS cells.
   */
  async tile(kind: StreamKind, region: StreamRegion): Promise<{ region: StreamRegion; data: Float32Array }> {
    const { nq, nk } = this.head;
    const r0 = Math.max(0, Math.floor(region.r0));
    const c0 = Math.max(0, Math.floor(region.c0));
    const rows = Math.max(0, Math.min(nq, r0 + Math.floor(region.rows)) - r0);
    const cols = Math.max(0, Math.min(nk, c0 + Math.floor(region.cols)) - c0);
    if (rows * cols > MAX_STREAM_TILE_CELLS) throw new MatrixError(`a tile of ${rows}×${cols} cells is over the limit of ${MAX_STREAM_TILE_CELLS}`);
    const out = new Float32Array(rows * cols);
    const sf = this.settings.scaleFactor;
    const mask = await this.maskRows(r0, r0 + rows);
    const sim = this.settings.similarity;
    const kernel = this.wasmTiles && rows > 0 && cols > 0 && (sim === 'dot' || sim === 'cosine') && (kind !== 'scores' || sf !== 0) ? getTileKernel() : undefined;
    if (kernel) {
      this.tileWasm(kernel, kind, r0, c0, rows, cols, mask, out);
      return { region: { r0, c0, rows, cols }, data: out };
    }
    const s = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const i = r0 + r;
      this.scoreRow(i, c0, c0 + cols, s);
      const o = r * cols;
      if (kind === 'scores') {
        for (let c = 0; c < cols; c++) out[o + c] = s[c];
        continue;
      }
      const max = this.stats.max[i];
      const inv = 1 / this.stats.sum[i];
      for (let c = 0; c < cols; c++) {
        const j = c0 + c;
        const vis = this.visible(i, j, mask, r * nk);
        if (kind === 'scaled') out[o + c] = vis ? s[c] * sf : -Infinity;
        else out[o + c] = !vis || max === -Infinity ? 0 : Math.exp(s[c] * sf - max) * inv;
      }
    }
    return { region: { r0, c0, rows, cols }, data: out };
  }

  /**
   * The tile's scores by the WASM kernel over just its rows and columns (float32 dot products, ~50× the float64
   * loop), then weights from the sweep's max and sum in float64.
   */
  private tileWasm(kernel: WasmRowBlocks, kind: StreamKind, r0: number, c0: number, rows: number, cols: number, mask: Uint8Array | undefined, out: Float32Array): void {
    const { q, k, dk, nk } = this.head;
    const m = this.settings.mask;
    const sf = this.settings.scaleFactor;
    const kh = kernelHead(
      { q: q.subarray(r0 * dk, (r0 + rows) * dk), k: k.subarray(c0 * dk, (c0 + cols) * dk), nq: rows, nk: cols, dk, dv: 0 },
      // The tile's own causal diagonal: j ≤ i + offset ⟺ (j − c0) ≤ (i − r0) + (r0 + offset − c0).
      { ...this.settings, mask: m.kind === 'causal' && kind !== 'scores' ? { kind: 'causal', offset: r0 + m.offset - c0 } : { kind: 'none' } },
      false,
    );
    kernel.bind(kh, `tile ${++tileKey}`).attend(0, rows, undefined, (b) => {
      for (let x = 0; x < b.rows; x++) {
        const r = b.row0 + x;
        const i = r0 + r;
        const max = this.stats.max[i];
        const inv = 1 / this.stats.sum[i];
        const base = x * b.stride;
        const o = r * cols;
        for (let c = 0; c < cols; c++) {
          const j = c0 + c;
          const vis = m.kind === 'causal' ? j <= i + m.offset : !mask || mask[r * nk + j] !== 0;
          const y = b.scores[base + c] * b.scoreUnit; // the scaled score
          if (kind === 'scores') out[o + c] = y / sf;
          else if (kind === 'scaled') out[o + c] = vis ? y : -Infinity;
          else out[o + c] = !vis || max === -Infinity ? 0 : Math.exp(y - max) * inv;
        }
      }
    });
  }
}
