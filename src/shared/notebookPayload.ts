/**
 * The notebook output payload (`application/vnd.attention-inspector.v1+json`, schema in
 * media/notebook-payload.schema.json): decoded and validated here, in the shared zone, because the notebook
 * renderer runs in a browser webview with no extension host to ask. Pure TypeScript, no Node or DOM API.
 *
 * A payload is untrusted (a notebook from anywhere): every size is checked against the data really present
 * before anything is allocated, and a bad payload throws one PayloadError whose message names the field and the rule.
 */

export const NOTEBOOK_MIME = 'application/vnd.attention-inspector.v1+json';

/** Most values one array (weights, Q, K or V) may hold: 16 Mi (64 MiB as float32). Larger payloads are refused. */
export const MAX_VALUES = 1 << 24;
/** Most attention weights computed from Q and K (heads × n_q × n_k), so a notebook output never stalls the editor. */
export const MAX_COMPUTED = 1 << 22;
/** Maps with a side longer than this are drawn max-pooled (with a note); the grid and hover then read the blocks. */
export const MAX_FULL_SIDE = 1024;

export type PayloadDType = 'float32' | 'float16';

/** `{dtype, shape, data}` with `data` the little-endian bytes in base64. */
export interface EncodedArray {
  dtype: PayloadDType;
  shape: number[];
  data: string;
}

/** A decoded array: C order, widened to float32. */
export interface DecodedArray {
  shape: number[];
  dtype: PayloadDType | 'list';
  data: Float32Array;
}

/** What a payload says once decoded and checked; the renderer builds its view from this (see notebookModel.ts). */
export interface NotebookPayload {
  title: string;
  /** The weights, or (with q/k/v) the weights computed from them, as [layers, heads, n_q, n_k]. */
  layers: number;
  heads: number;
  rows: number;
  cols: number;
  weights: Float32Array;
  /** Raw and scaled scores when computed from Q and K ([layers=1, heads, n_q, n_k]). */
  scores?: Float32Array;
  scaled?: Float32Array;
  /** V per head [heads, n_k, d_v] and the head outputs [heads, n_q, d_v], when V was given. */
  values?: Float32Array;
  outputs?: Float32Array;
  valueDim: number;
  /** The shape and dtype as given (before leading size-1 axes were dropped). */
  shape: number[];
  dtype: string;
  /** Names of the four axes [layer, head, query, key] (from `axes` where given). */
  axes: [string, string, string, string];
  computed: boolean;
  queryLabels?: string[];
  keyLabels?: string[];
  valueLabels?: string[];
  warnings: string[];
}

/** The one error a bad payload gives; its message is shown in the cell as text. */
export class PayloadError extends Error {
  constructor(message: string) {
    super(`Attention Inspector cannot show this output: ${message}`);
    this.name = 'PayloadError';
  }
}

const B64 = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;

/**
 * Strict standard base64 (what Python's base64.b64encode writes): no whitespace, padding only at the end.
 * `expectedBytes` is checked against the text's length before the output is allocated.
 */
export function decodeBase64(text: string, expectedBytes: number, what: string): Uint8Array {
  if (text.length % 4 !== 0) throw new PayloadError(`${what} is not valid base64 (length ${text.length} is not a multiple of 4)`);
  let pad = 0;
  if (text.endsWith('==')) pad = 2;
  else if (text.endsWith('=')) pad = 1;
  const bytes = (text.length / 4) * 3 - pad;
  if (bytes !== expectedBytes) {
    throw new PayloadError(`${what} holds ${bytes} bytes but its dtype and shape need ${expectedBytes}`);
  }
  const out = new Uint8Array(bytes);
  const end = text.length - pad;
  let o = 0;
  let acc = 0;
  let k = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 256 ? B64[c] : -1;
    if (v < 0) throw new PayloadError(`${what} is not valid base64 (character ${JSON.stringify(text[i])} at ${i})`);
    acc = (acc << 6) | v;
    if (++k === 4) {
      out[o++] = acc >> 16;
      out[o++] = (acc >> 8) & 0xff;
      out[o++] = acc & 0xff;
      acc = 0;
      k = 0;
    }
  }
  if (k === 2) out[o++] = acc >> 4;
  else if (k === 3) {
    out[o++] = acc >> 10;
    out[o++] = (acc >> 2) & 0xff;
  }
  return out;
}

let halfTable: Float32Array | undefined;

/** float32 value of every float16 bit pattern (the core's decoder is in src/core, which this zone may not import). */
function float16Table(): Float32Array {
  if (!halfTable) {
    const t = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1;
      const exp = (h >> 10) & 0x1f;
      const frac = h & 0x3ff;
      t[h] = exp === 0 ? sign * frac * 2 ** -24 : exp === 0x1f ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
    }
    halfTable = t;
  }
  return halfTable;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Product of a validated shape, refusing more than MAX_VALUES before anything is allocated. */
function checkShape(shape: unknown, what: string): number[] {
  if (!Array.isArray(shape)) throw new PayloadError(`${what}.shape must be a list of sizes`);
  if (shape.length < 1 || shape.length > 8) throw new PayloadError(`${what}.shape has ${shape.length} axes; 1 to 8 are allowed`);
  let count = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1) {
      throw new PayloadError(`${what}.shape has ${JSON.stringify(d) ?? String(d)}; every size must be a whole number ≥ 1`);
    }
    count *= d;
    if (count > MAX_VALUES) throw new PayloadError(`${what} has shape [${shape.join(', ')}]: more than ${MAX_VALUES} values (the size limit)`);
  }
  return shape as number[];
}

function decodeEncoded(x: Record<string, unknown>, what: string): DecodedArray {
  const dtype = x.dtype;
  if (dtype !== 'float32' && dtype !== 'float16') {
    throw new PayloadError(`${what}.dtype is ${JSON.stringify(dtype) ?? String(dtype)}; "float32" and "float16" are supported`);
  }
  const shape = checkShape(x.shape, what);
  if (typeof x.data !== 'string') throw new PayloadError(`${what}.data must be a base64 string`);
  const count = shape.reduce((a, b) => a * b, 1);
  const size = dtype === 'float32' ? 4 : 2;
  const bytes = decodeBase64(x.data, count * size, `${what}.data`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Float32Array(count);
  if (dtype === 'float32') {
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
  } else {
    const t = float16Table();
    for (let i = 0; i < count; i++) data[i] = t[view.getUint16(i * 2, true)];
  }
  return { shape, dtype, data };
}

/** Nested lists of numbers (rectangular, up to 8 axes); `null` reads as NaN, as JSON has no NaN. */
function decodeNested(x: unknown[], what: string): DecodedArray {
  const shape: number[] = [];
  let probe: unknown = x;
  while (Array.isArray(probe)) {
    if (probe.length === 0) throw new PayloadError(`${what} has an empty list; every size must be ≥ 1`);
    shape.push(probe.length);
    if (shape.length > 8) throw new PayloadError(`${what} is nested more than 8 deep`);
    probe = probe[0];
  }
  checkShape(shape, what);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  let o = 0;
  const walk = (node: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof node === 'number') data[o++] = node;
      else if (node === null) data[o++] = NaN;
      else throw new PayloadError(`${what}${path} is ${typeof node === 'string' ? 'a string' : JSON.stringify(node) ?? typeof node}; numbers are expected`);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw new PayloadError(`${what}${path} is not a list of ${shape[depth]} (the lists are not rectangular, shape [${shape.join(', ')}])`);
    }
    for (let i = 0; i < node.length; i++) walk(node[i], depth + 1, `${path}[${i}]`);
  };
  walk(x, 0, '');
  return { shape, dtype: 'list', data };
}

/** An array field: `{dtype, shape, data}` or nested lists. */
export function decodeArray(x: unknown, what: string): DecodedArray {
  if (Array.isArray(x)) return decodeNested(x, what);
  if (isRecord(x)) return decodeEncoded(x, what);
  throw new PayloadError(`${what} must be {"dtype", "shape", "data"} or nested lists of numbers`);
}

function stringList(x: unknown, what: string): string[] | undefined {
  if (x === undefined || x === null) return undefined;
  if (!Array.isArray(x)) throw new PayloadError(`${what} must be a list of strings`);
  if (x.length > MAX_VALUES) throw new PayloadError(`${what} has more than ${MAX_VALUES} entries`);
  for (let i = 0; i < x.length; i++) {
    if (typeof x[i] !== 'string') throw new PayloadError(`${what}[${i}] is ${JSON.stringify(x[i]) ?? typeof x[i]}; tokens and labels must be strings`);
  }
  return x as string[];
}

/** Labels only when they match the axis; otherwise a warning and no labels. */
function fit(labels: string[] | undefined, n: number, what: string, warnings: string[]): string[] | undefined {
  if (!labels) return undefined;
  if (labels.length !== n) {
    warnings.push(`${what} has ${labels.length} entries but the axis has ${n}; labels not shown`);
    return undefined;
  }
  return labels;
}

/** Drop leading size-1 axes (a batch of one) down to at most `keep` axes; more than that is refused. */
function squeezeLeading(shape: number[], keep: number, what: string): number[] {
  const s = [...shape];
  while (s.length > keep && s[0] === 1) s.shift();
  if (s.length > keep) {
    throw new PayloadError(`${what} has shape [${shape.join(', ')}]; at most ${keep} axes are shown (pick one batch item first)`);
  }
  return s;
}

/** The decoded arrays of a payload, before its labels are fitted. */
type PayloadArrays = Omit<NotebookPayload, 'title' | 'axes' | 'queryLabels' | 'keyLabels' | 'valueLabels' | 'warnings'>;

const KNOWN = new Set(['version', 'title', 'weights', 'attentions', 'q', 'k', 'v', 'causal', 'tokens', 'query_tokens',
  'key_tokens', 'value_labels', 'axes']);

/** Decode and check a payload (the object `item.json()` gives). Throws PayloadError for anything malformed. */
export function decodePayload(json: unknown): NotebookPayload {
  if (!isRecord(json)) throw new PayloadError('the payload must be a JSON object');
  if (json.version !== undefined && json.version !== 1) {
    throw new PayloadError(`version ${JSON.stringify(json.version)} is not supported (this renderer reads version 1)`);
  }
  const warnings: string[] = [];
  const unknown = Object.keys(json).filter((k) => !KNOWN.has(k));
  if (unknown.length) warnings.push(`ignored unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
  if (json.title !== undefined && typeof json.title !== 'string') throw new PayloadError('title must be a string');
  const title = typeof json.title === 'string' ? json.title : 'attention';
  const tokens = stringList(json.tokens, 'tokens');
  const queryTokens = stringList(json.query_tokens, 'query_tokens') ?? tokens;
  const keyTokens = stringList(json.key_tokens, 'key_tokens') ?? tokens;
  const valueLabels = stringList(json.value_labels, 'value_labels');
  const axesIn = stringList(json.axes, 'axes');
  const weightsField = json.weights ?? json.attentions;
  const hasQkv = json.q !== undefined || json.k !== undefined;

  let p: PayloadArrays;
  let defaultAxes: string[];
  if (weightsField !== undefined) {
    if (hasQkv) warnings.push('both weights and q/k were given; the weights are shown');
    const a = decodeArray(weightsField, json.weights !== undefined ? 'weights' : 'attentions');
    const s = squeezeLeading(a.shape, 4, 'weights');
    const full = [1, 1, 1, 1].slice(s.length).concat(s);
    const [layers, heads, rows, cols] = full;
    defaultAxes = ['layer', 'head', 'query', 'key'];
    p = { layers, heads, rows, cols, weights: a.data, valueDim: 0, shape: a.shape, dtype: a.dtype, computed: false };
    if (axesIn && axesIn.length !== a.shape.length) {
      warnings.push(`axes names ${axesIn.length} axes but the weights have ${a.shape.length}; names not used`);
    } else if (axesIn) {
      defaultAxes = defaultAxes.slice(0, 4 - s.length).concat(axesIn.slice(axesIn.length - s.length));
    }
    if (json.v !== undefined && !hasQkv) warnings.push('v is only used with q and k; ignored');
  } else if (hasQkv) {
    p = computeFromQkv(json, warnings);
    defaultAxes = ['layer', 'head', 'query', 'key'];
    if (axesIn) warnings.push('axes is only read with weights; ignored');
  } else {
    throw new PayloadError('nothing to show: give "weights" (or "attentions"), or "q" and "k"');
  }
  const axes = defaultAxes as [string, string, string, string];
  return {
    ...p, title, axes,
    queryLabels: fit(queryTokens, p.rows, json.query_tokens !== undefined ? 'query_tokens' : 'tokens', warnings),
    keyLabels: fit(keyTokens, p.cols, json.key_tokens !== undefined ? 'key_tokens' : 'tokens', warnings),
    valueLabels: p.values ? fit(valueLabels, p.valueDim, 'value_labels', warnings) : undefined,
    warnings,
  };
}

/** [n, d] or [heads, n, d] (leading size-1 axes dropped) as [heads, n, d]. */
function perHead(a: DecodedArray, what: string): [number, number, number] {
  const s = squeezeLeading(a.shape, 3, what);
  if (s.length === 1) throw new PayloadError(`${what} has shape [${a.shape.join(', ')}]; [n, d] or [heads, n, d] is expected`);
  return s.length === 2 ? [1, s[0], s[1]] : [s[0], s[1], s[2]];
}

/**
 * softmax(Q Kᵀ / √d_k) (· V) per head, in float64 like the core's reference engine. Small only (MAX_COMPUTED):
 * bigger attention belongs in the panel, which computes in the extension host.
 */
function computeFromQkv(json: Record<string, unknown>, warnings: string[]): PayloadArrays {
  if (json.q === undefined || json.k === undefined) throw new PayloadError('q and k must both be given to compute attention');
  const q = decodeArray(json.q, 'q');
  const k = decodeArray(json.k, 'k');
  const v = json.v !== undefined ? decodeArray(json.v, 'v') : undefined;
  if (json.causal !== undefined && typeof json.causal !== 'boolean') throw new PayloadError('causal must be true or false');
  const [hq, nq, d] = perHead(q, 'q');
  const [hk, nk, dk] = perHead(k, 'k');
  if (d !== dk) throw new PayloadError(`q has width ${d} but k has width ${dk}`);
  if (hq !== hk) throw new PayloadError(`q has ${hq} heads but k has ${hk}`);
  let dv = 0;
  if (v) {
    const [hv, nv, w] = perHead(v, 'v');
    if (hv !== hq) throw new PayloadError(`q has ${hq} heads but v has ${hv}`);
    if (nv !== nk) throw new PayloadError(`k has ${nk} rows but v has ${nv}`);
    dv = w;
  }
  if (hq * nq * nk > MAX_COMPUTED) {
    throw new PayloadError(`computing ${hq}×${nq}×${nk} weights from q and k is more than ${MAX_COMPUTED} (the size limit); send the weights instead`);
  }
  const causal = json.causal === true;
  if (causal && nq !== nk) warnings.push(`causal mask on ${nq}×${nk}: query i sees keys ≤ i + ${nk - nq}`);
  return computeOnly(q.data, k.data, v?.data, hq, nq, nk, d, dv, causal, q.shape, q.dtype);
}

function computeOnly(
  q: Float32Array, k: Float32Array, v: Float32Array | undefined, heads: number, nq: number, nk: number, d: number,
  dv: number, causal: boolean, shape: number[], dtype: string,
): PayloadArrays {
  const cells = nq * nk;
  const scores = new Float32Array(heads * cells);
  const scaled = new Float32Array(heads * cells);
  const weights = new Float32Array(heads * cells);
  const outputs = v ? new Float32Array(heads * nq * dv) : undefined;
  const scale = 1 / Math.sqrt(d);
  const row = new Float64Array(nk);
  const offset = nk - nq; // causal: the last query sees every key
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < nq; i++) {
      let max = -Infinity;
      for (let j = 0; j < nk; j++) {
        let s = 0;
        const qi = (h * nq + i) * d;
        const kj = (h * nk + j) * d;
        for (let t = 0; t < d; t++) s += q[qi + t] * k[kj + t];
        const at = h * cells + i * nk + j;
        scores[at] = s;
        const masked = causal && j > i + offset;
        row[j] = masked ? -Infinity : s * scale;
        scaled[at] = row[j];
        if (row[j] > max) max = row[j];
      }
      let sum = 0;
      for (let j = 0; j < nk; j++) {
        row[j] = max === -Infinity ? 0 : Math.exp(row[j] - max);
        sum += row[j];
      }
      for (let j = 0; j < nk; j++) weights[h * cells + i * nk + j] = sum > 0 ? row[j] / sum : 0;
      if (v && outputs) {
        for (let c = 0; c < dv; c++) {
          let o = 0;
          for (let j = 0; j < nk; j++) o += (sum > 0 ? row[j] / sum : 0) * v[(h * nk + j) * dv + c];
          outputs[(h * nq + i) * dv + c] = o;
        }
      }
    }
  }
  return {
    layers: 1, heads, rows: nq, cols: nk, weights, scores, scaled, values: v, outputs, valueDim: dv,
    shape, dtype, computed: true,
  };
}
