// The head table beside the layers × heads grid: one row per layer · head, a column per metric (computed by the
// host, src/core/heads.ts), sortable and filterable; a row opens its head. It can tint and order the grid by a
// metric, and lists the heads most like the open one. DOM only: text via textContent, colours from --vscode-*.
import { HEAD_METRIC_INFO, HEAD_METRICS, TOKEN_METRICS, type HeadMetric, type NearHead, type WireHeadTable } from '../src/shared/heads';
import { el } from './dom';

export interface HeadTableActions {
  open(layer: number, head: number): void;
  cancel(): void;
  retry(): void;
  pickTokens(): void;
  /** The grid should be re-decorated (tint or order changed). */
  changed(): void;
}

/** UI state worth keeping across reloads (the webview persists it). */
export interface HeadTableState {
  sort?: HeadMetric;
  ascending?: boolean;
  tint?: HeadMetric;
  order?: boolean;
  filterMetric?: HeadMetric;
  filterMin?: number;
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '—');
const headName = (layers: number, l: number, h: number) => (layers > 1 ? `L${l} H${h}` : `H${h}`);

export class HeadTableView {
  readonly section: HTMLElement;
  private readonly tint = el('select', { id: 'head-tint', 'aria-label': 'Tint the grid by a metric' });
  private readonly order = el('input', { id: 'head-order', type: 'checkbox' });
  private readonly filterMetric = el('select', { id: 'head-filter-metric', 'aria-label': 'Metric to filter heads by' });
  private readonly filterMin = el('input', { id: 'head-filter-min', type: 'number', step: '0.01', 'aria-label': 'Show heads with at least this value', placeholder: 'any' });
  private readonly pick = el('button', { id: 'head-pick-tokens', type: 'button', title: 'Choose a JSON array of tokens, or an array of token ids' }, 'Tokens…');
  private readonly progress = el('div', { id: 'head-progress', hidden: '' });
  private readonly bar = el('progress', { max: '1', value: '0' });
  private readonly progressText = el('span');
  private readonly cancelButton = el('button', { id: 'head-cancel', type: 'button' }, 'Cancel');
  private readonly retryButton = el('button', { id: 'head-retry', type: 'button', hidden: '' }, 'Compute head metrics');
  private readonly note = el('p', { id: 'head-tokens-note', hidden: '' });
  private readonly status = el('p', { id: 'head-status', role: 'status' });
  private readonly legend = el('div', { id: 'head-legend', hidden: '' });
  private readonly table = el('table', { id: 'head-table', hidden: '' });
  private readonly near = el('section', { id: 'near-heads', 'aria-label': 'Heads like this one', hidden: '' });
  private data: WireHeadTable | undefined;
  private selection: { layer: number; head: number } | undefined;

  constructor(private readonly actions: HeadTableActions, private state: HeadTableState, private readonly saveState: (s: HeadTableState) => void) {
    this.progress.append(this.bar, ' ', this.progressText, ' ', this.cancelButton);
    const controls = el('div', { class: 'head-controls' },
      el('label', {}, 'Tint grid by ', this.tint),
      el('label', {}, this.order, ' order heads by it'),
      el('label', {}, 'Show ', this.filterMetric, ' ≥ ', this.filterMin),
      this.pick);
    this.section = el('section', { id: 'heads', 'aria-label': 'Head metrics', hidden: '' },
      el('h2', {}, 'Heads'), controls, this.progress, this.retryButton, this.status, this.note, this.legend, this.table, this.near);
    this.cancelButton.addEventListener('click', () => actions.cancel());
    this.retryButton.addEventListener('click', () => actions.retry());
    this.pick.addEventListener('click', () => actions.pickTokens());
    this.tint.addEventListener('change', () => {
      this.update({ tint: (this.tint.value || undefined) as HeadMetric | undefined });
      this.actions.changed();
    });
    this.order.addEventListener('change', () => {
      this.update({ order: this.order.checked });
      this.actions.changed();
    });
    this.filterMetric.addEventListener('change', () => this.update({ filterMetric: this.filterMetric.value as HeadMetric }));
    this.filterMin.addEventListener('input', () => {
      const v = this.filterMin.value.trim() === '' ? undefined : Number(this.filterMin.value);
      this.update({ filterMin: v !== undefined && Number.isFinite(v) ? v : undefined });
    });
  }

  private update(patch: Partial<HeadTableState>): void {
    this.state = { ...this.state, ...patch };
    this.saveState(this.state);
    this.render();
  }

  /** No heads here (a plain matrix): hide everything. */
  hide(): void {
    this.data = undefined;
    this.section.hidden = true;
  }

  showProgress(fraction: number, what: string): void {
    this.section.hidden = false;
    this.progress.hidden = false;
    this.retryButton.hidden = true;
    this.bar.value = Math.max(0, Math.min(1, fraction));
    this.progressText.textContent = `${what} ${Math.round(fraction * 100)}%`;
    this.section.dataset.state = 'computing';
  }

  /** Stopped: cancelled, or failed with a message. The last table (if any) stays. */
  showStopped(message: string): void {
    this.section.hidden = false;
    this.progress.hidden = true;
    this.retryButton.hidden = false;
    this.status.textContent = message;
    this.section.dataset.state = 'stopped';
  }

  setTable(t: WireHeadTable): void {
    this.data = t;
    this.section.hidden = false;
    this.progress.hidden = true;
    this.retryButton.hidden = true;
    this.status.textContent = '';
    this.section.dataset.state = 'ready';
    const present = HEAD_METRICS.filter((m) => t.metrics[m]);
    // Choices that name a metric this table lacks (no tokens now) fall back.
    if (this.state.sort && !present.includes(this.state.sort)) this.state = { ...this.state, sort: undefined };
    if (this.state.tint && !present.includes(this.state.tint)) this.state = { ...this.state, tint: undefined };
    if (this.state.filterMetric && !present.includes(this.state.filterMetric)) this.state = { ...this.state, filterMetric: undefined };
    this.tint.replaceChildren(el('option', { value: '' }, 'none'), ...present.map((m) => el('option', { value: m }, HEAD_METRIC_INFO[m].label)));
    this.tint.value = this.state.tint ?? '';
    this.order.checked = !!this.state.order;
    this.filterMetric.replaceChildren(...present.map((m) => el('option', { value: m }, HEAD_METRIC_INFO[m].label)));
    this.filterMetric.value = this.state.filterMetric ?? present[0];
    this.filterMin.value = this.state.filterMin === undefined ? '' : String(this.state.filterMin);
    if ('missing' in t.tokens) {
      this.note.hidden = false;
      this.note.textContent = `No ${TOKEN_METRICS.map((m) => HEAD_METRIC_INFO[m].label).join(' or ')} scores: ${t.tokens.missing}. Choose the tokens with “Tokens…”.`;
    } else {
      this.note.hidden = false;
      this.note.textContent = `Tokens from ${t.tokens.from}.`;
    }
    this.render();
  }

  setSelection(sel: { layer: number; head: number } | undefined): void {
    this.selection = sel;
    for (const tr of this.table.querySelectorAll<HTMLTableRowElement>('tbody tr')) {
      const on = !!sel && Number(tr.dataset.layer) === sel.layer && Number(tr.dataset.head) === sel.head;
      tr.setAttribute('aria-selected', String(on));
    }
  }

  showNearProgress(fraction: number): void {
    this.near.hidden = false;
    this.near.replaceChildren(el('h3', {}, 'Heads like this one'), el('p', { class: 'head-muted' }, `comparing… ${Math.round(fraction * 100)}%`));
  }

  setNear(layer: number, head: number, list: readonly NearHead[] | undefined, problem?: string): void {
    const layers = this.data?.layers ?? 2;
    this.near.hidden = false;
    const heading = el('h3', {}, `Heads like ${headName(layers, layer, head)}`);
    if (!list) {
      this.near.replaceChildren(heading, el('p', { class: 'head-muted' }, problem ?? 'not computed'));
      return;
    }
    const items = list.map((x) => {
      const b = el('button', {
        type: 'button', class: 'near-head', 'data-layer': String(x.layer), 'data-head': String(x.head),
        title: `Jensen–Shannon distance ${x.distance.toFixed(4)} (0 = same rows, 1 = disjoint)`,
      }, `${headName(layers, x.layer, x.head)} · ${x.distance.toFixed(3)}`);
      b.addEventListener('click', () => this.actions.open(x.layer, x.head));
      return el('li', {}, b);
    });
    this.near.replaceChildren(heading, el('ol', {}, ...items),
      el('p', { class: 'head-muted' }, 'Jensen–Shannon distance between the heads’ rows (base 2), mean over queries.'));
  }

  /** The metric a grid cell should show: its value scaled to [0, 1] over the table, or undefined. */
  private tintOf(): { metric: HeadMetric; values: Float32Array; lo: number; hi: number } | undefined {
    const t = this.data;
    const metric = this.state.tint;
    const values = metric ? t?.metrics[metric] : undefined;
    if (!t || !metric || !values) return undefined;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return { metric, values, lo, hi };
  }

  /** Tints (a bar under each thumbnail) and orders (flex order, best first within each layer) the grid's cells. */
  decorateGrid(grid: HTMLElement): void {
    const tint = this.tintOf();
    const t = this.data;
    const cells = grid.querySelectorAll<HTMLElement>('.grid-cell[data-layer][data-head]');
    grid.classList.toggle('grid-tinted', !!tint);
    for (const c of cells) {
      const l = Number(c.dataset.layer);
      const h = Number(c.dataset.head);
      if (!tint || !t || l >= t.layers || h >= t.heads) {
        c.style.removeProperty('--head-metric');
        c.style.removeProperty('order');
        delete c.dataset.metric;
        continue;
      }
      const v = tint.values[l * t.heads + h];
      const f = tint.hi > tint.lo ? (v - tint.lo) / (tint.hi - tint.lo) : 1;
      c.style.setProperty('--head-metric', f.toFixed(4));
      c.dataset.metric = String(v);
      c.title = `${t.layers > 1 ? `layer ${l} · ` : ''}head ${h} · ${HEAD_METRIC_INFO[tint.metric].label} ${fmt(v)}`;
      if (this.state.order) {
        let rank = 0; // heads of this layer scoring higher come first
        for (let k = 0; k < t.heads; k++) if (tint.values[l * t.heads + k] > v || (tint.values[l * t.heads + k] === v && k < h)) rank++;
        c.style.order = String(rank + 1); // the layer label keeps order 0
      } else c.style.removeProperty('order');
    }
    // The header row names heads by position, which ordering breaks: hide it while ordered.
    for (const hdr of grid.querySelectorAll<HTMLElement>('.grid-header')) hdr.hidden = !!(tint && this.state.order);
    this.legend.hidden = !tint;
    if (tint) {
      this.legend.replaceChildren(
        el('span', { class: 'head-legend-bar', 'aria-hidden': 'true' }),
        ` Grid bar: ${HEAD_METRIC_INFO[tint.metric].label}, ${fmt(tint.lo)} (empty) … ${fmt(tint.hi)} (full)${this.state.order ? '; heads ordered by it within each layer' : ''}`);
    }
  }

  private render(): void {
    const t = this.data;
    if (!t) return;
    // Re-rendering replaces the buttons and rows: keep the keyboard focus on the same header or head.
    const focused = document.activeElement instanceof HTMLElement && this.table.contains(document.activeElement) ? document.activeElement : undefined;
    const refocus = focused?.dataset.metric ? `button.head-sort[data-metric="${focused.dataset.metric}"]`
      : focused?.dataset.layer ? `tr[data-layer="${focused.dataset.layer}"][data-head="${focused.dataset.head}"]` : undefined;
    const present = HEAD_METRICS.filter((m) => t.metrics[m]);
    const sort = this.state.sort ?? present[0];
    const ascending = !!this.state.ascending;
    const key = t.metrics[sort] as Float32Array;
    const filterMetric = this.state.filterMetric ?? present[0];
    const filterValues = t.metrics[filterMetric];
    const min = this.state.filterMin;
    const order: number[] = [];
    for (let i = 0; i < t.layers * t.heads; i++) if (min === undefined || !filterValues || filterValues[i] >= min) order.push(i);
    order.sort((a, b) => (ascending ? key[a] - key[b] : key[b] - key[a]) || a - b);

    const headRow = el('tr', {}, el('th', { scope: 'col' }, 'layer'), el('th', { scope: 'col' }, 'head'));
    for (const m of present) {
      const button = el('button', { type: 'button', class: 'head-sort', 'data-metric': m, title: `${HEAD_METRIC_INFO[m].title}. Click to sort.` }, HEAD_METRIC_INFO[m].label);
      button.addEventListener('click', () => this.update(this.state.sort === m || (!this.state.sort && m === present[0])
        ? { sort: m, ascending: !ascending } : { sort: m, ascending: false }));
      const th = el('th', { scope: 'col', 'data-metric': m, 'aria-sort': m === sort ? (ascending ? 'ascending' : 'descending') : 'none' }, button);
      headRow.append(th);
    }
    const rows = order.map((at) => {
      const l = Math.floor(at / t.heads);
      const h = at % t.heads;
      const selected = !!this.selection && this.selection.layer === l && this.selection.head === h;
      // One row in the tab order (the open head, else the first); arrow keys move between rows.
      const tr = el('tr', {
        'data-layer': String(l), 'data-head': String(h), tabindex: '-1', 'aria-selected': String(selected),
        title: `Open ${t.layers > 1 ? `layer ${l} · ` : ''}head ${h}`,
      }, el('td', {}, String(l)), el('td', {}, String(h)));
      for (const m of present) {
        const v = (t.metrics[m] as Float32Array)[at];
        const td = el('td', { 'data-metric': m }, fmt(v));
        if (m === sort) td.className = 'head-sorted';
        tr.append(td);
      }
      tr.addEventListener('click', () => this.actions.open(l, h));
      tr.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); this.actions.open(l, h); }
        else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
          e.preventDefault();
          const next = (e.key === 'ArrowDown' ? tr.nextElementSibling : tr.previousElementSibling) as HTMLElement | null;
          if (next) {
            tr.tabIndex = -1;
            next.tabIndex = 0;
            next.focus();
          }
        }
      });
      return tr;
    });
    const entry = rows.find((r) => r.getAttribute('aria-selected') === 'true') ?? rows[0];
    if (entry) entry.tabIndex = 0;
    const caption = el('caption', {}, `${order.length} of ${t.layers * t.heads} heads, sorted by ${HEAD_METRIC_INFO[sort].label}, ${ascending ? 'lowest' : 'highest'} first`);
    this.table.replaceChildren(caption, el('thead', {}, headRow), el('tbody', {}, ...rows));
    this.table.hidden = false;
    this.table.dataset.sort = sort;
    this.table.dataset.order = ascending ? 'ascending' : 'descending';
    if (refocus) this.table.querySelector<HTMLElement>(refocus)?.focus();
  }
}
