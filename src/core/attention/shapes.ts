/**
 * The engine's shape rules: which inputs can be computed together, and the sizes of the result. The one set
 * of rules; the editor's squiggles (lenses.shapeProblems) and the JSON loader (jsonMatrix.checkSpecShapes)
 * derive their located problems from it.
 */
import { MatrixError } from '../ndarray';
import { SIMILARITIES } from './types';
import type { NdArray } from '../ndarray';
import type { AttentionDims, AttentionInput, MaskSpec, Scale, Similarity } from './types';

/** The inputs a shape rule can be about; a problem names the one to underline. */
export type Role = 'Q' | 'K' | 'V' | 'W_Q' | 'W_K' | 'W_V' | 'W_O' | 'mask';

/** A shape as the rules see it: the dimensions, or null for an input that is given but not known yet
 * (a file reference the editor has not read, a matrix that did not parse). Rules about it are skipped. */
export type KnownShape = readonly number[] | null;

/** The shapes of an attention input: absent (undefined) inputs take their defaults (K and V default to Q). */
export interface ShapeQuery {
  q: KnownShape;
  k?: KnownShape; v?: KnownShape;
  wq?: KnownShape; wk?: KnownShape; wv?: KnownShape; wo?: KnownShape;
  /** A matrix mask ("causal" has no shape to check). */
  mask?: KnownShape;
  /** Undefined: not known (the rules that need it are skipped); the engine always passes a number. */
  heads?: number;
}

/**
 * One broken shape rule, as data: `role` is the input to underline; the rest are the numbers the message
 * needs, so each reader can word it (the engine with its role names, a JSON file with its own keys).
 */
export type ShapeProblem = { role: Role } & (
  | { rule: 'rank'; shape: readonly number[]; want: 'a matrix' | 'a vector or a matrix' | 'a vector, a matrix or split into heads ([heads, n, d])' }
  | { rule: 'empty'; what: 'width' | 'rows' }
  | { rule: 'projectionRows'; of: 'Q' | 'K' | 'V'; rows: number; width: number }
  | { rule: 'keyWidth'; projected: boolean; dq: number; dk: number }
  | { rule: 'valueRows'; nk: number; nv: number }
  | { rule: 'headsDivide'; of: 'keys' | 'values'; heads: number; width: number }
  | { rule: 'outputRows'; rows: number; width: number }
  | { rule: 'maskShape'; shape: readonly number[]; heads: number; nq: number; nk: number }
  // Per-head inputs ([H, n, d]) and their batch axis ([B, H, n, d]).
  | { rule: 'perHeadRank'; shape: readonly number[] }
  | { rule: 'kvHeads'; heads: number; kvHeads: number }
  | { rule: 'valueHeads'; kHeads: number; vHeads: number }
  | { rule: 'perHeadProjection' }
  | { rule: 'headsCount'; heads: number; qHeads: number }
  | { rule: 'batch'; batch: number; qBatch: number }
);

/** Every size of a computation whose shapes all check. */
export interface Shapes {
  nq: number; nk: number; dIn: number; dkModel: number; dvModel: number; heads: number;
  dk: number; dv: number; dOut: number; queryIsVector: boolean; valuesAreScalars: boolean;
  /** Inputs already split into heads ([H, n, d]), K and V with kvHeads heads (kvHeads divides heads). */
  perHead?: boolean; kvHeads?: number;
}

function dims(shape: readonly number[]): string {
  return shape.length === 0 ? 'a scalar' : shape.join('×');
}

const ROLE_NAMES: Record<Role, string> = { Q: 'Q', K: 'K', V: 'V', W_Q: 'W_Q', W_K: 'W_K', W_V: 'W_V', W_O: 'W_O', mask: 'mask' };

/** The engine's wording of a problem; `name` turns a role into what the reader calls that input. */
export function shapeMessage(p: ShapeProblem, name: (role: Role) => string = (r) => ROLE_NAMES[r]): string {
  switch (p.rule) {
    case 'rank':
      return `${name(p.role)} must be ${p.want}, but it has shape ${dims(p.shape)}`;
    case 'empty':
      return p.what === 'width' ? `${name(p.role)} has width 0` : `${name(p.role)} has no rows`;
    case 'projectionRows':
      return `${name(p.role)} has ${p.rows} rows but ${name(p.of)} has width ${p.width}`;
    case 'keyWidth': {
      const what = p.projected ? 'projected ' : '';
      return `${what}${name('Q')} has width ${p.dq} but ${what}${name('K')} has width ${p.dk}`;
    }
    case 'valueRows':
      return `${name('K')} has ${p.nk} rows but ${name('V')} has ${p.nv}`;
    case 'headsDivide':
      return p.of === 'keys'
        ? `heads=${p.heads} does not divide d_model=${p.width}`
        : `heads=${p.heads} does not divide the value width d_v=${p.width}`;
    case 'outputRows':
      return `${name(p.role)} has ${p.rows} rows but the concatenated heads have width ${p.width}`;
    case 'maskShape':
      return `${name('mask')} is ${dims(p.shape)} but scores are ${p.heads > 1 ? `${p.heads}×` : ''}${p.nq}×${p.nk}`;
    case 'perHeadRank':
      return `${name(p.role)} must be split into heads like ${name('Q')} ([heads, n, d]), but it has shape ${dims(p.shape)}`;
    case 'kvHeads':
      return `${name(p.role)} has ${p.kvHeads} heads, which does not divide ${name('Q')}'s ${p.heads} heads`;
    case 'valueHeads':
      return `${name('K')} has ${p.kHeads} heads but ${name('V')} has ${p.vHeads}`;
    case 'perHeadProjection':
      return `${name(p.role)} cannot project inputs already split into heads; give Q, K and V as [heads, n, d] without projections`;
    case 'headsCount':
      return `heads=${p.heads} but ${name('Q')} has ${p.qHeads} heads`;
    case 'batch':
      return `${name(p.role)} has a batch axis of ${p.batch} but ${name('Q')} has ${p.qBatch}`;
  }
}

/**
 * Rules for inputs split into heads: Q [H, n_q, d], K [H_kv, n_k, d], V [H_kv, n_k, d_v] (K and V default to
 * Q), H_kv dividing H; a mask [n_q, n_k] shared by all heads or [H, n_q, n_k]; W_O may follow the concatenated
 * heads. A leading batch axis ([B, H, n, d]) is dropped here: the engine picks one entry (selectBatch).
 */
function perHeadRules(s: ShapeQuery): ReturnType<typeof shapeRules> {
  const problems: ShapeProblem[] = [];
  let unknown = false;
  const qBatch = s.q && s.q.length === 4 ? s.q[0] : undefined;
  const strip = (shape: KnownShape | undefined, role: Role): KnownShape | undefined => {
    if (shape === undefined) return undefined;
    if (shape === null) { unknown = true; return null; }
    if (shape.length !== 4) return shape;
    if (qBatch !== undefined && shape[0] !== qBatch && shape[0] !== 1) problems.push({ role, rule: 'batch', batch: shape[0], qBatch });
    return shape.slice(1);
  };
  const q = strip(s.q, 'Q') as readonly number[];
  const given = { K: strip(s.k, 'K'), V: strip(s.v, 'V'), mask: strip(s.mask, 'mask') };
  const [H, nq, dq] = q;
  if (dq === 0) problems.push({ role: 'Q', rule: 'empty', what: 'width' });
  if (nq === 0) problems.push({ role: 'Q', rule: 'empty', what: 'rows' });
  for (const role of ['K', 'V'] as const) {
    const shape = given[role];
    if (shape && shape.length !== 3) problems.push({ role, rule: 'perHeadRank', shape });
  }
  const k = given.K === undefined ? q : given.K && given.K.length === 3 ? given.K : undefined;
  const v = given.V === undefined ? q : given.V && given.V.length === 3 ? given.V : undefined;
  for (const role of ['wq', 'wk', 'wv'] as const) {
    if (s[role] !== undefined) problems.push({ role: role === 'wq' ? 'W_Q' : role === 'wk' ? 'W_K' : 'W_V', rule: 'perHeadProjection' });
  }
  if (s.heads !== undefined && s.heads !== 1 && s.heads !== H) problems.push({ role: 'Q', rule: 'headsCount', heads: s.heads, qHeads: H });
  if (k && k[0] !== 0 && H % k[0] !== 0) problems.push({ role: given.K !== undefined ? 'K' : 'Q', rule: 'kvHeads', heads: H, kvHeads: k[0] });
  else if (k && k[0] === 0) problems.push({ role: 'K', rule: 'empty', what: 'rows' });
  if (k && v && k[0] !== v[0]) problems.push({ role: given.V !== undefined ? 'V' : 'K', rule: 'valueHeads', kHeads: k[0], vHeads: v[0] });
  if (k && k[2] !== dq) problems.push({ role: 'K', rule: 'keyWidth', projected: false, dq, dk: k[2] });
  if (k && k[1] === 0) problems.push({ role: 'K', rule: 'empty', what: 'rows' });
  if (k && v && k[1] !== v[1]) problems.push({ role: given.V !== undefined ? 'V' : 'K', rule: 'valueRows', nk: k[1], nv: v[1] });
  const nk = k?.[1];
  const dv = v?.[2];
  let dOut = dv === undefined ? undefined : H * dv;
  if (s.wo !== undefined) {
    if (s.wo === null) unknown = true;
    else if (s.wo.length !== 2) problems.push({ role: 'W_O', rule: 'rank', shape: s.wo, want: 'a matrix' });
    else {
      if (dOut !== undefined && s.wo[0] !== dOut) problems.push({ role: 'W_O', rule: 'outputRows', rows: s.wo[0], width: dOut });
      dOut = s.wo[1];
    }
  }
  const m = given.mask;
  if (m && nk !== undefined) {
    const ok = (m.length === 2 && m[0] === nq && m[1] === nk) || (m.length === 3 && m[0] === H && m[1] === nq && m[2] === nk);
    if (!ok) problems.push({ role: 'mask', rule: 'maskShape', shape: m, heads: H, nq, nk });
  }
  if (problems.length > 0 || unknown || !k || !v || nk === undefined || dv === undefined || dOut === undefined) {
    return { problems, nq, nk, dvModel: dv === undefined ? undefined : H * dv };
  }
  return {
    problems, nq, nk, dvModel: H * dv,
    shapes: {
      nq, nk, dIn: dq, dkModel: H * dq, dvModel: H * dv, heads: H, dk: dq, dv, dOut,
      queryIsVector: false, valuesAreScalars: false, perHead: true, kvHeads: k[0],
    },
  };
}

/**
 * The shape rules. Returns every broken rule, in the order the engine checks them (its error is the first),
 * and the sizes when nothing is broken or unknown. Rules about an unknown shape are skipped, never guessed.
 */
export function shapeRules(s: ShapeQuery): { problems: ShapeProblem[]; shapes?: Shapes; nq?: number; nk?: number; dvModel?: number } {
  // Q split into heads ([H, n, d], or [B, H, n, d]) follows its own rules.
  if (s.q && (s.q.length === 3 || s.q.length === 4)) return perHeadRules(s);
  const problems: ShapeProblem[] = [];
  let unknown = false;
  type View = { rows: number; cols: number } | undefined;
  /** A matrix view: 1-D arrays become one row (for Q) or one column (for V), per `vectorAs`. */
  const view = (shape: KnownShape, role: Role, vectorAs: 'row' | 'column' | 'reject'): View => {
    if (shape === null) { unknown = true; return undefined; }
    if (shape.length === 2) return { rows: shape[0], cols: shape[1] };
    if (shape.length === 1 && vectorAs !== 'reject') return vectorAs === 'row' ? { rows: 1, cols: shape[0] } : { rows: shape[0], cols: 1 };
    const want = vectorAs === 'reject' ? 'a matrix' : role === 'Q' ? 'a vector, a matrix or split into heads ([heads, n, d])' : 'a vector or a matrix';
    problems.push({ role, rule: 'rank', shape, want });
    return undefined;
  };
  const kGiven = s.k !== undefined;
  const vGiven = s.v !== undefined;
  const Q = view(s.q, 'Q', 'row');
  // Self-attention with a single query vector: K is that one vector as a row, not a column of scalars.
  const K = kGiven ? view(s.k as KnownShape, 'K', 'reject') : Q;
  const V = vGiven ? view(s.v as KnownShape, 'V', 'column') : Q;
  if (Q && Q.cols === 0) problems.push({ role: 'Q', rule: 'empty', what: 'width' });
  if (Q && Q.rows === 0) problems.push({ role: 'Q', rule: 'empty', what: 'rows' });
  if (kGiven && K && K.rows === 0) problems.push({ role: 'K', rule: 'empty', what: 'rows' });

  /** The width after projection: W's columns when W is given, else the input's width. */
  const project = (w: KnownShape | undefined, role: 'W_Q' | 'W_K' | 'W_V', of: 'Q' | 'K' | 'V', input: View): number | undefined => {
    if (w === undefined) return input?.cols;
    const W = view(w, role, 'reject');
    if (W && input && W.rows !== input.cols) problems.push({ role, rule: 'projectionRows', of, rows: W.rows, width: input.cols });
    return W?.cols;
  };
  const dq = project(s.wq, 'W_Q', 'Q', Q);
  const dkModel = project(s.wk, 'W_K', 'K', K);
  const dvModel = project(s.wv, 'W_V', 'V', V);
  const projected = s.wq !== undefined || s.wk !== undefined;
  if (dq !== undefined && dkModel !== undefined && dq !== dkModel) {
    problems.push({ role: s.wk !== undefined ? 'W_K' : s.wq !== undefined ? 'W_Q' : 'K', rule: 'keyWidth', projected, dq, dk: dkModel });
  }
  // Rows after widths: with V defaulting to Q, a width mismatch is the real problem to report.
  if (K && V && K.rows !== V.rows) problems.push({ role: vGiven ? 'V' : 'K', rule: 'valueRows', nk: K.rows, nv: V.rows });
  const heads = s.heads;
  if (heads !== undefined && dkModel !== undefined && dkModel % heads !== 0) {
    problems.push({ role: s.wq !== undefined ? 'W_Q' : s.wk !== undefined ? 'W_K' : kGiven ? 'K' : 'Q', rule: 'headsDivide', of: 'keys', heads, width: dkModel });
  }
  if (heads !== undefined && dvModel !== undefined && dvModel % heads !== 0) {
    problems.push({ role: s.wv !== undefined ? 'W_V' : vGiven ? 'V' : 'Q', rule: 'headsDivide', of: 'values', heads, width: dvModel });
  }
  let dOut = dvModel;
  if (s.wo !== undefined) {
    const W = view(s.wo, 'W_O', 'reject');
    if (W && dvModel !== undefined && W.rows !== dvModel) problems.push({ role: 'W_O', rule: 'outputRows', rows: W.rows, width: dvModel });
    dOut = W?.cols;
  }
  const nq = Q?.rows;
  const nk = K?.rows;
  if (s.mask !== undefined) {
    const m = s.mask;
    if (m === null) unknown = true;
    else if (nq !== undefined && nk !== undefined && heads !== undefined) {
      const ok = m.length === 3 ? m[0] === heads && m[1] === nq && m[2] === nk
        : m.length === 1 ? nq === 1 && m[0] === nk
          : m.length === 2 && m[0] === nq && m[1] === nk;
      if (!ok) problems.push({ role: 'mask', rule: 'maskShape', shape: m, heads, nq, nk });
    }
  }
  if (problems.length > 0 || unknown || !Q || !K || heads === undefined || dkModel === undefined || dvModel === undefined || dOut === undefined) {
    return { problems, nq, nk, dvModel };
  }
  return {
    problems, nq, nk, dvModel,
    shapes: {
      nq: Q.rows, nk: K.rows, dIn: Q.cols, dkModel, dvModel, heads, dk: dkModel / heads, dv: dvModel / heads, dOut,
      queryIsVector: (s.q as readonly number[]).length === 1, valuesAreScalars: vGiven && (s.v as readonly number[]).length === 1,
    },
  };
}

function checkHeads(heads: number | undefined): number {
  if (heads === undefined) return 1;
  if (!Number.isInteger(heads) || heads < 1) throw new MatrixError(`heads must be a positive integer, got ${heads}`);
  return heads;
}

/** The factor the scores are multiplied by, per the conventions above. */
export function scaleFactorFor(scale: Scale | undefined, similarity: Similarity, dk: number): number {
  if (typeof scale === 'number') {
    if (!Number.isFinite(scale)) throw new MatrixError(`scale must be a finite number, got ${scale}`);
    return scale;
  }
  if (similarity !== 'dot') return 1;
  switch (scale ?? 'sqrt') {
    case 'sqrt':
      return 1 / Math.sqrt(dk);
    case 'dk':
      return 1 / dk;
    case 'none':
      return 1;
    default:
      throw new MatrixError(`scale must be sqrt, dk, none or a number, got ${String(scale)}`);
  }
}

/** Shapes of every input after projection; throws MatrixError naming the first broken rule. */
export function checkShapes(input: AttentionInput): Shapes {
  const heads = checkHeads(input.heads);
  if (input.similarity !== undefined && !SIMILARITIES.includes(input.similarity)) {
    throw new MatrixError(`similarity must be one of ${SIMILARITIES.join(', ')}, got ${String(input.similarity)}`);
  }
  const m = input.mask;
  if (m !== undefined && m !== 'causal' && (typeof m !== 'object' || !m.shape)) throw new MatrixError(`mask must be "causal" or a matrix`);
  const { problems, shapes } = shapeRules({
    q: input.q.shape, k: input.k?.shape, v: input.v?.shape, wq: input.wq?.shape, wk: input.wk?.shape,
    wv: input.wv?.shape, wo: input.wo?.shape, mask: m === undefined || m === 'causal' ? undefined : m.shape, heads,
  });
  if (problems.length > 0) throw new MatrixError(shapeMessage(problems[0]));
  return shapes as Shapes;
}

/** Entry b of a [B, …] array, as a view (no copy). */
function batchEntry(a: NdArray, b: number): NdArray {
  const [, ...rest] = a.shape;
  const size = rest.reduce((p, d) => p * d, 1);
  return { shape: rest, dtype: a.dtype, data: a.data.subarray(b * size, (b + 1) * size) as NdArray['data'] };
}

/**
 * Per-head inputs with a batch axis ([B, H, n, d]): the one entry `input.batch` picks (default 0, with a
 * warning when there was a choice). Call after checkShapes; other inputs come back as they are.
 */
export function selectBatch(input: AttentionInput): { input: AttentionInput; warnings: string[] } {
  if (input.q.shape.length !== 4) return { input, warnings: [] };
  const B = input.q.shape[0];
  const b = input.batch ?? 0;
  if (!Number.isInteger(b) || b < 0 || b >= B) throw new MatrixError(`batch must be a whole number from 0 to ${B - 1}, got ${b}`);
  const pick = (a: NdArray | undefined, rank: number) => (a && a.shape.length === rank ? batchEntry(a, a.shape[0] === 1 ? 0 : b) : a);
  const m = input.mask;
  return {
    input: {
      ...input, q: batchEntry(input.q, b), k: pick(input.k, 4), v: pick(input.v, 4),
      mask: m === undefined || m === 'causal' ? m : pick(m, 4),
    },
    warnings: B > 1 && input.batch === undefined ? [`Q has a batch axis of ${B}; batch 0 is computed`] : [],
  };
}

export function maskSpec(input: AttentionInput, s: Shapes): MaskSpec {
  const m = input.mask;
  if (m === undefined) return { kind: 'none' };
  if (m === 'causal') return { kind: 'causal', offset: s.nk - s.nq };
  // Its shape was checked with the others (shapeRules); here its values.
  const perHead = m.shape.length === 3;
  const data = new Uint8Array(m.data.length);
  for (let i = 0; i < m.data.length; i++) {
    const x = Number(m.data[i]);
    if (x !== 0 && x !== 1) {
      throw new MatrixError(`mask must hold only 0/1 or true/false, found ${x} at flat index ${i}`);
    }
    data[i] = x;
  }
  return { kind: 'matrix', data, perHead };
}

/** The result's sizes, without computing (or converting) anything; throws like validateInput. */
export function attentionShape(input: AttentionInput): AttentionDims & { outputDim: number } {
  const s = checkShapes(input);
  return {
    heads: s.heads, nq: s.nq, nk: s.nk, dk: s.dk, dv: s.dv, outputDim: s.dOut, queryIsVector: s.queryIsVector,
    valuesAreScalars: s.valuesAreScalars, perHead: s.perHead, kvHeads: s.kvHeads,
  };
}

/** Throws a MatrixError like "Q has width 3 but K has width 2" if the input cannot be computed. */
export function validateInput(input: AttentionInput): void {
  const s = checkShapes(input);
  maskSpec(selectBatch(input).input, s);
  scaleFactorFor(input.scale, input.similarity ?? 'dot', s.dk);
}
