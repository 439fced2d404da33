/** Axis label helpers: which labels to draw so they never overlap, shortening, and colour swatches. */

/**
 * Indices of the labels to draw among cells first…last (inclusive) when each cell is `cellPx` pixels wide
 * and a label needs `labelPx` pixels: every k-th cell with k a 1-2-5 step, aligned to multiples of k so the
 * same labels stay put while panning.
 */
export function thinLabels(first: number, last: number, cellPx: number, labelPx: number): number[] {
  if (last < first || !(cellPx > 0)) return [];
  const stride = labelStride(cellPx, labelPx);
  const out: number[] = [];
  for (let i = Math.ceil(first / stride) * stride; i <= last; i += stride) out.push(i);
  return out;
}

/** Smallest 1-2-5 stride k with k·cellPx ≥ labelPx. */
export function labelStride(cellPx: number, labelPx: number): number {
  const need = labelPx / cellPx;
  if (need <= 1) return 1;
  let p = 1;
  for (;;) {
    for (const m of [1, 2, 5]) if (m * p >= need) return m * p;
    p *= 10;
  }
}

/** Shorten a label to at most `max` characters with an ellipsis (labels are untrusted text; this only cuts). */
export function shorten(label: string, max: number): string {
  const chars = Array.from(label);
  return chars.length <= max ? label : chars.slice(0, Math.max(1, max - 1)).join('') + '…';
}

/** The label, or the index when there is none. */
export function labelOf(labels: readonly string[] | undefined, i: number): string {
  return labels && i < labels.length ? labels[i] : String(i);
}

/** `#rrggbb` (or `#rgb`) labels get a colour swatch. Returns the normalised `#rrggbb`, else undefined. */
export function swatchColor(label: string): string | undefined {
  const m = /^#([0-9a-f]{6}|[0-9a-f]{3})$/i.exec(label.trim());
  if (!m) return undefined;
  const h = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
  return `#${h.toLowerCase()}`;
}
