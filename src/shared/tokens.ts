/**
 * Tokens as axis labels and hover text. The text of a token is the token view's (tokenText.ts displayToken:
 * tokenizer space markers 'Ġ' and '▁' as the spaces they stand for, a newline as '⏎', a tab as '⇥', control
 * characters as their control pictures, bidirectional controls escaped, an empty token as '∅'). A label has no
 * `white-space: pre` to keep a space visible, and a leading space is what tells " cat" from "cat", so spaces at the
 * start or end of a label are shown as '␣' (U+2423 OPEN BOX); spaces inside stay spaces.
 * Pure string functions; tokens are untrusted text and are only ever drawn as text, never as markup.
 */
import { displayToken } from './tokenText';

export const SPACE_MARK = '␣';

/** A token as an axis label shows it (see the file comment). */
export function labelToken(token: string): string {
  const text = displayToken(token);
  const lead = /^ */.exec(text)?.[0].length ?? 0;
  if (lead === text.length) return SPACE_MARK.repeat(lead);
  const trail = / *$/.exec(text)?.[0].length ?? 0;
  return SPACE_MARK.repeat(lead) + text.slice(lead, text.length - trail) + SPACE_MARK.repeat(trail);
}

export function labelTokens(tokens: readonly string[]): string[] {
  return tokens.map(labelToken);
}
