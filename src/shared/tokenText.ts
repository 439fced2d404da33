/**
 * How a token's text is shown in the token view: faithfully, so what a model saw can be read. Tokenizer space
 * markers (GPT-2's byte-level `Ġ`, SentencePiece's `▁`) become the spaces they stand for, a leading space is kept
 * (the view draws tokens with `white-space: pre`), a newline shows as ⏎ and ends the line, a tab as ⇥, other
 * control characters as their Unicode control pictures, and bidirectional controls as visible escapes (an
 * untrusted label must not reorder the text around it). The result is always inserted as text, never markup.
 *
 * Axis labels and hover (src/shared/tokens.ts labelToken) use this text too, with edge spaces shown as ␣.
 */

/** Longest shown text of one token, in code points (a label may be a whole file). */
export const MAX_TOKEN_CHARS = 80;

const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
/** Anything displayToken changes; most tokens have none of it and are shown as they are. */
const SPECIAL = /[\u0000-\u001f\u007fĠ▁Ċĉ\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/** Byte-level BPE writes a newline as `Ċ` and a tab as `ĉ`; only a token made of those markers is read that way. */
function byteLevelWhitespace(raw: string): string | undefined {
  return /^[ĠĊĉ]+$/u.test(raw) && /[Ċĉ]/u.test(raw) ? raw.replace(/Ġ/gu, ' ').replace(/Ċ/gu, '\n').replace(/ĉ/gu, '\t') : undefined;
}

/** The token's text as shown (one line; see endsLine for whether the view breaks after it). */
export function displayToken(raw: string): string {
  if (raw.length > 0 && raw.length <= MAX_TOKEN_CHARS && !SPECIAL.test(raw)) return raw;
  const s = (byteLevelWhitespace(raw) ?? raw.replace(/[Ġ▁]/gu, ' ')).replace(/\r\n?/gu, '\n');
  let out = '';
  let n = 0;
  for (const ch of s) {
    if (n >= MAX_TOKEN_CHARS) {
      out += '…';
      break;
    }
    n++;
    const c = ch.codePointAt(0) as number;
    if (ch === '\n') out += '⏎';
    else if (ch === '\t') out += '⇥';
    else if (c < 0x20) out += String.fromCodePoint(0x2400 + c);
    else if (c === 0x7f) out += '␡';
    else if (BIDI.test(ch)) out += `\\u{${c.toString(16)}}`;
    else out += ch;
  }
  return out === '' ? '∅' : out;
}

/** Whether the text wraps after this token: it contains a newline (raw, or byte-level `Ċ`). */
export function endsLine(raw: string): boolean {
  if (!SPECIAL.test(raw)) return false;
  return /[\n\r]/u.test(raw) || byteLevelWhitespace(raw)?.includes('\n') === true;
}
