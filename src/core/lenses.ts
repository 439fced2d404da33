/**
 * Where CodeLenses go in a JSON matrix file, decided from scanJson's bounded scan (never a full parse), so the
 * lens provider stays cheap on big files. Pure: offsets only; the host turns them into editor positions.
 */
import { KEY_ALIASES, specShapeProblems } from './jsonMatrix';
import type { ShapeFact, SpecKey } from './jsonMatrix';

/** The part of scanJson's JsonScan that lens placement reads (structural, so any JsonScan fits). */
export interface LensScanEntry {
  readonly key: string;
  readonly keyOffset: number;
  readonly valueOffset: number;
  readonly shape: readonly number[] | null;
  readonly isRef?: string;
}
export interface LensScan {
  readonly kind: 'matrix' | 'spec' | 'none';
  readonly entries: readonly LensScanEntry[];
}

export type LensAction =
  | { readonly kind: 'info' }                               // shape only, not clickable
  | { readonly kind: 'show'; readonly member?: string }     // open the heatmap of one matrix (or the whole file)
  | { readonly kind: 'compute' };                          // compute attention for the whole Q/K/V object

export interface LensPlacement {
  /** 0-based offset into the text; the lens shows above the line holding it. */
  readonly offset: number;
  readonly title: string;
  readonly action: LensAction;
}

/** Keys that hold labels or options, not matrices: no lenses even if a scanner reports a shape for them. */
const NOT_MATRICES = new Set([
  'description', 'querylabels', 'keylabels', 'valuelabels', 'labels', 'scale', 'similarity', 'heads',
]);

/** Keys whose presence makes an object something attention can be computed from. */
const COMPUTABLE = new Set(['q', 'x']);

/** A file with thousands of keys gets lenses for the first ones only; the rest of the file still works. */
export const MAX_LENS_ENTRIES = 200;

/** "8×3"; a vector shows its length alone, a scalar "scalar". */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 0 ? 'scalar' : shape.join('×');
}

export function placeLenses(text: string, scan: LensScan): LensPlacement[] {
  if (scan.kind === 'none') return [];
  const out: LensPlacement[] = [];
  const matrices = scan.entries
    .filter((e) => !NOT_MATRICES.has(e.key.toLowerCase())
      && (e.shape !== null || e.isRef !== undefined || startsArray(text, e.valueOffset)))
    .slice(0, MAX_LENS_ENTRIES);

  if (scan.kind === 'spec' && matrices.some((e) => COMPUTABLE.has(e.key.toLowerCase()))) {
    // Above the object itself: the first '{' of the document (a spec is a top-level object).
    const brace = firstBrace(text);
    out.push({ offset: brace, title: 'Compute attention', action: { kind: 'compute' } });
  }

  if (scan.kind === 'matrix' && matrices.length === 1 && matrices[0].key === '') {
    // A plain nested array file: one matrix, the whole document.
    const e = matrices[0];
    out.push({ offset: e.valueOffset, title: `matrix · ${describe(e)}`, action: { kind: 'info' } });
    out.push({ offset: e.valueOffset, title: 'Show heatmap', action: { kind: 'show' } });
    return out;
  }

  for (const e of matrices) {
    const name = e.key === '' ? 'matrix' : e.key;
    out.push({ offset: e.keyOffset, title: `${name} · ${describe(e)}`, action: { kind: 'info' } });
    out.push({ offset: e.keyOffset, title: 'Show heatmap', action: { kind: 'show', member: e.key || undefined } });
  }
  return out;
}

function describe(e: LensScanEntry): string {
  if (e.shape) return formatShape(e.shape);
  if (e.isRef !== undefined) return `→ ${e.isRef}`;
  // An array past scanJson's budget: its shape is not worked out on every keystroke.
  return 'large (shape when opened)';
}

/** Whether the value at `offset` is an array (a matrix whose shape the scan skipped for size). */
function startsArray(text: string, offset: number): boolean {
  for (let i = offset; i < text.length && i < offset + 256; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b) return true;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0x3a) return false;
  }
  return false;
}

/** Offset of the first '{' (skipping a BOM and whitespace); 0 when the text does not start with an object. */
function firstBrace(text: string): number {
  for (let i = 0; i < text.length && i < 4096; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b) return i;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0xfeff) return i;
  }
  return 0;
}

/** A problem found by comparing matrix shapes in one file, placed on the key that disagrees. */
export interface ShapeProblem {
  readonly offset: number;
  readonly length: number;
  readonly message: string;
}

/**
 * The engine's shape rules applied to scanJson's shapes (jsonMatrix.specShapeProblems), so the editor squiggles
 * the key while the user types exactly what would fail when the heatmap opens, and nothing the engine computes.
 * References to other files (shape unknown) are not checked; neither is anything that needs `heads`.
 */
export function shapeProblems(scan: LensScan): ShapeProblem[] {
  if (scan.kind !== 'spec') return [];
  const facts: Partial<Record<SpecKey, ShapeFact>> = {};
  const present = new Set<string>();
  for (const e of scan.entries) {
    const canon = KEY_ALIASES[e.key];
    if (!canon) continue;
    present.add(canon);
    if (e.shape) facts[canon] = { name: e.key, shape: [...e.shape], start: e.keyOffset, end: e.keyOffset + e.key.length + 2 };
  }
  return specShapeProblems(facts, present, undefined).problems.map((p) => ({ offset: p.start, length: p.end - p.start, message: p.problem }));
}
