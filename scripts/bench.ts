/**
 * `npm run bench`: the attention engine against NumPy on this machine, one run, medians of several timings.
 *   node out/scripts/bench.js [--json FILE] [--quick] [--sizes 1024,4096] [--engine-only] [--samples]
 * (`--engine-only` skips the file, memory and webview rows; `--sizes` picks the n of the compute rows, the
 * largest up to 4096 also being the n of the panel, whole-job and stall rows.)
 * Rows (d = 64, float32), each kernel (native C, WASM) beside NumPy (same maths incl. the safe softmax), run
 * alternately with it: the first job of each n in 256…8192 as the host runs it (with the native reserve) against
 * NumPy's steady state, and without the reserve as the CLI runs it (against NumPy's steady state and against NumPy's
 * own first job on fresh memory), a job on the memory the last one handed back; the plain-TypeScript kernel at n ≤ 512; the
 * compute a heatmap panel runs (n = 4096); the whole job in process; the CLI as a whole process (load 3 .npy,
 * compute, save weights and output) against a python3 NumPy script at n = 1024 and 4096; the CLI's start-up;
 * the machine's peak multiply-add rate and memory bandwidth and the physical floor they set at n = 4096 and
 * 32,768; the largest main-thread event-loop stall; the file, memory and webview benches; and the head metrics of scripts/benchHeads.ts.
 */
import { spawn, spawnSync } from 'child_process';
import type { ChildProcessWithoutNullStreams } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { monitorEventLoopDelay, performance } from 'perf_hooks';
import { DEFAULT_SETTINGS } from '../src/core/settings';
import type { AttentionResult } from '../src/core/attention';
import { buildModelFromSpec } from '../src/core/view/model';
import { compute } from '../src/loadPipeline';
import type { LongRunner } from '../src/loadPipeline';
import { computeFast, disposeComputePool, dropSpareMemory, releaseResult, wasmBuild } from '../src/core/compute/fast';
import type { EngineOptions } from '../src/core/compute/fast';
import { findAsset } from '../src/core/compute/assets';
import { dropNativeReserve, kernelName, loadNative, nativeUnavailableReason, RESERVE_CUT_MAX, setKernelPreference } from '../src/core/compute/native';
import { readMatrix } from '../src/core/matrixFile';
import type { NdArray } from '../src/core/ndarray';
import { writeNpy } from '../src/core/npyWrite';
import { computeAndSave } from '../src/cli/compute';
import { benchFiles } from './benchFiles';
import { benchHeads } from './benchHeads';
import { benchMemory } from './benchMemory';
import { benchStream } from './benchStream';
import { median, timeMedian } from './timing';

interface Row { name: string; n?: number; ms: number | null; numpyMs?: number | null; ratio?: number | null; note?: string }

const D = 64;
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonIndex = args.indexOf('--json');
const jsonFile = jsonIndex >= 0 ? args[jsonIndex + 1] : undefined;
const sizesIndex = args.indexOf('--sizes');
const SIZES = sizesIndex >= 0 ? args[sizesIndex + 1].split(',').map(Number).filter((n) => n > 0)
  : quick ? [256, 1024] : [256, 512, 1024, 2048, 4096, 8192];
/** The n of the panel, whole-job and stall rows: the largest compute size up to 4096. */
const JOB_N = Math.max(...SIZES.filter((n) => n <= 4096), Math.min(...SIZES));
/** The CLI-as-a-process rows (they write their own inputs). */
const CLI_SIZES = quick ? [1024] : [1024, 4096];
const engineOnly = args.includes('--engine-only');
/** Print every run of the paired rows (ours, then NumPy's), not only their medians. */
const showSamples = args.includes('--samples');

function random(rows: number, cols: number, seed: number): NdArray {
  let s = seed >>> 0;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * 4;
  }
  return { shape: [rows, cols], dtype: 'float32', data };
}

function runsFor(n: number): number {
  // Alternating pairs, medians. Small jobs get many runs: they cost little, and in a VM a job that lands on fresh
  // memory (pages the host backs on first touch) takes 3–10× its usual time, on either side.
  return n <= 512 ? 31 : n <= 1024 ? 21 : n <= 2048 ? 15 : n <= 4096 ? 11 : 5;
}

/** The host's progress runner, minus the notification: the job with a signal and a progress callback. */
const progressRunner: LongRunner = (_title, task) => task(new AbortController().signal, () => undefined);

/** The python3 script the CLI process is compared with: load 3 .npy, the same maths, save weights and output. */
const NUMPY_SCRIPT = String.raw`
import sys, numpy as np
q, k, v, out = sys.argv[1:5]
Q, K, V = np.load(q), np.load(k), np.load(v)
s = (Q @ K.T) * np.float32(1 / np.sqrt(Q.shape[1]))
s -= s.max(axis=1, keepdims=True)
np.exp(s, out=s)
s /= s.sum(axis=1, keepdims=True)
np.save(out + '/weights.npy', s); np.save(out + '/output.npy', s @ V)
`;

/** Median wall milliseconds of two commands run alternately `runs` times (after one warm-up each). */
function pairedProcesses(runs: number, a: string[], b: string[] | undefined): { ours: number; numpy: number | null } {
  const time = (cmd: string[]) => {
    const t = performance.now();
    const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${(r.stderr || r.error?.message || '').split('\n')[0]}`);
    return performance.now() - t;
  };
  time(a);
  if (b) time(b);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < runs; i++) {
    xs.push(time(a));
    if (b) ys.push(time(b));
  }
  return { ours: median(xs), numpy: ys.length ? median(ys) : null };
}

/**
 * NumPy in one persistent python3 process, timed run by run and interleaved with ours, so that load from
 * other processes on this machine drifts into both columns alike. Protocol: "compute N", "first N" or "job N" on
 * stdin, the milliseconds of one run (timed inside Python, no interpreter start) on stdout, -1 for a run it cannot
 * make. "compute" runs on the heap its last run freed (NumPy's steady state: CPython frees arrays at once and
 * glibc keeps the pages); "first" hands that heap back to the system first (malloc_trim), so its arrays fault in
 * fresh pages as ours do in a first job.
 */
const NUMPY = String.raw`
import sys, time, os, ctypes
import numpy as np
d = sys.argv[1]
try:
    # glibc's malloc_trim: the freed heap handed back to the system, so the next arrays start on fresh pages.
    trim = ctypes.CDLL(None).malloc_trim
except Exception:
    trim = None
def attention(Q, K, V):
    # Same maths as ours: scaled dot product, safe softmax (row max subtracted), weights and output, float32.
    s = (Q @ K.T) * np.float32(1 / np.sqrt(Q.shape[1]))
    s -= s.max(axis=1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(axis=1, keepdims=True)
    return s, s @ V
cache = {}
def inputs(n):
    if n not in cache:
        cache[n] = [np.load(os.path.join(d, f'{x}{n}.npy')) for x in 'qkv']
    return cache[n]
def job(n):
    Q, K, V = (np.load(os.path.join(d, f'{x}{n}.npy')) for x in 'qkv')
    w, o = attention(Q, K, V)
    np.save(os.path.join(d, 'np_weights.npy'), w); np.save(os.path.join(d, 'np_output.npy'), o)
print('ready', np.__version__, flush=True)
for line in sys.stdin:
    kind, n = line.split(); n = int(n)
    if kind == 'first' and trim is None:
        print(-1, flush=True); continue
    if kind in ('compute', 'first'):
        Q, K, V = inputs(n)
        if kind == 'first': trim(0)
        t = time.perf_counter(); attention(Q, K, V)
    else:
        t = time.perf_counter(); job(n)
    print((time.perf_counter() - t) * 1000, flush=True)
`;

type NumPyKind = 'compute' | 'first' | 'job';

class NumPy {
  private proc?: ChildProcessWithoutNullStreams;
  private lines: string[] = [];
  private waiting?: (line: string | undefined) => void;
  version = '';

  async start(dir: string): Promise<boolean> {
    try {
      this.proc = spawn('python3', ['-c', NUMPY, dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    } catch {
      return false;
    }
    let buf = '';
    this.proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (this.waiting) {
          const w = this.waiting;
          this.waiting = undefined;
          w(line);
        } else this.lines.push(line);
      }
    });
    this.proc.on('error', () => this.fail());
    this.proc.on('exit', () => this.fail());
    const first = await this.next();
    if (!first?.startsWith('ready')) return false;
    this.version = first.split(' ')[1] ?? '';
    return true;
  }

  private fail(): void {
    this.proc = undefined;
    const w = this.waiting;
    this.waiting = undefined;
    w?.(undefined);
  }

  private next(): Promise<string | undefined> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (!this.proc) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  async time(kind: NumPyKind, n: number): Promise<number | undefined> {
    if (!this.proc) return undefined;
    this.proc.stdin.write(`${kind} ${n}\n`);
    const line = await this.next();
    const ms = line === undefined ? NaN : Number(line);
    return ms >= 0 ? ms : undefined;
  }

  close(): void {
    this.proc?.stdin.end();
    this.proc?.kill();
    this.proc = undefined;
  }
}

const SETTLE_MS = 150;
const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));

type Timer = () => Promise<number | undefined>;

/**
 * Medians of ours and NumPy's, run alternately (each warmed up once first); `np2`, a second NumPy timing taken in
 * the same rounds (its median in `numpy2`).
 */
async function paired(runs: number, ours: () => Promise<unknown>, np: Timer | undefined, np2?: Timer): Promise<{ ours: number; numpy: number | null; numpy2: number | null }> {
  await ours();
  await np?.();
  await np2?.();
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Let the other side settle first: OpenBLAS's threads keep spinning for a while after a call and would
    // otherwise take our two cores, and our page cache writes would still be draining into NumPy's run.
    if (np) await settle();
    const t = performance.now();
    await ours();
    a.push(performance.now() - t);
    for (const [timer, into] of [[np, b], [np2, c]] as const) {
      if (!timer) continue;
      await settle();
      const x = await timer();
      if (x !== undefined) into.push(x);
    }
  }
  if (showSamples) console.log(`  runs: ours ${a.map((x) => fmt(x)).join(' ')} | NumPy ${b.map((x) => fmt(x)).join(' ')}${c.length ? ` | NumPy 2 ${c.map((x) => fmt(x)).join(' ')}` : ''}`);
  return { ours: median(a), numpy: b.length ? median(b) : null, numpy2: c.length ? median(c) : null };
}

/** Largest gap of the main thread's event loop while `f` runs (both a 1 ms interval and perf_hooks). */
async function eventLoopStall(f: () => Promise<unknown>): Promise<{ intervalMs: number; histogramMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  h.enable();
  await f();
  h.disable();
  clearInterval(timer);
  worst = Math.max(worst, performance.now() - last);
  return { intervalMs: worst, histogramMs: h.max / 1e6 };
}

function fmt(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

async function main(): Promise<void> {
  const started = performance.now();
  const rows: Row[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-bench-'));
  try {
    console.log(`attention bench: d=${D}, float32, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), node ${process.version}`);
    const native0 = loadNative();
    console.log(`native kernel: ${native0 ? `${kernelName('native')} (${findAsset('attention.node')})` : `NOT AVAILABLE (${nativeUnavailableReason()})`}`);
    console.log(`WASM kernel: ${wasmBuild() === 'fma' ? `WASM SIMD with fused multiply-add (${findAsset('attention-fma.wasm')})` : wasmBuild() === 'simd' ? `WASM SIMD128 (${findAsset('attention.wasm')})` : 'NOT FOUND (TypeScript kernel only)'}; workers: ${findAsset('worker.js') ?? 'NOT FOUND'}`);
    const inputs = new Map<number, { q: NdArray; k: NdArray; v: NdArray }>();
    for (const n of SIZES) {
      const q = random(n, D, 1);
      const k = random(n, D, 2);
      const v = random(n, D, 3);
      inputs.set(n, { q, k, v });
      await writeNpy(path.join(dir, `q${n}.npy`), q);
      await writeNpy(path.join(dir, `k${n}.npy`), k);
      await writeNpy(path.join(dir, `v${n}.npy`), v);
    }
    const numpy = new NumPy();
    const haveNumpy = await numpy.start(dir);
    console.log(haveNumpy ? `NumPy ${numpy.version} via python3, timed alternately with ours` : '(NumPy not available: python3 with numpy not found)');
    const np = (kind: NumPyKind, n: number) => (haveNumpy ? () => numpy.time(kind, n) : undefined);
    const ratio = (a: number, b: number | null) => (b ? a / b : null);

    const native = loadNative();
    const kernels: ('native' | 'wasm')[] = native ? ['native', 'wasm'] : ['wasm'];
    const label = (k: 'native' | 'wasm') => (k === 'native' ? kernelName('native') : `WASM (${wasmBuild()})`);
    try {
      for (const n of SIZES) {
        const input = inputs.get(n) as { q: NdArray; k: NdArray; v: NdArray };
        for (const kernel of kernels) {
          // The first job of its size, as the extension host runs it (src/loadPipeline.ts asks for the native
          // reserve: results up to RESERVE_CUT_MAX on a slab faulted in while idle, larger ones on fresh pages, as
          // without it). Against NumPy's steady state: the issue's row.
          const reserved = kernel === 'native' && (n * n + n * D) * 4 <= RESERVE_CUT_MAX;
          const firstJob = (reserve: boolean) => () => {
            dropSpareMemory();
            return computeFast(input, { scores: false, kernel, reserve });
          };
          const cold = await paired(runsFor(n), firstJob(true), np('compute', n), reserved ? undefined : np('first', n));
          rows.push({ name: `compute, ${label(kernel)}, first job`, n, ms: cold.ours, numpyMs: cold.numpy, ratio: ratio(cold.ours, cold.numpy),
            note: `${reserved ? 'on the reserve, as the host runs it' : 'weights and output on fresh memory'}; NumPy on the heap its last run freed` });
          // Where the reserve served the job: again without it, as the CLI runs its one job (every page fresh).
          // Against NumPy's steady state, and against NumPy's own first job (its freed heap handed back first).
          let fresh = cold;
          if (reserved) {
            dropNativeReserve();
            fresh = await paired(runsFor(n), firstJob(false), np('compute', n), np('first', n));
            dropNativeReserve();
            rows.push({ name: `compute, ${label(kernel)}, first job, no reserve`, n, ms: fresh.ours, numpyMs: fresh.numpy, ratio: ratio(fresh.ours, fresh.numpy),
              note: 'as the CLI runs it: weights and output on fresh memory; NumPy on the heap its last run freed' });
          }
          if (fresh.numpy2 !== null) {
            rows.push({ name: `compute, ${label(kernel)}, first job${reserved ? ', no reserve,' : ''} vs NumPy's first`, n, ms: fresh.ours, numpyMs: fresh.numpy2, ratio: ratio(fresh.ours, fresh.numpy2),
              note: 'both on fresh memory: NumPy hands its freed heap back (malloc_trim) before each run' });
          }
          // A job whose memory the last one handed back (releaseResult), as NumPy's heap reuses its freed arrays.
          let last: AttentionResult | undefined;
          const warm = await paired(runsFor(n), async () => {
            if (last) releaseResult(last);
            last = await computeFast(input, { scores: false, kernel });
          }, np('compute', n));
          dropSpareMemory();
          rows.push({ name: `compute, ${label(kernel)}, memory handed back`, n, ms: warm.ours, numpyMs: warm.numpy, ratio: ratio(warm.ours, warm.numpy),
            note: 'releaseResult after each job, the next writes to its pages; NumPy as in the first row' });
        }
        if (n <= 512) {
          const opts: EngineOptions = { kernel: 'ts', pool: false, scores: false };
          const ts = await timeMedian(3, () => computeFast(input, opts), true);
          rows.push({ name: 'compute, plain TypeScript kernel', n, ms: ts, note: 'the last fallback' });
        }
      }

      const n = JOB_N;
      const input = inputs.get(n) as { q: NdArray; k: NdArray; v: NdArray };
      for (const kernel of kernels) {
        // What a heatmap panel runs (src/heatmapSources.ts): computeAttentionFast with the panel's options.
        // What a heatmap panel runs: the host's own compute (src/loadPipeline.ts) with the kernel setting, then the
        // model it shows (weights; the score views are made only when a view shows them).
        const env = { settings: () => ({ ...DEFAULT_SETTINGS, kernel }), runLong: progressRunner };
        const spec = { file: 'bench.attention.json', q: input.q, k: input.k, v: input.v };
        const panel = await paired(runsFor(n), async () => buildModelFromSpec(spec, await compute(spec, env), 'bench'), np('compute', n));
        rows.push({ name: `panel compute, ${label(kernel)}`, n, ms: panel.ours, numpyMs: panel.numpy, ratio: ratio(panel.ours, panel.numpy),
          note: 'loadPipeline.compute + the model, as a panel computes (score views on demand)' });
      }
      for (const kernel of kernels) {
        // What `compute --q q.npy --k k.npy --v v.npy --out DIR` does in process: weights streamed to the file.
        const job = async () => {
          const [q, k, v] = await Promise.all(['q', 'k', 'v'].map((x) => readMatrix(path.join(dir, `${x}${n}.npy`))));
          await computeAndSave({ q, k, v }, { outDir: path.join(dir, 'out'), scores: false, keepWeights: false });
        };
        setKernelPreference(kernel);
        const whole = await paired(9, job, np('job', n));
        rows.push({ name: `whole job in process, ${label(kernel)}`, n, ms: whole.ours, numpyMs: whole.numpy,
          ratio: ratio(whole.ours, whole.numpy), note: 'load 3 .npy, compute, save 2 (weights streamed to disk)' });
      }
    } finally {
      setKernelPreference('auto');
      numpy.close();
    }

    // The CLI as a whole process against a python3 NumPy script (interpreter and imports included on both sides).
    const cli = path.join(__dirname, '..', '..', 'dist', 'cli.js');
    const script = path.join(dir, 'job.py');
    fs.writeFileSync(script, NUMPY_SCRIPT);
    for (const n of CLI_SIZES) {
      const files = ['q', 'k', 'v'].map((x) => path.join(dir, `cli_${x}${n}.npy`));
      if (!fs.existsSync(files[0])) {
        await writeNpy(files[0], random(n, D, 1));
        await writeNpy(files[1], random(n, D, 2));
        await writeNpy(files[2], random(n, D, 3));
      }
      const out = path.join(dir, 'cli-out');
      fs.mkdirSync(out, { recursive: true });
      for (const kernel of kernels) {
        const r = pairedProcesses(n >= 4096 ? 7 : 9,
          [process.execPath, cli, 'compute', '--q', files[0], '--k', files[1], '--v', files[2], '--out', out, '--kernel', kernel],
          haveNumpy ? ['python3', script, ...files, out] : undefined);
        rows.push({ name: `CLI process, ${label(kernel)}`, n, ms: r.ours, numpyMs: r.numpy, ratio: ratio(r.ours, r.numpy ?? null),
          note: 'node dist/cli.js compute … --out vs python3 (load 3 .npy, compute, save 2)' });
      }
    }
    {
      const tiny = ['q', 'k', 'v'].map((x) => path.join(dir, `tiny_${x}.npy`));
      for (const [i, f] of tiny.entries()) await writeNpy(f, random(8, 4, i + 1));
      const start = pairedProcesses(15, [process.execPath, cli, 'compute', '--q', tiny[0], '--k', tiny[1], '--v', tiny[2], '--out', path.join(dir, 'tiny-out')],
        [process.execPath, '-e', '0']);
      rows.push({ name: 'CLI start-up: a tiny compute --out vs node -e 0', n: 8, ms: start.ours, note: `node -e 0: ${fmt(start.numpy)} ms` });
    }

    if (native) {
      const m = native.machine(0, 512);
      const cores = os.cpus().length;
      rows.push({ name: 'machine: peak float32 multiply-add', ms: null,
        note: `${m.peakGflops.toFixed(0)} GFLOP/s on ${cores} cores (${m.lanes * 32}-bit FMA chains, per-core CPU time); write ${m.writeGBps.toFixed(1)} GB/s, copy ${m.copyGBps.toFixed(1)} GB/s` });
      const nativeAt = (k: number) => rows.find((r) => r.n === k && r.name.startsWith('compute, native'))?.ms ?? null;
      for (const k of [4096, 32768]) {
        const flops = 2 * k * k * (2 * D);
        const bytes = k * k * 4 + 4 * k * D * 4;
        const floor = flops / (m.peakGflops * 1e6) + bytes / (m.writeGBps * 1e6);
        let ours = nativeAt(k);
        let how = 'first job above';
        let cpu = '';
        const same = inputs.get(k);
        if (same) {
          // CPU time (both threads) is what the floor's arithmetic and bytes cost the cores; wall time on a
          // shared machine also counts the other processes.
          const cs: number[] = [];
          for (let i = 0; i < 5; i++) {
            const c0 = process.cpuUsage();
            await computeFast(same, { kernel: 'native', scores: false });
            const c = process.cpuUsage(c0);
            cs.push((c.user + c.system) / 1000);
          }
          cpu = `; CPU time ${fmt(median(cs))} ms on ${cores} cores = ${(median(cs) / (floor * cores)).toFixed(1)}× the floor's ${fmt(floor * cores)} core-ms`;
        }
        if (ours === null && k === 32768) {
          // 4 GiB of weights: computed once, written to /dev/null (the bytes term above stands for a real array).
          const big = { q: random(k, D, 1), k: random(k, D, 2), v: random(k, D, 3) };
          const fd = fs.openSync('/dev/null', 'w');
          try {
            const t = performance.now();
            await computeFast(big, { kernel: 'native', scores: false, weightsFile: { fd, offset: 0, keepWeights: false } });
            ours = performance.now() - t + bytes / (m.writeGBps * 1e6);
          } finally {
            fs.closeSync(fd);
          }
          how = 'one run, weights to /dev/null, plus the bytes term';
        }
        rows.push({ name: 'physical floor: FLOPs ÷ peak + bytes ÷ bandwidth', n: k, ms: floor,
          note: `${(flops / 1e9).toFixed(1)} GFLOP + ${(bytes / 2 ** 20).toFixed(0)} MiB; native ${fmt(ours)} ms = ${ours ? (ours / floor).toFixed(1) : '—'}× the floor (${how})${cpu}` });
      }
    }

    const n = JOB_N;
    const input = inputs.get(n) as { q: NdArray; k: NdArray; v: NdArray };
    const stall = await eventLoopStall(() => computeFast(input, { scores: false }));
    rows.push({ name: 'largest event-loop stall during compute', n, ms: Math.max(stall.intervalMs, stall.histogramMs),
      note: `setInterval(1) gap ${fmt(stall.intervalMs)} ms, monitorEventLoopDelay max ${fmt(stall.histogramMs)} ms` });

    if (!engineOnly) for (const r of await benchFiles()) rows.push({ name: r.name, ms: r.ms, note: r.note });
    if (!engineOnly) for (const r of await benchHeads(quick ? 3 : 5)) rows.push({ ...r, ratio: r.numpyMs ? r.ms / r.numpyMs : null });
  } finally {
    disposeComputePool();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (!engineOnly) {
    rows.push(...(await benchMemory()));
    rows.push(...(await benchStream(quick)));
    rows.push(...webviewBench());
  }

  const w0 = Math.max(...rows.map((r) => r.name.length));
  console.log('');
  console.log(`${'what'.padEnd(w0)}  ${'n'.padStart(5)}  ${'ours ms'.padStart(9)}  ${'NumPy ms'.padStart(9)}  ${'ratio'.padStart(6)}  note`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(w0)}  ${String(r.n ?? '').padStart(5)}  ${fmt(r.ms).padStart(9)}  ${fmt(r.numpyMs).padStart(9)}  ${r.ratio ? r.ratio.toFixed(2).padStart(6) : '     —'}  ${r.note ?? ''}`);
  }
  console.log(`\n(ratio = ours / NumPy; targets: first job ≤ 1.0 at every n and ≤ 0.6 at 4096, panel ≤ 0.8, CLI process ≤ 0.8 at 4096 and ≤ 1.0 at 1024, stall ≤ ~50 ms; bench took ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  if (jsonFile) {
    fs.mkdirSync(path.dirname(path.resolve(jsonFile)), { recursive: true });
    fs.writeFileSync(jsonFile, JSON.stringify(rows, null, 1) + '\n');
    console.log(`rows written to ${jsonFile}`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

/** The webview's own timings (first frame, hover) in headless Chromium, from scripts/benchWebview.mjs. */
function webviewBench(): Row[] {
  const script = path.join(__dirname, '..', '..', 'scripts', 'benchWebview.mjs');
  if (!fs.existsSync('/usr/bin/chromium')) return [{ name: 'webview timings', ms: null, note: 'skipped: no /usr/bin/chromium (bash scripts/setup-vscode.sh installs it)' }];
  const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 300_000 });
  const last = (run.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return (JSON.parse(last) as { name: string; ms: number; note: string }[]).map((r) => ({ name: r.name, ms: r.ms, note: r.note }));
  } catch {
    return [{ name: 'webview timings', ms: null, note: `failed: ${(run.stderr || run.error?.message || 'no output').split('\n')[0]}` }];
  }
}
