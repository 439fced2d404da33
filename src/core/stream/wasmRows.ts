/**
 * The WASM SIMD kernel (assembly/attention.ts, the same build the in-memory path runs) behind the RowBlockKernel
 * seam. Its `attendBlock` already does a block of query rows over every key (S = Q·Kᵀ, safe softmax, O = P·V), so
 * one call per 16 rows gives weights, scores and outputs; each row's max and sum come from its weights (the largest
 * weight is 2⁰/sum exactly, at the row's largest score). Under a causal mask only the keys a chunk can see are
 * computed: K is packed once (its panels are a prefix-stable layout) and V is re-packed for the chunk's key prefix.
 */
import type { WasmModule } from '../compute/kernel';
import type { KernelHead, RowBlockKernel, WeightsBlock } from './rowBlock';
import type { RowStats } from './types';

interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
declare const WebAssembly: {
  Instance: new (module: WasmModule, imports: object) => { readonly exports: unknown };
};

interface Exports {
  memory: WasmMemory;
  attendBlock(rows: number, dk: number, nkp: number, dvp: number, q: number, kt: number, vp: number, lim: number, bias: number, s: number, o: number, raw: number): void;
  packPanels(src: number, nk: number, dk: number, dst: number): void;
  packColumns(src: number, nk: number, dv: number, dst: number): void;
}

/** Query rows per kernel call: a 16 × n_k block (4 MiB at n_k = 65,536, three of them) stays small. */
const BLOCK = 16;
const BASE = 65536;

export class WasmRowBlocks implements RowBlockKernel {
  private readonly exports: Exports;
  private head: KernelHead | undefined;
  private key: unknown;
  private L = { nkp: 0, dvp: 0, kt: 0, vp: 0, q: 0, lim: 0, bias: 0, s: 0, o: 0, raw: 0, src: 0 };
  /** Key prefix V is packed for (0: not packed). */
  private vFor = 0;
  private readonly max = new Float64Array(BLOCK);
  private readonly sum = new Float64Array(BLOCK);

  constructor(module: WasmModule) {
    this.exports = new WebAssembly.Instance(module, {}).exports as unknown as Exports;
  }

  /** Use this head from now on; `key` identifies it (the same key skips re-packing K). */
  bind(head: KernelHead, key: unknown): this {
    if (this.head && this.key === key) return this;
    const { nk, dk, dv } = head;
    const nkp = Math.ceil(nk / 8) * 8;
    const dvp = head.v ? Math.ceil(dv / 8) * 8 : 0;
    const kt = BASE;
    const vp = kt + nkp * dk * 4;
    const q = vp + dvp * nkp * 4;
    const lim = q + BLOCK * dk * 4;
    const bias = lim + BLOCK * 4;
    const s = bias + BLOCK * nkp * 4;
    const o = s + BLOCK * nkp * 4;
    const raw = o + BLOCK * Math.max(8, dvp) * 4;
    const src = raw + BLOCK * nkp * 4;
    const end = src + nk * Math.max(dk, dv) * 4;
    const mem = this.exports.memory;
    const need = Math.ceil(end / 65536) - mem.buffer.byteLength / 65536;
    if (need > 0) mem.grow(need);
    this.L = { nkp, dvp, kt, vp, q, lim, bias, s, o, raw, src };
    new Float32Array(mem.buffer).set(head.k.subarray(0, nk * dk), src >> 2);
    this.exports.packPanels(src, nk, dk, kt);
    this.head = head;
    this.key = key;
    this.vFor = 0;
    return this;
  }

  private packV(prefix: number): void {
    if (this.vFor === prefix) return;
    const h = this.head as KernelHead;
    const v = h.v as Float32Array;
    new Float32Array(this.exports.memory.buffer).set(v.subarray(0, prefix * h.dv), this.L.src >> 2);
    this.exports.packColumns(this.L.src, prefix, h.dv, this.L.vp);
    this.vFor = prefix;
  }

  rowStats(r0: number, r1: number, mask: Uint8Array | undefined, stats: RowStats): void {
    this.attend(r0, r1, mask, (b) => {
      stats.max.set(this.max.subarray(0, b.rows), b.row0);
      stats.sum.set(this.sum.subarray(0, b.rows), b.row0);
    });
  }

  attend(r0: number, r1: number, mask: Uint8Array | undefined, visit?: (b: WeightsBlock) => void, output?: Float32Array): void {
    const h = this.head;
    if (!h) throw new Error('WasmRowBlocks: no head bound');
    const { nk, dk, dv, causalOffset } = h;
    const L = this.L;
    // Keys any row of [r0, r1) can see: under a causal mask a prefix, so the rest is never computed.
    const prefix = causalOffset === undefined ? nk : Math.max(1, Math.min(nk, r1 - 1 + causalOffset + 1));
    const nkp = Math.ceil(prefix / 8) * 8;
    const withOutput = output !== undefined && h.v !== undefined;
    if (withOutput) this.packV(prefix);
    const buf = this.exports.memory.buffer;
    const f = new Float32Array(buf);
    const lims = new Int32Array(buf, L.lim, BLOCK);
    const qScale = h.scaleFactor * Math.LOG2E; // the kernel's softmax is 2^(x − max): log2(e) folded into Q
    const qOff = L.q >> 2;
    for (let b0 = r0; b0 < r1; b0 += BLOCK) {
      const n = Math.min(BLOCK, r1 - b0);
      const rows4 = (n + 3) & ~3;
      for (let i = 0; i < n * dk; i++) f[qOff + i] = h.q[b0 * dk + i] * qScale;
      f.fill(0, qOff + n * dk, qOff + rows4 * dk);
      for (let i = 0; i < rows4; i++) {
        lims[i] = i >= n ? 0 : causalOffset === undefined ? prefix : Math.max(0, Math.min(prefix, b0 + i + causalOffset + 1));
      }
      if (mask) {
        for (let i = 0; i < n; i++) {
          const bo = (L.bias >> 2) + i * nkp;
          const mo = (b0 + i - r0) * nk;
          for (let j = 0; j < prefix; j++) f[bo + j] = mask[mo + j] ? 0 : -Infinity;
          f.fill(0, bo + prefix, bo + nkp);
        }
      }
      this.exports.attendBlock(rows4, dk, nkp, withOutput ? L.dvp : 0, L.q, L.kt, L.vp, L.lim, mask ? L.bias : 0, L.s, L.o, L.raw);
      this.rowMaxSum(n, nkp, f);
      if (visit) {
        visit({
          row0: b0, rows: n, weights: new Float32Array(buf, L.s, n * nkp), stride: nkp, stored: prefix,
          scores: new Float32Array(buf, L.raw, n * nkp), scoreUnit: Math.LN2, max: this.max, sum: this.sum,
        });
      }
      if (withOutput) {
        const out = output as Float32Array;
        for (let i = 0; i < n; i++) {
          const oo = (L.o >> 2) + i * L.dvp;
          out.set(f.subarray(oo, oo + dv), (b0 + i - r0) * dv);
        }
      }
    }
  }

  /** Each row's max (natural units) and sum from its weights: the largest weight is 1/sum, at the max score. */
  private rowMaxSum(n: number, nkp: number, f: Float32Array): void {
    const L = this.L;
    const lims = new Int32Array(f.buffer, L.lim, BLOCK);
    for (let i = 0; i < n; i++) {
      const base = (L.s >> 2) + i * nkp;
      const lim = lims[i];
      let best = -1;
      let arg = 0;
      for (let j = 0; j < lim; j++) {
        const w = f[base + j];
        if (w > best) {
          best = w;
          arg = j;
        }
      }
      if (best > 0) {
        this.sum[i] = 1 / best;
        this.max[i] = f[(L.raw >> 2) + i * nkp + arg] * Math.LN2;
      } else if (best === 0 || lim === 0) {
        this.max[i] = -Infinity;
        this.sum[i] = 0;
      } else {
        this.max[i] = NaN; // a NaN score made the whole row NaN, as in the in-memory path
        this.sum[i] = NaN;
      }
    }
  }
}
