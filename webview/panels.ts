// The tooltip, the pinned-row detail and the layer × head grid. All text goes in through textContent.
import { colorize, type ColorScale } from '../src/shared/colormap';
import { describeOutput, formatNumber, formatWeight } from '../src/shared/format';
import type { CellDetails, RowDetails } from '../src/shared/inspect';
import { labelOf, swatchColor } from '../src/shared/labels';
import { usesValueLabels, type HeatmapGrid, type ViewKind } from '../src/shared/types';
import { el, KIND_NAMES } from './dom';

function labelled(prefix: string, index: number, label: string): HTMLElement {
  const span = el('span', { class: 'axis-label' }, `${prefix} ${index}`);
  if (label !== String(index)) {
    const color = swatchColor(label);
    if (color) {
      const sw = el('span', { class: 'swatch' });
      sw.style.backgroundColor = color;
      span.append(' ', sw);
    }
    span.append(` ${label}`);
  }
  return span;
}

function vectorText(v: readonly number[], labels: readonly string[] | undefined): string {
  return v.map((x, i) => `${labels ? labelOf(labels, i) : `dim ${i}`} ${formatNumber(x)}`).join(', ');
}

/** Show the tooltip beside the pointer, flipped to its other side where it would leave the window. */
export function positionTooltip(tt: HTMLElement, clientX: number, clientY: number): void {
  tt.hidden = false;
  const r = tt.getBoundingClientRect();
  const x = clientX + 14 + r.width > window.innerWidth ? clientX - 14 - r.width : clientX + 14;
  const y = clientY + 14 + r.height > window.innerHeight ? clientY - 14 - r.height : clientY + 14;
  tt.style.left = `${Math.max(0, x)}px`;
  tt.style.top = `${Math.max(0, y)}px`;
}

/** The tooltip's lines for one cell. `exact` is false while only the pooled overview value is known. */
export function tooltipContent(d: CellDetails, valueLabels: readonly string[] | undefined, pooledNote?: string): HTMLElement[] {
  const lines: HTMLElement[] = [];
  const isOutput = usesValueLabels(d.kind);
  lines.push(el('div', {}, labelled('query', d.row, d.rowLabel), ' · ', labelled(isOutput ? 'dim' : 'key', d.col, d.colLabel)));
  if (pooledNote) {
    lines.push(el('div', { class: 'muted' }, `${pooledNote}: ${formatNumber(d.value)}`));
    return lines;
  }
  const scoreParts: string[] = [];
  if (d.score !== undefined) scoreParts.push(`score ${formatNumber(d.score)}`);
  if (d.scaled !== undefined) scoreParts.push(`scaled ${formatNumber(d.scaled)}`);
  if (scoreParts.length) lines.push(el('div', {}, scoreParts.join(' · ')));
  if (d.weight !== undefined) {
    lines.push(el('div', { class: 'weight' }, `weight ${formatWeight(d.weight)}` + (d.rank !== undefined ? ` · rank ${d.rank} of ${d.of}` : '')));
  } else if (d.rank !== undefined && !isOutput) {
    lines.push(el('div', {}, `${KIND_NAMES[d.kind] ?? d.kind} ${formatNumber(d.value)} · rank ${d.rank} of ${d.of}`));
  }
  if (isOutput) lines.push(el('div', {}, `output ${formatNumber(d.value)}`));
  if (d.kind === 'difference') {
    lines.push(el('div', {}, `A − B ${formatNumber(d.value)}` + (d.a !== undefined && d.b !== undefined ? ` · A ${formatWeight(d.a)} · B ${formatWeight(d.b)}` : '')));
  }
  if (d.kind === 'contributions' || d.contribution) {
    if (d.contribution) lines.push(el('div', {}, `contribution w·v = ${vectorText(d.contribution, valueLabels)}`));
    else lines.push(el('div', {}, `contribution ${formatNumber(d.value)}`));
  }
  return lines;
}

/** Largest number of DOM bars in the pinned row; longer rows show their top keys. */
const MAX_BARS = 48;

export function detailContent(
  r: RowDetails, keyLabels: readonly string[] | undefined, valueLabels: readonly string[] | undefined, onUnpin: () => void,
): HTMLElement[] {
  const out: HTMLElement[] = [];
  const unpin = el('button', { type: 'button', class: 'unpin', title: 'Unpin (Escape)' }, 'Unpin');
  unpin.addEventListener('click', onUnpin);
  out.push(el('div', { class: 'detail-head' }, el('h2', {}, labelled('query', r.row, r.rowLabel)), unpin));
  const w = r.weights;
  let order = Array.from(w.keys());
  // Rows that sum to one read as percentages (a head mean and a rollout do too; a head max does not).
  const isWeights = r.kind === 'weights' || r.kind === 'headMean' || r.kind === 'rollout';
  if (order.length > MAX_BARS) {
    order = order.sort((a, b) => (w[b] - w[a]) || a - b).slice(0, MAX_BARS);
    out.push(el('div', { class: 'muted' }, `top ${MAX_BARS} of ${w.length} keys`));
  }
  let peak = 0;
  for (const j of order) if (Number.isFinite(w[j])) peak = Math.max(peak, Math.abs(w[j]));
  const list = el('ol', { class: 'bars', 'aria-label': r.kind === 'weights' ? 'Weights of this row' : `${KIND_NAMES[r.kind] ?? r.kind} of this row` });
  for (const j of order) {
    const v = w[j];
    const bar = el('span', { class: 'bar' });
    bar.style.width = `${peak > 0 && Number.isFinite(v) ? (Math.abs(v) / peak) * 100 : 0}%`;
    if (v < 0) bar.classList.add('negative');
    const key = labelOf(keyLabels, j);
    const name = el('span', { class: 'bar-label', title: key });
    const color = swatchColor(key);
    if (color) {
      const sw = el('span', { class: 'swatch' });
      sw.style.backgroundColor = color;
      name.append(sw, ' ');
    }
    name.append(key === String(j) ? `key ${j}` : key);
    list.append(el('li', {}, name, el('span', { class: 'bar-track' }, bar),
      el('span', { class: 'bar-value' }, isWeights ? `${(v * 100).toFixed(1)}%` : formatNumber(v))));
  }
  out.push(list);
  if (r.output) {
    out.push(el('div', { class: 'output-line' }, `output: ${describeOutput(r.output, valueLabels, r.valuesNonNegative)}`));
  }
  return out;
}

/** One small canvas per head, drawn from the pooled grid cells on a shared colour scale. */
export function buildGrid(
  container: HTMLElement, grid: HeatmapGrid, selection: { layer: number; head: number } | undefined,
  lut: Uint8Array, scale: ColorScale, onPick: (layer: number, head: number) => void,
  open?: { kinds: readonly ViewKind[]; shown: ViewKind; onKind: (kind: ViewKind) => void },
): void {
  const side = grid.cellSize;
  const cells = side * side;
  const paint = (data: Float32Array) => {
    const c = el('canvas', { width: String(side), height: String(side), 'aria-hidden': 'true' });
    const ctx = c.getContext('2d');
    if (ctx) {
      const img = ctx.createImageData(side, side);
      colorize(data, lut, scale, [128, 128, 128, 255], img.data);
      ctx.putImageData(img, 0, 0);
    }
    return c;
  };
  const rows: HTMLElement[] = [];
  const head = el('div', { class: 'grid-row grid-header' }, el('span', { class: 'grid-layer' }, ''));
  for (let h = 0; h < grid.heads; h++) head.append(el('span', { class: 'grid-col' }, `H${h}`));
  rows.push(head);
  for (let l = 0; l < grid.layers; l++) {
    const row = el('div', { class: 'grid-row' }, el('span', { class: 'grid-layer' }, grid.layers > 1 ? `L${l}` : ''));
    for (let h = 0; h < grid.heads; h++) {
      const selected = !!selection && selection.layer === l && selection.head === h;
      const b = el('button', {
        type: 'button', class: 'grid-cell', 'data-layer': String(l), 'data-head': String(h),
        'aria-pressed': String(selected), title: grid.layers > 1 ? `layer ${l} · head ${h}` : `head ${h}`,
        'aria-label': grid.layers > 1 ? `Open layer ${l} head ${h}` : `Open head ${h}`,
      }, paint(grid.cells.subarray((l * grid.heads + h) * cells, (l * grid.heads + h + 1) * cells)));
      b.addEventListener('click', () => onPick(l, h));
      row.append(b);
    }
    rows.push(row);
  }
  if (grid.extras?.length) {
    const extras = el('div', { class: 'grid-row grid-extras' });
    for (const e of grid.extras) {
      const kind = e.kind;
      if (kind && open?.kinds.includes(kind)) {
        // Opens the full-resolution map in the main view (the same as choosing it under "Show").
        const b = el('button', {
          type: 'button', class: 'grid-extra', title: `${e.name}: open it in the heatmap`, 'data-kind': kind,
          'aria-pressed': String(open.shown === kind), 'aria-label': `Open ${e.name}`,
        }, paint(e.data), el('span', { class: 'grid-extra-name' }, e.name));
        b.addEventListener('click', () => open.onKind(kind));
        extras.append(b);
      } else {
        extras.append(el('figure', { class: 'grid-extra', title: e.name }, paint(e.data), el('figcaption', {}, e.name)));
      }
    }
    rows.push(extras);
  }
  container.replaceChildren(el('h2', {}, grid.layers > 1 ? `${grid.layers} layers × ${grid.heads} heads` : `${grid.heads} heads`), ...rows);
}
