/**
 * JSON matrices and attention specs, read with the offset-keeping parser of jsonParse.ts: every error (ragged
 * rows, a string among numbers, Q wider than K, an empty matrix) carries a line and column the editor can
 * underline. scanJson is called on every keystroke, so it bounds its work: values past a
 * size budget are only syntax-checked (no nodes built) and their shape is reported as null.
 */
import * as path from 'path';
import { MatrixError } from './ndarray';
import type { NdArray } from './ndarray';
import { readMatrix, splitRef } from './matrixFile';
import {
  C_0, C_9, C_COLON, C_COMMA, C_LBRACE, C_LBRACKET, C_LF, C_CR, C_MINUS, C_QUOTE, C_RBRACE, C_SPACE, C_TAB,
  errorAt, parseJson, Parser,
} from './jsonParse';
import type { JsonNode } from './jsonParse';

/** Characters of values scanJson turns into nodes; beyond it values are only syntax-checked. */
export const SCAN_BUDGET = 512 * 1024;
const MAX_ERRORS = 50;

export interface JsonScanEntry {
  key: string;
  keyOffset: number;
  valueOffset: number;
  /** Just past the value, for the values of a spec's keys (a string's closing quote included). */
  valueEnd?: number;
  /** Shape of an inline matrix; null for other values, refs, and values past the scan budget. */
  shape: number[] | null;
  /** The path (and #member) when the value refers to a .npy/.npz file. */
  isRef?: string;
}

export interface JsonScan {
  kind: 'matrix' | 'spec' | 'none';
  entries: JsonScanEntry[];
  errors: MatrixError[];
}

export interface AttentionSpec {
  file: string;
  description?: string;
  q?: NdArray; k?: NdArray; v?: NdArray; x?: NdArray; wq?: NdArray; wk?: NdArray; wv?: NdArray; wo?: NdArray;
  heads?: number;
  mask?: 'causal' | NdArray;
  scale?: 'sqrt' | 'dk' | 'none' | number;
  similarity?: 'dot' | 'cosine' | 'laplacian' | 'euclidean';
  queryLabels?: string[]; keyLabels?: string[]; valueLabels?: string[];
  weights?: NdArray;
  matrix?: NdArray;
}

// ---------------------------------------------------------------------------------------------------------------
// Matrices

const MAX_MATRIX_DIMS = 4;

/** The shape of a nested array of numbers, checking it is rectangular; errors point at the offending element. */
export function matrixShape(node: JsonNode, text: string, file: string, what = 'matrix'): number[] {
  const shape: number[] = [];
  let n: JsonNode = node;
  for (;;) {
    if (n.type === 'numbers') { shape.push(n.values.length); break; }
    if (n.type !== 'array') break;
    if (n.items.length === 0) throw errorAt(text, file, n.start, n.end, `${what} is empty`);
    shape.push(n.items.length);
    n = n.items[0];
  }
  if (shape.length === 0) throw errorAt(text, file, node.start, node.end, `${what} must be an array of numbers, not ${describeNode(node)}`);
  if (shape.length > MAX_MATRIX_DIMS) throw errorAt(text, file, node.start, node.end, `${what} is nested deeper than ${MAX_MATRIX_DIMS} dimensions`);
  const path: number[] = [];
  const here = () => `${what}${path.map((i) => `[${i}]`).join('')}`;
  const first = () => `${what}${path.map(() => '[0]').join('')}`;
  const check = (m: JsonNode, depth: number): void => {
    const want = shape[depth];
    const leafRow = depth === shape.length - 1;
    if (m.type === 'numbers' || m.type === 'array') {
      const len = m.type === 'numbers' ? m.values.length : m.items.length;
      if (len !== want) {
        throw errorAt(text, file, m.start, m.end, `ragged ${what}: ${here()} has ${len} ${leafRow ? 'values' : 'rows'} but ${first()} has ${want}`);
      }
      if (m.type === 'numbers') {
        if (!leafRow) throw errorAt(text, file, m.start, m.end, `${here()} must hold arrays (like ${first()}), not numbers`);
        return;
      }
      if (leafRow) {
        const bad = m.items.find((it) => it.type !== 'number') as JsonNode;
        path.push(m.items.indexOf(bad));
        throw errorAt(text, file, bad.start, bad.end, `${here()} must be a number, not ${describeNode(bad)}`);
      }
      for (let i = 0; i < m.items.length; i++) {
        path.push(i);
        check(m.items[i], depth + 1);
        path.pop();
      }
      return;
    }
    throw errorAt(text, file, m.start, m.end, `${here()} must be an array of ${want} ${leafRow ? 'numbers' : 'rows'}, not ${describeNode(m)}`);
  };
  check(node, 0);
  return shape;
}

function describeNode(n: JsonNode): string {
  switch (n.type) {
    case 'string': return `the string ${JSON.stringify(n.value.length > 30 ? `${n.value.slice(0, 30)}…` : n.value)}`;
    case 'literal': return String(n.value);
    case 'object': return 'an object';
    case 'array':
    case 'numbers': return 'an array';
    case 'number': return `the number ${n.value}`;
  }
}

/** A checked nested array as a float64 NdArray. */
export function matrixFromNode(node: JsonNode, text: string, file: string, what = 'matrix'): NdArray {
  const shape = matrixShape(node, text, file, what);
  let count = 1;
  for (const d of shape) count *= d;
  const data = new Float64Array(count);
  let k = 0;
  const fill = (m: JsonNode): void => {
    if (m.type === 'numbers') { data.set(m.values, k); k += m.values.length; return; }
    if (m.type === 'number') { data[k++] = m.value; return; }
    if (m.type === 'array') for (const it of m.items) fill(it);
  };
  fill(node);
  return { shape, dtype: 'float64', data };
}

// ---------------------------------------------------------------------------------------------------------------
// Specs

type MatrixKey = 'q' | 'k' | 'v' | 'x' | 'wq' | 'wk' | 'wv' | 'wo' | 'weights';
type SpecKey = MatrixKey | 'mask' | 'heads' | 'scale' | 'similarity' | 'queryLabels' | 'keyLabels' | 'valueLabels' | 'description';

const KEY_ALIASES: Record<string, SpecKey> = {
  Q: 'q', q: 'q', K: 'k', k: 'k', V: 'v', v: 'v', X: 'x', x: 'x',
  Wq: 'wq', wq: 'wq', WQ: 'wq', W_q: 'wq', W_Q: 'wq',
  Wk: 'wk', wk: 'wk', WK: 'wk', W_k: 'wk', W_K: 'wk',
  Wv: 'wv', wv: 'wv', WV: 'wv', W_v: 'wv', W_V: 'wv',
  Wo: 'wo', wo: 'wo', WO: 'wo', W_o: 'wo', W_O: 'wo',
  attention: 'weights', weights: 'weights',
  mask: 'mask', heads: 'heads', scale: 'scale', similarity: 'similarity',
  queryLabels: 'queryLabels', keyLabels: 'keyLabels', valueLabels: 'valueLabels', description: 'description',
};
const MATRIX_KEYS: ReadonlySet<SpecKey> = new Set<SpecKey>(['q', 'k', 'v', 'x', 'wq', 'wk', 'wv', 'wo', 'weights']);
/** Keys that make an object an attention spec rather than some other JSON file. */
const SPEC_MARKERS = ['Q', 'q', 'K', 'k', 'X', 'x', 'attention', 'weights'];

function isIgnoredKey(key: string): boolean {
  return key === '$schema' || key === 'comment' || key.startsWith('_') || key.startsWith('//');
}

function looksLikeSpec(keys: string[]): boolean {
  return keys.some((k) => SPEC_MARKERS.includes(k));
}

/** What the spec says about one matrix: its shape (when known) and where to underline it. */
interface ShapeFact { name: string; shape: number[]; start: number; end: number }

function rowsOf(s: number[]): number { return s.length >= 2 ? s[s.length - 2] : 1; }
function widthOf(s: number[]): number { return s[s.length - 1]; }

/**
 * Dimension checks between matrices and labels, with the later one underlined. Only what is certain is checked;
 * the engine's validateInput checks the rest. Returns problems instead of throwing so scanJson can list them all.
 */
function checkSpecShapes(f: Partial<Record<SpecKey, ShapeFact>>, labels: Partial<Record<'queryLabels' | 'keyLabels' | 'valueLabels', { count: number; start: number; end: number }>>, heads: number | undefined, present: ReadonlySet<string>): { problem: string; start: number; end: number }[] {
  const out: { problem: string; start: number; end: number }[] = [];
  const err = (at: { start: number; end: number }, problem: string) => out.push({ problem, start: at.start, end: at.end });
  const projected = !!(f.wq || f.wk || f.wv);
  const { q, k, v, x, wq, wk, wv, wo, weights } = f;
  if (!projected) {
    if (q && k && widthOf(q.shape) !== widthOf(k.shape)) err(k, `Q has width ${widthOf(q.shape)} but K has width ${widthOf(k.shape)}`);
    // K defaults to Q only when K is absent; a K that is present but has no shape (ragged) was already reported.
    const keys = k ?? (present.has('k') ? undefined : q);
    if (keys && v && v.shape.length >= 1) {
      const nk = rowsOf(keys.shape);
      const nv = v.shape.length >= 2 ? v.shape[v.shape.length - 2] : v.shape[0];
      if (nk !== nv && !(nk === 1 && v.shape.length === 1)) err(v, `${keys.name} has ${nk} rows but V has ${nv}`);
    }
  } else {
    const input = x ?? q;
    for (const w of [wq, wk, wv]) {
      if (w && input && w.shape.length === 2 && widthOf(input.shape) !== w.shape[0]) {
        err(w, `${input.name} has width ${widthOf(input.shape)} but ${w.name} has ${w.shape[0]} rows`);
      }
      if (w && heads && w.shape.length === 2 && w.shape[1] % heads !== 0) err(w, `${w.name} has ${w.shape[1]} columns, not divisible by heads = ${heads}`);
    }
    if (wo && wv && wo.shape.length === 2 && wv.shape.length === 2 && wo.shape[0] !== wv.shape[1]) {
      err(wo, `Wv has ${wv.shape[1]} columns but Wo has ${wo.shape[0]} rows`);
    }
  }
  for (const m of [q, k, v, x, wq, wk, wv, wo]) {
    if (m && m.shape.length > 3) err(m, `${m.name} has ${m.shape.length} dimensions (expected 1, 2 or 3)`);
  }
  const queries = x ?? q;
  const keysFor = projected ? x ?? q : k ?? (present.has('k') ? undefined : q);
  const nq = queries ? rowsOf(queries.shape) : weights ? rowsOf(weights.shape) : undefined;
  const nk = keysFor ? rowsOf(keysFor.shape) : weights ? widthOf(weights.shape) : undefined;
  if (labels.queryLabels && nq !== undefined && labels.queryLabels.count !== nq) {
    err(labels.queryLabels, `queryLabels has ${labels.queryLabels.count} labels but there are ${nq} queries`);
  }
  if (labels.keyLabels && nk !== undefined && labels.keyLabels.count !== nk) {
    err(labels.keyLabels, `keyLabels has ${labels.keyLabels.count} labels but there are ${nk} keys`);
  }
  if (labels.valueLabels && v && !projected && !wo) {
    const dv = v.shape.length === 1 ? 1 : widthOf(v.shape); // a 1-D V holds one scalar value per key
    if (labels.valueLabels.count !== dv) err(labels.valueLabels, `valueLabels has ${labels.valueLabels.count} names but V has ${dv} columns`);
  }
  const { mask } = f;
  if (mask && nq !== undefined && nk !== undefined && (mask.shape.length < 2 || mask.shape.length > 3 || rowsOf(mask.shape) !== nq || widthOf(mask.shape) !== nk)) {
    err(mask, `mask has shape [${mask.shape.join(', ')}] but the scores are [${nq}, ${nk}]`);
  }
  if (weights && nq !== undefined && queries && weights.shape.length >= 2 && rowsOf(weights.shape) !== nq) {
    err(weights, `${weights.name} has ${rowsOf(weights.shape)} rows but there are ${nq} queries`);
  }
  return out;
}

interface ValueCheck { problem: string; start: number; end: number }

/** Checks a non-matrix option's value; returns a problem or nothing. */
function checkOption(key: SpecKey, node: JsonNode): ValueCheck | undefined {
  const bad = (problem: string): ValueCheck => ({ problem, start: node.start, end: node.end });
  switch (key) {
    case 'heads':
      return node.type === 'number' && Number.isInteger(node.value) && node.value >= 1 && node.value <= 4096
        ? undefined : bad('heads must be a positive whole number');
    case 'scale':
      if (node.type === 'number') return Number.isFinite(node.value) ? undefined : bad('scale must be a finite number');
      return node.type === 'string' && ['sqrt', 'dk', 'none'].includes(node.value) ? undefined : bad('scale must be "sqrt", "dk", "none" or a number');
    case 'similarity':
      return node.type === 'string' && ['dot', 'cosine', 'laplacian', 'euclidean'].includes(node.value)
        ? undefined : bad('similarity must be "dot", "cosine", "laplacian" or "euclidean"');
    case 'description':
      return node.type === 'string' ? undefined : bad('description must be a string');
    case 'queryLabels':
    case 'keyLabels':
    case 'valueLabels':
      if (node.type === 'numbers') return bad(`${key} must hold strings, not numbers`);
      if (node.type !== 'array') return bad(`${key} must be an array of strings`);
      for (const it of node.items) if (it.type !== 'string') return { problem: `${key} must hold strings, not ${describeNode(it)}`, start: it.start, end: it.end };
      return undefined;
    default:
      return undefined;
  }
}

function isRefNode(key: SpecKey, node: JsonNode): boolean {
  return node.type === 'string' && (MATRIX_KEYS.has(key) || (key === 'mask' && node.value !== 'causal' && node.value !== 'none'));
}

function displayKey(key: string): string {
  return key;
}

/** A top-level array is a matrix when its first leaf is a number or it opens with '[[' (a possibly empty grid). */
function looksLikeMatrix(text: string): boolean {
  let brackets = 0;
  for (let i = 0; i < text.length && i < 65536; i++) {
    const c = text.charCodeAt(i);
    if (c === C_LBRACKET) { brackets++; continue; }
    if (c === C_SPACE || c === C_LF || c === C_CR || c === C_TAB || c === 0xfeff) continue;
    return brackets >= 2 || (brackets === 1 && (c === C_MINUS || (c >= C_0 && c <= C_9) || c === 73 || c === 78));
  }
  return brackets >= 2;
}

/**
 * Cheap, bounded analysis for CodeLens and diagnostics. Files that are neither a matrix nor an attention spec
 * (package.json, tsconfig.json) get kind 'none' and no errors.
 */
export function scanJson(text: string, file = '<json>'): JsonScan {
  const p = new Parser(text, file);
  p.ws();
  const first = text.charCodeAt(p.pos);
  const errors: MatrixError[] = [];
  const push = (e: MatrixError) => { if (errors.length < MAX_ERRORS) errors.push(e); };
  if (first === C_LBRACKET) {
    // A plain nested array: a matrix if its first leaf is a number.
    if (!looksLikeMatrix(text)) {
      return { kind: 'none', entries: [], errors: [] };
    }
    const start = p.pos;
    const entry: JsonScanEntry = { key: '', keyOffset: start, valueOffset: start, shape: null };
    try {
      if (text.length <= SCAN_BUDGET) {
        const node = p.parseDocument();
        entry.shape = matrixShape(node, text, file);
      } else {
        p.skipValue();
        p.ws();
        if (p.pos < text.length) p.fail('unexpected text after the matrix');
      }
    } catch (e) {
      if (!(e instanceof MatrixError)) throw e;
      push(e);
    }
    return { kind: 'matrix', entries: [entry], errors };
  }
  if (first !== C_LBRACE) return { kind: 'none', entries: [], errors: [] };

  const entries: JsonScanEntry[] = [];
  const facts: Partial<Record<SpecKey, ShapeFact>> = {};
  const labels: Partial<Record<'queryLabels' | 'keyLabels' | 'valueLabels', { count: number; start: number; end: number }>> = {};
  let heads: number | undefined;
  const problems: MatrixError[] = [];
  const seen = new Set<SpecKey>();
  let budget = SCAN_BUDGET;
  let syntaxError: MatrixError | undefined;
  const keys: string[] = [];
  try {
    p.pos++;
    p.ws();
    if (text.charCodeAt(p.pos) === C_RBRACE) p.pos++;
    else {
      for (;;) {
        p.ws();
        if (text.charCodeAt(p.pos) !== C_QUOTE) p.fail(`expected a key in double quotes but found ${p.describeHere()}`);
        const keyOffset = p.pos;
        const key = p.string();
        const keyEnd = p.pos;
        p.ws();
        if (text.charCodeAt(p.pos) !== C_COLON) p.fail(`expected ":" after "${key}"`);
        p.pos++;
        p.ws();
        const valueOffset = p.pos;
        keys.push(key); // before the value, so a broken value still marks the file as a spec
        p.skipValue();
        const valueEnd = p.pos;
        const entry: JsonScanEntry = { key, keyOffset, valueOffset, valueEnd, shape: null };
        entries.push(entry);
        const canon = KEY_ALIASES[key];
        if (!canon) {
          if (!isIgnoredKey(key)) problems.push(errorAt(text, file, keyOffset, keyEnd, `unknown key "${key}" (expected Q, K, V, X, Wq, Wk, Wv, Wo, heads, mask, scale, similarity, queryLabels, keyLabels, valueLabels, description, attention or weights)`));
        } else {
          if (seen.has(canon)) problems.push(errorAt(text, file, keyOffset, keyEnd, `"${key}" is given twice`));
          seen.add(canon);
          const span = valueEnd - valueOffset;
          if (span <= budget) {
            budget -= span;
            const sub = new Parser(text, file);
            sub.pos = valueOffset;
            const node = sub.value(1);
            analyseEntry(canon, key, node, entry, text, file, facts, labels, problems, (h) => { heads = h; });
          } else if (text.charCodeAt(valueOffset) === C_QUOTE) {
            entry.isRef = text.slice(valueOffset + 1, Math.min(valueEnd - 1, valueOffset + 4097));
          }
        }
        p.ws();
        const c = text.charCodeAt(p.pos);
        if (c === C_COMMA) { p.pos++; continue; }
        if (c === C_RBRACE) { p.pos++; break; }
        p.fail(`expected "," or "}" but found ${p.describeHere()}`);
      }
      p.ws();
      if (p.pos < text.length) p.fail(`unexpected ${p.describeHere()} after the JSON value`);
    }
  } catch (e) {
    if (!(e instanceof MatrixError)) throw e;
    syntaxError = e;
  }
  const isSpec = looksLikeSpec(keys) || /\.(attention|attn)\.json$/i.test(file);
  if (!isSpec) return { kind: 'none', entries: [], errors: [] };
  if (syntaxError) push(syntaxError);
  for (const e of problems) push(e);
  if (!syntaxError) {
    for (const pr of checkSpecShapes(facts, labels, heads, seen)) push(errorAt(text, file, pr.start, pr.end, pr.problem));
    if (!facts.q && !facts.x && !facts.weights && !seen.has('q') && !seen.has('x') && !seen.has('weights')) {
      push(errorAt(text, file, 0, 1, 'an attention spec needs Q (or X with Wq, Wk, Wv, or precomputed attention weights)'));
    }
  }
  return { kind: 'spec', entries, errors };
}

function analyseEntry(
  canon: SpecKey, key: string, node: JsonNode, entry: JsonScanEntry, text: string, file: string,
  facts: Partial<Record<SpecKey, ShapeFact>>,
  labels: Partial<Record<'queryLabels' | 'keyLabels' | 'valueLabels', { count: number; start: number; end: number }>>,
  problems: MatrixError[], setHeads: (h: number) => void,
): void {
  if (isRefNode(canon, node) && node.type === 'string') {
    entry.isRef = node.value;
    if (!/\.(npy|npz)(#.*)?$/i.test(node.value)) {
      problems.push(errorAt(text, file, node.start, node.end, `${key} refers to "${node.value}", which is not a .npy or .npz file`));
    }
    return;
  }
  if (MATRIX_KEYS.has(canon) || (canon === 'mask' && node.type !== 'string')) {
    try {
      entry.shape = matrixShape(node, text, file, displayKey(key));
      facts[canon] = { name: key, shape: entry.shape, start: node.start, end: node.end };
    } catch (e) {
      if (!(e instanceof MatrixError)) throw e;
      problems.push(e);
    }
    return;
  }
  if (canon === 'mask') return; // "causal" or "none"
  const bad = checkOption(canon, node);
  if (bad) { problems.push(errorAt(text, file, bad.start, bad.end, bad.problem)); return; }
  if (canon === 'heads' && node.type === 'number') setHeads(node.value);
  if ((canon === 'queryLabels' || canon === 'keyLabels' || canon === 'valueLabels') && node.type === 'array') {
    labels[canon] = { count: node.items.length, start: node.start, end: node.end };
  }
}

/**
 * Loads a JSON file's text as an AttentionSpec: a plain nested array becomes `matrix`; an object's matrices are
 * read inline or from .npy/.npz files it names (relative to the JSON file). Throws the first problem, located.
 * `onRef` hears each file it is about to read (absolute, without "#member"), also when that read then fails:
 * a heatmap of the spec reloads when one of them changes or appears.
 */
export async function loadSpec(text: string, file: string, onRef?: (file: string) => void): Promise<AttentionSpec> {
  const root = parseJson(text, file);
  if (root.type === 'array' || root.type === 'numbers') return { file, matrix: matrixFromNode(root, text, file) };
  if (root.type !== 'object') {
    throw errorAt(text, file, root.start, root.end, 'expected a matrix (nested array of numbers) or an object with Q, K, V');
  }
  const spec: AttentionSpec = { file };
  const facts: Partial<Record<SpecKey, ShapeFact>> = {};
  const labels: Partial<Record<'queryLabels' | 'keyLabels' | 'valueLabels', { count: number; start: number; end: number }>> = {};
  const seen = new Set<SpecKey>();
  const baseDir = path.dirname(file);
  for (const { key, keyStart, keyEnd, value } of root.entries) {
    const canon = KEY_ALIASES[key];
    if (!canon) {
      if (isIgnoredKey(key)) continue;
      throw errorAt(text, file, keyStart, keyEnd, `unknown key "${key}" (expected Q, K, V, X, Wq, Wk, Wv, Wo, heads, mask, scale, similarity, queryLabels, keyLabels, valueLabels, description, attention or weights)`);
    }
    if (seen.has(canon)) throw errorAt(text, file, keyStart, keyEnd, `"${key}" is given twice`);
    seen.add(canon);
    if (MATRIX_KEYS.has(canon) || canon === 'mask') {
      let m: NdArray;
      if (canon === 'mask' && value.type === 'string' && (value.value === 'causal' || value.value === 'none')) {
        if (value.value === 'causal') spec.mask = 'causal';
        continue;
      }
      if (value.type === 'string') {
        const ref = value.value;
        const target = path.resolve(baseDir, ref);
        onRef?.(splitRef(target).file);
        try {
          m = await readMatrix(target);
        } catch (e) {
          if (!(e instanceof MatrixError)) throw e;
          throw errorAt(text, file, value.start, value.end, `${key}: ${e.message}`);
        }
        if (m.shape.length === 0 || m.data.length === 0) throw errorAt(text, file, value.start, value.end, `${key}: ${ref} holds an empty array`);
      } else {
        m = matrixFromNode(value, text, file, key);
      }
      facts[canon] = { name: key, shape: [...m.shape], start: value.start, end: value.end };
      if (canon === 'mask') spec.mask = m;
      else spec[canon as MatrixKey] = m;
      continue;
    }
    const bad = checkOption(canon, value);
    if (bad) throw errorAt(text, file, bad.start, bad.end, bad.problem);
    switch (canon) {
      case 'heads': spec.heads = (value as { value: number }).value; break;
      case 'scale': spec.scale = (value as { value: number | 'sqrt' | 'dk' | 'none' }).value; break;
      case 'similarity': spec.similarity = (value as { value: 'dot' | 'cosine' | 'laplacian' | 'euclidean' }).value; break;
      case 'description': spec.description = (value as { value: string }).value; break;
      case 'queryLabels':
      case 'keyLabels':
      case 'valueLabels': {
        const items = (value as { items: JsonNode[] }).items.map((n) => (n as { value: string }).value);
        spec[canon] = items;
        labels[canon] = { count: items.length, start: value.start, end: value.end };
        break;
      }
    }
  }
  if (!spec.q && !spec.x && !spec.weights) {
    throw errorAt(text, file, root.start, root.start + 1, 'an attention spec needs Q (or X with Wq, Wk, Wv, or precomputed attention weights)');
  }
  const problems = checkSpecShapes(facts, labels, spec.heads, seen);
  if (problems.length) throw errorAt(text, file, problems[0].start, problems[0].end, problems[0].problem);
  return spec;
}

/** The matrices in a JSON file: one unnamed entry for a plain array, or the spec's inline matrices by key. */
export function jsonMatrices(text: string, file: string): { name: string; array?: NdArray; ref?: string }[] {
  const root = parseJson(text, file);
  if (root.type === 'array' || root.type === 'numbers') return [{ name: '', array: matrixFromNode(root, text, file) }];
  if (root.type !== 'object') throw errorAt(text, file, root.start, root.end, 'expected a matrix or an object of matrices');
  const out: { name: string; array?: NdArray; ref?: string }[] = [];
  for (const { key, value } of root.entries) {
    const canon = KEY_ALIASES[key];
    if (!canon || !(MATRIX_KEYS.has(canon) || canon === 'mask')) continue;
    if (value.type === 'array' || value.type === 'numbers') out.push({ name: key, array: matrixFromNode(value, text, file, key) });
    else if (value.type === 'string' && isRefNode(canon, value)) out.push({ name: key, ref: value.value });
  }
  return out;
}
