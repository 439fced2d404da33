/**
 * Tokens shown faithfully on axes and in hover. Tokenizers mark spaces with a visible character in their
 * vocabularies ('Ġ' in byte-level BPE: GPT-2, Llama 3, Qwen; '▁' in SentencePiece: Llama 2, T5, Gemma) and a leading
 * space is what tells " cat" from "cat", so:
 *   - 'Ġ' and '▁' are shown as the space they stand for (byte-level 'Ċ' as a newline, 'ĉ' as a tab);
 *   - spaces at the start or end of a token are shown as '␣' (U+2423 OPEN BOX), spaces inside stay spaces;
 *   - a newline is '⏎', a tab '⇥', other control characters their Unicode control picture (NUL is '␀');
 *   - an empty token is '∅'.
 * Pure string functions; tokens are untrusted text and are only ever drawn as text, never as markup.
 */

export const SPACE_MARK = '␣';
export const NEWLINE_MARK = '⏎';
export const TAB_MARK = '⇥';
export const EMPTY_MARK = '∅';

const MARKERS: Record<string, string> = { 'Ġ': ' ', '▁': ' ', 'Ċ': '\n', 'ĉ': '\t' };

function control(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return NEWLINE_MARK;
  if (c === '\t') return TAB_MARK;
  if (code === 0x7f) return '␡';
  return String.fromCharCode(0x2400 + code);
}

/** A token as a person reads it (see the file comment for the rules). */
export function displayToken(token: string): string {
  if (token === '') return EMPTY_MARK;
  const plain = token.replace(/[Ġ▁Ċĉ]/g, (m) => MARKERS[m]).replace(/\r\n/g, '\n');
  const lead = /^[ ]*/.exec(plain)?.[0].length ?? 0;
  const trail = lead === plain.length ? 0 : /[ ]*$/.exec(plain)?.[0].length ?? 0;
  const middle = plain.slice(lead, plain.length - trail).replace(/[\u0000-\u001f\u007f]/g, control);
  return SPACE_MARK.repeat(lead) + middle + SPACE_MARK.repeat(trail);
}

export function displayTokens(tokens: readonly string[]): string[] {
  return tokens.map(displayToken);
}
