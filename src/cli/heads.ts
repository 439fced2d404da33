/**
 * `attention-inspector heads FILE[#member] [--tokens FILE[#member]] [--json] [--sort METRIC]`
 * Per-head metrics of a dump of attention maps ([L, H, n, n], [H, n, n] or [n, n]); see src/core/heads.ts.
 * The output of --json is a stable contract:
 *   {"shape": [L, H], "metrics": {"entropy": [[...]], ..., "duplicate_token": ..., "induction": ...}}, each [L][H];
 *   the token metrics are present only with tokens (from --tokens, or a `tokens` member beside an .npz member).
 * Without --json: a table, one row per head, sorted by --sort (default entropy), highest first.
 */
import { MatrixError } from '../core/ndarray';
import { openMatrix, splitRef } from '../core/matrixFile';
import { readTokens, tokensBeside } from '../core/tokens';
import { computeHeadTable, headSourceFromHandle } from '../core/heads';
import type { HeadTable } from '../core/heads';
import { HEAD_METRICS, isHeadMetric, TOKEN_METRICS } from '../shared/heads';
import type { HeadMetric } from '../shared/heads';
import { reportError } from './report';

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
