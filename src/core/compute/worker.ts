/**
 * Entry of dist/worker.js: takes chunks of query rows from a shared counter and computes them with the
 * WASM kernel (or the TypeScript kernel), writing straight into the job's shared output arrays.
 */
import { parentPort, workerData } from 'worker_threads';
import { loadBestWasm, runChunk, totalChunks, WasmKernel } from './kernel';
import { CTRL_ABORT, CTRL_NEXT_CHUNK, CTRL_ROWS_DONE } from './pool';
import type { PoolJobMessage, PoolTouchMessage, WorkerReply } from './pool';
import { handleStreamMessage } from '../stream/poolJob';
import type { StreamPoolMessage } from '../stream/poolJob';
import { handleDumpMessage } from '../view/dumpJob';
import type { DumpPoolMessage } from '../view/dumpJob';

// The same choice the main thread made: the first build this runtime accepts (V8 flags are per process).
const wasmFiles = (workerData as { wasmFiles?: string[] } | null)?.wasmFiles ?? [];
const module = loadBestWasm(wasmFiles)?.module;
// One kernel instance per worker, reused across jobs (its memory grows to the largest job once).
const kernel = module ? new WasmKernel(module) : undefined;

function reply(m: WorkerReply): void {
  parentPort?.postMessage(m);
}

parentPort?.on('message', (m: PoolJobMessage | PoolTouchMessage | StreamPoolMessage | DumpPoolMessage) => {
  if (m.type === 'stream') return handleStreamMessage(m, reply); // the long-context sweep (stream/poolJob.ts)
  if (m.type === 'dump') return handleDumpMessage(m, reply); // a big dump's grid (view/dumpJob.ts)
  if (m.type === 'touch') {
    // One write per 4 KiB page; the buffer is fresh (all zeros), so writing 0 changes nothing but maps the page.
    const words = new Int32Array(m.buffer);
    for (let i = m.from >> 2; i < m.to >> 2; i += 1024) words[i] = 0;
    reply({ type: 'done' });
    return;
  }
  if (m.type !== 'run') return;
  const { job, control } = m;
  try {
    const total = totalChunks(job);
    for (;;) {
      if (Atomics.load(control, CTRL_ABORT)) break;
      const c = Atomics.add(control, CTRL_NEXT_CHUNK, 1);
      if (c >= total) break;
      const rows = runChunk(job, c, kernel);
      Atomics.add(control, CTRL_ROWS_DONE, rows);
      reply({ type: 'progress', chunk: c });
    }
    reply({ type: 'done' });
  } catch (err) {
    reply({ type: 'error', message: err instanceof Error ? err.message : String(err), name: err instanceof Error ? err.name : undefined });
  }
});
