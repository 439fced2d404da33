// The dump's axes before layers × heads (batch, sample…): one labelled select each in the header. Picking an
// index asks the host for the same layer and head at the new indices. Names come from files: textContent only.
import type { WireModel } from '../src/shared/protocol';
import { el } from './dom';
import { post } from './host';
import { body, dom } from './page';

/** Rebuild the pickers for a model (hidden when it has none). */
export function renderPickers(model: WireModel): void {
  const pickers = model.pickers ?? [];
  dom.pickers.hidden = pickers.length === 0;
  dom.pickers.replaceChildren(...pickers.map((p, k) => {
    const select = el('select', { id: `axis-picker-${k}`, class: 'axis-picker', 'data-axis': String(k) });
    for (let i = 0; i < p.size; i++) {
      const o = el('option', { value: String(i) });
      o.textContent = `${i} of ${p.size}`;
      select.append(o);
    }
    select.value = String(p.index);
    const name = document.createElement('span');
    name.textContent = `${p.name} `;
    select.setAttribute('aria-label', `${p.name} (${p.size})`);
    select.addEventListener('change', () => {
      const extra = pickers.map((q, j) => (j === k ? Number(select.value) : q.index));
      const sel = model.selection ?? { layer: 0, head: 0 };
      body.dataset.state = 'loading';
      post({ type: 'selectHead', layer: sel.layer, head: sel.head, extra });
    });
    return el('label', { class: 'axis-picker-label' }, name, select);
  }));
}
