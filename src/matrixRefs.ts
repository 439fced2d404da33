/**
 * Which files are ours and how a "path#member" reference splits. Pure (no vscode import).
 */
import * as path from 'path';

export type MatrixKind = 'json' | 'npy' | 'npz';

/** The matrix formats by extension; anything else is not ours. */
export function matrixKindOf(file: string): MatrixKind | undefined {
  const ext = path.extname(file).toLowerCase();
  return ext === '.json' ? 'json' : ext === '.npy' ? 'npy' : ext === '.npz' ? 'npz' : undefined;
}

/** "path#member" → parts. Only the last '#' splits, so a path containing '#' still works with a member. */
export function splitRef(ref: string): { file: string; member?: string } {
  const i = ref.lastIndexOf('#');
  if (i <= 0) return { file: ref };
  const file = ref.slice(0, i);
  return matrixKindOf(file) ? { file, member: ref.slice(i + 1) } : { file: ref };
}
