/**
 * The row-block kernels shared by the main thread and the workers: the WASM SIMD kernel
 * (assembly/attention.ts) for dot-product scores, and the plain-TypeScript `attendRows` for everything else
 * or when the .wasm cannot be loaded. A job describes all heads; chunks of rows are handed out by index.
 */
import * as fs from 'fs';
import { attendRows } from '../attention/rows';
import type { MaskSpec, Similarity } from '../attention/types';

/** Everything a kernel needs, as flat float32 arrays (SharedArrayBuffer-backed when sent to workers). */
export interface KernelJob {
  heads: number;
  nq: number;
  nk: number;
  dk: number;
  dv: number;
  similarity: Similarity;
  scaleFactor: number;
  mask: MaskSpec;
  /** [h, nq, dk] (cosine already normalised to unit rows, so it runs as dot). */
  q: Float32Array;
  /** [kvHeads, nk, dk] */
  k: Float32Array;
  /** [kvHeads, nk, dv] */
  v: Float32Array;
  /**
   * Heads of K and V (default `heads`); fewer with grouped-query attention, where query head h reads KV head
   * ⌊h·kvHeads/heads⌋ (kvHeadOf).
   */
  kvHeads?: number;
  /** out [h, nq, nk]; absent only when `weightsFd` takes the weights and the WASM kernel runs every chunk. */
  weights?: Float32Array;
  /**
   * An open file the weights also go to, written (pwrite, on whichever thread computed them) as each block of
   * rows is final: element e of [h, nq, nk] at byte `weightsFileOffset + 4e`, float32 in host byte order.
   */
  weightsFd?: number;
  weightsFileOffset?: number;
  /** out [h, nq, dv] */
  output: Float32Array;
  /** out, optional [h, nq, nk]: raw scores and scaled (masked) scores, for the score views. */
  scores?: Float32Array;
  scaled?: Float32Array;
  /** Rows per chunk handed out to a thread. */
  chunkRows: number;
}

export function chunksPerHead(job: KernelJob): number {
  return Math.ceil(job.nq / job.chunkRows);
}

/** Head and query rows [r0, r1) of chunk c. */
export function chunkRange(job: KernelJob, c: number): { head: number; r0: number; r1: number } {
  const cph = chunksPerHead(job);
  const r0 = (c % cph) * job.chunkRows;
  return { head: Math.floor(c / cph), r0, r1: Math.min(job.nq, r0 + job.chunkRows) };
}

/** The K/V head query head h reads: ⌊h·kvHeads/heads⌋ (repeat_kv), h itself without grouping. */
export function kvHeadOf(job: Pick<KernelJob, 'heads' | 'kvHeads'>, h: number): number {
  return job.kvHeads === undefined || job.kvHeads === job.heads ? h : Math.floor((h * job.kvHeads) / job.heads);
}

export function totalChunks(job: KernelJob): number {
  return job.heads * chunksPerHead(job);
}

/** Does the WASM kernel compute such a job (else the TypeScript one does)? */
export function wasmFits(similarity: Similarity, withScores: boolean, scaleFactor: number): boolean {
  // The kernel recovers raw scores by dividing by the scale folded into Q, so a zero scale needs TypeScript.
  return (similarity === 'dot' || similarity === 'cosine') && (!withScores || scaleFactor !== 0);
}

/** The name of errors from writing `weightsFd`: final, unlike a crashed worker (which falls back to this thread). */
export const WRITE_ERROR = 'WeightsWriteError';

/** Write all of `bytes` at `position` of fd; errors carry WRITE_ERROR as their name. */
function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  try {
    for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
  } catch (e) {
    const err = new Error((e as NodeJS.ErrnoException).code ?? (e as Error).message);
    err.name = WRITE_ERROR;
    throw err;
  }
}

/** Compute chunk `c` (head and row range derived from it) with WASM when possible, else TypeScript. */
export function runChunk(job: KernelJob, c: number, wasm: WasmKernel | undefined): number {
  const { head: h, r0, r1 } = chunkRange(job, c);
  if (wasm && wasmFits(job.similarity, job.scores !== undefined, job.scaleFactor)) {
    wasm.rows(job, h, r0, r1);
  } else {
    const { nq, nk, dk, dv } = job;
    const weights = job.weights;
    if (!weights) throw new Error('the TypeScript kernel needs a weights array');
    const g = kvHeadOf(job, h);
    attendRows(
      {
        q: job.q.subarray(h * nq * dk, (h + 1) * nq * dk), k: job.k.subarray(g * nk * dk, (g + 1) * nk * dk),
        v: job.v.subarray(g * nk * dv, (g + 1) * nk * dv), nq, nk, dk, dv,
      },
      h, job.similarity === 'cosine' ? 'dot' : job.similarity, job.scaleFactor, job.mask, r0, r1,
      {
        weights, output: job.output, scores: job.scores, scaled: job.scaled,
        weightsOffset: h * nq * nk, outputOffset: h * nq * dv,
      },
    );
    if (job.weightsFd !== undefined) {
      const e0 = (h * nq + r0) * nk;
      const bytes = new Uint8Array(weights.buffer, weights.byteOffset + e0 * 4, (r1 - r0) * nk * 4);
      writeAll(job.weightsFd, bytes, (job.weightsFileOffset ?? 0) + e0 * 4);
    }
  }
  return r1 - r0;
}

// The WebAssembly global exists in every Node we run on; its types live in the DOM lib, which src/ does not
// load, so declare the little we use.
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
export interface WasmModule { readonly __brand?: 'WebAssembly.Module' }
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: unknown };
  validate(bytes: Uint8Array): boolean;
};

const BLOCK = 16; // query rows per kernel call: a 16 × n_k score block stays in L2 up to n_k ≈ 8192
const BASE = 65536; // the first page is left to the module's own (empty) data

/** The compiled modules by file; null where the file is missing or this runtime cannot run it. */
const cachedModules = new Map<string, WasmModule | null>();
let relaxedFlagTried = false;

/**
 * Can this runtime compile the module? Relaxed SIMD (attention-fma.wasm) is standard from V8 11.4 (Node 22,
 * every VS Code since 1.82); Node 20's V8 11.3 has it behind --experimental-wasm-relaxed-simd, which is turned
 * on here once, only when validation fails without it (the flag only admits these extra instructions).
 */
function validates(bytes: Uint8Array, relaxed: boolean): boolean {
  if (WebAssembly.validate(bytes)) return true;
  if (!relaxed || relaxedFlagTried) return false;
  relaxedFlagTried = true;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('v8') as typeof import('v8')).setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return WebAssembly.validate(bytes);
}

/** The compiled module, or undefined (and the caller's next choice) if the .wasm is missing or invalid here. */
export function loadWasmModule(file: string | undefined): WasmModule | undefined {
  if (!file) return undefined;
  let module = cachedModules.get(file);
  if (module === undefined) {
    try {
      const bytes = fs.readFileSync(file);
      module = validates(bytes, file.endsWith('-fma.wasm')) ? new WebAssembly.Module(bytes) : null;
    } catch {
      module = null;
    }
    cachedModules.set(file, module);
  }
  return module ?? undefined;
}

/** The first of `files` this runtime can run (the fused multiply-add build first), with its file. */
export function loadBestWasm(files: (string | undefined)[]): { file: string; module: WasmModule } | undefined {
  for (const file of files) {
    const module = loadWasmModule(file);
    if (file && module) return { file, module };
  }
  return undefined;
}

/** Forget the cached modules (tests switch between paths). */
export function resetWasmModule(): void {
  cachedModules.clear();
}

interface Exports {
  memory: WasmMemory;
  attendBlock(rows: number, dk: number, nkp: number, dvp: number, q: number, kt: number, vp: number,
    lim: number, bias: number, s: number, o: number, raw: number): void;
  packPanels(src: number, nk: number, dk: number, dst: number): void;
  packColumns(src: number, nk: number, dv: number, dst: number): void;
  scoreViews(rows: number, nkp: number, raw: number, lim: number, bias: number, scl: number, toRaw: number, toScaled: number): void;
}

/** One instance of the WASM kernel with its own memory; packs K and V per head, then runs row blocks. */
export class WasmKernel {
  private readonly exports: Exports;
  /** The job and KV head whose K and V are packed now (query heads of one group reuse them). */
  private packedFor: { job: KernelJob; head: number } | undefined;
  private layout = { nkp: 0, dvp: 0, kt: 0, vp: 0, q: 0, lim: 0, bias: 0, s: 0, o: 0, raw: 0, scl: 0 };

  constructor(module: WasmModule) {
    this.exports = new WebAssembly.Instance(module, {}).exports as unknown as Exports;
  }

  private ensure(bytes: number): void {
    const mem = this.exports.memory;
    const need = Math.ceil(bytes / 65536) - mem.buffer.byteLength / 65536;
    if (need > 0) mem.grow(need);
  }

  /** Pack KV head h's K (transposed, in 8-key panels) and V (in 8-column panels) into linear memory. */
  private pack(job: KernelJob, h: number): void {
    const { nk, dk, dv } = job;
    const nkp = Math.ceil(nk / 8) * 8;
    const dvp = Math.ceil(dv / 8) * 8;
    const kt = BASE;
    const vp = kt + nkp * dk * 4;
    const q = vp + dvp * nkp * 4;
    const lim = q + BLOCK * dk * 4;
    const bias = lim + BLOCK * 4;
    const s = bias + (job.mask.kind === 'matrix' ? BLOCK * nkp * 4 : 0);
    const o = s + BLOCK * nkp * 4;
    const raw = o + BLOCK * dvp * 4;
    const scl = raw + (job.scores ? BLOCK * nkp * 4 : 0);
    const src = scl + (job.scores ? BLOCK * nkp * 4 : 0); // K's or V's rows, unpacked, on their way in
    this.ensure(src + nk * Math.max(dk, dv) * 4);
    this.layout = {
      nkp, dvp, kt, vp, q, lim, bias: job.mask.kind === 'matrix' ? bias : 0, s, o, raw: job.scores ? raw : 0, scl: job.scores ? scl : 0,
    };
    const f = new Float32Array(this.exports.memory.buffer);
    f.set(job.k.subarray(h * nk * dk, (h + 1) * nk * dk), src >> 2);
    this.exports.packPanels(src, nk, dk, kt);
    f.set(job.v.subarray(h * nk * dv, (h + 1) * nk * dv), src >> 2);
    this.exports.packColumns(src, nk, dv, vp);
    this.packedFor = { job, head: h };
  }

  /** The block's weight rows to job.weightsFd, straight from linear memory: one write when rows are unpadded. */
  private writeWeights(job: KernelJob, h: number, b0: number, n: number, buf: ArrayBuffer): void {
    const { nq, nk } = job;
    const fd = job.weightsFd as number;
    const L = this.layout;
    const at = (job.weightsFileOffset ?? 0) + (h * nq + b0) * nk * 4;
    if (L.nkp === nk) {
      writeAll(fd, new Uint8Array(buf, L.s, n * nk * 4), at);
      return;
    }
    for (let i = 0; i < n; i++) writeAll(fd, new Uint8Array(buf, L.s + i * L.nkp * 4, nk * 4), at + i * nk * 4);
  }

  /** Raw scores (S / scale) and scaled scores (S, −∞ where masked) of the block's rows, made in WASM and copied out. */
  private copyScores(job: KernelJob, h: number, b0: number, n: number, f: Float32Array): void {
    const { nq, nk } = job;
    const scores = job.scores as Float32Array;
    const scaled = job.scaled as Float32Array;
    const L = this.layout;
    // The kernel's scores are in log2 units: S = scale · log2(e) · q·k.
    this.exports.scoreViews(n, L.nkp, L.raw, L.lim, L.bias, L.scl, 1 / (job.scaleFactor * Math.LOG2E), Math.LN2);
    for (let i = 0; i < n; i++) {
      const dst = (h * nq + b0 + i) * nk;
      scores.set(f.subarray((L.raw >> 2) + i * L.nkp, (L.raw >> 2) + i * L.nkp + nk), dst);
      scaled.set(f.subarray((L.scl >> 2) + i * L.nkp, (L.scl >> 2) + i * L.nkp + nk), dst);
    }
  }

  /** Rows [r0, r1) of head h into job.weights (and/or job.weightsFd) and job.output. */
  rows(job: KernelJob, h: number, r0: number, r1: number): void {
    const g = kvHeadOf(job, h);
    if (this.packedFor?.job !== job || this.packedFor.head !== g) this.pack(job, g);
    const { nq, nk, dk, dv, scaleFactor, mask } = job;
    const L = this.layout;
    const buf = this.exports.memory.buffer;
    const f = new Float32Array(buf);
    const lims = new Int32Array(buf, L.lim, BLOCK);
    for (let b0 = r0; b0 < r1; b0 += BLOCK) {
      const n = Math.min(BLOCK, r1 - b0);
      const rows4 = (n + 3) & ~3;
      const qOff = L.q >> 2;
      const qBase = (h * nq + b0) * dk;
      // log2(e) folded in so the kernel's softmax is 2^(x − max), one multiply cheaper per score.
      const qScale = scaleFactor * Math.LOG2E;
      for (let i = 0; i < n * dk; i++) f[qOff + i] = job.q[qBase + i] * qScale;
      f.fill(0, qOff + n * dk, qOff + rows4 * dk);
      for (let i = 0; i < rows4; i++) {
        const row = b0 + i;
        lims[i] = i >= n ? 0 : mask.kind === 'causal' ? Math.max(0, Math.min(nk, row + mask.offset + 1)) : nk;
      }
      if (mask.kind === 'matrix') {
        const base = mask.perHead ? h * nq * nk : 0;
        for (let i = 0; i < n; i++) {
          const bo = (L.bias >> 2) + i * L.nkp;
          const mo = base + (b0 + i) * nk;
          for (let j = 0; j < nk; j++) f[bo + j] = mask.data[mo + j] ? 0 : -Infinity;
          f.fill(0, bo + nk, bo + L.nkp);
        }
      }
      this.exports.attendBlock(rows4, dk, L.nkp, L.dvp, L.q, L.kt, L.vp, L.lim, L.bias, L.s, L.o, L.raw);
      if (L.raw && job.scores && job.scaled) this.copyScores(job, h, b0, n, f);
      for (let i = 0; i < n; i++) {
        const so = (L.s >> 2) + i * L.nkp;
        job.weights?.set(f.subarray(so, so + nk), (h * nq + b0 + i) * nk);
        const oo = (L.o >> 2) + i * L.dvp;
        job.output.set(f.subarray(oo, oo + dv), (h * nq + b0 + i) * dv);
      }
      if (job.weightsFd !== undefined) this.writeWeights(job, h, b0, n, buf);
    }
  }
}
