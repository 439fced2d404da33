/**
 * `npm run bench`: the attention engine against NumPy on this machine, one run, medians of several timings.
 *   node out/scripts/bench.js [--json FILE] [--quick] [--sizes 1024,4096] [--engine-only]
 * (`--engine-only` skips the file, memory and webview rows; `--sizes` picks the n of the compute rows, the
 * largest also being the n of the whole-job and stall rows.)
 * Rows: compute-only for n = 512…4096 (d = 64, float32): ours (WASM SIMD + workers), ours (plain TypeScript,
 * n ≤ 1024), NumPy (same maths incl. the safe softmax) and the ratio ours/NumPy; the whole job (load three
 * .npy, compute, save weights and output) for both; the largest main-thread event-loop stall during a
 * 4096 compute; and the file benches of scripts/benchFiles.ts when that file exists.
 */
import { spawn, spawnSync } from 'child_process';
import type { ChildProcessWithoutNullStreams } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { monitorEventLoopDelay, performance } from 'perf_hooks';
import { computeFast, disposeComputePool, dropSpareMemory, POOL_THRESHOLD, releaseResult, WARM_SPARE_MIN_BYTES, wasmBuild } from '../src/core/compute/fast';
import type { EngineOptions } from '../src/core/compute/fast';
import { findAsset } from '../src/core/compute/assets';
import { readMatrix } from '../src/core/matrixFile';
import type { NdArray } from '../src/core/ndarray';
import { writeNpy } from '../src/core/npyWrite';
import { computeAndSave } from '../src/cli/compute';
import { benchFiles } from './benchFiles';
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
  : quick ? [512, 1024] : [512, 1024, 2048, 4096];
const engineOnly = args.includes('--engine-only');

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
  // Alternating pairs, medians: more runs where the machine is shared and one run is ~100 ms.
  return n <= 512 ? 15 : n <= 1024 ? 11 : n <= 2048 ? 9 : 11;
}

/**
 * NumPy in one persistent python3 process, timed run by run and interleaved with ours, so that load from
 * other processes on this machine drifts into both columns alike. Protocol: "compute N" or "job N" on stdin,
 * the milliseconds of one run (timed inside Python, no interpreter start) on stdout.
 */
const NUMPY = String.raw`
import sys, time, os
import numpy as np
d = sys.argv[1]
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
    if kind == 'compute':
        Q, K, V = inputs(n)
        t = time.perf_counter(); attention(Q, K, V)
    else:
        t = time.perf_counter(); job(n)
    print((time.perf_counter() - t) * 1000, flush=True)
`;

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

  async time(kind: 'compute' | 'job', n: number): Promise<number | undefined> {
    if (!this.proc) return undefined;
    this.proc.stdin.write(`${kind} ${n}\n`);
    const line = await this.next();
    return line === undefined ? undefined : Number(line);
  }

  close(): void {
    this.proc?.stdin.end();
    this.proc?.kill();
    this.proc = undefined;
  }
}

const SETTLE_MS = 150;
const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));

/** Medians of ours and NumPy's, run alternately (each warmed up once first). */
async function paired(runs: number, ours: () => Promise<unknown>, np: (() => Promise<number | undefined>) | undefined): Promise<{ ours: number; numpy: number | null }> {
  await ours();
  await np?.();
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Let the other side settle first: OpenBLAS's threads keep spinning for a while after a call and would
    // otherwise take our two cores, and our page cache writes would still be draining into NumPy's run.
    if (np) await settle();
    const t = performance.now();
    await ours();
    a.push(performance.now() - t);
    if (np) await settle();
    const x = await np?.();
    if (x !== undefined) b.push(x);
  }
  return { ours: median(a), numpy: b.length ? median(b) : null };
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
    console.log(`kernel: ${wasmBuild() === 'fma' ? `WASM SIMD with fused multiply-add (${findAsset('attention-fma.wasm')})` : wasmBuild() === 'simd' ? `WASM SIMD128 (${findAsset('attention.wasm')})` : 'NOT FOUND (TypeScript kernel only)'}; workers: ${findAsset('worker.js') ?? 'NOT FOUND'}`);
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
    const np = (kind: 'compute' | 'job', n: number) => (haveNumpy ? () => numpy.time(kind, n) : undefined);
    const ratio = (a: number, b: number | null) => (b ? a / b : null);

    try {
      for (const n of SIZES) {
        const input = inputs.get(n) as { q: NdArray; k: NdArray; v: NdArray };
        // Cold: the first job of its size, every page of the weights faulted in as the kernel writes them.
        const cold = await paired(runsFor(n), () => {
          dropSpareMemory();
          return computeFast(input, { scores: false });
        }, np('compute', n));
        rows.push({ name: 'compute, ours, first job of its size', n, ms: cold.ours, numpyMs: cold.numpy, ratio: ratio(cold.ours, cold.numpy),
          note: 'fresh memory: page faults on every 4 KiB of the weights' });
        // Repeated jobs while earlier results are still held: the weights go to the spare the idle workers
        // faulted in after the previous job (pool jobs with weights of 1 MiB and more).
        const fast = await paired(runsFor(n), () => computeFast(input, { scores: false }), np('compute', n));
        rows.push({ name: 'compute, ours, repeated', n, ms: fast.ours, numpyMs: fast.numpy, ratio: ratio(fast.ours, fast.numpy),
          note: n * n * 4 >= WARM_SPARE_MIN_BYTES && n * n * 2 * D >= POOL_THRESHOLD ? 'results kept; weights written to the warm spare' : 'results kept; fresh memory (a job this small runs on the main thread)' });
        // Steady state of a caller that hands results back (releaseResult).
        const reused = await paired(runsFor(n), async () => releaseResult(await computeFast(input, { scores: false })), np('compute', n));
        rows.push({ name: 'compute, ours, result handed back', n, ms: reused.ours, numpyMs: reused.numpy,
          ratio: ratio(reused.ours, reused.numpy), note: 'weights memory reused via releaseResult' });
        if (n === SIZES[SIZES.length - 1]) {
          // What the extension runs: weights, output, and the raw and scaled score views (two more n×n arrays).
          const views = await paired(runsFor(n), () => computeFast(input), np('compute', n));
          rows.push({ name: 'compute, ours, with the score views', n, ms: views.ours, numpyMs: views.numpy, ratio: ratio(views.ours, views.numpy),
            note: 'as the extension computes: also raw and scaled scores (NumPy computes neither)' });
        }
        if (n <= 1024) {
          const opts: EngineOptions = { kernel: 'ts', pool: false, scores: false };
          const ts = await timeMedian(3, () => computeFast(input, opts), true);
          rows.push({ name: 'compute, ours, plain TypeScript kernel', n, ms: ts, numpyMs: fast.numpy, ratio: ratio(ts, fast.numpy) });
        }
      }

      const n = SIZES[SIZES.length - 1];
      // What `compute --q q.npy --k k.npy --v v.npy --out DIR` does: the workers write weight rows to the file as
      // they finish them, and no n×n array is held in memory (keepWeights: false).
      const job = async () => {
        const [q, k, v] = await Promise.all(['q', 'k', 'v'].map((x) => readMatrix(path.join(dir, `${x}${n}.npy`))));
        await computeAndSave({ q, k, v }, { outDir: path.join(dir, 'out'), scores: false, keepWeights: false });
      };
      const whole = await paired(9, job, np('job', n));
      rows.push({ name: 'whole job (load 3 .npy, compute, save 2)', n, ms: whole.ours, numpyMs: whole.numpy,
        ratio: ratio(whole.ours, whole.numpy), note: 'weights streamed to disk by the workers, as the CLI --out does' });
    } finally {
      numpy.close();
    }

    const n = SIZES[SIZES.length - 1];
    const input = inputs.get(n) as { q: NdArray; k: NdArray; v: NdArray };
    const stall = await eventLoopStall(() => computeFast(input, { scores: false }));
    rows.push({ name: 'largest event-loop stall during compute', n, ms: Math.max(stall.intervalMs, stall.histogramMs),
      note: `setInterval(1) gap ${fmt(stall.intervalMs)} ms, monitorEventLoopDelay max ${fmt(stall.histogramMs)} ms` });

    if (!engineOnly) for (const r of await benchFiles()) rows.push({ name: r.name, ms: r.ms, note: r.note });
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
  console.log(`\n(ratio = ours / NumPy; targets: compute ≤ 1.0 at n=4096, whole job ≤ 0.8, stall ≤ ~50 ms; bench took ${((performance.now() - started) / 1000).toFixed(0)} s)`);
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
