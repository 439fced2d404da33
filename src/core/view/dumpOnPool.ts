/**
 * The host side of a dump read on the compute pool (the worker side is dumpJob.ts): which dumps qualify, and the
 * three phases run one after the other. Everything large stays in the workers; this thread sees the grid cells,
 * the aggregate maps and their thumbnails in shared memory, and a progress message per head.
 */
import * as os from 'os';
import { findAsset } from '../compute/assets';
import { ComputePool } from '../compute/pool';
import { product } from '../ndarray';
import type { DType } from '../ndarray';
import type { FileLayout } from '../matrixFile';
import { POOL_DTYPES, phaseItems } from './dumpJob';
import type { DumpPhase, DumpSource } from './dumpJob';

/** Below this many bytes of maps a dump is read on this thread: a pool round trip costs more than it saves. */
export const POOL_DUMP_BYTES = 32 * 2 ** 20;

let dumpPool: ComputePool | undefined;

/**
 * The dump readers' own pool, spawned on first use: its threads lower their priority (dumpJob.ts), which the
 * compute pool's must not, and a big dump does not queue behind (or hold up) an attention computation.
 */
export function getDumpPool(): ComputePool | undefined {
  if (dumpPool) return dumpPool;
  const workerFile = findAsset('worker.js');
  if (!workerFile) return undefined;
  // One core is left to the editor: with every core reading a fresh multi-GiB file (the kernel filling the page
  // cache as it goes), the editor's thread waited 34–58 ms for a core even at nice +10; with one reader fewer, under
  // 10 ms (8 GiB bf16 grid 13 → 28 s on 2 cores; the 576 MiB grid 0.4 → 0.8 s).
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  dumpPool = new ComputePool(workerFile, [], Math.max(1, Math.min(8, cores - 1)));
  return dumpPool;
}

/** Terminate the dump pool (with the compute pool: extension deactivate, end of tests). */
export function disposeDumpPool(): void {
  dumpPool?.dispose();
  dumpPool = undefined;
}

/** Values a worker reads per aggregate item (one band of rows of every head of a layer, 1 MiB of float32). */
const BAND_VALUES = 1 << 18;

const BYTES: Partial<Record<DType, number>> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, float8_e4m3fn: 1, float8_e5m2: 1, int8: 1, int16: 2, int32: 4, uint8: 1, uint16: 2, uint32: 4,
};

/**
 * Where the workers read a dump from, or undefined when this thread reads it: an .npz member or JSON (no layout),
 * Fortran order (a map is strided across the file), a dtype the workers do not widen, or fewer than `minBytes`.
 */
export function poolSource(
  layout: FileLayout | undefined, shape: readonly number[], dtype: string, mapsRead: number, minBytes: number,
): DumpSource | undefined {
  if (!layout || layout.fortranOrder || !(POOL_DTYPES as readonly string[]).includes(dtype)) return undefined;
  if (BYTES[dtype as DType] !== layout.itemsize) return undefined;
  const n = shape[shape.length - 2];
  const k = shape[shape.length - 1];
  if (mapsRead * n * k * layout.itemsize < minBytes) return undefined;
  return { file: layout.file, dataOffset: layout.dataOffset, itemsize: layout.itemsize, dtype: dtype as DType, littleEndian: layout.littleEndian, n, k };
}

/** Element offset of the map at leading `index` (C order). */
export function mapStart(shape: readonly number[], index: readonly number[]): number {
  let start = 0;
  let stride = product(shape.slice(index.length));
  for (let a = index.length - 1; a >= 0; a--) {
    start += index[a] * stride;
    stride *= shape[a];
  }
  return start;
}

function runPhase(pool: ComputePool, job: DumpPhase, onItem?: () => void, signal?: AbortSignal): Promise<void> {
  return pool.runWith((control) => ({ type: 'dump', job, control }), phaseItems(job), onItem && (() => onItem()), signal);
}

/**
 * Pools the heads of grid cells `order` (first to last) into `cells`, setting filled[c] and bad[c] per cell;
 * `onHead` runs on this thread after each. Rejects with an AbortError on Cancel; cells pooled by then stay.
 */
export function poolGrid(
  pool: ComputePool, src: DumpSource, starts: readonly number[], order: readonly number[], side: number,
  out: { cells: Float32Array; filled: Uint8Array; bad: Int32Array }, onHead: () => void, signal?: AbortSignal,
): Promise<void> {
  return runPhase(pool, {
    phase: 'grid', src, starts: order.map((c) => starts[c]), cellOf: [...order], side, cells: out.cells, bad: out.bad, filled: out.filled,
  }, onHead, signal);
}

export interface PoolAggregates {
  mean: Float32Array;
  max: Float32Array;
  rollout?: Float32Array;
  pooledMean: Float32Array;
  pooledMax: Float32Array;
  pooledRollout?: Float32Array;
}

/**
 * Head mean and max of layer `layer` (and rollout over every layer's head mean when `withRollout`), summed over
 * heads in head order as the one-thread read sums them, then pooled to side × side, all on the workers.
 * `starts[l * heads + h]` is the element offset of map [l, h].
 */
export async function aggregatesOnPool(
  pool: ComputePool, src: DumpSource, starts: readonly number[], layers: number, heads: number, layer: number,
  withRollout: boolean, side: number,
): Promise<PoolAggregates> {
  const { n, k } = src;
  const shared = (count: number) => new Float32Array(new SharedArrayBuffer(count * 4));
  const headsOf = (l: number) => starts.slice(l * heads, (l + 1) * heads);
  const max = shared(n * k);
  let mean: Float32Array;
  let means: Float32Array | undefined;
  let summed: { starts: number[]; mean: Float32Array; max?: Float32Array }[];
  if (withRollout) {
    means = shared(layers * n * k);
    const all = means;
    summed = Array.from({ length: layers }, (_, l) => ({ starts: headsOf(l), mean: all.subarray(l * n * k, (l + 1) * n * k), ...(l === layer ? { max } : {}) }));
    mean = all.subarray(layer * n * k, (layer + 1) * n * k);
  } else {
    mean = shared(n * k);
    summed = [{ starts: headsOf(layer), mean, max }];
  }
  await runPhase(pool, { phase: 'aggregate', src, bandRows: Math.max(1, Math.floor(BAND_VALUES / k)), layers: summed });
  const pooledMean = shared(side * side);
  const pooledMax = shared(side * side);
  const tasks: Extract<DumpPhase, { phase: 'pool' }>['tasks'] = [
    { map: mean, rows: n, cols: k, out: pooledMean },
    { map: max, rows: n, cols: k, out: pooledMax },
  ];
  let rolled: { rollout: Float32Array; pooledRollout: Float32Array } | undefined;
  if (means) {
    rolled = { rollout: shared(n * n), pooledRollout: shared(side * side) };
    tasks.push({ map: rolled.rollout, rows: n, cols: n, out: rolled.pooledRollout, rollout: { means, layers } });
  }
  await runPhase(pool, { phase: 'pool', side, tasks });
  return { mean, max, pooledMean, pooledMax, ...rolled };
}
