/**
 * The native kernel: native/attention.c as a Node-API addon (dist/attention.node, built by node-gyp at
 * `npm install`), with AVX-512 / AVX2 + FMA / portable code chosen at run time inside it. WebAssembly stops at
 * 128-bit vectors; this runs the 256- and 512-bit ones NumPy's BLAS uses, on every core through the addon's own
 * threads. Loaded on first use with a try: where it is missing or does not load, the WASM kernel runs instead
 * and one log line says why.
 *
 * Which kernel runs: the per-call `kernel` option, else the process preference (`setKernelPreference`, from the
 * `attentionInspector.kernel` setting or the CLI's `--kernel`, default `auto`): `auto` = native when it loads,
 * else WASM; `wasm` = always WASM; `native` = native or a clear error (never a silent fallback when it was asked
 * for by name).
 */
import * as os from 'os';
import { allocFloat32 } from '../attention/project';
import { findAsset } from './assets';
import type { KernelJob } from './kernel';
import { WRITE_ERROR } from './kernel';
import { abortError } from './pool';

export type KernelChoice = 'auto' | 'native' | 'wasm';
export const KERNEL_CHOICES: readonly KernelChoice[] = ['auto', 'native', 'wasm'];
export type NativeVariant = 'avx512' | 'avx2' | 'portable';
export const NATIVE_VARIANTS: readonly NativeVariant[] = ['avx512', 'avx2', 'portable'];

/** What the addon takes (see native/binding.c): sizes, options and typed arrays. */
export interface NativeParams {
  heads: number;
  /** K/V heads (grouped-query attention; K and V are [kvHeads, nk, d]): query head h reads ⌊h·kvHeads/heads⌋. */
  kvHeads?: number;
  nq: number;
  nk: number;
  dk: number;
  dv: number;
  /** 0 dot (and cosine, as unit rows), 1 laplacian (−L1), 2 euclidean (−L2²). */
  op: 0 | 1 | 2;
  scale: number;
  maskKind: 0 | 1 | 2;
  maskOffset: number;
  mask?: Uint8Array;
  maskPerHead: 0 | 1;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  weights?: Float32Array;
  output?: Float32Array;
  scores?: Float32Array;
  scaled?: Float32Array;
  fd: number;
  fdOffset: number;
  /** sweep: nonzero = K/V packed by one call may serve the next with the same key (the arrays must not change). */
  cacheKey?: number;
  /** [abort flag, rows done], shared with the addon's threads. */
  control?: Int32Array;
  threads?: number;
}

/**
 * What the addon's streamed sweep writes for rows row0… of a head (nq of params): each row's softmax max and sum,
 * its entropy in nats, and its weights max-pooled into `pooled` (the pooled rows from ⌊row0 / poolBlockRows⌋ on).
 */
export interface NativeSweepOuts {
  max: Float64Array;
  sum: Float64Array;
  entropy?: Float64Array;
  pooled?: Float32Array;
  poolBlockRows?: number;
  poolBlockCols?: number;
  poolCols?: number;
  row0: number;
}

/** What the addon's diff writes: the pooled difference (and its winners' magnitudes), per-row range and NaN count. */
export interface NativeDiffOuts {
  pooled: Float32Array;
  pooledMag: Float32Array;
  rowMin: Float32Array;
  rowMax: Float32Array;
  rowNonFinite: Int32Array;
  poolBlockRows: number;
  poolBlockCols: number;
  poolCols: number;
}

export interface NativeAddon {
  info(): { variant: NativeVariant; supported: Record<NativeVariant, boolean>; threads: number };
  setVariant(name: NativeVariant | 'auto'): boolean;
  run(p: NativeParams): number;
  runAsync(p: NativeParams): Promise<number>;
  rowStats(p: NativeParams, rowMax: Float32Array, rowSum: Float32Array): number;
  scoreViews(p: NativeParams): number;
  /** One head's rows in a single pass, no weights written (native/attention.h attn_sweep). */
  sweep?(p: NativeParams, outs: NativeSweepOuts): number;
  /**
   * A − B of two single heads' weights pooled by largest magnitude (attn_diff), on a libuv thread and the addon's
   * helpers; progress and abort through `a.control`.
   */
  diffAsync?(a: NativeParams, b: NativeParams, outs: NativeDiffOuts): Promise<number>;
  /** Free the packed K/V this thread's sweeps keep between calls with one `cacheKey`. */
  releaseCache?(): void;
  /** The machine's measured limits (bench): peak float32 GFLOP/s on `threads` threads, memory GB/s. */
  machine(threads: number, mebibytes: number): { peakGflops: number; lanes: number; writeGBps: number; copyGBps: number };
  /** bf16 bit patterns (no table) or 8/16-bit codes looked up in `table` (float32 bits) into `dst`, huge pages first. */
  widen(src: Uint16Array | Uint8Array, dst: Float32Array, table?: Uint32Array): void;
  /** How many of the values are NaN or ±∞. */
  nonFinite?(a: Float32Array): number;
  /** Where the buffer's first 2 MiB page starts (bytes), huge pages asked for from there on (attn_huge_offset). */
  hugeOffset?(buffer: ArrayBuffer): number;
  /** Fault `bytes` of the buffer from `offset` in for writing, on a libuv thread (attn_prefault): 0, or an errno. */
  prefault?(buffer: ArrayBuffer, offset: number, bytes: number): Promise<number>;
  /** Hand the whole pages of `bytes` from `offset` back to the system; they read as zeros after (attn_discard). */
  discard?(buffer: ArrayBuffer, offset: number, bytes: number): void;
}

let preference: KernelChoice = parseChoice(process.env.ATTENTION_INSPECTOR_KERNEL) ?? 'auto';
let loaded: { addon?: NativeAddon; reason?: string } | undefined;
let log: (line: string) => void = (line) => console.warn(line);

function parseChoice(s: string | undefined): KernelChoice | undefined {
  return KERNEL_CHOICES.find((k) => k === s);
}

/** The process-wide kernel choice (the host's setting, the CLI's flag); per-call options override it. */
export function setKernelPreference(choice: KernelChoice): void {
  preference = choice;
}

export function kernelPreference(): KernelChoice {
  return preference;
}

/** Where the one "native kernel unavailable" line goes (the host sends it to its output channel). */
export function setKernelLog(sink: (line: string) => void): void {
  log = sink;
}

/** Load dist/attention.node once; undefined (with the reason kept and logged once) when it cannot be used. */
export function loadNative(): NativeAddon | undefined {
  if (loaded) return loaded.addon;
  const file = findAsset('attention.node');
  if (!file) {
    loaded = { reason: 'dist/attention.node was not built (no C compiler at install time?)' };
  } else {
    try {
      // A computed path loaded at run time: the bundles must not (and cannot) inline a binary.
      const m = { exports: {} as NativeAddon };
      process.dlopen(m, file);
      m.exports.info();
      loaded = { addon: m.exports };
    } catch (err) {
      loaded = { reason: `${file} did not load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
    }
  }
  if (!loaded.addon) log(`attention-inspector: native kernel unavailable (${loaded.reason}); using the WASM kernel`);
  return loaded.addon;
}

/** Why the native kernel is not loaded, or undefined when it is. */
export function nativeUnavailableReason(): string | undefined {
  loadNative();
  return loaded?.reason;
}

/** Forget the load attempt (tests point the assets folder elsewhere and try again). */
export function resetNative(): void {
  loaded = undefined;
}

/**
 * The native addon when this call should use it: `kernel` is the call's option (the engine's own values
 * `wasm-simd` and `ts` also mean "not native"), else the process preference. Throws when native was asked for
 * by name and cannot run.
 */
export function nativeFor(kernel: string | undefined): NativeAddon | undefined {
  const choice = kernel ?? preference;
  if (choice !== 'auto' && choice !== 'native') return undefined;
  const addon = loadNative();
  if (!addon && choice === 'native') {
    throw new Error(`the native kernel was requested but is not available: ${loaded?.reason ?? 'unknown'}. Use kernel "auto" or "wasm".`);
  }
  return addon;
}

/** A short name of the kernel a call with this option runs here: `native (avx512)` or `wasm`. */
export function kernelName(kernel?: string): string {
  let addon: NativeAddon | undefined;
  try {
    addon = nativeFor(kernel);
  } catch {
    return 'unavailable';
  }
  return addon ? `native (${addon.info().variant})` : 'wasm';
}

/**
 * Jobs below this many multiply-adds (h·n_q·n_k·(d_k + d_v)) run synchronously on the calling thread (with the
 * addon's helper threads): up to n ≈ 1536 at d = 64, ~10 ms on two cores, well inside the host's 50 ms stall
 * budget, where the hop to the libuv pool and back (two more thread wake-ups, slow on a busy machine) would cost
 * more than it saves. Larger ones run asynchronously so the event loop keeps turning, with progress and cancellation.
 */
export const NATIVE_SYNC_WORK = 1536 * 1536 * 128;

function errnoName(code: number): string {
  return Object.entries(os.constants.errno).find(([, v]) => v === code)?.[0] ?? `errno ${code}`;
}

function paramsOf(job: KernelJob): NativeParams {
  const { mask } = job;
  return {
    heads: job.heads, kvHeads: job.kvHeads ?? job.heads, nq: job.nq, nk: job.nk, dk: job.dk, dv: job.dv,
    op: job.similarity === 'laplacian' ? 1 : job.similarity === 'euclidean' ? 2 : 0,
    scale: job.scaleFactor,
    maskKind: mask.kind === 'none' ? 0 : mask.kind === 'causal' ? 1 : 2,
    maskOffset: mask.kind === 'causal' ? mask.offset : 0,
    mask: mask.kind === 'matrix' ? mask.data : undefined,
    maskPerHead: mask.kind === 'matrix' && mask.perHead ? 1 : 0,
    q: job.q, k: job.k, v: job.v, weights: job.weights, output: job.output, scores: job.scores, scaled: job.scaled,
    fd: job.weightsFd ?? -1, fdOffset: job.weightsFileOffset ?? 0,
  };
}

/** Compute a whole job with the addon; rejects with AbortError when cancelled, WeightsWriteError on a failed write. */
export async function runNative(
  addon: NativeAddon, job: KernelJob, options: { signal?: AbortSignal; onProgress?: (fraction: number) => void },
): Promise<void> {
  if (options.signal?.aborted) throw abortError();
  const params = paramsOf(job);
  const work = job.heads * job.nq * job.nk * (job.dk + job.dv);
  let code: number;
  if (work < NATIVE_SYNC_WORK) {
    code = addon.run(params);
  } else {
    const control = new Int32Array(new SharedArrayBuffer(8));
    params.control = control;
    const onAbort = () => Atomics.store(control, 0, 1);
    options.signal?.addEventListener('abort', onAbort);
    const total = job.heads * job.nq;
    const timer = options.onProgress ? setInterval(() => options.onProgress?.(Math.min(1, Atomics.load(control, 1) / total)), 16) : undefined;
    try {
      code = await addon.runAsync(params);
    } finally {
      if (timer) clearInterval(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
  if (code === -1 || options.signal?.aborted) throw abortError();
  if (code > 0) {
    const err = new Error(errnoName(code));
    if (job.weightsFd !== undefined && code !== os.constants.errno.ENOMEM) err.name = WRITE_ERROR;
    else err.message = `the native kernel failed: ${err.message}`;
    throw err;
  }
  options.onProgress?.(1);
}

/** Raw and/or scaled scores of a job into `scores` / `scaled` ([h, nq, nk] each), for the score views on demand. */
export function nativeScoreViews(addon: NativeAddon, job: KernelJob, scores: Float32Array | undefined, scaled: Float32Array | undefined): void {
  const code = addon.scoreViews({ ...paramsOf(job), weights: undefined, output: undefined, scores, scaled, fd: -1 });
  if (code !== 0) throw new Error(`the native kernel failed: ${errnoName(code)}`);
}

/** Below this many values the JavaScript loop is as quick as a call into the addon. */
const NATIVE_WIDEN_MIN = 1 << 16;

/**
 * Narrow floats widened to a new Float32Array by the addon where it is loaded and allowed (the kernel setting),
 * else undefined and the caller's JavaScript loop runs. The addon asks for huge pages before writing, which
 * halves the time of a 64 MiB result (most of it is first-touch page faults).
 */
export function nativeWiden(src: Uint16Array | Uint8Array, table?: Uint32Array): Float32Array | undefined {
  if (src.length < NATIVE_WIDEN_MIN) return undefined;
  let addon: NativeAddon | undefined;
  try {
    addon = nativeFor(undefined);
  } catch {
    return undefined; // 'native' asked for but missing: decoding still works without it
  }
  if (!addon || typeof addon.widen !== 'function') return undefined;
  const out = new Float32Array(src.length);
  addon.widen(src, out, table);
  return out;
}

const HUGE_PAGE = 2 << 20;
/**
 * From this many bytes on, a job's outputs get a buffer of their own on huge pages (one fault per 2 MiB, not one
 * per 4 KiB). From SLAB_MIN_BYTES up to it they share a slab (below).
 */
export const HUGE_MIN_BYTES = HUGE_PAGE;
/** Below this many bytes a job's outputs are one plain buffer: a few 4 KiB faults, and no slab held for them. */
export const SLAB_MIN_BYTES = 64 << 10;
/**
 * Outputs from SLAB_MIN_BYTES to HUGE_MIN_BYTES are cut one after the other from a 4 MiB slab on two huge pages:
 * a 2 MiB page of its own for each of them made the n = 256 job 1.0 or 5.5 ms by luck (a huge page the host has
 * not backed yet costs 3–5 ms here), and 4 KiB pages cost ~1 ms (80 faults for its 320 KiB). With the slab, one
 * job in twelve at n = 256 (one in three at n = 512) faults in the slab's next huge page and the others write to
 * pages already there. A slab's memory goes back when no array cut from it is left (at most 4 MiB for one small
 * live result); its arrays are never handed back for reuse (`sharesSlab`).
 */
const SLAB_BYTES = 4 << 20;
/** A slab: its buffer, where the next cut starts and where the slab ends (bytes). */
interface Slab { buffer: ArrayBuffer; next: number; end: number; faulted?: boolean }
let slab: Slab | undefined;
const slabs = new WeakSet<ArrayBufferLike>();

/** Is this array cut from a slab shared with other results (so its memory cannot be handed back whole)? */
export function sharesSlab(a: Float32Array): boolean {
  return slabs.has(a.buffer);
}

/**
 * The reserve, for long-lived processes (the extension host asks for it through the engine's `reserve` option;
 * the CLI, which runs one job and exits, does not). Slabs are then RESERVE_SLAB_BYTES, results up to
 * RESERVE_CUT_MAX bytes are cut from them, and one more slab waits with its pages already faulted in: after each
 * job the addon faults it in on a libuv thread (`prefault`), so the job that fills the current slab moves on to
 * mapped memory instead of faulting fresh pages during the kernel. Fresh pages are what the first job of a size
 * costs most here: at n = 1024 the kernel takes ~2 ms and faulting its 4.25 MiB took 2–15 ms, depending on whether
 * the VM's host still backed the pages; NumPy's steady state never pays it, because glibc keeps the heap its last
 * arrays freed. Like that heap, the reserve does not depend on the size of the last job.
 * - 34 MiB slabs hold two results of n = 2048 (16.5 MiB at d = 64), and their 36 MiB buffers stay above glibc's
 *   largest mmap threshold (32 MiB), so each is a fresh mapping that costs nothing until faulted in. At 16 MiB,
 *   glibc (its threshold raised by the slabs V8 had freed) served them from the heap with an 18 MiB memset on the
 *   main thread: 7–21 ms in every third job at n = 1024.
 * - A slab made on fresh pages (none was waiting: the first job, or one right after another) is left for the
 *   waiting one at the next job; the rest of it was never touched, so it is address space only.
 * - Cost: one waiting slab (34 MiB) while in use, and a live result keeps the slab it was cut from; the unused
 *   rest of a faulted-in slab goes back to the system when the next one takes over (`discard`).
 * - After RESERVE_IDLE_MS without a job the waiting slab is let go, and the current one is remembered weakly:
 *   cut from again if a result still holds it (its memory is held anyway), else collected. The pages of both that
 *   no result uses go back to the system at once (`discard`), not when V8 collects the buffers.
 */
const RESERVE_SLAB_BYTES = 34 << 20;
export const RESERVE_CUT_MAX = 17 << 20;
const RESERVE_IDLE_MS = 30_000;
const reserve: {
  /** The slab faulted in and waiting; the faulting-in under way; a job used the reserve since the last warming. */
  warm?: Slab; warming?: Promise<void>; used?: boolean;
  timer?: ReturnType<typeof setTimeout>; generation: number;
  /** The current slab once let go: its buffer held weakly (results cut from it may keep it), where cuts went on. */
  held?: { buffer: WeakRef<ArrayBuffer>; next: number; end: number };
} = { generation: 0 };

/** Let the reserve go (idle, or asked): the waiting slab, and the current one unless a result still holds it. */
export function dropNativeReserve(): void {
  // Their unused pages go back to the system now: V8 frees a buffer only when it collects it, which an idle
  // host may not do for a long time.
  const addon = loaded?.addon;
  if (slab) {
    discard(addon, slab);
    if (typeof WeakRef === 'function') reserve.held = { buffer: new WeakRef(slab.buffer), next: slab.next, end: slab.end };
  }
  if (reserve.warm) discard(addon, reserve.warm);
  slab = undefined;
  reserve.warm = undefined;
  reserve.generation++;
  if (reserve.timer) clearTimeout(reserve.timer);
  reserve.timer = undefined;
}

/** A slab's pages from its next cut on handed back (they read as zeros, and fault in fresh if cut again). */
function discard(addon: NativeAddon | undefined, s: Slab): void {
  if (s.end > s.next) addon?.discard?.(s.buffer, s.next, s.end - s.next);
}

/** The reserve's slabs once any faulting-in under way is done (tests): the current one and the waiting one. */
export async function nativeReserve(): Promise<{ current?: ArrayBuffer; waiting?: ArrayBuffer }> {
  await reserve.warming;
  return { current: slab?.buffer, waiting: reserve.warm?.buffer };
}

function newSlab(hugeOffset: (b: ArrayBuffer) => number, bytes: number): Slab | undefined {
  let buffer: ArrayBuffer;
  try {
    buffer = new ArrayBuffer(bytes + HUGE_PAGE);
  } catch {
    return undefined;
  }
  const offset = hugeOffset(buffer); // < 2 MiB: the slab fits after it
  slabs.add(buffer);
  return { buffer, next: offset, end: offset + bytes };
}

/**
 * After a job that used the reserve (its kernel done, so the faulting-in does not take a core from it): start
 * faulting in the next slab, unless one is waiting or on its way.
 */
export function warmNativeReserve(addon: NativeAddon): void {
  if (!reserve.used || reserve.warm || reserve.warming || !addon.hugeOffset || typeof addon.prefault !== 'function') return;
  reserve.used = false;
  const next = newSlab(addon.hugeOffset.bind(addon), RESERVE_SLAB_BYTES);
  if (!next) return;
  const generation = reserve.generation;
  reserve.warming = addon.prefault(next.buffer, next.next, next.end - next.next).then(
    (code) => {
      // Refused (the system is short of memory): no reserve this time, and whatever was faulted in goes back.
      if (code === 0 && generation === reserve.generation) reserve.warm = { ...next, faulted: true };
      else discard(addon, next); // or let go while it was being faulted in
    },
    () => undefined, // no reserve: the next slab is made when needed, on fresh pages
  ).finally(() => {
    reserve.warming = undefined;
  });
}

/**
 * `bytes` (a multiple of 64) from the current slab or a new one (the reserve's waiting slab where there is one);
 * undefined when no slab can be made.
 */
function fromSlab(
  addon: NativeAddon, hugeOffset: (b: ArrayBuffer) => number, bytes: number, withReserve: boolean,
): { buffer: ArrayBuffer; at: number } | undefined {
  const size = withReserve ? RESERVE_SLAB_BYTES : SLAB_BYTES;
  const held = withReserve ? reserve.held?.buffer.deref() : undefined;
  if (!slab && held && reserve.held) slab = { ...reserve.held, buffer: held };
  reserve.held = undefined;
  // A slab made on fresh pages (no slab was waiting) is left for the waiting one as soon as there is one: the
  // rest of it was never touched, so it is address space only.
  if (!slab || slab.next + bytes > slab.end || (withReserve && !slab.faulted && reserve.warm)) {
    const waiting = withReserve ? reserve.warm : undefined;
    if (waiting) reserve.warm = undefined;
    // The slab left behind keeps the pages of its cuts; those after them go back (a faulted-in rest is resident).
    if (slab?.faulted) discard(addon, slab);
    slab = waiting ?? newSlab(hugeOffset, size);
    if (!slab) return undefined;
  }
  if (withReserve) {
    reserve.used = true;
    if (reserve.timer) reserve.timer.refresh();
    else {
      reserve.timer = setTimeout(dropNativeReserve, RESERVE_IDLE_MS);
      reserve.timer.unref?.();
    }
  }
  const at = slab.next;
  slab.next += bytes;
  return { buffer: slab.buffer, at };
}

/**
 * New float32 arrays for the native kernel to write (`counts` elements each), laid out one after the other, 64
 * bytes aligned. Fresh memory costs a page fault per 4 KiB on first write, ~14 µs each in this VM (3.4 ms per
 * MiB, more than the whole job at n = 512), against ~0.1 ms per 2 MiB page with huge pages when the host backs
 * the page already (one it has not backed yet costs 3–5 ms, as its 4 KiB pages would). JavaScript cannot ask for
 * them, so a buffer meant for huge pages is over-allocated by 2 MiB of address space (never touched) and used from
 * its first 2 MiB boundary, where the addon asked for huge pages before anything was written. By size in all:
 * below SLAB_MIN_BYTES one plain buffer; up to HUGE_MIN_BYTES (RESERVE_CUT_MAX `withReserve`) a cut of the current
 * slab; from there a buffer of their own on huge pages, which `reuse` may supply (a buffer of exactly the bytes asked for, handed back by an
 * earlier result), except that arrays after the first go to the slab when they alone would start one more huge
 * page. An addon without `hugeOffset` gets one plain buffer.
 */
export function nativeArrays(
  addon: NativeAddon, counts: number[], what: string, reuse?: (bytes: number) => ArrayBuffer | undefined, withReserve = false,
): Float32Array[] {
  const at: number[] = [];
  let bytes = 0;
  for (const c of counts) {
    at.push(bytes);
    bytes += Math.ceil((c * 4) / 64) * 64;
  }
  const hugeOffset = addon.hugeOffset?.bind(addon);
  const slabMax = withReserve ? RESERVE_CUT_MAX : HUGE_MIN_BYTES - 1;
  const cut = hugeOffset && bytes >= SLAB_MIN_BYTES && bytes <= slabMax ? fromSlab(addon, hugeOffset, bytes, withReserve) : undefined;
  if (cut) return counts.map((c, i) => new Float32Array(cut.buffer, cut.at + at[i], c));
  // When the first array ends on or just before a 2 MiB boundary and the rest would take one more huge page (n =
  // 1024: 4 MiB of weights, 256 KiB of output, 3 pages), the rest is cut from the slab: 2⅛ pages, not 3.
  const head = at[1] ?? bytes;
  const pages = (b: number) => Math.ceil(b / HUGE_PAGE);
  if (hugeOffset && head >= HUGE_MIN_BYTES && pages(head) < pages(bytes) && bytes - head < HUGE_MIN_BYTES) {
    const tail = fromSlab(addon, hugeOffset, bytes - head, false); // a job beyond the reserve's: no slab faulted in for it
    if (tail) {
      const [first] = nativeArrays(addon, [counts[0]], what, reuse);
      return [first, ...counts.slice(1).map((c, i) => new Float32Array(tail.buffer, tail.at + at[i + 1] - head, c))];
    }
  }
  const huge = hugeOffset !== undefined && bytes >= HUGE_MIN_BYTES;
  const total = huge ? Math.ceil(bytes / HUGE_PAGE) * HUGE_PAGE + HUGE_PAGE : bytes;
  let buffer = reuse?.(total);
  if (!buffer) {
    try {
      buffer = new ArrayBuffer(total);
    } catch {
      return counts.map((c) => allocFloat32(c, what)); // no room in one piece: separate arrays, or their clear error
    }
  }
  const offset = huge ? hugeOffset(buffer) : 0;
  const base = offset + bytes <= total ? offset : 0;
  const own = buffer;
  return counts.map((c, i) => new Float32Array(own, base + at[i], c));
}

/** The addon's count of NaN and infinite values, for prepareAttention; undefined for an addon without it. */
export function nativeNonFinite(addon: NativeAddon): ((a: Float32Array) => number) | undefined {
  return addon.nonFinite?.bind(addon);
}
