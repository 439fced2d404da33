/**
 * A big dump's grid as job kinds of the compute pool (hooked into compute/worker.ts), so the editor's thread
 * never reads, widens or pools a head: each worker opens the file itself, reads one head (or one band of rows)
 * with positional reads into a buffer it reuses, widens it there, and writes only small results into shared
 * memory. Three phases, each taking work items from the pool's shared counter:
 * - 'grid': one head per item, max-pooled into its grid cell (gridPool.ts, the same code the main thread ran);
 * - 'aggregate': one band of rows per item, the selected layer's head mean and max (and every layer's mean for
 *   rollout) summed over heads in head order, as GridBuilder sums them, so the values are identical;
 * - 'pool': one aggregate map per item (rollout computed first when asked), pooled by shared/pool.ts poolToSize.
 */
import * as fs from 'fs';
import * as os from 'os';
import { poolToSize, spans } from '../../shared/pool';
import { CTRL_ABORT, CTRL_NEXT_CHUNK, CTRL_ROWS_DONE } from '../compute/pool';
import type { WorkerReply } from '../compute/pool';
import { float16Table } from '../float16';
import { float8Table, widenInto } from '../floatDecode';
import type { DType } from '../ndarray';
import { rollout } from '../stats';
import { poolHeadInto, poolScratch } from './gridPool';

/** Element types a worker widens itself; any other dump is read on the main thread as before. */
export const POOL_DTYPES: readonly DType[] = [
  'float32', 'float64', 'float16', 'bfloat16', 'float8_e4m3fn', 'float8_e5m2', 'int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32',
];

/** Where a dump's elements are in its file: C order from `dataOffset`, `itemsize` bytes each. */
export interface DumpSource {
  file: string;
  dataOffset: number;
  itemsize: number;
  dtype: DType;
  littleEndian: boolean;
  /** Rows and columns of one map. */
  n: number;
  k: number;
}

export interface DumpGridPhase {
  phase: 'grid';
  src: DumpSource;
  /** Element offset of each item's head, and the grid cell it pools into. */
  starts: number[];
  cellOf: number[];
  side: number;
  cells: Float32Array;
  /** NaN and +∞ count of each grid cell's head; filled[c] = 1 once cell c is written. */
  bad: Int32Array;
  filled: Uint8Array;
}

export interface DumpAggregatePhase {
  phase: 'aggregate';
  src: DumpSource;
  bandRows: number;
  /** Per layer summed: its heads' element offsets, where its mean goes (n·k) and, for the selected layer, its max. */
  layers: { starts: number[]; mean: Float32Array; max?: Float32Array }[];
}

export interface DumpPoolPhase {
  phase: 'pool';
  side: number;
  /** Each map pooled to side × side into `out`; `rollout` first fills `map` from the layer means. */
  tasks: { map: Float32Array; rows: number; cols: number; out: Float32Array; rollout?: { means: Float32Array; layers: number } }[];
}

export type DumpPhase = DumpGridPhase | DumpAggregatePhase | DumpPoolPhase;

export interface DumpPoolMessage {
  type: 'dump';
  job: DumpPhase;
  control: Int32Array;
}

/** Items of a phase: the pool's progress counts them (CTRL_ROWS_DONE). */
export function phaseItems(job: DumpPhase): number {
  if (job.phase === 'grid') return job.starts.length;
  if (job.phase === 'aggregate') return Math.ceil(job.src.n / job.bandRows);
  return job.tasks.length;
}

// Per worker thread, kept across items and jobs: the raw bytes and the widened values of one head.
let raw = new Uint8Array(0);
let wide = new Float32Array(0);

/** `count` elements from element `start`, as float32 in `wide` (grown when needed; the view is count long). */
function readValues(fd: number, src: DumpSource, start: number, count: number): Float32Array {
  const bytes = count * src.itemsize;
  if (raw.byteLength < bytes) raw = new Uint8Array(bytes);
  if (wide.length < count) wide = new Float32Array(count);
  const out = wide.subarray(0, count);
  // float32 in host order lands in `out` directly; everything else in `raw`, then widened into `out`.
  const direct = src.dtype === 'float32';
  const target = direct ? new Uint8Array(out.buffer, 0, bytes) : raw.subarray(0, bytes);
  const position = src.dataOffset + start * src.itemsize;
  let done = 0;
  while (done < bytes) {
    const got = fs.readSync(fd, target, done, Math.min(bytes - done, 1 << 30), position + done);
    if (got === 0) throw new Error(`file ended at byte ${position + done} while reading ${bytes} bytes at ${position} (truncated?)`);
    done += got;
  }
  const swap = src.itemsize > 1 && src.littleEndian !== HOST_LITTLE_ENDIAN;
  if (swap) {
    const b = Buffer.from(target.buffer, target.byteOffset, bytes);
    if (src.itemsize === 2) b.swap16(); else if (src.itemsize === 4) b.swap32(); else b.swap64();
  }
  if (direct) return out;
  const buf = raw.buffer;
  switch (src.dtype) {
    case 'bfloat16': widenInto(new Uint16Array(buf, 0, count), out); break;
    case 'float16': widenInto(new Uint16Array(buf, 0, count), out, new Uint32Array(float16Table().buffer)); break;
    case 'float8_e4m3fn': case 'float8_e5m2': widenInto(raw.subarray(0, count), out, float8Table(src.dtype)); break;
    // Typed-array set converts as toFloat32's Number() then a float32 store does: the same values.
    case 'float64': out.set(new Float64Array(buf, 0, count)); break;
    case 'int8': out.set(new Int8Array(buf, 0, count)); break;
    case 'int16': out.set(new Int16Array(buf, 0, count)); break;
    case 'int32': out.set(new Int32Array(buf, 0, count)); break;
    case 'uint8': out.set(raw.subarray(0, count)); break;
    case 'uint16': out.set(new Uint16Array(buf, 0, count)); break;
    case 'uint32': out.set(new Uint32Array(buf, 0, count)); break;
    default: throw new Error(`${src.dtype} is not read by the dump workers`);
  }
  return out;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function runItem(job: DumpPhase, fd: number, c: number): void {
  if (job.phase === 'grid') {
    const { src, side } = job;
    const data = readValues(fd, src, job.starts[c], src.n * src.k);
    const cell = job.cellOf[c];
    job.bad[cell] = poolHeadInto(data, src.k, spans(src.n, side), spans(src.k, side), job.cells, cell * side * side, poolScratch(side));
    Atomics.store(job.filled, cell, 1);
    return;
  }
  if (job.phase === 'aggregate') {
    const { src, bandRows } = job;
    const r0 = c * bandRows;
    const rows = Math.min(bandRows, src.n - r0);
    const count = rows * src.k;
    const at = r0 * src.k;
    const acc = new Float64Array(count);
    // The band's maximum in thread-local memory (writes to shared memory are slower), copied out at the end.
    const max = new Float32Array(count);
    for (const layer of job.layers) {
      acc.fill(0);
      if (layer.max) {
        max.fill(-Infinity);
        for (const start of layer.starts) {
          const v = readValues(fd, src, start + at, count);
          for (let i = 0; i < count; i++) {
            const x = v[i];
            acc[i] += x;
            if (x > max[i]) max[i] = x;
          }
        }
        layer.max.set(max, at);
      } else {
        for (const start of layer.starts) {
          const v = readValues(fd, src, start + at, count);
          for (let i = 0; i < count; i++) acc[i] += v[i];
        }
      }
      const heads = layer.starts.length;
      for (let i = 0; i < count; i++) layer.mean[at + i] = acc[i] / heads;
    }
    return;
  }
  const t = job.tasks[c];
  if (t.rollout) t.map.set(rollout(t.rollout.means, t.rollout.layers, 1, t.rows));
  t.out.set(poolToSize({ rows: t.rows, cols: t.cols, data: t.map }, job.side, job.side));
}

let niced = false;

/**
 * Dump jobs run on their own pool (dumpOnPool.ts), whose threads yield the cores to the editor: on Linux a thread
 * has its own nice value, and at +10 the host's thread takes a core back at once instead of waiting for a time
 * slice (on a loaded 2-core machine that wait was up to 70 ms). Elsewhere setpriority would lower the whole process.
 */
function niceThisThread(): void {
  if (niced || process.platform !== 'linux') return;
  niced = true;
  try {
    os.setPriority(0, Math.max(os.getPriority(0), 10));
  } catch {
    // not allowed here: run at the normal priority
  }
}

/** The worker side: take items until none are left or the job is cancelled. */
export function handleDumpMessage(m: DumpPoolMessage, reply: (r: WorkerReply) => void): void {
  const { job, control } = m;
  niceThisThread();
  let fd: number | undefined;
  try {
    if (job.phase !== 'pool') fd = fs.openSync(job.src.file, 'r');
    const total = phaseItems(job);
    for (;;) {
      if (Atomics.load(control, CTRL_ABORT)) break;
      const c = Atomics.add(control, CTRL_NEXT_CHUNK, 1);
      if (c >= total) break;
      runItem(job, fd ?? -1, c);
      Atomics.add(control, CTRL_ROWS_DONE, 1);
      reply({ type: 'progress', chunk: c });
    }
    reply({ type: 'done' });
  } catch (err) {
    reply({ type: 'error', message: err instanceof Error ? err.message : String(err), name: 'DumpReadError' });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
    // The pool stays up while idle: hand the head buffers back rather than hold tens of MiB per thread.
    raw = new Uint8Array(0);
    wide = new Float32Array(0);
  }
}
