/**
 * File-reading benchmarks, called by the engine's scripts/bench.ts (or run alone: node out/scripts/benchFiles.js).
 * A sparse 2 GiB+ [L, H, n, n] float32 .npy in os.tmpdir() (header + ftruncate + one head's bytes) shows that
 * opening reads the header only and that one [l, h] slice costs its own size, not the file's.
 */
import { loadNative } from '../src/core/compute/native';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openMatrix } from '../src/core/matrixFile';
import { decodeFloat16 } from '../src/core/float16';
import { decodeBFloat16, decodeFloat8 } from '../src/core/floatDecode';
import { scanJson, matrixFromNode } from '../src/core/jsonMatrix';
import { parseJson } from '../src/core/jsonParse';
import { median, timeMedian } from './timing';
import { loadBinary } from '../src/loadPipeline';
import type { SourceEnv } from '../src/loadPipeline';
import { DEFAULT_SETTINGS } from '../src/core/settings';
import { serverFor } from '../src/core/view/streamServe';
import type { HeatmapModel } from '../src/shared/types';

export interface BenchResult { name: string; ms: number; note: string }

/** Writes the header and one head of a sparse [L, H, n, n] float32 dump; the rest of the file is a hole. */
function writeSparseDump(file: string, L: number, H: number, n: number, head: [number, number]): Float32Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${L}, ${H}, ${n}, ${n}), }`;
  const text = dict.padEnd(128 - 10 - 1, ' ') + '\n';
  const preamble = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length & 0xff, text.length >> 8]);
  const slice = new Float32Array(n * n);
  for (let i = 0; i < slice.length; i++) slice[i] = (i % n) / n;
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, Buffer.concat([preamble, Buffer.from(text, 'latin1')]), 0, 128, 0);
    fs.ftruncateSync(fd, 128 + L * H * n * n * 4);
    fs.writeSync(fd, new Uint8Array(slice.buffer), 0, slice.byteLength, 128 + (head[0] * H + head[1]) * n * n * 4);
  } finally {
    fs.closeSync(fd);
  }
  return slice;
}

/** A sparse bf16 safetensors dump: the header and one head written, the rest a hole; returns that head's bits. */
function writeSparseSafetensors(file: string, shape: number[], head: [number, number]): Uint16Array {
  const [, H, n, m] = shape;
  const bytes = shape.reduce((a, b) => a * b, 1) * 2;
  let json = JSON.stringify({ __metadata__: { format: 'pt' }, attentions: { dtype: 'BF16', shape, data_offsets: [0, bytes] } });
  json = json.padEnd(Math.ceil(json.length / 8) * 8, ' ');
  const pre = Buffer.alloc(8);
  pre.writeBigUInt64LE(BigInt(json.length));
  const slice = new Uint16Array(n * m);
  for (let i = 0; i < slice.length; i++) slice[i] = 0x3c00 + (i % 128); // 0.0078125 … about 0.015
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, Buffer.concat([pre, Buffer.from(json)]), 0, 8 + json.length, 0);
    fs.ftruncateSync(fd, 8 + json.length + bytes);
    fs.writeSync(fd, new Uint8Array(slice.buffer), 0, slice.byteLength, 8 + json.length + (head[0] * H + head[1]) * n * m * 2);
  } finally {
    fs.closeSync(fd);
  }
  return slice;
}

/** CPU time of one run: on a shared, loaded machine wall time counts the time other processes had the core. */
function cpuMs(fn: () => unknown): string {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return `${((used.user + used.system) / 1000).toFixed(0)} ms CPU for one run, load ${os.loadavg()[0].toFixed(1)}`;
}

/** Who widens narrow floats in this run: the native addon (huge pages) where it loads, else the JavaScript loop. */
function widenBy(): string {
  return loadNative() ? 'native addon' : 'JavaScript';
}

export async function benchFiles(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-bench-'));
  const file = path.join(dir, 'dump.npy');
  try {
    const [L, H, n] = [4, 9, 4096];
    const want = writeSparseDump(file, L, H, n, [2, 5]);
    const gib = (fs.statSync(file).size / 2 ** 30).toFixed(2);
    const openMs = await timeMedian(7, async () => { await (await openMatrix(file)).close(); });
    out.push({ name: 'npy: open a 2 GiB+ dump (header only)', ms: openMs, note: `[${L}, ${H}, ${n}, ${n}] float32, ${gib} GiB sparse file` });
    let ok = true;
    const readMs = await timeMedian(5, async () => {
      const h = await openMatrix(file);
      try {
        const a = await h.read([2, 5]);
        ok &&= a.data.length === n * n && a.data[n * n - 1] === want[n * n - 1] && a.data[1] === want[1];
      } finally {
        await h.close();
      }
    });
    const heapMb = (process.memoryUsage().arrayBuffers / 2 ** 20).toFixed(0);
    out.push({ name: 'npy: open + read one [l, h] slice', ms: readMs, note: `${(n * n * 4) / 2 ** 20} MiB slice of ${gib} GiB, median of 5, values ${ok ? 'correct' : 'WRONG'}, ${heapMb} MiB array buffers after` });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // The decode rows in a fresh process: here they would also time the collection of the big rows' garbage above
  // (one run measured float16 at 110 ms here and 27–39 ms alone), which is the bench's, not a decode's.
  out.push(...decodeRowsInChild());

  const stDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-bench-st-'));
  try {
    const stFile = path.join(stDir, 'dump.safetensors');
    const shape = [32, 32, 2048, 2048];
    const want = writeSparseSafetensors(stFile, shape, [7, 9]);
    const gib = (fs.statSync(stFile).size / 2 ** 30).toFixed(1);
    let ok = true;
    const stMs = await timeMedian(5, async () => {
      const h = await openMatrix(`${stFile}#attentions`);
      try {
        const a = await h.read([7, 9]);
        const got = new Uint32Array(a.data.buffer);
        ok &&= a.data.length === want.length && got[5] === want[5] << 16 && got[want.length - 1] === want[want.length - 1] << 16;
      } finally {
        await h.close();
      }
    });
    out.push({ name: 'safetensors: open + read one bf16 head', ms: stMs, note: `[${shape.join(', ')}] bf16, ${gib} GiB sparse file, 8 MiB head, median of 5, values ${ok ? 'correct' : 'WRONG'}` });
  } finally {
    fs.rmSync(stDir, { recursive: true, force: true });
  }

  const rows: string[] = [];
  for (let i = 0; i < 1700; i++) rows.push(`[${Array.from({ length: 256 }, (_, j) => (Math.sin(i * 256 + j) * 10).toFixed(5)).join(', ')}]`);
  const text = `[\n${rows.join(',\n')}\n]`;
  const mb = (text.length / 1e6).toFixed(1);
  const parseMs = await timeMedian(5, () => { matrixFromNode(parseJson(text), text, 'bench.json'); });
  out.push({ name: 'json: parse a matrix with positions', ms: parseMs, note: `${mb} MB, 1700×256, median of 5` });
  const scanMs = await timeMedian(5, () => { scanJson(text, 'bench.json'); });
  out.push({ name: 'json: scanJson (bounded, per keystroke)', ms: scanMs, note: `${mb} MB, shape past the budget not computed` });
  out.push(...await benchBigDumps());
  return out;
}

/** The float16 / bfloat16 / float8 decode rows (16M values each), measured in this process. */
async function decodeRows(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const bits = new Uint16Array(16 << 20);
  for (let i = 0; i < bits.length; i++) bits[i] = (i * 40503) & 0xffff;
  decodeFloat16(bits.subarray(0, 4096));
  const f16Ms = await timeMedian(5, () => { decodeFloat16(bits); });
  out.push({ name: 'float16: decode 16M values', ms: f16Ms, note: `lookup table (${widenBy()}), median of 5` });
  decodeBFloat16(bits.subarray(0, 4096));
  const bf16Ms = await timeMedian(5, () => { decodeBFloat16(bits); });
  out.push({ name: 'bfloat16: decode 16M values', ms: bf16Ms, note: `16-bit shift (${widenBy()}), median of 5; ${cpuMs(() => decodeBFloat16(bits))}` });
  const bytes8 = new Uint8Array(bits.buffer);
  const f8 = bytes8.subarray(0, 16 << 20);
  decodeFloat8(f8.subarray(0, 4096), 'float8_e4m3fn');
  const f8Ms = await timeMedian(5, () => { decodeFloat8(f8, 'float8_e4m3fn'); });
  out.push({ name: 'float8 e4m3fn: decode 16M values', ms: f8Ms, note: `256-entry table (${widenBy()}), median of 5; ${cpuMs(() => decodeFloat8(f8, 'float8_e4m3fn'))}` });

  return out;
}

/** decodeRows in a child process of this script (`--decode`), parsed from its JSON line. */
function decodeRowsInChild(): BenchResult[] {
  const r = spawnSync(process.execPath, [__filename, '--decode'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) return [{ name: 'float decode rows', ms: NaN, note: `failed: ${r.stderr.trim().split('\n')[0]}` }];
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as BenchResult[];
}

/** A [L, H, n, n] float32 .npy of rows that sum to 1 (one row pattern repeated, so writing it is quick). */
function writeFullDump(file: string, L: number, H: number, n: number): void {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${L}, ${H}, ${n}, ${n}), }`;
  const text = dict.padEnd(128 - 10 - 1, ' ') + '\n';
  const preamble = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length & 0xff, text.length >> 8]);
  const head = new Float32Array(n * n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let c = 0; c < n; c++) s += head[r * n + c] = 1 + ((r * 7 + c * 13) % 101);
    for (let c = 0; c < n; c++) head[r * n + c] /= s;
  }
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, Buffer.concat([preamble, Buffer.from(text, 'latin1')]), 0, 128, 0);
    for (let i = 0; i < L * H; i++) fs.writeSync(fd, new Uint8Array(head.buffer), 0, head.byteLength, 128 + i * head.byteLength);
  } finally {
    fs.closeSync(fd);
  }
}

interface LoadTiming { firstMs: number; fullMs: number; stallMs: number; partials: number; filled: number; cells: number }

/**
 * One load through the real pipeline (loadBinary, as a panel loads, each model then served as the panel serves it:
 * wire model and overview): time to the first model (the first partial, or the final model when there is none),
 * to the full grid, and the largest event-loop stall meanwhile, from a 5 ms setInterval whose lateness is the time
 * the loop could not run it.
 */
async function timeLoad(ref: string): Promise<LoadTiming> {
  const env: SourceEnv = { settings: () => DEFAULT_SETTINGS };
  let stall = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last - 5);
    last = now;
  }, 5);
  const t0 = performance.now();
  let first: number | undefined;
  let partials = 0;
  try {
    // What the panel does with each model (heatmapView.update): a server, the wire model and the shown overview.
    const show = (m: HeatmapModel) => {
      const s = serverFor(m, { overviewSize: DEFAULT_SETTINGS.overviewSize });
      s.wireModel();
      s.wireMatrix(s.pickKind(undefined));
    };
    const model = await loadBinary(ref, 'bench', undefined, env, undefined, (m) => {
      first ??= performance.now() - t0;
      partials++;
      show(m);
    });
    show(model);
    const fullMs = performance.now() - t0;
    const g = model.grid;
    let filled = 0;
    if (g) for (let c = 0; c < g.layers * g.heads; c++) if (!Number.isNaN(g.cells[c * g.cellSize * g.cellSize])) filled++;
    return { firstMs: first ?? fullMs, fullMs, stallMs: stall, partials, filled, cells: g ? g.layers * g.heads : 0 };
  } finally {
    clearInterval(probe);
  }
}

function loadRows(what: string, runs: LoadTiming[], note: string): BenchResult[] {
  const last = runs[runs.length - 1];
  const of = `${runs.length} run${runs.length > 1 ? 's' : ''}`;
  const grid = `grid ${last.filled}/${last.cells} heads, ${last.partials} partial models`;
  return [
    { name: `${what}: first model (loadBinary)`, ms: median(runs.map((r) => r.firstMs)), note: `${note}, median of ${of}` },
    { name: `${what}: full grid (loadBinary)`, ms: median(runs.map((r) => r.fullMs)), note: `${note}, ${grid}, median of ${of}; load ${os.loadavg()[0].toFixed(1)}` },
    { name: `${what}: largest event-loop stall`, ms: Math.max(...runs.map((r) => r.stallMs)), note: `worst of ${of}, 5 ms setInterval lag probe while loading (includes time other processes had the core; load ${os.loadavg()[0].toFixed(1)})` },
  ];
}

/** Issue 13's big dumps through the real load pipeline: a 576 MiB float32 .npy and an 8 GiB bf16 safetensors. */
export async function benchBigDumps(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-bench-big-'));
  try {
    const npy = path.join(dir, 'big.npy');
    writeFullDump(npy, 12, 12, 1024);
    await timeLoad(npy); // warm: JIT and the page cache
    const runs: LoadTiming[] = [];
    for (let i = 0; i < 3; i++) runs.push(await timeLoad(npy));
    out.push(...loadRows('npy [12,12,1024,1024] f32', runs, '576 MiB written whole'));
    fs.rmSync(npy);
    const st = path.join(dir, 'big.safetensors');
    writeSparseSafetensors(st, [32, 32, 2048, 2048], [0, 0]);
    out.push(...loadRows('safetensors [32,32,2048,2048] bf16', [await timeLoad(`${st}#attentions`)], '8 GiB sparse file, 1024 heads of 8 MiB'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (require.main === module && process.argv[2] === '--decode') {
  decodeRows().then((rows) => process.stdout.write(JSON.stringify(rows) + '\n'), (e) => { process.stderr.write(`error: ${String(e)}\n`); process.exit(1); });
} else if (require.main === module) {
  benchFiles().then(
    (rs) => { for (const r of rs) process.stdout.write(`${r.name.padEnd(44)} ${r.ms.toFixed(1).padStart(8)} ms  ${r.note}\n`); },
    (e) => { process.stderr.write(`error: ${String(e)}\n`); process.exit(1); },
  );
}
