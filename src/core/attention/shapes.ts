/**
 * The engine's shape rules: which inputs can be computed together, and the sizes of the result. The one set
 * of rules; the editor's squiggles (lenses.shapeProblems) and the JSON loader (jsonMatrix.checkSpecShapes)
 * derive their located problems from it.
 */
import { MatrixError } from '../ndarray';
import type { NdArray } from '../ndarray';
import { SIMILARITIES } from './types';
import type { AttentionDims, AttentionInput, MaskSpec, Scale, Similarity } from './types';

type Role = 'Q' | 'K' | 'V' | 'W_Q' | 'W_K' | 'W_V' | 'W_O' | 'mask';

function dims(a: NdArray): string {
  return a.shape.length === 0 ? 'a scalar' : a.shape.join('×');
}

/** A matrix view of an input: 1-D arrays become one row (for Q) or one column (for V), per `vectorAs`. */
function asMatrix(a: NdArray, role: Role, vectorAs: 'row' | 'column' | 'reject'): { rows: number; cols: number } {
  if (a.shape.length === 2) return { rows: a.shape[0], cols: a.shape[1] };
  if (a.shape.length === 1 && vectorAs !== 'reject') {
    return vectorAs === 'row' ? { rows: 1, cols: a.shape[0] } : { rows: a.shape[0], cols: 1 };
  }
  const want = vectorAs === 'reject' ? 'a matrix' : 'a vector or a matrix';
  throw new MatrixError(`${role} must be ${want}, but it has shape ${dims(a)}`);
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

/** Shapes of every input after projection; throws MatrixError naming the first mismatch. */
export interface Shapes {
  nq: number; nk: number; dIn: number; dkModel: number; dvModel: number; heads: number;
  dk: number; dv: number; dOut: number; queryIsVector: boolean; valuesAreScalars: boolean;
}

export function checkShapes(input: AttentionInput): Shapes {
  const { q } = input;
  const k = input.k ?? q;
  const v = input.v ?? q;
  const heads = checkHeads(input.heads);
  if (input.similarity !== undefined && !SIMILARITIES.includes(input.similarity)) {
    throw new MatrixError(`similarity must be one of ${SIMILARITIES.join(', ')}, got ${String(input.similarity)}`);
  }
  const queryIsVector = q.shape.length === 1;
  const Q = asMatrix(q, 'Q', 'row');
  // Self-attention with a single query vector: K is that one vector as a row, not a column of scalars.
  const K = asMatrix(k, 'K', input.k === undefined ? 'row' : 'reject');
  const valuesAreScalars = input.v !== undefined && input.v.shape.length === 1;
  const V = asMatrix(v, 'V', input.v === undefined ? 'row' : 'column');
  if (Q.cols === 0) throw new MatrixError('Q has width 0');
  if (Q.rows === 0) throw new MatrixError('Q has no rows');
  if (K.rows === 0) throw new MatrixError('K has no rows');

  const project = (w: NdArray | undefined, role: 'W_Q' | 'W_K' | 'W_V', of: string, width: number): number => {
    if (!w) return width;
    const W = asMatrix(w, role, 'reject');
    if (W.rows !== width) throw new MatrixError(`${role} has ${W.rows} rows but ${of} has width ${width}`);
    return W.cols;
  };
  const dq = project(input.wq, 'W_Q', 'Q', Q.cols);
  const dkModel = project(input.wk, 'W_K', 'K', K.cols);
  const dvModel = project(input.wv, 'W_V', 'V', V.cols);
  if (dq !== dkModel) {
    const what = input.wq || input.wk ? 'projected ' : '';
    throw new MatrixError(`${what}Q has width ${dq} but ${what}K has width ${dkModel}`);
  }
  // Rows after widths: with V defaulting to Q, a width mismatch is the real problem to report.
  if (K.rows !== V.rows) throw new MatrixError(`K has ${K.rows} rows but V has ${V.rows}`);
  if (dkModel % heads !== 0) throw new MatrixError(`heads=${heads} does not divide d_model=${dkModel}`);
  if (dvModel % heads !== 0) throw new MatrixError(`heads=${heads} does not divide the value width d_v=${dvModel}`);
  let dOut = dvModel;
  if (input.wo) {
    const W = asMatrix(input.wo, 'W_O', 'reject');
    if (W.rows !== dvModel) throw new MatrixError(`W_O has ${W.rows} rows but the concatenated heads have width ${dvModel}`);
    dOut = W.cols;
  }
  return {
    nq: Q.rows, nk: K.rows, dIn: Q.cols, dkModel, dvModel, heads, dk: dkModel / heads, dv: dvModel / heads, dOut,
    queryIsVector, valuesAreScalars,
  };
}

export function maskSpec(input: AttentionInput, s: Shapes): MaskSpec {
  const m = input.mask;
  if (m === undefined) return { kind: 'none' };
  if (m === 'causal') return { kind: 'causal', offset: s.nk - s.nq };
  if (typeof m !== 'object' || !m.shape) throw new MatrixError(`mask must be "causal" or a matrix`);
  let perHead = false;
  let ok: boolean;
  if (m.shape.length === 3) {
    perHead = true;
    ok = m.shape[0] === s.heads && m.shape[1] === s.nq && m.shape[2] === s.nk;
  } else if (m.shape.length === 1) {
    ok = s.nq === 1 && m.shape[0] === s.nk;
  } else {
    ok = m.shape.length === 2 && m.shape[0] === s.nq && m.shape[1] === s.nk;
  }
  if (!ok) {
    const want = `${s.heads > 1 ? `${s.heads}×` : ''}${s.nq}×${s.nk}`;
    throw new MatrixError(`mask is ${dims(m)} but scores are ${want}`);
  }
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
  return { heads: s.heads, nq: s.nq, nk: s.nk, dk: s.dk, dv: s.dv, outputDim: s.dOut, queryIsVector: s.queryIsVector, valuesAreScalars: s.valuesAreScalars };
}

/** Throws a MatrixError like "Q has width 3 but K has width 2" if the input cannot be computed. */
export function validateInput(input: AttentionInput): void {
  const s = checkShapes(input);
  maskSpec(input, s);
  scaleFactorFor(input.scale, input.similarity ?? 'dot', s.dk);
}
