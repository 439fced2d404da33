/**
 * A small pool of worker_threads running dist/worker.js. Spawned once and reused; one job at a time uses
 * every worker. Inputs and outputs live in SharedArrayBuffers, so nothing large is copied through messages;
 * workers take chunks of rows from a shared counter (Atomics), which balances uneven (e.g. causal) rows.
 * Workers are unref'd while idle so they never keep a CLI process alive, and ref'd while a job runs.
 */
import * as os from 'os';
import { Worker } from 'worker_threads';
import type { KernelJob } from './kernel';

/** Control words shared with the workers. */
export const CTRL_ABORT = 0;
export const CTRL_NEXT_CHUNK = 1;
export const CTRL_ROWS_DONE = 2;

export interface PoolJobMessage {
  type: 'run';
  job: KernelJob;
  control: Int32Array;
}

/** Write one word per 4 KiB page of bytes [from, to) of a fresh buffer, so its page faults happen now. */
export interface PoolTouchMessage {
  type: 'touch';
  buffer: SharedArrayBuffer;
  from: number;
  to: number;
}

export type WorkerReply =
  | { type: 'progress'; chunk: number }
  | { type: 'done' }
  | { type: 'error'; message: string; name?: string };

export class ComputePool {
  private workers: Worker[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(
    private readonly workerFile: string,
    private readonly wasmFiles: string[],
    readonly size = Math.max(1, Math.min(8, os.availableParallelism?.() ?? os.cpus().length)),
  ) {}

  private spawn(): void {
    if (this.workers.length > 0) return;
    for (let i = 0; i < this.size; i++) {
      const w = new Worker(this.workerFile, { workerData: { wasmFiles: this.wasmFiles } });
      w.unref();
      this.workers.push(w);
    }
  }

  /** Run `task` after every earlier job and touch; one at a time uses the workers. */
  private enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(task);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Run a job whose arrays are SharedArrayBuffer-backed; jobs queue behind each other. */
  run(job: KernelJob, onProgress?: (fraction: number) => void, signal?: AbortSignal): Promise<void> {
    return this.runWith((control) => ({ type: 'run', job, control }), job.heads * job.nq, onProgress, signal);
  }

  /**
   * Run a job of any kind a worker handles (the message `make` builds around the shared control words), with the
   * same queueing, progress (CTRL_ROWS_DONE out of totalRows), cancellation and crash handling as `run`.
   */
  runWith(make: (control: Int32Array) => { type: string }, totalRows: number, onProgress?: (fraction: number) => void, signal?: AbortSignal): Promise<void> {
    return this.enqueue(() => {
      if (signal?.aborted) return Promise.reject(abortError());
      const control = new Int32Array(new SharedArrayBuffer(16));
      const onAbort = () => Atomics.store(control, CTRL_ABORT, 1);
      signal?.addEventListener('abort', onAbort);
      const message = make(control);
      return this.dispatch(() => message, true, {
        progress: () => onProgress?.(Math.min(1, Atomics.load(control, CTRL_ROWS_DONE) / totalRows)),
        failed: onAbort,
        finally: () => {
          signal?.removeEventListener('abort', onAbort);
          if (Atomics.load(control, CTRL_ABORT)) throw abortError();
        },
      });
    });
  }

  /**
   * Fault in every page of `buffer`, split across the workers, queued like a job. Idle work: the workers stay
   * unref'd, so it never keeps a process alive.
   */
  touch(buffer: SharedArrayBuffer): Promise<void> {
    return this.enqueue(() => {
      const part = Math.ceil(buffer.byteLength / this.size / 4096) * 4096;
      return this.dispatch((i) => ({ type: 'touch', buffer, from: Math.min(buffer.byteLength, i * part), to: Math.min(buffer.byteLength, (i + 1) * part) }), false, {});
    });
  }

  /**
   * Post one message to every worker and settle when each has answered 'done' (or failed: the first error
   * rejects, once all have stopped). `ref` keeps the process alive meanwhile.
   */
  private dispatch(
    message: (i: number) => PoolJobMessage | PoolTouchMessage | { type: string }, ref: boolean,
    hooks: { progress?: () => void; failed?: () => void; finally?: () => void },
  ): Promise<void> {
    if (this.disposed) return Promise.reject(new Error('the compute pool was disposed'));
    this.spawn();
    const workers = this.workers.slice();
    return new Promise<void>((resolve, reject) => {
      let pending = workers.length;
      let failure: Error | undefined;
      const cleanups: (() => void)[] = [];
      const finish = () => {
        for (const c of cleanups) c();
        if (ref) for (const w of workers) w.unref();
        // After a crash, start the next job with fresh workers rather than a partly broken pool.
        if (failure) this.terminateAll();
        try {
          hooks.finally?.();
        } catch (e) {
          failure ??= e as Error;
        }
        if (failure) reject(failure);
        else resolve();
      };
      workers.forEach((w, i) => {
        if (ref) w.ref();
        let settled = false;
        const settle = (err?: Error) => {
          if (settled) return;
          settled = true;
          if (err) {
            failure ??= err;
            hooks.failed?.();
          }
          if (--pending === 0) finish();
        };
        const onMessage = (m: WorkerReply) => {
          if (m.type === 'progress') hooks.progress?.();
          else if (m.type === 'error') {
            const err = new Error(m.message);
            if (m.name) err.name = m.name;
            settle(err);
          } else settle();
        };
        const onError = (err: Error) => settle(err);
        const onExit = (code: number) => settle(new Error(`a compute worker stopped (exit code ${code})`));
        w.on('message', onMessage);
        w.on('error', onError);
        w.on('exit', onExit);
        cleanups.push(() => {
          w.off('message', onMessage);
          w.off('error', onError);
          w.off('exit', onExit);
        });
        w.postMessage(message(i));
      });
    });
  }

  private terminateAll(): void {
    const ws = this.workers;
    this.workers = [];
    for (const w of ws) void w.terminate();
  }

  /** Terminate the workers; later jobs are refused. */
  dispose(): void {
    this.disposed = true;
    this.terminateAll();
  }
}

export function abortError(): Error {
  const e = new Error('the attention computation was cancelled');
  e.name = 'AbortError';
  return e;
}
