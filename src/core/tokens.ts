/**
 * Token labels found where people put them next to an attention dump:
 *   - an .npz with 1-D string members `tokens`, or `query_tokens` and `key_tokens`
 *     (np.savez("run.npz", attentions=a, tokens=np.array(tokens)));
 *   - a .safetensors file whose __metadata__ holds `tokens` (or `query_tokens`/`key_tokens`) as a JSON array of
 *     strings (safetensors holds numbers only, so strings go in the metadata).
 * A member called `tokens` that is not 1-D strings is an error (it is surely meant as labels); labels whose count
 * does not match the axis are dropped with a warning, so the map still opens with numbered axes.
 */
import * as path from 'path';
import { isStringDType, MatrixError } from './ndarray';
import { listMembers, openMatrix, readSafetensorsFile } from './matrixFile';

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
