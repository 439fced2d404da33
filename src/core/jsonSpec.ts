/**
 * Loading an attention spec: the JSON text's matrices (jsonMatrix.ts) and the .npy/.npz files it refers to,
 * relative to the JSON file, then the same shape checks the editor shows, located. Apart from jsonMatrix.ts
 * because it reads files (matrixFile.ts), which in turn reads JSON matrices with jsonMatrix.ts.
 */
import * as path from 'path';
import { checkOption, checkSpecShapes, isIgnoredKey, KEY_ALIASES, MATRIX_KEYS, matrixFromNode } from './jsonMatrix';
import type { AttentionSpec, MatrixKey, ShapeFact, SpecKey } from './jsonMatrix';
import { errorAt, parseJson } from './jsonParse';
import type { JsonNode } from './jsonParse';
import { readMatrix, splitRef } from './matrixFile';
import { readLabels } from './tokens';
import { labelTokens } from '../shared/tokens';
import { MatrixError } from './ndarray';
import { dumpAxes, parseAxisNames } from './view/dumpAxes';
import type { NdArray } from './ndarray';

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
  let axesAt: { start: number; end: number } | undefined;
  for (const { key, keyStart, keyEnd, value } of root.entries) {
    const canon = KEY_ALIASES[key];
    if (!canon) {
      if (isIgnoredKey(key)) continue;
      throw errorAt(text, file, keyStart, keyEnd, `unknown key "${key}" (expected Q, K, V, X, Wq, Wk, Wv, Wo, heads, mask, scale, similarity, queryLabels, keyLabels, valueLabels, description, axes, attention or weights)`);
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
      case 'axes':
        axesAt = value;
        spec.axes = parseAxisNames(value.type === 'string' ? value.value : (value as { items: JsonNode[] }).items.map((n) => (n as { value: string }).value));
        break;
      case 'queryLabels':
      case 'keyLabels':
      case 'valueLabels': {
        let items: string[];
        if (value.type === 'string') {
          // Labels from a file the run saved: read, and shown as tokens are (␣ for a leading space, ⏎ …).
          const target = path.resolve(baseDir, value.value);
          onRef?.(splitRef(target).file);
          try {
            items = labelTokens(await readLabels(target));
          } catch (e) {
            if (!(e instanceof MatrixError)) throw e;
            throw errorAt(text, file, value.start, value.end, `${key}: ${e.message}`);
          }
        } else {
          items = (value as { items: JsonNode[] }).items.map((n) => (n as { value: string }).value);
        }
        spec[canon] = items;
        labels[canon] = { count: items.length, start: value.start, end: value.end };
        break;
      }
    }
  }
  if (!spec.q && !spec.x && !spec.weights) {
    throw errorAt(text, file, root.start, root.start + 1, 'an attention spec needs Q (or X with Wq, Wk, Wv, or precomputed attention weights)');
  }
  if (axesAt && spec.axes) {
    // Names that do not fit the weights are a mistake at the "axes" value, not at load time.
    if (!spec.weights || spec.weights.shape.length < 3) {
      throw errorAt(text, file, axesAt.start, axesAt.end, 'axes names the axes of a dump (weights of rank 3 or more)');
    }
    try {
      dumpAxes(spec.weights.shape, spec.axes, 'file');
    } catch (e) {
      if (!(e instanceof MatrixError)) throw e;
      throw errorAt(text, file, axesAt.start, axesAt.end, e.problem);
    }
  }
  const problems = checkSpecShapes(facts, labels, spec.heads, seen);
  if (problems.length) throw errorAt(text, file, problems[0].start, problems[0].end, problems[0].problem);
  return spec;
}
