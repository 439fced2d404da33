/**
 * Which heads do what: per-head metrics over square attention maps A (n × n, rows = queries), and the
 * Jensen–Shannon distance between two heads for "heads like this one".
 *
 * Metrics (means over all n query rows i; a fully masked row is a row of zeros and still counts in the mean):
 *   entropy          mean_i −Σ_j A_ij ln A_ij (nats, 0·ln 0 = 0)
 *   max              mean_i max_j A_ij
 *   bos              mean_i A_i0
 *   self             mean_i A_ii
 *   previous_token   Σ_{i≥1} A_{i,i−1} / Σ_ij A_ij
 *   duplicate_token  Σ_ij A_ij [tok_j = tok_i, j < i] / Σ_ij A_ij
 *   induction        Σ_ij A_ij [1 ≤ j ≤ i, tok_{j−1} = tok_i] / Σ_ij A_ij
 *
 * The last three are TransformerLens's head detector (transformer_lens/head_detector.py) with its default
 * error_measure="mul", exclude_bos=False, exclude_current_token=False: the score is (A ⊙ P).sum() / A.sum() for its
 * detection pattern P. Our P are the same matrices: previous-token P = the sub-diagonal; duplicate-token P =
 * [tok_i = tok_j] with the diagonal zeroed, lower triangle; induction P = that pattern rolled one column right,
 * column 0 zeroed, lower triangle (so j ≥ 1, j ≤ i, tok_{j−1} = tok_i; j − 1 < i follows). Deliberate differences:
 *   - tokens are compared as strings (TransformerLens compares token ids; two ids that decode to the same text
 *     count as equal here, which is what a user reading the labels sees);
 *   - a head whose whole map is zero scores 0 (TransformerLens divides 0 by 0 and gets NaN);
 *   - NaN, ±Infinity and negative entries count as 0 (a fully masked softmax row is NaN in PyTorch), and so do
 *     subnormal ones (below 1.2e-38: their share of any sum is below 1e-37);
 *   - the denominator Σ_ij A_ij runs over the whole map, as in TransformerLens, so weights above the diagonal of
 *     a non-causal map dilute the score just as they do there;
 *   - TransformerLens averages the scores of several sequences; one map here is one sequence.
 * entropy, max, bos and self are not in TransformerLens: they are the sharp/diffuse, sink and self measures of
 * Clark et al. (2019) and the attention-sink papers.
 */
import { MatrixError, toFloat32 } from './ndarray';
import type { MatrixHandle } from './matrixFile';
import { HEAD_METRICS, TOKEN_METRICS } from '../shared/heads';
import type { HeadMetric, NearHead } from '../shared/heads';

/** One head's scores; the token metrics are absent without tokens. */
export type HeadScores = { [K in HeadMetric]?: number };

// ---------------------------------------------------------------------------------------------------------------
// A fast, accurate natural log of a positive normal float32 from its bits. ln x = e·ln2 + ln c_k + ln(1 + r), where
// c_k = 1 + k/1024 from the top 10 mantissa bits and r = (low 13 bits)·2⁻²³ / c_k < 2⁻¹⁰; three series terms leave an
// error below 1e-13. Math.log costs several times more per element, and entropy needs one log per weight.
const LOG_BITS = 10;
const LN_C = new Float64Array(1 << LOG_BITS);
const R_SCALE = new Float64Array(1 << LOG_BITS);
for (let k = 0; k < 1 << LOG_BITS; k++) {
  const c = 1 + k / (1 << LOG_BITS);
  LN_C[k] = Math.log(c);
  R_SCALE[k] = 2 ** -23 / c;
}
const LN2 = Math.LN2;
const THIRD = 1 / 3;
/** Positive normal float32 bits lie strictly between these (subnormals, ±0, Inf, NaN and negatives do not). */
const MIN_NORMAL_BITS = 0x00800000;
const INF_BITS = 0x7f800000;

const scratchF32 = new Float32Array(1);
const scratchI32 = new Int32Array(scratchF32.buffer);

/** ln x for a positive double, via its float32 rounding (relative error ~6e-8 in x; exact 0 for x = 1). */
function lnPositive(x: number): number {
  scratchF32[0] = x;
  const b = scratchI32[0];
  if (b < MIN_NORMAL_BITS || b >= INF_BITS) return Math.log(x);
  const k = (b >>> 13) & 1023;
  const r = (b & 0x1fff) * R_SCALE[k];
  return ((b >>> 23) - 127) * LN2 + LN_C[k] + r * (1 - r * (0.5 - r * THIRD));
}

// ---------------------------------------------------------------------------------------------------------------

/** Tokens prepared once for the token metrics: each position's token id, and the positions of each id (ascending). */
export interface TokenIndex {
  readonly n: number;
  readonly ids: Int32Array;
  /** positions of id t are occPos[occStart[t] .. occStart[t + 1]) */
  readonly occStart: Int32Array;
  readonly occPos: Int32Array;
}

export function prepareTokens(tokens: readonly string[], n: number, file?: string): TokenIndex {
  if (tokens.length !== n) {
    throw new MatrixError(`the tokens have ${tokens.length} entries but the attention maps are ${n} × ${n}; they must be one token per position`, file);
  }
  const idOf = new Map<string, number>();
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = String(tokens[i]);
    let id = idOf.get(t);
    if (id === undefined) { id = idOf.size; idOf.set(t, id); }
    ids[i] = id;
  }
  const occStart = new Int32Array(idOf.size + 1);
  for (let i = 0; i < n; i++) occStart[ids[i] + 1]++;
  for (let t = 0; t < idOf.size; t++) occStart[t + 1] += occStart[t];
  const fill = occStart.slice(0, idOf.size);
  const occPos = new Int32Array(n);
  for (let i = 0; i < n; i++) occPos[fill[ids[i]]++] = i;
  return { n, ids, occStart, occPos };
}

/** The smallest positive normal float32; a smaller weight's share of anything is below 1e-37, so it counts as 0. */
export const MIN_NORMAL = 1.1754943508222875e-38;

/** A weight as the metrics count it: NaN, ±Infinity, negatives and subnormals are 0. */
export function countedWeight(x: number): number {
  return x >= MIN_NORMAL && x < Infinity ? x : 0;
}

// Sums of one map, filled by the kernels below (kept apart from the object building so that V8 compiles the hot
// loops once and never deoptimises them for want of type feedback on code they do not reach).
const S_ENTROPY = 0; // Σ x·ln(mantissa)
const S_EXPONENT = 1; // Σ x·exponent (× ln 2 → the rest of Σ x ln x)
const S_MAX = 2; // Σ_i max_j
const S_TOTAL = 3;
const S_BOS = 4;
const S_SELF = 5;
const S_PREV = 6;
const S_DUP = 7;
const S_IND = 8;
const SUMS = 9;

/** One pass over the map: everything but the token metrics. */
function mapSums(map: Float32Array, bits: Int32Array, n: number, sums: Float64Array): void {
  let entropy = 0;
  let exponentSum = 0;
  let maxSum = 0;
  let total = 0;
  let bos = 0;
  let self = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const o = i * n;
    let rowMax = 0;
    for (let j = 0; j < n; j++) {
      const b = bits[o + j];
      // Positive normal floats order like their bits: one range test skips 0, subnormals, negatives, NaN and Inf.
      if (b >= MIN_NORMAL_BITS && b < INF_BITS) {
        const x = map[o + j];
        total += x;
        if (x > rowMax) rowMax = x;
        const k = (b >> 13) & 1023;
        const r = (b & 0x1fff) * R_SCALE[k];
        exponentSum += x * ((b >> 23) - 127);
        entropy += x * (LN_C[k] + r * (1 - r * (0.5 - r * THIRD)));
      }
    }
    maxSum += rowMax;
    bos += countedWeight(map[o]);
    self += countedWeight(map[o + i]);
    if (i > 0) prev += countedWeight(map[o + i - 1]);
  }
  sums[S_ENTROPY] = entropy;
  sums[S_EXPONENT] = exponentSum;
  sums[S_MAX] = maxSum;
  sums[S_TOTAL] = total;
  sums[S_BOS] = bos;
  sums[S_SELF] = self;
  sums[S_PREV] = prev;
}

/** The token metrics' numerators: for each query, only the earlier positions holding its token. */
function tokenSums(map: Float32Array, n: number, ids: Int32Array, occStart: Int32Array, occPos: Int32Array, sums: Float64Array): void {
  let dup = 0;
  let ind = 0;
  for (let i = 0; i < n; i++) {
    const o = i * n;
    const t = ids[i];
    const end = occStart[t + 1];
    for (let q = occStart[t]; q < end; q++) {
      const p = occPos[q];
      if (p >= i) break; // positions are ascending
      dup += countedWeight(map[o + p]); // tok_p = tok_i, p < i
      ind += countedWeight(map[o + p + 1]); // j = p + 1 ≤ i with tok_{j−1} = tok_i
    }
  }
  sums[S_DUP] = dup;
  sums[S_IND] = ind;
}

const sumsScratch = new Float64Array(SUMS);

/**
 * All metrics of one n × n map (row-major float32). One pass over the weights; the token metrics then visit only
 * the positions holding the query's token. No allocation per row.
 */
export function headMetrics(map: Float32Array, n: number, tokens?: TokenIndex): HeadScores {
  if (map.length !== n * n) throw new Error(`headMetrics: map has ${map.length} values, expected ${n}²`);
  if (tokens && tokens.n !== n) throw new Error(`headMetrics: tokens for n = ${tokens.n}, map is ${n} × ${n}`);
  const sums = sumsScratch;
  mapSums(map, new Int32Array(map.buffer, map.byteOffset, map.length), n, sums);
  const rows = Math.max(1, n);
  const total = sums[S_TOTAL];
  const share = (x: number) => (total > 0 ? x / total : 0);
  const scores: HeadScores = {
    entropy: 0 - (sums[S_ENTROPY] + sums[S_EXPONENT] * LN2) / rows, // 0 − x, not −x: an empty sum is +0, not −0
    max: sums[S_MAX] / rows,
    bos: sums[S_BOS] / rows,
    self: sums[S_SELF] / rows,
    previous_token: share(sums[S_PREV]),
  };
  if (tokens) {
    tokenSums(map, n, tokens.ids, tokens.occStart, tokens.occPos, sums);
    scores.duplicate_token = share(sums[S_DUP]);
    scores.induction = share(sums[S_IND]);
  }
  return scores;
}

// ---------------------------------------------------------------------------------------------------------------

/** Where the heads of an array are: [L, H, n, n], [H, n, n] (one layer) or [n, n] (one head). */
export interface HeadLayout { layers: number; heads: number; n: number; rank: number; lead: number }

/** Validates the shape of an array of attention maps; leading axes of length 1 beyond four (a batch of 1) are dropped. */
export function headLayout(shape: readonly number[], ref?: string): HeadLayout {
  let lead = 0;
  while (shape.length - lead > 4 && shape[lead] === 1) lead++;
  const s = shape.slice(lead);
  const want = 'heads needs attention maps shaped [layers, heads, n, n], [heads, n, n] or [n, n]';
  if (s.length < 2 || s.length > 4) throw new MatrixError(`${want}; this array is [${shape.join(', ')}]`, ref);
  const n = s[s.length - 1];
  if (s[s.length - 2] !== n) throw new MatrixError(`${want}: the maps must be square (queries = keys); these are ${s[s.length - 2]} × ${n}`, ref);
  if (n === 0) throw new MatrixError(`${want}; these maps are empty (n = 0)`, ref);
  const layers = s.length === 4 ? s[0] : 1;
  const heads = s.length >= 3 ? s[s.length - 3] : 1;
  if (layers === 0 || heads === 0) throw new MatrixError(`${want}; this array has no heads ([${shape.join(', ')}])`, ref);
  return { layers, heads, n, rank: s.length, lead };
}

/** Anything that yields one head's n × n map at a time: a file handle read lazily, or a computed result. */
export interface HeadSource {
  readonly layers: number;
  readonly heads: number;
  readonly n: number;
  read(layer: number, head: number): Promise<Float32Array>;
}

export function headSourceFromHandle(handle: MatrixHandle): HeadSource {
  const lay = headLayout(handle.info.shape, handle.ref);
  const lead: number[] = new Array(lay.lead).fill(0);
  return {
    layers: lay.layers,
    heads: lay.heads,
    n: lay.n,
    async read(layer, head) {
      const index = lay.rank === 4 ? [...lead, layer, head] : lay.rank === 3 ? [...lead, head] : lead;
      const a = await handle.read(index);
      if (a.dtype === 'bool') throw new MatrixError('heads needs attention weights, not a boolean array', handle.ref);
      return toFloat32(a);
    },
  };
}

/** Heads already in memory, [layers · heads · n · n] row-major (e.g. a computed multi-head result). */
export function headSourceFromArray(data: Float32Array, layers: number, heads: number, n: number): HeadSource {
  if (data.length !== layers * heads * n * n) throw new Error(`headSourceFromArray: ${data.length} values for [${layers}, ${heads}, ${n}, ${n}]`);
  return {
    layers, heads, n,
    read: async (layer, head) => data.subarray((layer * heads + head) * n * n, (layer * heads + head + 1) * n * n),
  };
}

/** Every metric of every head, each a [layers · heads] row-major array. */
export interface HeadTable {
  layers: number;
  heads: number;
  n: number;
  metrics: { [K in HeadMetric]?: Float64Array };
}

export interface HeadWorkOptions {
  tokens?: readonly string[];
  signal?: AbortSignal;
  /** Fraction done, after each head. */
  onProgress?: (fraction: number) => void;
}

export function headsCancelled(): Error {
  const e = new Error('the head metrics were cancelled');
  e.name = 'AbortError';
  return e;
}

/** The metrics of every head, reading one head at a time (a 1024-head dump is never whole in memory). */
export async function computeHeadTable(source: HeadSource, opts: HeadWorkOptions & { tokensFile?: string } = {}): Promise<HeadTable> {
  const { layers, heads, n } = source;
  const tokens = opts.tokens ? prepareTokens(opts.tokens, n, opts.tokensFile) : undefined;
  const count = layers * heads;
  const metrics: HeadTable['metrics'] = {};
  for (const m of HEAD_METRICS) if (tokens || !TOKEN_METRICS.includes(m)) metrics[m] = new Float64Array(count);
  // The next head is read while this one is measured: the read runs on libuv's threads, the maths here.
  let next: Promise<Float32Array> | undefined = source.read(0, 0);
  try {
    for (let at = 0; at < count; at++) {
      const map: Float32Array = await (next as Promise<Float32Array>);
      next = undefined;
      if (opts.signal?.aborted) throw headsCancelled();
      if (at + 1 < count) next = source.read(Math.floor((at + 1) / heads), (at + 1) % heads);
      const scores = headMetrics(map, n, tokens);
      for (const m of HEAD_METRICS) {
        const column = metrics[m];
        if (column) column[at] = scores[m] as number;
      }
      opts.onProgress?.((at + 1) / count);
    }
  } finally {
    next?.catch(() => undefined); // a read still running when we stop: its result (or error) is not wanted
  }
  return { layers, heads, n, metrics };
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Jensen–Shannon distance between two heads, in base 2 (so in [0, 1]): for each query row, both rows are
 * normalised to sum 1, JSD = ½ KL(p‖m) + ½ KL(q‖m) with m = (p + q)/2, distance = √JSD; the mean over rows.
 * A row fully masked in both heads is skipped; masked in one only, it is as far as can be (1). Entries count as
 * in the metrics (NaN, Inf, negatives are 0). Identical rows give exactly 0.
 */
export function headDistance(a: Float32Array, b: Float32Array, n: number): number {
  if (a.length !== n * n || b.length !== n * n) throw new Error(`headDistance: maps must be ${n} × ${n}`);
  let sum = 0;
  let rows = 0;
  for (let i = 0; i < n; i++) {
    const o = i * n;
    let sa = 0;
    let sb = 0;
    for (let j = 0; j < n; j++) {
      const x = a[o + j];
      const y = b[o + j];
      if (x > 0 && x < Infinity) sa += x;
      if (y > 0 && y < Infinity) sb += y;
    }
    if (sa === 0 && sb === 0) continue;
    rows++;
    if (sa === 0 || sb === 0) { sum += 1; continue; }
    const ia = 1 / sa;
    const ib = 1 / sb;
    let kl = 0; // Σ p ln(p/m) + q ln(q/m), natural log
    for (let j = 0; j < n; j++) {
      const x = a[o + j];
      const y = b[o + j];
      const p = x > 0 && x < Infinity ? x * ia : 0;
      const q = y > 0 && y < Infinity ? y * ib : 0;
      if (p === 0 && q === 0) continue;
      if (p === q) continue; // both terms are exactly 0
      const m = 0.5 * (p + q);
      if (p > 0) kl += p * lnPositive(p / m);
      if (q > 0) kl += q * lnPositive(q / m);
    }
    const jsd = kl / (2 * LN2);
    sum += Math.sqrt(jsd > 0 ? (jsd < 1 ? jsd : 1) : 0);
  }
  return rows ? sum / rows : 0;
}

/** The k heads nearest to (layer, head) by headDistance, nearest first (ties: lower layer, then head). */
export async function nearestHeads(source: HeadSource, layer: number, head: number, k: number, opts: HeadWorkOptions = {}): Promise<NearHead[]> {
  const { layers, heads, n } = source;
  if (!(layer >= 0 && layer < layers && head >= 0 && head < heads)) throw new MatrixError(`there is no layer ${layer} head ${head} (the array has ${layers} × ${heads} heads)`);
  const target = (await source.read(layer, head)).slice(); // a source may reuse its buffer between reads
  const found: NearHead[] = [];
  const count = layers * heads;
  for (let l = 0; l < layers; l++) {
    for (let h = 0; h < heads; h++) {
      if (opts.signal?.aborted) throw headsCancelled();
      if (l !== layer || h !== head) found.push({ layer: l, head: h, distance: headDistance(target, await source.read(l, h), n) });
      opts.onProgress?.((l * heads + h + 1) / count);
    }
  }
  found.sort((x, y) => x.distance - y.distance || x.layer - y.layer || x.head - y.head);
  return found.slice(0, Math.max(0, k));
}
