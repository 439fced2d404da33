/**
 * JSON matrices and attention specs, text to arrays, read with the offset-keeping parser of jsonParse.ts: every
 * error (ragged rows, a string among numbers, Q wider than K, an empty matrix) carries a line and column the
 * editor can underline. Loading a spec that refers to .npy/.npz files is jsonSpec.ts (it reads files). scanJson is called on every keystroke, so it bounds its work: values past a
 * size budget are only syntax-checked (no nodes built) and their shape is reported as null.
 */
import { shapeMessage, shapeRules } from './attention/shapes';
import type { KnownShape, Role, ShapeProblem } from './attention/shapes';
import { SIMILARITIES } from './attention/types';
import { MatrixError } from './ndarray';
import type { NdArray } from './ndarray';
import { queryKeyOf } from './specInput';
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
  /** The batch entry of [B, H, n, d] Q, K, V to compute (set by Compute Attention…, not a JSON key). */
  batch?: number;
  /** Names of the weights' axes, e.g. ["layer", "batch", "head", "query", "key"] (view/dumpAxes.ts). */
  axes?: string[];
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

export type MatrixKey = 'q' | 'k' | 'v' | 'x' | 'wq' | 'wk' | 'wv' | 'wo' | 'weights';
export type SpecKey = MatrixKey | 'mask' | 'heads' | 'scale' | 'similarity' | 'queryLabels' | 'keyLabels' | 'valueLabels' | 'description' | 'axes';

export const KEY_ALIASES: Record<string, SpecKey> = {
  Q: 'q', q: 'q', K: 'k', k: 'k', V: 'v', v: 'v', X: 'x', x: 'x',
  Wq: 'wq', wq: 'wq', WQ: 'wq', W_q: 'wq', W_Q: 'wq',
  Wk: 'wk', wk: 'wk', WK: 'wk', W_k: 'wk', W_K: 'wk',
  Wv: 'wv', wv: 'wv', WV: 'wv', W_v: 'wv', W_V: 'wv',
  Wo: 'wo', wo: 'wo', WO: 'wo', W_o: 'wo', W_O: 'wo',
  attention: 'weights', weights: 'weights',
  mask: 'mask', heads: 'heads', scale: 'scale', similarity: 'similarity',
  queryLabels: 'queryLabels', keyLabels: 'keyLabels', valueLabels: 'valueLabels', description: 'description',
  axes: 'axes',
};
export const MATRIX_KEYS: ReadonlySet<SpecKey> = new Set<SpecKey>(['q', 'k', 'v', 'x', 'wq', 'wk', 'wv', 'wo', 'weights']);
/** Keys that make an object an attention spec rather than some other JSON file. */
const SPEC_MARKERS = ['Q', 'q', 'K', 'k', 'X', 'x', 'attention', 'weights'];

export function isIgnoredKey(key: string): boolean {
  return key === '$schema' || key === 'comment' || key.startsWith('_') || key.startsWith('//');
}

function looksLikeSpec(keys: string[]): boolean {
  return keys.some((k) => SPEC_MARKERS.includes(k));
}

/** What the spec says about one matrix: its shape (when known) and where to underline it. */
export interface ShapeFact { name: string; shape: number[]; start: number; end: number }

/** A problem found in a spec, placed on the value (or key) to underline. */
export interface LocatedProblem { problem: string; start: number; end: number }

function rowsOf(s: readonly number[]): number { return s.length >= 2 ? s[s.length - 2] : 1; }
function widthOf(s: readonly number[]): number { return s[s.length - 1]; }

const ROLE_KEYS: Record<Exclude<Role, 'Q' | 'K' | 'V'>, SpecKey> = { W_Q: 'wq', W_K: 'wk', W_V: 'wv', W_O: 'wo', mask: 'mask' };
const ROLE_NAMES: Record<Role, string> = { Q: 'Q', K: 'K', V: 'V', W_Q: 'Wq', W_K: 'Wk', W_V: 'Wv', W_O: 'Wo', mask: 'mask' };

/**
 * The engine's shape rules (attention/shapes.ts) applied to a spec, each problem placed on the key that feeds
 * the input it is about and worded with the file's own key names. A key that is `present` without a fact
 * (a file reference, a matrix that did not parse) is unknown: rules about it are skipped. `heads` undefined
 * means it is not known (given but invalid, or not seen): the rules that need it are skipped.
 */
export function specShapeProblems(f: Partial<Record<SpecKey, ShapeFact>>, present: ReadonlySet<string>, heads: number | undefined): { problems: LocatedProblem[]; nq?: number; nk?: number; dvModel?: number } {
  const known = (key: SpecKey): KnownShape | undefined => (f[key] ? f[key].shape : present.has(key) ? null : undefined);
  const qKey = queryKeyOf({ q: known('q'), x: known('x') }) as 'q' | 'x' | undefined;
  if (!qKey) return { problems: [] };
  const keyOf = (role: Role): SpecKey => (role === 'Q' ? qKey : role === 'K' ? (present.has('k') ? 'k' : qKey)
    : role === 'V' ? (present.has('v') ? 'v' : qKey) : ROLE_KEYS[role]);
  const name = (role: Role): string => f[keyOf(role)]?.name ?? ROLE_NAMES[role];
  const rules = shapeRules({
    q: known(qKey) as KnownShape, k: known('k'), v: known('v'), wq: known('wq'), wk: known('wk'), wv: known('wv'),
    wo: known('wo'), mask: f.mask?.shape, heads,
  });
  const problems: LocatedProblem[] = [];
  for (const p of rules.problems) {
    const at = f[keyOf(p.role)];
    if (at) problems.push({ problem: specShapeMessage(p, name), start: at.start, end: at.end });
  }
  return { problems, nq: rules.nq, nk: rules.nk, dvModel: rules.dvModel };
}

/** The engine's wording, except where a spec's reader thinks in its own keys' order and sizes. */
function specShapeMessage(p: ShapeProblem, name: (role: Role) => string): string {
  switch (p.rule) {
    case 'projectionRows':
      return `${name(p.of)} has width ${p.width} but ${name(p.role)} has ${p.rows} rows`;
    case 'headsDivide':
      return `${name(p.role)} has ${p.width} columns, not divisible by heads = ${p.heads}`;
    case 'maskShape':
      return `${name('mask')} has shape [${p.shape.join(', ')}] but the scores are [${p.heads > 1 ? `${p.heads}, ` : ''}${p.nq}, ${p.nk}]`;
    default:
      return shapeMessage(p, name);
  }
}

/**
 * The spec's own rules (labels and precomputed weights against the engine's sizes), then the engine's shape
 * rules (specShapeProblems). Returns problems instead of throwing so scanJson can
 * list them all.
 */
export function checkSpecShapes(f: Partial<Record<SpecKey, ShapeFact>>, labels: Partial<Record<'queryLabels' | 'keyLabels' | 'valueLabels', { count: number; start: number; end: number }>>, heads: number | undefined, present: ReadonlySet<string>): LocatedProblem[] {
  // heads absent means 1; present without a value means it was invalid (reported on its own).
  const engine = specShapeProblems(f, present, present.has('heads') ? heads : 1);
  // The spec's own rules first, then the engine's: the loader reports the first problem.
  const out: LocatedProblem[] = [];
  const err = (at: { start: number; end: number }, problem: string) => out.push({ problem, start: at.start, end: at.end });
  const { v, wv, wo, weights } = f;
  const nq = engine.nq ?? (weights ? rowsOf(weights.shape) : undefined);
  const nk = engine.nk ?? (weights ? widthOf(weights.shape) : undefined);
  if (labels.queryLabels && nq !== undefined && labels.queryLabels.count !== nq) {
    err(labels.queryLabels, `queryLabels has ${labels.queryLabels.count} labels but there are ${nq} queries`);
  }
  if (labels.keyLabels && nk !== undefined && labels.keyLabels.count !== nk) {
    err(labels.keyLabels, `keyLabels has ${labels.keyLabels.count} labels but there are ${nk} keys`);
  }
  // Value labels name V's columns (one for a 1-D V of scalars); projected values have no names of their own.
  if (labels.valueLabels && v && !f.wq && !f.wk && !wv && !wo && engine.dvModel !== undefined && labels.valueLabels.count !== engine.dvModel) {
    err(labels.valueLabels, `valueLabels has ${labels.valueLabels.count} names but V has ${engine.dvModel} columns`);
  }
  if (weights && engine.nq !== undefined && weights.shape.length >= 2 && rowsOf(weights.shape) !== engine.nq) {
    err(weights, `${weights.name} has ${rowsOf(weights.shape)} rows but there are ${engine.nq} queries`);
  }
  out.push(...engine.problems);
  return out;
}

interface ValueCheck { problem: string; start: number; end: number }

/** Checks a non-matrix option's value; returns a problem or nothing. */
/** A queryLabels/keyLabels string naming a file of labels ("tokens.npy", "run.npz#tokens"). */
export function isLabelsRef(value: string): boolean {
  return /\.(npy|npz)(#.+)?$/i.test(value);
}

export function checkOption(key: SpecKey, node: JsonNode): ValueCheck | undefined {
  const bad = (problem: string): ValueCheck => ({ problem, start: node.start, end: node.end });
  switch (key) {
    case 'heads':
      return node.type === 'number' && Number.isInteger(node.value) && node.value >= 1 && node.value <= 4096
        ? undefined : bad('heads must be a positive whole number');
    case 'scale':
      if (node.type === 'number') return Number.isFinite(node.value) ? undefined : bad('scale must be a finite number');
      return node.type === 'string' && ['sqrt', 'dk', 'none'].includes(node.value) ? undefined : bad('scale must be "sqrt", "dk", "none" or a number');
    case 'similarity':
      return node.type === 'string' && (SIMILARITIES as readonly string[]).includes(node.value)
        ? undefined : bad('similarity must be "dot", "cosine", "laplacian" or "euclidean"');
    case 'description':
      return node.type === 'string' ? undefined : bad('description must be a string');
    case 'axes':
      if (node.type === 'string') return undefined;
      if (node.type !== 'array') return bad('axes must be a string such as "layer,batch,head,query,key" or an array of names');
      for (const it of node.items) if (it.type !== 'string') return { problem: `axes must hold names, not ${describeNode(it)}`, start: it.start, end: it.end };
      return undefined;
    case 'queryLabels':
    case 'keyLabels':
    case 'valueLabels':
      if (node.type === 'numbers') return bad(`${key} must hold strings, not numbers`);
      if (key !== 'valueLabels' && node.type === 'string') {
        // Tokens saved by the model run: a 1-D string .npy, or an .npz member such as "run.npz#tokens".
        return isLabelsRef(node.value) ? undefined : bad(`${key} must be an array of strings or a path to a .npy or FILE.npz#tokens of strings`);
      }
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
          if (!isIgnoredKey(key)) problems.push(errorAt(text, file, keyOffset, keyEnd, `unknown key "${key}" (expected Q, K, V, X, Wq, Wk, Wv, Wo, heads, mask, scale, similarity, queryLabels, keyLabels, valueLabels, description, axes, attention or weights)`));
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
    if (!/\.(npy|npz|safetensors)(#.*)?$/i.test(node.value)) {
      problems.push(errorAt(text, file, node.start, node.end, `${key} refers to "${node.value}", which is not a .npy, .npz or .safetensors file`));
    }
    return;
  }
  if (MATRIX_KEYS.has(canon) || (canon === 'mask' && node.type !== 'string')) {
    try {
      entry.shape = matrixShape(node, text, file, key);
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
  // A labels file is checked like a matrix file (exists, has the member); its count is known once it is read.
  if ((canon === 'queryLabels' || canon === 'keyLabels') && node.type === 'string') entry.isRef = node.value;
  if ((canon === 'queryLabels' || canon === 'keyLabels' || canon === 'valueLabels') && node.type === 'array') {
    labels[canon] = { count: node.items.length, start: node.start, end: node.end };
  }
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
