/**
 * `attention-inspector compute --q FILE[#m] [--k FILE[#m]] [--v FILE[#m]]
 *     [--similarity dot|cosine|laplacian|euclidean] [--scale sqrt|dk|none|NUMBER] [--mask none|causal|FILE[#m]]
 *     [--heads H --wq F --wk F --wv F [--wo F]] [--batch B] [--rows LIST | --no-weights] [--max-cells N] [--json] [--out DIR] [--kernel auto|native|wasm]`
 *
 * Stable contract (other parts' tests rely on it):
 * - `--k`/`--v` default to `--q`. `--q FILE.json` may be an attention spec: its Q (or X), K, V, weights and
 *   options are used, and flags given on the command line override its options.
 * - `--json` prints `{"weights": ..., "output": ..., "scores": ..., "warnings": [...]}`: weights and scores
 *   [n_q][n_k], or [h][n_q][n_k] with more than one head; a 1-D Q drops the n_q level (1-D weights), and scalar
 *   values (1-D V) drop the last level of the output. Numbers are float32 values printed to 9 digits.
 * - Per-head inputs: `--q` [H, n_q, d], `--k` [H_kv, n_k, d], `--v` [H_kv, n_k, d_v] with H_kv dividing H
 *   (grouped-query attention): weights [H][n_q][n_k] and output [H][n_q][d_v] (each head's output, not
 *   concatenated). [B, H, n, d] inputs compute batch entry `--batch B` (default 0).
 * - `--out DIR` writes weights.npy and output.npy (float32) in those shapes.
 * - Long contexts (issue 14), computed by the streamed engine without ever holding n_q × n_k:
 *   `--rows 0,17,4095` gives those query rows only: weights (and scores) [len][n_k] ([h][len][n_k] with heads) and
 *   output [len][d_v], in --json (with "rows") and --out (weights.npy, output.npy, rows.npy);
 *   `--no-weights` gives the output of every row and no weights (--out writes only output.npy).
 *   Without either, more than --max-cells (default 67,108,864 = 8192²) weight cells is refused with an `error:`
 *   line that suggests them.
 * - Bad input: exit code 1 and one `error:` line naming the problem.
 */
import { promises as fsp } from 'fs';
import type { FileHandle } from 'fs/promises';
import * as path from 'path';
import { reportError } from './report';
import { attentionShape, computeAttentionFast, disposeAttentionWorkers, SIMILARITIES } from '../core/attention';
import { WRITE_ERROR } from '../core/compute/kernel';
import { KERNEL_CHOICES, setKernelPreference } from '../core/compute/native';
import type { KernelChoice } from '../core/compute/native';
import type { AttentionInput, AttentionResult, Scale, Similarity } from '../core/attention';
import { loadSpec } from '../core/jsonSpec';
import { specToInput } from '../core/specInput';
import { openMatrix, readMatrix, splitRef } from '../core/matrixFile';
import { attentionOutput, attentionRows } from '../core/stream/attention';
import { fileMask } from '../core/stream/mask';
import { MatrixError } from '../core/ndarray';
import type { NdArray } from '../core/ndarray';
import { HOST_LITTLE_ENDIAN, NPY_MAGIC } from '../core/npy';
import { npyHeaderText, writeNpy } from '../core/npyWrite';

interface ComputeArgs {
  q?: string; k?: string; v?: string; mask?: string; wq?: string; wk?: string; wv?: string; wo?: string;
  similarity?: Similarity; scale?: Scale; heads?: number; batch?: number; json: boolean; out?: string; kernel?: KernelChoice;
  rows?: number[]; noWeights: boolean; maxCells: number;
}

/** Weight cells computed whole without --rows or --no-weights (the extension's attentionInspector.maxCells default). */
export const DEFAULT_MAX_CELLS = 8192 * 8192;

const FILE_OPTIONS = ['q', 'k', 'v', 'mask', 'wq', 'wk', 'wv', 'wo'] as const;

export function parseComputeArgs(args: string[]): ComputeArgs {
  const out: ComputeArgs = { json: false, noWeights: false, maxCells: DEFAULT_MAX_CELLS };
  for (let i = 0; i < args.length; i++) {
    let a = args[i];
    let value: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      value = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const take = (what: string): string => {
      const v = value ?? args[++i];
      if (v === undefined || (value === undefined && v.startsWith('--'))) throw new MatrixError(`${a} needs ${what}`);
      return v;
    };
    const name = a.slice(2);
    if (a === '--json') out.json = true;
    else if ((FILE_OPTIONS as readonly string[]).includes(name)) {
      out[name as (typeof FILE_OPTIONS)[number]] = take(name === 'mask' ? 'none, causal or a FILE[#member]' : 'a FILE[#member]');
    } else if (a === '--similarity') {
      const s = take('dot, cosine, laplacian or euclidean');
      if (!(SIMILARITIES as readonly string[]).includes(s)) throw new MatrixError(`--similarity must be dot, cosine, laplacian or euclidean (got ${JSON.stringify(s)})`);
      out.similarity = s as Similarity;
    } else if (a === '--scale') {
      const s = take('sqrt, dk, none or a number');
      if (s === 'sqrt' || s === 'dk' || s === 'none') out.scale = s;
      else if (s.trim() !== '' && Number.isFinite(Number(s))) out.scale = Number(s);
      else throw new MatrixError(`--scale must be sqrt, dk, none or a number (got ${JSON.stringify(s)})`);
    } else if (a === '--heads') {
      const s = take('a positive integer');
      const h = Number(s);
      if (!Number.isInteger(h) || h < 1) throw new MatrixError(`--heads must be a positive integer (got ${JSON.stringify(s)})`);
      out.heads = h;
    } else if (a === '--batch') {
      const s = take('a whole number');
      const b = Number(s);
      if (!Number.isInteger(b) || b < 0) throw new MatrixError(`--batch must be a whole number (got ${JSON.stringify(s)})`);
      out.batch = b;
    } else if (a === '--kernel') {
      const s = take('auto, native or wasm');
      if (!(KERNEL_CHOICES as readonly string[]).includes(s)) throw new MatrixError(`--kernel must be auto, native or wasm (got ${JSON.stringify(s)})`);
      out.kernel = s as KernelChoice;
    } else if (a === '--out') out.out = take('a directory');
    else if (a === '--no-weights') out.noWeights = true;
    else if (a === '--rows') {
      const s = take('a comma-separated list of query rows, e.g. 0,17,4095');
      const rows = s.split(',').map((x) => x.trim());
      if (rows.some((x) => !/^\d+$/.test(x))) throw new MatrixError(`--rows must be query row numbers separated by commas, e.g. 0,17,4095 (got ${JSON.stringify(s)})`);
      out.rows = rows.map(Number);
    } else if (a === '--max-cells') {
      const s = take('a positive integer');
      const n = Number(s);
      if (!Number.isSafeInteger(n) || n < 1) throw new MatrixError(`--max-cells must be a positive integer (got ${JSON.stringify(s)})`);
      out.maxCells = n;
    }
    else if (a.startsWith('-')) throw new MatrixError(`unknown option ${a} (try --help)`);
    else throw new MatrixError(`unexpected argument ${JSON.stringify(a)} (compute takes --q FILE and options)`);
  }
  if (!out.q) throw new MatrixError('compute needs --q FILE[#member] (try --help)');
  return out;
}

/**
 * The AttentionInput the arguments describe; a JSON spec given as --q supplies defaults. With `lazyMask`, a mask
 * file is not read here (the streamed path reads it by rows): its ref is returned instead.
 */
async function buildInput(a: ComputeArgs, lazyMask = false): Promise<AttentionInput & { maskRef?: string }> {
  const qRef = a.q as string;
  const { file, member } = splitRef(qRef);
  let input: Partial<AttentionInput> = {};
  if (!member && file.toLowerCase().endsWith('.json')) {
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (e) {
      throw new MatrixError(`cannot read the file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, file);
    }
    input = specToInput(await loadSpec(text, file));
  } else {
    input.q = await readMatrix(qRef);
  }
  const read = (ref: string | undefined): Promise<NdArray | undefined> => (ref ? readMatrix(ref) : Promise.resolve(undefined));
  const [k, v, wq, wk, wv, wo] = await Promise.all([read(a.k), read(a.v), read(a.wq), read(a.wk), read(a.wv), read(a.wo)]);
  let mask = input.mask;
  if (a.mask === 'none') mask = undefined;
  else if (a.mask === 'causal') mask = 'causal';
  else if (a.mask && lazyMask) return { ...(await buildInput({ ...a, mask: 'none' })), maskRef: a.mask };
  else if (a.mask) mask = await readMatrix(a.mask);
  return {
    q: input.q as NdArray,
    k: k ?? input.k,
    v: v ?? input.v,
    wq: wq ?? input.wq, wk: wk ?? input.wk, wv: wv ?? input.wv, wo: wo ?? input.wo,
    heads: a.heads ?? input.heads,
    batch: a.batch,
    mask,
    scale: a.scale ?? input.scale,
    similarity: a.similarity ?? input.similarity,
  };
}

/**
 * Saves a float32 array as .npy without building the whole file in memory first: header, then the array's
 * own bytes, to a temporary name renamed into place. For a 4096² weights matrix this skips a 64 MB copy
 * (writeNpy's encodeNpy) that costs more than the write itself. Same bytes as writeNpy / numpy.save.
 */
export async function saveFloat32Npy(file: string, shape: number[], data: Float32Array): Promise<void> {
  const header = float32NpyHeader(shape);
  if (!header) return writeNpy(file, { shape, dtype: 'float32', data });
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.write(header);
    await fh.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } finally {
    await fh.close();
  }
  await moveIntoPlace(tmp, file);
}

/** A version 1.0 .npy header for float32 data of this shape, or undefined where the fast writers do not apply. */
function float32NpyHeader(shape: number[]): Buffer | undefined {
  const dict = npyHeaderText({ shape, dtype: 'float32' });
  const hlen = Math.ceil((10 + dict.length + 1) / 64) * 64 - 10;
  if (!HOST_LITTLE_ENDIAN || hlen > 0xffff) return undefined;
  const header = Buffer.alloc(10 + hlen);
  header.set(NPY_MAGIC, 0);
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(hlen, 8);
  header.write(dict.padEnd(hlen - 1, ' ') + '\n', 10, 'latin1');
  return header;
}

/**
 * A float32 .npy whose body the engine fills by positional writes from the threads that compute it, as blocks
 * of rows become final, so saving the weights overlaps the computation instead of following it. Written
 * under a temporary name and moved into place when complete.
 */
class StreamedNpy {
  private constructor(private readonly file: string, private readonly tmp: string, private readonly fh: FileHandle,
    readonly headerBytes: number, private readonly headerWritten: Promise<unknown>) {}

  static async open(file: string, shape: number[]): Promise<StreamedNpy | undefined> {
    const header = float32NpyHeader(shape);
    if (!header) return undefined;
    const tmp = `${file}.${process.pid}.tmp`;
    const fh = await fsp.open(tmp, 'w');
    return new StreamedNpy(file, tmp, fh, header.length, fh.write(header, 0, header.length, 0));
  }

  get fd(): number {
    return this.fh.fd;
  }

  async finish(): Promise<void> {
    await this.headerWritten;
    await this.fh.close();
    await moveIntoPlace(this.tmp, this.file);
  }

  async abandon(): Promise<void> {
    await this.headerWritten.catch(() => undefined);
    await this.fh.close().catch(() => undefined);
    await fsp.rm(this.tmp, { force: true });
  }
}

/**
 * Rename a finished temporary file onto `file`. An existing `file` is removed first: ext4 treats a rename
 * over an existing file as "replace via rename" (auto_da_alloc) and flushes the new file's 64 MB to disk on
 * the spot, which took ~30 ms more than the whole write here. The cost is a moment with no `file` at all,
 * and the old contents are not kept if the machine crashes before the next writeback.
 */
async function moveIntoPlace(tmp: string, file: string): Promise<void> {
  await fsp.rm(file, { force: true });
  await fsp.rename(tmp, file);
}

type ResultShape = Pick<AttentionResult, 'heads' | 'nq' | 'nk' | 'dv' | 'outputDim' | 'queryIsVector' | 'valuesAreScalars' | 'perHead'>;

/** Shapes of the printed/saved weights and output, per the contract above. */
export function resultShapes(r: ResultShape): { weights: number[]; output: number[] } {
  if (r.perHead) return { weights: [r.heads, r.nq, r.nk], output: [r.heads, r.nq, r.dv] };
  const weights = [...(r.heads > 1 ? [r.heads] : []), ...(r.queryIsVector ? [] : [r.nq]), r.nk];
  const scalarOut = r.valuesAreScalars && r.outputDim === 1;
  const output = [...(r.queryIsVector ? [] : [r.nq]), ...(scalarOut ? [] : [r.outputDim])];
  return { weights, output };
}

/** The output as the contract shapes it: each head's own for per-head inputs, else the concatenated heads. */
function outputOf(r: AttentionResult): Float32Array {
  return r.perHead ? r.headOutputs : r.output;
}

/** Nested arrays of float32 values printed to 9 significant digits (enough to round-trip a float32). */
function nest(data: Float32Array, shape: number[], offset = 0): unknown {
  if (shape.length === 0) return tidy(data[offset]);
  const [n, ...rest] = shape;
  const stride = rest.reduce((p, d) => p * d, 1);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(nest(data, rest, offset + i * stride));
  return out;
}

function tidy(x: number): number | null {
  return Number.isFinite(x) ? Number(x.toPrecision(9)) : null;
}

function formatTable(data: Float32Array, rows: number, cols: number): string {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    lines.push('  ' + Array.from(data.subarray(i * cols, (i + 1) * cols), (x) => x.toFixed(3).padStart(7)).join(' '));
  }
  return lines.join('\n');
}

/** Weights of at most this many cells are printed by the summary. */
const SUMMARY_CELLS = 400;

function summary(r: AttentionResult, shapes: { weights: number[]; output: number[] }): string {
  const lines = [
    `attention: ${r.heads} head${r.heads === 1 ? '' : 's'}, ${r.nq} quer${r.nq === 1 ? 'y' : 'ies'} × ${r.nk} keys, d_k=${r.dk}, d_v=${r.dv}, scale ${Number(r.scaleFactor.toPrecision(6))}`,
    `weights ${shapes.weights.join('×')}, output ${shapes.output.join('×') || 'scalar'}`,
  ];
  // Small results are printed; larger ones are for --json or --out.
  if (r.heads * r.nq * r.nk <= SUMMARY_CELLS && r.nk <= 16) {
    for (let h = 0; h < r.heads; h++) {
      lines.push(r.heads > 1 ? `weights (head ${h}):` : 'weights:');
      lines.push(formatTable(r.weights.subarray(h * r.nq * r.nk, (h + 1) * r.nq * r.nk), r.nq, r.nk));
    }
    if (r.perHead && r.heads * r.nq * r.dv <= 400) {
      for (let h = 0; h < r.heads; h++) {
        lines.push(`output (head ${h}):`);
        lines.push(formatTable(r.headOutputs.subarray(h * r.nq * r.dv, (h + 1) * r.nq * r.dv), r.nq, r.dv));
      }
    } else if (!r.perHead && r.nq * r.outputDim <= 400) {
      lines.push('output:');
      lines.push(formatTable(r.output, r.nq, r.outputDim));
    }
  } else {
    lines.push('(use --json or --out DIR for the values)');
  }
  return lines.join('\n') + '\n';
}

/**
 * Compute, and with `outDir` save weights.npy and output.npy (float32, contract shapes); the weights are
 * streamed to disk block by block while the rest computes. With `keepWeights: false` (the CLI's --out without
 * --json) they only go to the file, and the result's `weights` is empty. The CLI's job, also timed by the bench.
 */
export async function computeAndSave(
  input: AttentionInput, opts: { outDir?: string; scores?: boolean; keepWeights?: boolean } = {},
): Promise<{ result: AttentionResult; shapes: { weights: number[]; output: number[] } }> {
  const shape = attentionShape(input);
  const shapes = resultShapes(shape);
  let weightsFile: StreamedNpy | undefined;
  const weightsPath = opts.outDir ? path.join(opts.outDir, 'weights.npy') : '';
  if (opts.outDir) {
    await fsp.mkdir(opts.outDir, { recursive: true });
    weightsFile = await StreamedNpy.open(weightsPath, shapes.weights);
  }
  let result: AttentionResult;
  try {
    result = await computeAttentionFast(input, {
      scores: opts.scores ?? true,
      weightsFile: weightsFile && { fd: weightsFile.fd, offset: weightsFile.headerBytes, keepWeights: opts.keepWeights },
    });
  } catch (err) {
    await weightsFile?.abandon();
    if (err instanceof Error && err.name === WRITE_ERROR) throw new MatrixError(`cannot write the weights (${err.message})`, weightsPath);
    throw err;
  }
  if (opts.outDir) {
    const output = saveFloat32Npy(path.join(opts.outDir, 'output.npy'), shapes.output, outputOf(result));
    await Promise.all([weightsFile ? weightsFile.finish() : saveFloat32Npy(weightsPath, shapes.weights, result.weights), output]);
  }
  return { result, shapes };
}

/** --rows and --no-weights: the streamed engine, with a mask file read lazily by rows. */
async function runStreamed(a: ComputeArgs): Promise<void> {
  const { maskRef, ...input } = await buildInput(a, true);
  const shape = attentionShape(input);
  const handle = maskRef ? await openMatrix(maskRef) : undefined;
  try {
    const lazyMask = handle && ((h: number) => fileMask(handle, shape.nq, shape.nk, handle.info.shape.length === 3 ? h : undefined));
    if (handle && handle.info.shape.length === 3 && handle.info.shape[0] !== shape.heads) {
      throw new MatrixError(`mask is ${handle.info.shape.join('×')} but scores are ${shape.heads}×${shape.nq}×${shape.nk}`, handle.ref);
    }
    const outShape = (len: number) => [len, ...(shape.valuesAreScalars && shape.outputDim === 1 ? [] : [shape.outputDim])];
    if (a.rows) {
      const r = await attentionRows(input, a.rows, { lazyMask });
      const wShape = [...(r.heads > 1 ? [r.heads] : []), r.rows.length, r.nk];
      if (a.out) {
        await fsp.mkdir(a.out, { recursive: true });
        const saves = [saveFloat32Npy(path.join(a.out, 'output.npy'), outShape(r.rows.length), r.output),
          writeNpy(path.join(a.out, 'rows.npy'), { shape: [r.rows.length], dtype: 'int32', data: Int32Array.from(r.rows) })];
        if (!a.noWeights) saves.push(saveFloat32Npy(path.join(a.out, 'weights.npy'), wShape, r.weights));
        await Promise.all(saves);
      }
      if (a.json) {
        const json = a.noWeights ? { rows: r.rows, output: nest(r.output, outShape(r.rows.length)), warnings: r.warnings }
          : { rows: r.rows, weights: nest(r.weights, wShape), output: nest(r.output, outShape(r.rows.length)), scores: nest(r.scores, wShape), warnings: r.warnings };
        process.stdout.write(JSON.stringify(json) + '\n');
      } else {
        process.stdout.write(`attention: ${r.heads} head${r.heads === 1 ? '' : 's'}, ${r.rows.length} of ${shape.nq} query rows × ${r.nk} keys, streamed\n`);
        for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
        if (a.out) process.stdout.write(`wrote ${a.noWeights ? '' : `${path.join(a.out, 'weights.npy')}, `}${path.join(a.out, 'output.npy')} and ${path.join(a.out, 'rows.npy')}\n`);
        else process.stdout.write('(use --json or --out DIR for the values)\n');
      }
      return;
    }
    const r = await attentionOutput(input, { lazyMask });
    const oShape = resultShapes({ ...shape, heads: 1 }).output;
    if (a.out) {
      await fsp.mkdir(a.out, { recursive: true });
      await saveFloat32Npy(path.join(a.out, 'output.npy'), oShape, r.output);
    }
    if (a.json) {
      process.stdout.write(JSON.stringify({ output: nest(r.output, oShape), warnings: r.warnings }) + '\n');
    } else {
      process.stdout.write(`attention: ${r.heads} head${r.heads === 1 ? '' : 's'}, ${shape.nq} queries × ${shape.nk} keys, output ${oShape.join('×') || 'scalar'}, weights not materialised\n`);
      for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(a.out ? `wrote ${path.join(a.out, 'output.npy')}\n` : '(use --json or --out DIR for the values)\n');
    }
  } finally {
    await handle?.close();
  }
}

export async function runCompute(args: string[]): Promise<number> {
  try {
    const a = parseComputeArgs(args);
    if (a.kernel) setKernelPreference(a.kernel);
    if (a.rows || a.noWeights) {
      await runStreamed(a);
      return 0;
    }
    const input = await buildInput(a);
    const dims = attentionShape(input);
    const cells = dims.heads * dims.nq * dims.nk;
    if (cells > a.maxCells) {
      throw new MatrixError(`attention would have ${cells.toLocaleString('en-US')} weight cells (${dims.heads > 1 ? `${dims.heads}×` : ''}${dims.nq}×${dims.nk}), more than --max-cells ${a.maxCells.toLocaleString('en-US')}; use --rows LIST for some query rows or --no-weights for the output of every row (both computed without holding the weights), or raise --max-cells`);
    }
    // Scores are only printed with --json; --out alone saves weights and output, and keeps in memory only
    // weights small enough to be printed in the summary.
    const small = attentionShape(input);
    const keepWeights = a.json || small.heads * small.nq * small.nk <= SUMMARY_CELLS;
    const { result: r, shapes } = await computeAndSave(input, { outDir: a.out, scores: a.json, keepWeights });
    if (a.json) {
      const json = {
        weights: nest(r.weights, shapes.weights),
        output: nest(outputOf(r), shapes.output),
        scores: nest(r.scores, shapes.weights),
        warnings: r.warnings,
      };
      process.stdout.write(JSON.stringify(json) + '\n');
    } else {
      process.stdout.write(summary(r, shapes));
      for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      if (a.out) process.stdout.write(`wrote ${path.join(a.out, 'weights.npy')} and ${path.join(a.out, 'output.npy')}\n`);
    }
    return 0;
  } catch (err) {
    return reportError(err);
  } finally {
    await disposeAttentionWorkers();
  }
}
