// The token view's search box: substring or regular expression, case toggle, the hit count, Enter / Shift+Enter
// stepping through the hits (the token view moves the text and the map to each). Hits are drawn on the map by
// tokenOverlay.ts and in the text by tokenPanes.ts. One per token view.
import { searchTokens, stepHit } from '../src/shared/tokenSearch';
import { el } from './dom';
import type { TokenHost, TokenRef, TokenState } from './tokenState';

export interface SearchHooks {
  /** The shown texts of a side (what the search matches). */
  shown(side: 'q' | 'k'): readonly string[];
  /** Hits changed: repaint the text. */
  repaint(): void;
  /** Go to a hit: scroll the text, move the map. */
  goTo(t: TokenRef): void;
}

const pressed = (b: HTMLElement) => b.getAttribute('aria-pressed') === 'true';

export class TokenSearchBox {
  readonly input: HTMLInputElement;
  private readonly regex: HTMLButtonElement;
  private readonly matchCase: HTMLButtonElement;
  private readonly count: HTMLElement;

  constructor(private readonly tok: TokenState, private readonly host: TokenHost, private readonly hooks: SearchHooks) {
    const saved = host.saved();
    this.input = el('input', {
      id: 'token-search', type: 'search', placeholder: 'Find token', spellcheck: 'false',
      'aria-label': 'Find tokens (Enter: next hit, Shift+Enter: previous)', title: 'Enter: next hit · Shift+Enter: previous',
    });
    this.input.value = saved?.search ?? '';
    this.regex = el('button', { id: 'token-regex', type: 'button', 'aria-pressed': String(saved?.regex ?? false), title: 'Regular expression' }, '.*');
    this.matchCase = el('button', { id: 'token-case', type: 'button', 'aria-pressed': String(saved?.caseSensitive ?? false), title: 'Match case' }, 'Aa');
    this.count = el('span', { id: 'token-hits', role: 'status' });
    const input = this.input;
    input.addEventListener('input', () => {
      tok.currentHit = undefined;
      this.save();
      this.refresh();
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        this.step(e.shiftKey ? -1 : 1);
      } else if (e.key === 'Escape' && input.value !== '') {
        e.preventDefault();
        input.value = '';
        input.dispatchEvent(new Event('input'));
      }
    });
    for (const b of [this.regex, this.matchCase]) {
      b.addEventListener('click', () => {
        b.setAttribute('aria-pressed', String(!pressed(b)));
        this.save();
        this.refresh();
      });
    }
  }

  /** The bar's elements, in order. */
  elements(): HTMLElement[] {
    return [this.input, this.regex, this.matchCase, this.count];
  }

  /** Saved with the direction toggle (tokens.ts). */
  save(): void {
    this.host.save({ direction: this.tok.direction, search: this.input.value, regex: pressed(this.regex), caseSensitive: pressed(this.matchCase) });
  }

  /** All hits in stepping order: the query text's, then (two texts) the key text's. */
  private allHits(): TokenRef[] {
    const out: TokenRef[] = Array.from(this.tok.hitsQ, (i) => ({ side: 'q' as const, i }));
    if (!this.tok.self) for (const i of this.tok.hitsK) out.push({ side: 'k', i });
    return out;
  }

  private showCount(error?: string): void {
    const { tok, count, input } = this;
    const n = tok.hitsQ.length + (tok.self ? 0 : tok.hitsK.length);
    const all = this.allHits();
    const at = tok.currentHit ? all.findIndex((h) => h.side === tok.currentHit?.side && h.i === tok.currentHit.i) : -1;
    count.textContent = error ? 'invalid expression' : input.value === '' ? '' : n === 0 ? 'no tokens' : at >= 0 ? `${at + 1} of ${n}` : `${n} ${n === 1 ? 'token' : 'tokens'}`;
    count.dataset.hits = String(n);
    count.title = error ?? '';
    input.setAttribute('aria-invalid', String(!!error));
  }

  /** Search again (typed, toggled, or a new model's tokens). */
  refresh(): void {
    const { tok, hooks } = this;
    const q = { text: this.input.value, regex: pressed(this.regex), caseSensitive: pressed(this.matchCase) };
    const rq = searchTokens(tok.queries, q, hooks.shown('q'));
    tok.hitsQ = rq.hits;
    tok.hitsK = tok.self ? rq.hits : searchTokens(tok.keys, q, hooks.shown('k')).hits;
    if (tok.currentHit && !this.allHits().some((h) => h.side === tok.currentHit?.side && h.i === tok.currentHit.i)) tok.currentHit = undefined;
    this.showCount(rq.error);
    hooks.repaint();
    this.host.drawOverlay();
  }

  /** Step to the next (+1) or previous (−1) hit from the current one (or the keyboard's token). */
  step(dir: 1 | -1): void {
    const { tok } = this;
    const all = this.allHits();
    if (all.length === 0) return;
    // Order the two texts one after the other: key positions come after every query position.
    const pos = (t: TokenRef) => (t.side === 'k' && !tok.self ? tok.queries.length + t.i : t.i);
    const from = tok.currentHit ?? tok.cursor;
    const j = stepHit(all.map(pos), tok.currentHit ? pos(from) : pos(from) - (dir > 0 ? 1 : -1), dir);
    tok.currentHit = all[j];
    this.showCount();
    this.hooks.goTo(all[j]);
  }
}
