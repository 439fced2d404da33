// The token view's search box: substring or regular expression, case toggle, the hit count, Enter / Shift+Enter
// stepping through the hits (the token view moves the text and the map to each). Hits are drawn on the map by
// tokenOverlay.ts and in the text by tokens.ts.
import { searchTokens, stepHit } from '../src/shared/tokenSearch';
import { el } from './dom';
import { drawOverlay } from './draw';
import { persisted } from './state';
import { tok, type TokenRef } from './tokenState';

export interface SearchHooks {
  /** The shown texts of a side (what the search matches). */
  shown(side: 'q' | 'k'): readonly string[];
  /** Hits changed: repaint the text. */
  repaint(): void;
  /** Go to a hit: scroll the text, move the map. */
  goTo(t: TokenRef): void;
}

const saved = persisted.get().tokens;
const input = el('input', {
  id: 'token-search', type: 'search', placeholder: 'Find token', spellcheck: 'false',
  'aria-label': 'Find tokens (Enter: next hit, Shift+Enter: previous)', title: 'Enter: next hit · Shift+Enter: previous',
});
input.value = saved?.search ?? '';
const regex = el('button', { id: 'token-regex', type: 'button', 'aria-pressed': String(saved?.regex ?? false), title: 'Regular expression' }, '.*');
const matchCase = el('button', { id: 'token-case', type: 'button', 'aria-pressed': String(saved?.caseSensitive ?? false), title: 'Match case' }, 'Aa');
const count = el('span', { id: 'token-hits', role: 'status' });
let hooks: SearchHooks | undefined;

const pressed = (b: HTMLElement) => b.getAttribute('aria-pressed') === 'true';

function save(): void {
  persisted.save({ tokens: { ...(persisted.get().tokens ?? { direction: tok.direction }), direction: tok.direction, search: input.value, regex: pressed(regex), caseSensitive: pressed(matchCase) } });
}

/** All hits in stepping order: the query text's, then (two texts) the key text's. */
function allHits(): TokenRef[] {
  const out: TokenRef[] = Array.from(tok.hitsQ, (i) => ({ side: 'q' as const, i }));
  if (!tok.self) for (const i of tok.hitsK) out.push({ side: 'k', i });
  return out;
}

function showCount(error?: string): void {
  const n = tok.hitsQ.length + (tok.self ? 0 : tok.hitsK.length);
  const all = allHits();
  const at = tok.currentHit ? all.findIndex((h) => h.side === tok.currentHit?.side && h.i === tok.currentHit.i) : -1;
  count.textContent = error ? 'invalid expression' : input.value === '' ? '' : n === 0 ? 'no tokens' : at >= 0 ? `${at + 1} of ${n}` : `${n} ${n === 1 ? 'token' : 'tokens'}`;
  count.dataset.hits = String(n);
  count.title = error ?? '';
  input.setAttribute('aria-invalid', String(!!error));
}

/** Search again (typed, toggled, or a new model's tokens). */
export function refreshSearch(): void {
  if (!hooks) return;
  const q = { text: input.value, regex: pressed(regex), caseSensitive: pressed(matchCase) };
  const rq = searchTokens(tok.queries, q, hooks.shown('q'));
  tok.hitsQ = rq.hits;
  tok.hitsK = tok.self ? rq.hits : searchTokens(tok.keys, q, hooks.shown('k')).hits;
  if (tok.currentHit && !allHits().some((h) => h.side === tok.currentHit?.side && h.i === tok.currentHit.i)) tok.currentHit = undefined;
  showCount(rq.error);
  hooks.repaint();
  drawOverlay();
}

/** Step to the next (+1) or previous (−1) hit from the current one (or the keyboard's token). */
export function stepSearch(dir: 1 | -1): void {
  const all = allHits();
  if (!hooks || all.length === 0) return;
  // Order the two texts one after the other: key positions come after every query position.
  const pos = (t: TokenRef) => (t.side === 'k' && !tok.self ? tok.queries.length + t.i : t.i);
  const from = tok.currentHit ?? tok.cursor;
  const j = stepHit(all.map(pos), tok.currentHit ? pos(from) : pos(from) - (dir > 0 ? 1 : -1), dir);
  tok.currentHit = all[j];
  showCount();
  hooks.goTo(all[j]);
}

export function buildSearchBar(h: SearchHooks): HTMLElement[] {
  hooks = h;
  input.addEventListener('input', () => {
    tok.currentHit = undefined;
    save();
    refreshSearch();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      stepSearch(e.shiftKey ? -1 : 1);
    } else if (e.key === 'Escape' && input.value !== '') {
      e.preventDefault();
      input.value = '';
      input.dispatchEvent(new Event('input'));
    }
  });
  for (const b of [regex, matchCase]) {
    b.addEventListener('click', () => {
      b.setAttribute('aria-pressed', String(!pressed(b)));
      save();
      refreshSearch();
    });
  }
  return [input, regex, matchCase, count];
}

/** Saved with the search box (the direction toggle lives in tokens.ts). */
export function saveTokenUi(): void {
  save();
}
