// Several query tokens read as one (Ctrl/Cmd-click, Shift-click or drag in the token view): their summed and
// mean row beside the map (#selection: bars, and the output of the mean row as a weighted sum), their mean row
// under the map (tokenOverlay.ts) and as tints in the text (tokens.ts). One per token view.
import { describeOutput, formatNumber } from '../src/shared/format';
import { labelOf } from '../src/shared/labels';
import type { SelectionDetails } from '../src/shared/tokenRows';
import { displayToken } from '../src/shared/tokenText';
import type { ViewKind } from '../src/shared/types';
import { el } from './dom';
import { selectionRowHeight, type TokenHost, type TokenState } from './tokenState';

const MAX_BARS = 40;

/** Kinds whose rows sum to one read as percentages. */
export function readsAsShare(kind: ViewKind): boolean {
  return kind === 'weights' || kind === 'headMean' || kind === 'rollout' || kind === 'headMax';
}

export function formatShare(v: number, kind: ViewKind): string {
  if (!readsAsShare(kind) || !Number.isFinite(v)) return formatNumber(v);
  // Small shares keep two significant digits (a 4096-key row spreads its weight thin).
  return v !== 0 && Math.abs(v) < 0.001 ? `${(v * 100).toPrecision(2)}%` : `${(v * 100).toFixed(1)}%`;
}

export class TokenSelection {
  readonly panel = el('aside', { id: 'selection', 'aria-label': 'Selected tokens', hidden: '' });
  private request: AbortController | undefined;

  constructor(private readonly tok: TokenState, private readonly host: TokenHost, private readonly onChange: () => void) {}

  private render(d: SelectionDetails): void {
    const { tok } = this;
    const names = d.rows.slice(0, 6).map((r) => `“${displayToken(labelOf(tok.queries as string[], r))}”`).join(', ') + (d.rows.length > 6 ? ', …' : '');
    const button = el('button', { type: 'button', class: 'unpin', id: 'selection-clear', title: 'Clear the selection (Escape in the text)' }, 'Clear');
    button.addEventListener('click', () => void this.set([]));
    const out: HTMLElement[] = [el('div', { class: 'detail-head' }, el('h2', {}, `${d.rows.length} tokens`), button)];
    out.push(el('div', { class: 'selection-names' }, names));
    out.push(el('div', { class: 'muted' }, 'summed row (Σ) and mean'));
    const keys = tok.self ? tok.queries : tok.keys;
    let order = Array.from(d.mean.keys());
    if (order.length > MAX_BARS) {
      order = order.sort((a, b) => (d.mean[b] - d.mean[a]) || a - b).slice(0, MAX_BARS);
      out.push(el('div', { class: 'muted' }, `top ${MAX_BARS} of ${d.mean.length} keys`));
    }
    let peak = 0;
    for (const j of order) if (Number.isFinite(d.mean[j])) peak = Math.max(peak, Math.abs(d.mean[j]));
    const list = el('ol', { class: 'bars selection-bars', 'aria-label': 'Summed and mean row of the selected tokens' });
    for (const j of order) {
      const bar = el('span', { class: 'bar' });
      bar.style.width = `${peak > 0 && Number.isFinite(d.mean[j]) ? (Math.abs(d.mean[j]) / peak) * 100 : 0}%`;
      if (d.mean[j] < 0) bar.classList.add('negative');
      const key = labelOf(keys as string[], j);
      list.append(el('li', { 'data-key': String(j), 'data-sum': String(d.sum[j]), 'data-mean': String(d.mean[j]) },
        el('span', { class: 'bar-label', title: key }, displayToken(key)),
        el('span', { class: 'bar-track' }, bar),
        el('span', { class: 'bar-value' }, `Σ ${formatNumber(d.sum[j])} · ${formatShare(d.mean[j], d.kind)}`)));
    }
    out.push(list);
    if (d.output) out.push(el('div', { class: 'output-line' }, `output of the mean row: ${describeOutput(d.output, this.host.valueLabels(), d.valuesNonNegative)}`));
    this.panel.replaceChildren(...out);
    this.panel.hidden = false;
  }

  /** Select these query rows (empty clears); the host answers from its local data or the extension host. */
  async set(rows: number[]): Promise<void> {
    const { tok, host } = this;
    tok.selection = rows;
    this.request?.abort();
    const hadRow = selectionRowHeight(tok) > 0;
    if (rows.length === 0 || !tok.enabled) {
      tok.selectionMean = undefined;
      this.panel.hidden = true;
      this.panel.replaceChildren();
      if (hadRow) host.relayout();
      this.onChange();
      return;
    }
    const ac = this.request = new AbortController();
    const d = await host.selection(rows, ac.signal);
    if (tok.selection !== rows) return;
    tok.selectionMean = d?.mean;
    if (d) this.render(d);
    else this.panel.hidden = true;
    host.relayout();
    this.onChange();
  }

  /** The model or kind changed: read the same rows again. */
  refresh(): Promise<void> {
    return this.set(this.tok.selection.filter((r) => r < this.tok.queries.length));
  }
}
