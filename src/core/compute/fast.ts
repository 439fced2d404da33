/**
 * computeAttentionFast: the same maths as the reference (prepareAttention → per-head kernels →
 * combineHeads), with float32 kernels: WASM SIMD for dot/cosine, TypeScript for laplacian/euclidean or
 * when the .wasm is missing; on the worker pool when the job is large, in this thread otherwise.
 *
 * Raw and scaled scores come out of the same kernels by default; with `scores: false` each is computed on first
 * access (by the native kernel where it ran, else by the reference rows on this thread), and `scoreAt` gives
 * single cells from one row at a time: the score views cost nothing until a view shows them.
 */
import { allocFloat32, combineHeads, prepareAttention, stackValues } from '../attention/project';
import { attendRows, maskAllows, maskedRowsWarning } from '../attention/rows';
import type { AttentionInput, AttentionResult, FastOptions, MaskSpec, PreparedAttention } from '../attention/types';
import { findAsset } from './assets';
import { kvHeadOf, loadBestWasm, runChunk, totalChunks, WasmKernel, wasmFits, WRITE_ERROR } from './kernel';
import type { KernelJob } from './kernel';
import { dropNativeReserve, nativeArrays, nativeFor, nativeNonFinite, nativeScoreViews, runNative, sharesSlab, warmNativeReserve } from './native';
import type { NativeAddon } from './native';
import { abortError, ComputePool } from './pool';
import { disposeDumpPool } from '../view/dumpOnPool';

/**
 * Below this many multiply-adds (h·n_q·n_k·(d_k + d_v)) threads cost more than they save. Measured here with
 * d = 64 (medians, 60 ms apart): n = 256 takes 2.1 ms on this thread and 2.5 ms on the pool, n = 384 ties at
 * 2.9 ms, n = 512 is 4.6 ms against 3.4 ms on the pool.
 */
export const POOL_THRESHOLD = 448 * 448 * 128;

export interface EngineOptions extends FastOptions {
  /** WASM kernels only: run on the worker pool (true) or this thread (false); default chooses by size. */
  pool?: boolean;
}

let pool: ComputePool | undefined;
const mainKernels = new Map<string, WasmKernel>();

/** The .wasm builds to try, best first: fused multiply-add (relaxed SIMD), then plain SIMD128. */
function wasmFiles(simdOnly = false): string[] {
  const files = simdOnly ? [findAsset('attention.wasm')] : [findAsset('attention-fma.wasm'), findAsset('attention.wasm')];
  return files.filter((f): f is string => f !== undefined);
}

/** The shared worker pool (spawned on first use), or undefined when dist/worker.js is missing. */
export function getPool(): ComputePool | undefined {
  if (pool) return pool;
  const workerFile = findAsset('worker.js');
  if (!workerFile) return undefined;
  pool = new ComputePool(workerFile, wasmFiles());
  return pool;
}

/** Terminate the worker pools, the compute one and the dump readers' (extension deactivate, end of tests); a later call spawns new ones. */
export function disposeComputePool(): void {
  pool?.dispose();
  pool = undefined;
  disposeDumpPool();
  dropSpareMemory();
  dropNativeReserve();
}

function getMainKernel(simdOnly = false): WasmKernel | undefined {
  const best = loadBestWasm(wasmFiles(simdOnly));
  if (!best) return undefined;
  let kernel = mainKernels.get(best.file);
  if (!kernel) {
    kernel = new WasmKernel(best.module);
    mainKernels.set(best.file, kernel);
  }
  return kernel;
}

/** Is the WASM kernel available in this process? */
export function wasmAvailable(): boolean {
  return getMainKernel() !== undefined;
}

/** Which kernel build this process runs: `fma` (relaxed SIMD), `simd`, or `ts` when no .wasm loads. */
export function wasmBuild(): 'fma' | 'simd' | 'ts' {
  const best = loadBestWasm(wasmFiles());
  return !best ? 'ts' : best.file.endsWith('-fma.wasm') ? 'fma' : 'simd';
}

function floatArray(n: number, shared: boolean): Float32Array {
  return allocFloat32(n, 'attention inputs and outputs', shared);
}

/**
 * Spare result memory, reused by the next job that needs exactly as many bytes: ones handed back by
 * `releaseResult` (the WASM kernels' shared weights; the native kernel's buffer of weights, with the output in it
 * unless that came from a slab), and one "warm" buffer that idle workers fault in after a large job on the pool
 * (see warmSpare). Fresh memory costs a page fault per 4 KiB on first write, ~14 µs each in this VM (a 4096²
 * float32 map's weights take longer to fault in than to compute). At most two are kept, and none for longer than
 * SPARE_TTL_MS after they were last offered.
 */
const spareWeights: ArrayBufferLike[] = [];
const ownWeights = new WeakSet<ArrayBufferLike>();
/**
 * Jobs on the pool whose weights take at least this many bytes get a warm spare (smaller ones fault in about as
 * fast as a worker round trip): 1 MiB is n = 512 in float32, where the pool starts too (POOL_THRESHOLD).
 */
export const WARM_SPARE_MIN_BYTES = 1 << 20;
const SPARE_TTL_MS = 30_000;
let spareTimer: ReturnType<typeof setTimeout> | undefined;
let warmingBytes = 0;
let warming: Promise<void> = Promise.resolve();

/** The spare weights buffers held now, once any warming under way has finished (tests). */
export async function spareBuffers(): Promise<readonly ArrayBufferLike[]> {
  await warming;
  return [...spareWeights];
}

function keepSpare(buffer: ArrayBufferLike): void {
  spareWeights.push(buffer);
  if (spareWeights.length > 2) spareWeights.shift();
  if (spareTimer) clearTimeout(spareTimer);
  spareTimer = setTimeout(dropSpareMemory, SPARE_TTL_MS);
  spareTimer.unref?.();
}

/** Forget the spare buffers (their memory goes back when collected); the next job faults in fresh pages. */
export function dropSpareMemory(): void {
  spareWeights.length = 0;
  if (spareTimer) clearTimeout(spareTimer);
  spareTimer = undefined;
}

/**
 * After a large job, have the idle workers fault in a buffer of the same size, so that the next job of that
 * size (a recompute while the user edits, a second panel on a same-sized file) writes to mapped pages. Queued
 * behind the job on the pool; a job started meanwhile waits for it (~25 ms for 64 MiB on two workers).
 */
function warmSpare(workers: ComputePool, bytes: number): void {
  if (bytes < WARM_SPARE_MIN_BYTES || warmingBytes === bytes || spareWeights.some((b) => isShared(b) && b.byteLength === bytes)) return;
  let buffer: SharedArrayBuffer;
  try {
    buffer = new SharedArrayBuffer(bytes);
  } catch {
    return; // no memory for a spare: the next job allocates its own
  }
  warmingBytes = bytes;
  warming = workers.touch(buffer).then(
    () => {
      if (pool === workers) keepSpare(buffer);
    },
    () => undefined, // a disposed or broken pool: no spare
  ).finally(() => {
    if (warmingBytes === bytes) warmingBytes = 0;
  });
}

function isShared(b: ArrayBufferLike): b is SharedArrayBuffer {
  return typeof SharedArrayBuffer !== 'undefined' && b instanceof SharedArrayBuffer;
}

/** A spare buffer of exactly `bytes` (shared for the pool, plain for the native kernel), taken from the spares. */
function takeSpare<T extends ArrayBufferLike>(bytes: number, is: (b: ArrayBufferLike) => b is T): T | undefined {
  const i = spareWeights.findIndex((b) => is(b) && b.byteLength === bytes);
  return i >= 0 ? spareWeights.splice(i, 1)[0] as T : undefined;
}

const isPlain = (b: ArrayBufferLike): b is ArrayBuffer => !isShared(b);

function weightsArray(n: number, shared: boolean): Float32Array {
  if (!shared) return allocFloat32(n, 'attention weights');
  const buffer = takeSpare(n * 4, isShared) ?? allocFloat32(n, 'attention weights', true).buffer as SharedArrayBuffer;
  ownWeights.add(buffer);
  return new Float32Array(buffer);
}

/**
 * Hand a result's memory back for reuse by the next computation that needs as many bytes. Only call it when
 * nothing will read that result's `weights`, `headOutputs` or (one head) `output` again: the next job
 * overwrites them. Keeps at most two buffers.
 */
export function releaseResult(r: AttentionResult): void {
  const buffer = r.weights.buffer;
  if (!ownWeights.has(buffer)) return;
  ownWeights.delete(buffer);
  keepSpare(buffer);
}

/** Per-head float64 rows → one float32 array; unit rows for cosine so the kernels run it as dot. */
function stack(parts: (Float64Array | Float32Array)[], width: number, unitRows: boolean, shared: boolean): Float32Array {
  // One float32 part that stays as it is (the kernels only read it): the part itself, no copy.
  if (parts.length === 1 && !unitRows && !shared && parts[0] instanceof Float32Array) return parts[0];
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = floatArray(total, shared);
  let o = 0;
  for (const part of parts) {
    if (!unitRows) {
      out.set(part, o);
      o += part.length;
      continue;
    }
    for (let r = 0; r < part.length; r += width) {
      let s = 0;
      for (let t = 0; t < width; t++) s += part[r + t] * part[r + t];
      const inv = s === 0 ? 0 : 1 / Math.sqrt(s);
      for (let t = 0; t < width; t++) out[o++] = part[r + t] * inv;
    }
  }
  return out;
}

function shareMask(mask: MaskSpec, shared: boolean): MaskSpec {
  if (mask.kind !== 'matrix' || !shared) return mask;
  const data = new Uint8Array(new SharedArrayBuffer(mask.data.length));
  data.set(mask.data);
  return { ...mask, data };
}

/** Row i of head h's mask, as the mask of a one-row job. */
function rowMask(mask: MaskSpec, h: number, i: number, nq: number, nk: number): MaskSpec {
  if (mask.kind === 'causal') return { kind: 'causal', offset: mask.offset + i };
  if (mask.kind === 'none') return mask;
  const base = (mask.perHead ? h * nq * nk : 0) + i * nk;
  return { kind: 'matrix', data: mask.data.subarray(base, base + nk), perHead: false };
}

function maskedRows(p: PreparedAttention, h: number): number[] {
  const rows: number[] = [];
  if (p.mask.kind === 'none') return rows;
  for (let i = 0; i < p.nq; i++) {
    let any = false;
    for (let j = 0; j < p.nk && !any; j++) any = maskAllows(p.mask, h, i, j, p.nq, p.nk);
    if (!any) rows.push(i);
  }
  return rows;
}

/** The job's arrays; `native` = the addon that will write them (on huge pages), else the WASM/TS kernels. */
function buildJob(p: PreparedAttention, shared: boolean, withScores: boolean, keepWeights: boolean, native: NativeAddon | undefined, reserve: boolean): KernelJob {
  const { heads, nq, nk, dk, dv } = p;
  const cosine = p.similarity === 'cosine';
  // Grouped-query attention: each KV head once (the first query head of its group holds it), not per query head.
  const kvHeads = p.kvHeads ?? heads;
  const group = (parts: (Float64Array | Float32Array)[]) => (kvHeads === heads ? parts : Array.from({ length: kvHeads }, (_, g) => parts[(g * heads) / kvHeads]));
  const cells = heads * nq * nk;
  const [weights, output] = native
    ? nativeArrays(native, [keepWeights ? cells : 0, heads * nq * dv], 'attention weights and outputs', (bytes) => takeSpare(bytes, isPlain), reserve)
    : [keepWeights ? weightsArray(cells, shared) : undefined, floatArray(heads * nq * dv, shared)];
  // The native kernel's weights lie in a buffer of their own (the output with them, or cut from a slab):
  // releaseResult hands it back, unless the weights themselves are a slab's that other results share.
  if (native && keepWeights && weights && !sharesSlab(weights)) ownWeights.add(weights.buffer);
  return {
    kvHeads,
    scores: withScores ? floatArray(heads * nq * nk, shared) : undefined,
    scaled: withScores ? floatArray(heads * nq * nk, shared) : undefined,
    heads, nq, nk, dk, dv, similarity: p.similarity, scaleFactor: p.scaleFactor, mask: shareMask(p.mask, shared),
    q: stack(p.q, dk, cosine, shared), k: stack(group(p.k), dk, cosine, shared), v: stack(group(p.v), dv, false, shared),
    weights: keepWeights ? weights : undefined, output: output as Float32Array,
    // Small chunks for fine progress and balance at the end (the last chunk decides when the job ends); large
    // enough that a chunk is a ms or two of work (64 rows at n_k = 4096, d = 64).
    chunkRows: Math.max(16, Math.min(256, Math.floor((1 << 21) / Math.max(1, nk * (dk + dv))) * 16)),
  };
}

async function runInThisThread(job: KernelJob, kernel: WasmKernel | undefined, options: FastOptions): Promise<void> {
  const total = totalChunks(job);
  let rows = 0;
  let last = Date.now();
  for (let c = 0; c < total; c++) {
    if (options.signal?.aborted) throw abortError();
    rows += runChunk(job, c, kernel);
    options.onProgress?.(rows / (job.heads * job.nq));
    // Give the event loop a turn every ~20 ms so a mid-size job on this thread stays responsive.
    if (Date.now() - last > 20 && c + 1 < total) {
      await new Promise((r) => setImmediate(r));
      last = Date.now();
    }
  }
}

export async function computeFast(input: AttentionInput, options: EngineOptions = {}): Promise<AttentionResult> {
  if (options.signal?.aborted) throw abortError();
  const native = nativeFor(options.kernel);
  // The inputs' NaN/∞ count by the addon where it runs (~0.3 ms of a cold n = 1024 job in JavaScript).
  const p = prepareAttention(input, { float32: true, countNonFinite: native && nativeNonFinite(native) });
  const { heads, nq, nk, dk, dv } = p;
  const work = heads * nq * nk * (dk + dv);
  const kernel = native || options.kernel === 'ts' ? undefined : getMainKernel(options.kernel === 'wasm-simd');
  const threads = options.pool ?? (work >= POOL_THRESHOLD && nq >= 64);
  const workers = !native && threads && ['wasm', 'auto', undefined].includes(options.kernel) ? getPool() : undefined;
  const withScores = options.scores ?? true;
  const file = options.weightsFile;
  // Weights that only go to a file need no array when the WASM kernel runs every chunk (here or on the pool,
  // which loads the same build); the TypeScript kernel writes through one.
  // The native kernel writes from its own block buffers, for every similarity.
  const keepWeights = !file || file.keepWeights !== false || (!native && (!kernel || !wasmFits(p.similarity, withScores, p.scaleFactor)));
  const job = buildJob(p, workers !== undefined, withScores, keepWeights, native, options.reserve === true);
  if (file) {
    job.weightsFd = file.fd;
    job.weightsFileOffset = file.offset;
  }
  let ran = false;
  if (native) {
    await runNative(native, job, options);
    ran = true;
    warmNativeReserve(native);
  } else if (workers) {
    try {
      await workers.run(job, options.onProgress, options.signal);
      ran = true;
      if (job.weights) warmSpare(workers, job.weights.byteLength);
    } catch (err) {
      // Cancelled and failed writes are final; a failed worker (crash, missing bundle) falls back to this thread.
      if (err instanceof Error && (err.name === 'AbortError' || err.name === WRITE_ERROR)) throw err;
      p.warnings.push(`compute workers failed (${err instanceof Error ? err.message : String(err)}); computed on the main thread`);
    }
  }
  if (!ran) await runInThisThread(job, kernel, options);
  if (options.signal?.aborted) throw abortError();

  const warnings = [...p.warnings];
  for (let h = 0; h < heads; h++) {
    const w = maskedRowsWarning(h, heads, maskedRows(p, h));
    if (w) warnings.push(w);
  }
  const { output, outputDim } = combineHeads(p, job.output);
  // The score views on demand, each on its own (a view shows one of them): by the native kernel where it ran,
  // else by the reference rows on this thread.
  const cells = heads * nq * nk;
  const views: { scores?: Float32Array; scaled?: Float32Array } = {};
  const makeView = (which: 'scores' | 'scaled'): Float32Array => {
    let a = views[which];
    if (a) return a;
    const what = which === 'scores' ? 'scores' : 'scaled scores';
    a = native ? nativeArrays(native, [cells], what)[0] : allocFloat32(cells, what);
    if (native) nativeScoreViews(native, job, which === 'scores' ? a : undefined, which === 'scaled' ? a : undefined);
    else for (let h = 0; h < heads; h++) {
      attendRows({ q: p.q[h], k: p.k[h], v: p.v[h], nq, nk, dk, dv }, h, p.similarity, p.scaleFactor, p.mask, 0, nq,
        { [which]: a, weightsOffset: h * nq * nk, outputOffset: 0 });
    }
    views[which] = a;
    return a;
  };
  // One row of both views, kept for the next hover (the pointer mostly moves along a row).
  let lastRow: { h: number; i: number; scores: Float32Array; scaled: Float32Array } | undefined;
  const scoreAt = (h: number, i: number, j: number): { score: number; scaled: number } => {
    if (views.scores && views.scaled) {
      const e = (h * nq + i) * nk + j;
      return { score: views.scores[e], scaled: views.scaled[e] };
    }
    if (!lastRow || lastRow.h !== h || lastRow.i !== i) {
      const row = { h, i, scores: new Float32Array(nk), scaled: new Float32Array(nk) };
      if (native) {
        const g = kvHeadOf(job, h);
        const one = { ...job, heads: 1, kvHeads: 1, nq: 1, q: job.q.subarray((h * nq + i) * dk, (h * nq + i + 1) * dk),
          k: job.k.subarray(g * nk * dk, (g + 1) * nk * dk), v: job.v.subarray(g * nk * dv, (g + 1) * nk * dv),
          mask: rowMask(p.mask, h, i, nq, nk) };
        nativeScoreViews(native, one, row.scores, row.scaled);
      } else {
        attendRows({ q: p.q[h], k: p.k[h], v: p.v[h], nq, nk, dk, dv }, h, p.similarity, p.scaleFactor, p.mask, i, i + 1,
          { scores: row.scores, scaled: row.scaled, weightsOffset: -i * nk, outputOffset: 0 });
      }
      lastRow = row;
    }
    return { score: lastRow.scores[j], scaled: lastRow.scaled[j] };
  };
  const result = {
    heads, nq, nk, dk, dv, queryIsVector: p.queryIsVector, valuesAreScalars: p.valuesAreScalars,
    ...(p.perHead ? { perHead: true, kvHeads: p.kvHeads } : {}),
    scaleFactor: p.scaleFactor, weights: job.weights ?? new Float32Array(0), headOutputs: job.output, output, outputDim,
    values: stackValues(p), valueDim: dv, warnings,
  } as AttentionResult;
  result.kernel = native ? `native (${native.info().variant})` : kernel && wasmFits(p.similarity, withScores, p.scaleFactor) ? `wasm (${wasmBuild()})` : 'ts';
  if (job.scores && job.scaled) {
    result.scores = job.scores;
    result.scaled = job.scaled;
  } else {
    Object.defineProperty(result, 'scores', { enumerable: true, get: () => makeView('scores') });
    Object.defineProperty(result, 'scaled', { enumerable: true, get: () => makeView('scaled') });
    result.scoreAt = scoreAt;
  }
  return result;
}
