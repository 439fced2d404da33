/**
 * Finding tokens in the token view: a substring or a regular expression over each token's shown text
 * (src/shared/tokenText.ts, so `Ġbank` is found by " bank" and by "bank"), with or without case. Hits are token
 * indices in order; stepping wraps around.
 */
import { displayToken } from './tokenText';

export interface TokenQuery {
  text: string;
  regex: boolean;
  caseSensitive: boolean;
}

export interface SearchResult {
  /** Indices of the matching tokens, ascending. */
  hits: Int32Array;
  /** Why the query matches nothing when it is not a valid regular expression. */
  error?: string;
}

/** A predicate for one shown token, or the reason the query is invalid; undefined for an empty query. */
export function tokenMatcher(q: TokenQuery): ((shown: string) => boolean) | { error: string } | undefined {
  if (q.text === '') return undefined;
  if (q.regex) {
    let re: RegExp;
    try {
      re = new RegExp(q.text, q.caseSensitive ? 'u' : 'iu');
    } catch (e) {
      return { error: e instanceof Error ? e.message : String(e) };
    }
    return (shown) => re.test(shown);
  }
  if (q.caseSensitive) return (shown) => shown.includes(q.text);
  const needle = q.text.toLowerCase();
  return (shown) => shown.toLowerCase().includes(needle);
}

/** The tokens (raw labels) whose shown text matches. `shown` may pass the display texts already made. */
export function searchTokens(tokens: readonly string[], q: TokenQuery, shown?: readonly string[]): SearchResult {
  const m = tokenMatcher(q);
  if (!m) return { hits: new Int32Array(0) };
  if (typeof m !== 'function') return { hits: new Int32Array(0), error: m.error };
  const hits: number[] = [];
  for (let i = 0; i < tokens.length; i++) if (m(shown ? shown[i] : displayToken(tokens[i]))) hits.push(i);
  return { hits: Int32Array.from(hits) };
}

/**
 * The hit to go to from token `from` in direction `dir` (+1 Enter, −1 Shift+Enter): the first hit after (or
 * before) it, wrapping around. Returns an index into `hits`, or −1 when there are none.
 */
export function stepHit(hits: ArrayLike<number>, from: number | undefined, dir: 1 | -1): number {
  const n = hits.length;
  if (n === 0) return -1;
  if (from === undefined) return dir > 0 ? 0 : n - 1;
  // First hit > from (binary search), or last hit < from.
  let lo = 0;
  let hi = n;
  if (dir > 0) {
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (hits[mid] <= from) lo = mid + 1;
      else hi = mid;
    }
    return lo === n ? 0 : lo;
  }
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (hits[mid] < from) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? n - 1 : lo - 1;
}

/** Whether token `i` is a hit (binary search over the ascending hits). */
export function isHit(hits: ArrayLike<number>, i: number): boolean {
  let lo = 0;
  let hi = hits.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (hits[mid] < i) lo = mid + 1;
    else hi = mid;
  }
  return lo < hits.length && hits[lo] === i;
}

/** The first index into the ascending `hits` whose value is ≥ i (for drawing only the visible ones). */
export function lowerBound(hits: ArrayLike<number>, i: number): number {
  let lo = 0;
  let hi = hits.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (hits[mid] < i) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
