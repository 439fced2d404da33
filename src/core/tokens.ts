/**
 * The tokens of a sequence, for the head metrics that compare tokens (duplicate-token, induction): from a JSON
 * array, from an array file of token ids, or from a `tokens` member beside the .npz member holding the maps.
 * Tokens are compared as strings, so ids become their decimal text.
 */
import { promises as fsp } from 'fs';
import { MatrixError } from './ndarray';
import { openMatrix, splitRef } from './matrixFile';

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
export async function tokensBeside(ref: string): Promise<{ tokens?: string[]; warning?: string }> {
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
