/**
 * Exact detail of a streamed head, computed on demand from Q and K: a tile of weights (or raw / scaled scores) from
 * the per-row max and sum the sweep kept, and a single cell or row computed whole in float64 — the same arithmetic, in
 * the same order, as the in-memory reference (attention.ts attendRows), so a row's weights and a cell's rank are the
 * ones a full computation would give.
 */
import { rankInRow } from '../../shared/inspect';
import { MatrixError } from '../ndarray';
import type { RowStats, StreamHead, StreamSettings } from './types';

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

export class StreamDetail {
  /** |k_j| for cosine, computed on first use. */
  private kNorms: Float64Array | undefined;
  private lastMask: { row: number; data: Uint8Array } | undefined;

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
    for (let j = c0; j < c1; j++) {
      const ko = j * dk;
      let s = 0;
      switch (sim) {
        case 'dot':
          for (let t = 0; t < dk; t++) s += q[qo + t] * k[ko + t];
          break;
        case 'cosine': {
          for (let t = 0; t < dk; t++) s += q[qo + t] * k[ko + t];
          const n = qNorm * (kNorm as Float64Array)[j];
          s = n === 0 ? 0 : s / n;
          break;
        }
        case 'laplacian':
          for (let t = 0; t < dk; t++) s -= Math.abs(q[qo + t] - k[ko + t]);
          break;
        case 'euclidean':
          for (let t = 0; t < dk; t++) {
            const e = q[qo + t] - k[ko + t];
            s -= e * e;
          }
          break;
      }
      out[j - c0] = s;
    }
  }

  private checkRow(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.head.nq) throw new MatrixError(`row ${i} is outside 0…${this.head.nq - 1}`);
  }

  /** Row i whole, exactly as the reference computes it. */
  async row(i: number): Promise<StreamRow> {
    this.checkRow(i);
    const { nk, dv, v } = this.head;
    const sf = this.settings.scaleFactor;
    const mask = await this.maskRows(i, i + 1);
    const s = new Float64Array(nk);
    this.scoreRow(i, 0, nk, s);
    const scores = Float32Array.from(s);
    const scaled = new Float32Array(nk);
    const x = new Float64Array(nk);
    let max = -Infinity;
    for (let j = 0; j < nk; j++) {
      const y = this.visible(i, j, mask, 0) ? s[j] * sf : -Infinity;
      x[j] = y;
      scaled[j] = y;
      if (!(y <= max)) max = y;
    }
    const weights = new Float32Array(nk);
    const acc = v ? new Float64Array(dv) : undefined;
    if (max !== -Infinity) {
      let sum = 0;
      for (let j = 0; j < nk; j++) {
        const e = Math.exp(x[j] - max);
        x[j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < nk; j++) {
        const w = x[j] * inv;
        weights[j] = w;
        if (w === 0 || !acc || !v) continue;
        for (let c = 0; c < dv; c++) acc[c] += w * v[j * dv + c];
      }
    }
    return { row: i, weights, scores, scaled, output: acc ? Array.from(acc) : undefined };
  }

  /** One cell: weight, raw and scaled score, and its rank in the row (which needs the row). */
  async cell(i: number, j: number): Promise<StreamCell> {
    this.checkRow(i);
    if (!Number.isInteger(j) || j < 0 || j >= this.head.nk) throw new MatrixError(`column ${j} is outside 0…${this.head.nk - 1}`);
    const r = await this.row(i);
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
}
