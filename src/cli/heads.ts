/**
 * `attention-inspector heads FILE[#member] [--tokens FILE[#member]] [--json] [--sort METRIC]`
 * Per-head metrics of a dump of attention maps ([L, H, n, n], [H, n, n] or [n, n]); see src/core/heads.ts.
 * The output of --json is a stable contract:
 *   {"shape": [L, H], "metrics": {"entropy": [[...]], ..., "duplicate_token": ..., "induction": ...}}, each [L][H];
 *   the token metrics are present only with tokens (from --tokens, or a `tokens` member beside an .npz member).
 * Without --json: a table, one row per head, sorted by --sort (default entropy), highest first.
 */
import { promises as fsp } from 'fs';
import { MatrixError } from '../core/ndarray';
import { openMatrix, splitRef } from '../core/matrixFile';
import { computeHeadTable, HEAD_METRICS, headSourceFromHandle, isHeadMetric, TOKEN_METRICS } from '../core/heads';
import type { HeadMetric, HeadTable } from '../core/heads';
import { reportError } from '../cli';

/** A tokens JSON file larger than this is not a list of tokens. */
const MAX_TOKENS_JSON_BYTES = 64 << 20;

interface HeadsArgs { ref: string; tokens?: string; json: boolean; sort: HeadMetric }

function parseArgs(args: string[]): HeadsArgs {
  let ref: string | undefined;
  let tokens: string | undefined;
  let json = false;
  let sort: HeadMetric = 'entropy';
  const value = (i: number, name: string): string => {
    const v = args[i];
    if (v === undefined || v.startsWith('--')) throw new MatrixError(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '--tokens') tokens = value(++i, '--tokens');
    else if (a.startsWith('--tokens=')) tokens = a.slice('--tokens='.length);
    else if (a === '--sort' || a.startsWith('--sort=')) {
      const v = a === '--sort' ? value(++i, '--sort') : a.slice('--sort='.length);
      if (!isHeadMetric(v)) throw new MatrixError(`--sort takes one of ${HEAD_METRICS.join(', ')} (got ${JSON.stringify(v)})`);
      sort = v;
    } else if (a.startsWith('-') && a !== '-') throw new MatrixError(`unknown option ${a} (heads takes --tokens, --json, --sort)`);
    else if (ref === undefined) ref = a;
    else throw new MatrixError(`unexpected argument ${JSON.stringify(a)} (heads takes one FILE[#member])`);
  }
  if (ref === undefined) throw new MatrixError('heads needs a FILE[#member] of attention maps (try --help)');
  return { ref, tokens, json, sort };
}

/** Tokens from a JSON file: an array of strings (or numbers), or an object whose "tokens" (or #member) is one. */
async function readTokensJson(file: string, member: string | undefined): Promise<string[]> {
  let size: number;
  try {
    size = (await fsp.stat(file)).size;
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new MatrixError(code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`, file);
  }
  if (size > MAX_TOKENS_JSON_BYTES) throw new MatrixError(`is ${size} bytes; a tokens file is at most ${MAX_TOKENS_JSON_BYTES}`, file);
  let value: unknown;
  try {
    value = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (e) {
    throw new MatrixError(`invalid JSON (${(e as Error).message})`, file);
  }
  const key = member ?? 'tokens';
  if (!Array.isArray(value) && value !== null && typeof value === 'object' && key in value) value = (value as Record<string, unknown>)[key];
  if (!Array.isArray(value)) throw new MatrixError(`tokens must be a JSON array of strings${member ? ` at "${member}"` : ''} (or an object with a "tokens" array)`, file);
  return value.map((t, i) => {
    if (typeof t === 'string') return t;
    if (typeof t === 'number' && Number.isFinite(t)) return String(t);
    throw new MatrixError(`token ${i} is ${t === null ? 'null' : typeof t}; tokens must be strings or numbers`, file);
  });
}

/** Tokens from an array file: token ids (integers) shaped [n] or [1, n]. */
async function readTokensArray(ref: string): Promise<string[]> {
  const h = await openMatrix(ref);
  try {
    const shape = h.info.shape;
    if (!(shape.length === 1 || (shape.length === 2 && shape[0] === 1))) {
      throw new MatrixError(`tokens must be one sequence, shaped [n] or [1, n]; this is [${shape.join(', ')}]`, ref);
    }
    if (h.info.dtype === 'bool') throw new MatrixError('tokens cannot be a boolean array', ref);
    const a = await h.read();
    return Array.from(a.data as ArrayLike<number | bigint>, (x) => String(x));
  } finally {
    await h.close();
  }
}

export async function readTokens(ref: string): Promise<string[]> {
  const { file, member } = splitRef(ref);
  if (/\.json$/i.test(file)) return readTokensJson(file, member);
  return readTokensArray(ref);
}

/** A `tokens` member beside the .npz member being read, if the archive has one (a warning if it is unreadable). */
async function tokensBeside(ref: string): Promise<{ tokens?: string[]; warning?: string }> {
  const { file, member } = splitRef(ref);
  if (!member || member === 'tokens' || !/\.npz$/i.test(file)) return {};
  try {
    return { tokens: await readTokensArray(`${file}#tokens`) };
  } catch (e) {
    if (e instanceof MatrixError && /no member "tokens"/.test(e.message)) return {};
    if (e instanceof MatrixError) return { warning: `${e.message}; the token metrics are left out (pass --tokens)` };
    throw e;
  }
}

function tableJson(t: HeadTable): string {
  const metrics: Record<string, number[][]> = {};
  for (const m of HEAD_METRICS) {
    const column = t.metrics[m];
    if (!column) continue;
    metrics[m] = Array.from({ length: t.layers }, (_, l) => Array.from(column.subarray(l * t.heads, (l + 1) * t.heads)));
  }
  return JSON.stringify({ shape: [t.layers, t.heads], metrics });
}

function tableText(t: HeadTable, sort: HeadMetric, ref: string, tokenNote: string | undefined): string {
  const names = HEAD_METRICS.filter((m) => t.metrics[m]);
  const order = Array.from({ length: t.layers * t.heads }, (_, i) => i);
  const key = t.metrics[sort] as Float64Array;
  order.sort((a, b) => key[b] - key[a] || a - b);
  const widths = names.map((m) => Math.max(m.length, 8));
  const pad = (s: string, w: number) => s.padStart(w);
  const lines = [
    `${ref}: ${t.layers} ${t.layers === 1 ? 'layer' : 'layers'} × ${t.heads} ${t.heads === 1 ? 'head' : 'heads'}, n = ${t.n}; sorted by ${sort}, highest first`,
  ];
  if (tokenNote) lines.push(tokenNote);
  lines.push(`${pad('layer', 5)} ${pad('head', 4)}  ${names.map((m, i) => pad(m, widths[i])).join('  ')}`);
  for (const at of order) {
    const l = Math.floor(at / t.heads);
    const h = at % t.heads;
    lines.push(`${pad(String(l), 5)} ${pad(String(h), 4)}  ${names.map((m, i) => pad((t.metrics[m] as Float64Array)[at].toFixed(4), widths[i])).join('  ')}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function runHeads(args: string[]): Promise<number> {
  let opts: HeadsArgs;
  try {
    opts = parseArgs(args);
  } catch (e) {
    reportError(e);
    return 2;
  }
  try {
    let tokens: string[] | undefined;
    let warning: string | undefined;
    if (opts.tokens !== undefined) tokens = await readTokens(opts.tokens);
    else ({ tokens, warning } = await tokensBeside(opts.ref));
    if (!tokens && TOKEN_METRICS.includes(opts.sort)) {
      throw new MatrixError(`--sort ${opts.sort} needs the tokens of the sequence (pass --tokens FILE)`);
    }
    const h = await openMatrix(opts.ref);
    try {
      const table = await computeHeadTable(headSourceFromHandle(h), { tokens, tokensFile: opts.tokens ?? `${splitRef(opts.ref).file}#tokens` });
      if (warning) process.stderr.write(`warning: ${warning}\n`);
      if (opts.json) process.stdout.write(`${tableJson(table)}\n`);
      else process.stdout.write(tableText(table, opts.sort, opts.ref, tokens ? undefined : `(no tokens: ${TOKEN_METRICS.join(' and ')} need --tokens FILE)`));
      return 0;
    } finally {
      await h.close();
    }
  } catch (e) {
    return reportError(e);
  }
}
