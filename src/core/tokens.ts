/**
 * Tokens: the labels found where people put them next to an attention dump, and the token sequence the head
 * metrics compare (duplicate-token, induction), from a file the user names or from beside the dump.
 *
 * Token labels found where people put them next to an attention dump:
 *   - an .npz with 1-D string members `tokens`, or `query_tokens` and `key_tokens`
 *     (np.savez("run.npz", attentions=a, tokens=np.array(tokens)));
 *   - a .safetensors file whose __metadata__ holds `tokens` (or `query_tokens`/`key_tokens`) as a JSON array of
 *     strings (safetensors holds numbers only, so strings go in the metadata).
 * A member called `tokens` that is not 1-D strings is an error (it is surely meant as labels); labels whose count
 * does not match the axis are dropped with a warning, so the map still opens with numbered axes.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { isStringDType, MatrixError } from './ndarray';
import { listMembers, openMatrix, readSafetensorsFile, splitRef } from './matrixFile';
import { parseAxisNames } from './view/dumpAxes';

export interface TokenLabels {
  queryLabels?: string[];
  keyLabels?: string[];
  /** Where the labels came from, e.g. "run.npz#tokens", for a subtitle or a tooltip. */
  source?: string;
  warnings: string[];
}

export const TOKEN_NAMES = ['tokens', 'query_tokens', 'key_tokens'] as const;
type TokenName = typeof TOKEN_NAMES[number];

/** A 1-D string array at `ref` (a .npy, or FILE.npz#member) as a list of strings. */
export async function readLabels(ref: string): Promise<string[]> {
  const h = await openMatrix(ref);
  try {
    const a = await h.readAny();
    if (!('strings' in a) || a.shape.length !== 1) {
      throw new MatrixError(`is not 1-D strings (it is ${a.dtype} [${a.shape.join(', ')}]); labels are saved as np.array(list_of_str)`, ref);
    }
    return a.strings;
  } finally {
    await h.close();
  }
}

async function npzTokens(file: string): Promise<Partial<Record<TokenName, string[]>>> {
  const out: Partial<Record<TokenName, string[]>> = {};
  for (const m of await listMembers(file)) {
    if (!(TOKEN_NAMES as readonly string[]).includes(m.name)) continue;
    if (!isStringDType(m.info.dtype) || m.info.shape.length !== 1) {
      throw new MatrixError(
        `member "${m.name}" is not 1-D strings (it is ${m.info.dtype} [${m.info.shape.join(', ')}]); save tokens as ${m.name}=np.array(list_of_str)`,
        file,
      );
    }
    out[m.name as TokenName] = await readLabels(`${file}#${m.name}`);
  }
  return out;
}

async function safetensorsTokens(file: string): Promise<Partial<Record<TokenName, string[]>>> {
  const h = await readSafetensorsFile(file);
  const out: Partial<Record<TokenName, string[]>> = {};
  for (const name of TOKEN_NAMES) {
    const text = h.metadata?.[name];
    if (text === undefined) {
      const t = h.tensors.find((x) => x.name === name);
      if (t) {
        throw new MatrixError(
          `tensor "${name}" is ${t.dtype} [${t.shape.join(', ')}], not strings: safetensors holds numbers only, so save tokens in the metadata, e.g. save_file(tensors, path, metadata={"${name}": json.dumps(${name})})`,
          file,
        );
      }
      continue;
    }
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      v = undefined;
    }
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      throw new MatrixError(`__metadata__ "${name}" is not a JSON array of strings (save it as json.dumps(list_of_str))`, file);
    }
    out[name] = v as string[];
  }
  return out;
}

/**
 * The query and key labels stored with a dump, if any. `axes` (the map's query and key counts) checks them:
 * a count that does not match gives a warning and no labels for that axis.
 */
export async function tokenLabels(file: string, axes?: { queries: number; keys: number }): Promise<TokenLabels> {
  const ext = path.extname(file).toLowerCase();
  const found = ext === '.npz' ? await npzTokens(file) : ext === '.safetensors' ? await safetensorsTokens(file) : {};
  const where = (name: TokenName): string => (ext === '.npz' ? `${path.basename(file)}#${name}` : `${path.basename(file)} __metadata__ "${name}"`);
  const qName: TokenName | undefined = found.query_tokens ? 'query_tokens' : found.tokens ? 'tokens' : undefined;
  const kName: TokenName | undefined = found.key_tokens ? 'key_tokens' : found.tokens ? 'tokens' : undefined;
  const out: TokenLabels = { warnings: [] };
  const check = (name: TokenName | undefined, n: number | undefined, axis: string): string[] | undefined => {
    if (!name) return undefined;
    const labels = found[name] as string[];
    if (n !== undefined && labels.length !== n) {
      out.warnings.push(`${where(name)} has ${labels.length} tokens but the map has ${n} ${axis}; the ${axis} are numbered instead`);
      return undefined;
    }
    return labels;
  };
  out.queryLabels = check(qName, axes?.queries, 'queries');
  out.keyLabels = check(kName, axes?.keys, 'keys');
  const used = [...new Set([out.queryLabels && qName, out.keyLabels && kName].filter((x): x is TokenName => !!x))];
  if (used.length) out.source = used.map(where).join(', ');
  return out;
}

/** A tokens JSON file larger than this is not a list of tokens. */
const MAX_TOKENS_JSON_BYTES = 64 << 20;

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

/** Tokens from an array file: strings, or token ids (integers), shaped [n] or [1, n]. */
async function readTokensArray(ref: string): Promise<string[]> {
  const h = await openMatrix(ref);
  try {
    const shape = h.info.shape;
    if (!(shape.length === 1 || (shape.length === 2 && shape[0] === 1))) {
      throw new MatrixError(`tokens must be one sequence, shaped [n] or [1, n]; this is [${shape.join(', ')}]`, ref);
    }
    if (h.info.dtype === 'bool') throw new MatrixError('tokens cannot be a boolean array', ref);
    const a = await h.readAny();
    if ('strings' in a) return a.strings;
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

/**
 * The tokens saved beside the maps being read (an .npz `tokens` member, string or integer ids, or a safetensors
 * `__metadata__` entry), if the file has them; a warning if they are unreadable.
 */
export async function tokensBeside(ref: string): Promise<{ tokens?: string[]; warning?: string }> {
  const { file, member } = splitRef(ref);
  const ext = path.extname(file).toLowerCase();
  if (member && (TOKEN_NAMES as readonly string[]).includes(member)) return {};
  try {
    if (ext === '.safetensors') {
      const t = await tokenLabels(file);
      return t.queryLabels ? { tokens: t.queryLabels } : {};
    }
    if (ext !== '.npz' || !member) return {};
    return { tokens: await readTokensArray(`${file}#tokens`) };
  } catch (e) {
    if (e instanceof MatrixError && /no member "tokens"/.test(e.message)) return {};
    if (e instanceof MatrixError) return { warning: `${e.message}; the token metrics are left out (pass --tokens)` };
    throw e;
  }
}

/** Axis names stated as "layer,batch,head,query,key" or as a JSON array of strings; undefined when neither. */
function statedNames(text: string): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[')) return t ? parseAxisNames(t) : undefined;
  try {
    const v: unknown = JSON.parse(t);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? parseAxisNames(v) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The axis names a dump's file states, e.g. "layer,batch,head,query,key": an `axes` string member of an .npz
 * (one string, or one string per axis) or an `axes` entry of a safetensors `__metadata__` (the text, or a JSON
 * array). Undefined when the file says nothing; an `axes` that is not strings is an error naming the file.
 */
export async function storedAxisNames(file: string): Promise<string[] | undefined> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.safetensors') {
    const text = (await readSafetensorsFile(file)).metadata?.axes;
    if (text === undefined) return undefined;
    const names = statedNames(text);
    if (!names) throw new MatrixError(`__metadata__ "axes" is not axis names such as "layer,batch,head,query,key"`, file);
    return names;
  }
  if (ext !== '.npz') return undefined;
  const m = (await listMembers(file)).find((x) => x.name === 'axes');
  if (!m) return undefined;
  if (!isStringDType(m.info.dtype) || m.info.shape.length > 1) {
    throw new MatrixError(`member "axes" is ${m.info.dtype} [${m.info.shape.join(', ')}]; save it as axes=np.array("layer,batch,head,query,key")`, file);
  }
  const h = await openMatrix(`${file}#axes`);
  try {
    const a = await h.readAny();
    const strings = 'strings' in a ? a.strings : [];
    const names = strings.length === 1 ? statedNames(strings[0]) : parseAxisNames(strings);
    if (!names || names.length === 0) throw new MatrixError('member "axes" holds no axis names', file);
    return names;
  } finally {
    await h.close();
  }
}
