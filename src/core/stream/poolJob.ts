/**
 * The streamed sweep as a job kind of the compute pool: the message the host posts and the worker's handler (hooked
 * into compute/worker.ts). Chunks are taken from the shared counter exactly as for the in-memory kernels.
 */
import { workerData } from 'worker_threads';
import { loadBestWasm } from '../compute/kernel';
import { loadNative } from '../compute/native';
import { CTRL_ABORT, CTRL_NEXT_CHUNK, CTRL_ROWS_DONE } from '../compute/pool';
import type { WorkerReply } from '../compute/pool';
import { TsRowBlocks } from './rowBlock';
import { runSweepChunk, sweepChunks } from './sweep';
import type { SweepJob } from './sweep';
import { NativeRowBlocks } from './nativeRows';
import { WasmRowBlocks } from './wasmRows';

export interface StreamPoolMessage {
  type: 'stream';
  job: SweepJob;
  control: Int32Array;
}

let wasmKernel: WasmRowBlocks | undefined;
let nativeKernel: NativeRowBlocks | undefined;

/**
 * The kernel for a job on this thread: the native one when the job asks for it and the addon loads here (each
 * worker loads it itself), else one WASM instance per thread, kept across jobs (its memory is reused).
 */
export function kernelFor(job: SweepJob, wasmFiles: string[]): NativeRowBlocks | WasmRowBlocks | TsRowBlocks {
  if (job.native) {
    const addon = loadNative();
    if (addon) {
      nativeKernel ??= new NativeRowBlocks(addon);
      return nativeKernel.bind(job.head, job.id);
    }
  }
  if (job.wasm) {
    const module = loadBestWasm(wasmFiles)?.module;
    if (module) {
      wasmKernel ??= new WasmRowBlocks(module);
      return wasmKernel.bind(job.head, job.id);
    }
  }
  return new TsRowBlocks(job.head);
}

/** Drop this thread's WASM instance and native buffers (their memory goes back once collected). */
export function dropStreamKernel(): void {
  wasmKernel = undefined;
  nativeKernel = undefined;
}

/** The worker side: take chunks until none are left or the job is cancelled. */
export function handleStreamMessage(m: StreamPoolMessage, reply: (r: WorkerReply) => void): void {
  const { job, control } = m;
  try {
    const files = (workerData as { wasmFiles?: string[] } | null)?.wasmFiles ?? [];
    const kernel = kernelFor(job, files);
    const total = sweepChunks(job);
    for (;;) {
      if (Atomics.load(control, CTRL_ABORT)) break;
      const c = Atomics.add(control, CTRL_NEXT_CHUNK, 1);
      if (c >= total) break;
      const rows = runSweepChunk(job, c, kernel);
      Atomics.add(control, CTRL_ROWS_DONE, rows);
      reply({ type: 'progress', chunk: c });
    }
    if (kernel instanceof NativeRowBlocks) kernel.release();
    reply({ type: 'done' });
  } catch (err) {
    reply({ type: 'error', message: err instanceof Error ? err.message : String(err), name: err instanceof Error ? err.name : undefined });
  }
}
