/**
 * A small JSON tokenizer/parser that keeps offsets (JSON.parse has none): every node knows where it starts and
 * ends, and every syntax error is a MatrixError with a line and column the editor can underline. Numbers-only
 * arrays (matrix rows) are stored without a node per number. Used by jsonMatrix.ts for matrices and specs.
 */
import { MatrixError } from './ndarray';
import type { TextLocation } from './ndarray';

export type JsonNode =
  | { type: 'object'; start: number; end: number; entries: JsonEntry[] }
  | { type: 'array'; start: number; end: number; items: JsonNode[] }
  /** A non-empty array of numbers only (a matrix row), stored without a node per number. */
  | { type: 'numbers'; start: number; end: number; values: number[] }
  | { type: 'number'; start: number; end: number; value: number }
  | { type: 'string'; start: number; end: number; value: string }
  | { type: 'literal'; start: number; end: number; value: boolean | null };

export interface JsonEntry { key: string; keyStart: number; keyEnd: number; value: JsonNode }

/** Nesting deeper than this is refused (it would only be an attack on the recursion). */
export const MAX_JSON_DEPTH = 256;

export function locationAt(text: string, offset: number, length = 1): TextLocation {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1, offset, length: Math.max(0, length) };
}

export function errorAt(text: string, file: string, start: number, end: number, problem: string): MatrixError {
  return new MatrixError(problem, file, locationAt(text, start, end - start));
}

// ---------------------------------------------------------------------------------------------------------------
// Tokenizer / parser

export const C_SPACE = 32, C_TAB = 9, C_LF = 10, C_CR = 13;
export const C_LBRACE = 123, C_RBRACE = 125, C_LBRACKET = 91, C_RBRACKET = 93, C_COMMA = 44, C_COLON = 58, C_QUOTE = 34;
export const C_BACKSLASH = 92, C_MINUS = 45, C_PLUS = 43, C_DOT = 46, C_0 = 48, C_9 = 57, C_E = 69, C_e = 101;

const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

export class Parser {
  pos = 0;
  constructor(readonly text: string, readonly file: string) {}

  fail(problem: string, start = this.pos, end = start + 1): never {
    throw errorAt(this.text, this.file, start, Math.min(end, Math.max(start, this.text.length)), problem);
  }

  ws(): void {
    const t = this.text;
    let p = this.pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === C_SPACE || c === C_LF || c === C_CR || c === C_TAB || (c === 0xfeff && p === 0)) p++; // a BOM, at the start only
      else break;
    }
    this.pos = p;
  }

  describeHere(): string {
    if (this.pos >= this.text.length) return 'the end of the file';
    return JSON.stringify(this.text.slice(this.pos, this.pos + 12).split(/[\s,\]}]/)[0] || this.text[this.pos]);
  }

  parseDocument(): JsonNode {
    this.ws();
    const v = this.value(0);
    this.ws();
    if (this.pos < this.text.length) this.fail(`unexpected ${this.describeHere()} after the JSON value`);
    return v;
  }

  value(depth: number): JsonNode {
    if (depth > MAX_JSON_DEPTH) this.fail(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    const c = this.text.charCodeAt(this.pos);
    if (c === C_LBRACKET) return this.array(depth);
    if (c === C_LBRACE) return this.object(depth);
    if (c === C_QUOTE) {
      const start = this.pos;
      const value = this.string();
      return { type: 'string', start, end: this.pos, value };
    }
    if (c === C_MINUS || (c >= C_0 && c <= C_9) || c === 73 /* I */ || c === 78 /* N */) return this.number();
    return this.literal();
  }

  private array(depth: number): JsonNode {
    const start = this.pos;
    // Rows of a matrix are arrays of numbers: keep their values in one plain array, not a node per number.
    const fast = this.numberArray();
    if (fast) return fast;
    this.pos = start + 1;
    const items: JsonNode[] = [];
    this.ws();
    if (this.text.charCodeAt(this.pos) === C_RBRACKET) {
      this.pos++;
      return { type: 'array', start, end: this.pos, items };
    }
    for (;;) {
      this.ws();
      items.push(this.value(depth + 1));
      this.ws();
      const c = this.text.charCodeAt(this.pos);
      if (c === C_COMMA) { this.pos++; continue; }
      if (c === C_RBRACKET) { this.pos++; return { type: 'array', start, end: this.pos, items }; }
      this.fail(`expected "," or "]" but found ${this.describeHere()}`);
    }
  }

  /** A non-empty array holding only numbers, or undefined (pos then needs resetting) for anything else. */
  private numberArray(): JsonNode | undefined {
    const t = this.text;
    const start = this.pos;
    this.pos++;
    const values: number[] = [];
    for (;;) {
      this.ws();
      const c = t.charCodeAt(this.pos);
      if (!(c === C_MINUS || (c >= C_0 && c <= C_9) || c === 73 || c === 78)) return undefined;
      const from = this.pos;
      let end: number;
      try {
        end = this.skipNumber();
      } catch {
        return undefined; // the general path reports it with the same message
      }
      values.push(this.numberValue(from, end));
      this.ws();
      const d = t.charCodeAt(this.pos);
      if (d === C_COMMA) { this.pos++; continue; }
      if (d === C_RBRACKET) { this.pos++; return { type: 'numbers', start, end: this.pos, values }; }
      return undefined;
    }
  }

  private object(depth: number): JsonNode {
    const start = this.pos++;
    const entries: JsonEntry[] = [];
    this.ws();
    if (this.text.charCodeAt(this.pos) === C_RBRACE) {
      this.pos++;
      return { type: 'object', start, end: this.pos, entries };
    }
    for (;;) {
      this.ws();
      if (this.text.charCodeAt(this.pos) !== C_QUOTE) this.fail(`expected a key in double quotes but found ${this.describeHere()}`);
      const keyStart = this.pos;
      const key = this.string();
      const keyEnd = this.pos;
      this.ws();
      if (this.text.charCodeAt(this.pos) !== C_COLON) this.fail(`expected ":" after "${key}"`);
      this.pos++;
      this.ws();
      entries.push({ key, keyStart, keyEnd, value: this.value(depth + 1) });
      this.ws();
      const c = this.text.charCodeAt(this.pos);
      if (c === C_COMMA) { this.pos++; continue; }
      if (c === C_RBRACE) { this.pos++; return { type: 'object', start, end: this.pos, entries }; }
      this.fail(`expected "," or "}" but found ${this.describeHere()}`);
    }
  }

  string(): string {
    const t = this.text;
    const start = this.pos;
    let p = start + 1;
    let escaped = false;
    for (;;) {
      const c = t.charCodeAt(p);
      if (Number.isNaN(c)) this.fail('unterminated string', start, start + 1);
      if (c === C_QUOTE) break;
      if (c < 32) this.fail('control character in string (use \\n)', p);
      if (c === C_BACKSLASH) { escaped = true; p += 2; continue; }
      p++;
    }
    this.pos = p + 1;
    if (!escaped) return t.slice(start + 1, p);
    try {
      return JSON.parse(t.slice(start, p + 1)) as string; // parses a string literal only; nothing is evaluated
    } catch {
      this.fail('invalid escape in string', start, p + 1);
    }
  }

  private number(): JsonNode {
    const start = this.pos;
    const end = this.skipNumber();
    return { type: 'number', start, end, value: this.numberValue(start, end) };
  }

  /** The value of the number token text[start, end) (already validated by skipNumber). */
  numberValue(start: number, end: number): number {
    const t = this.text;
    const c = t.charCodeAt(start);
    if (c === 78 /* N */) return NaN;
    if (c === 73 /* I */) return Infinity;
    if (c === C_MINUS && t.charCodeAt(start + 1) === 73) return -Infinity;
    // Fast path (Clinger): up to 15 significant digits and a power of ten up to 1e22 are both exact doubles, so
    // one multiplication or division is correctly rounded, the same as Number(). Anything else goes to Number().
    let p = start;
    let neg = false;
    if (c === C_MINUS) { neg = true; p++; }
    let m = 0;
    let digits = 0;
    let frac = 0;
    let d = t.charCodeAt(p);
    while (d >= C_0 && d <= C_9) { m = m * 10 + (d - C_0); digits++; d = t.charCodeAt(++p); }
    if (d === C_DOT) {
      d = t.charCodeAt(++p);
      while (d >= C_0 && d <= C_9) { m = m * 10 + (d - C_0); digits++; frac++; d = t.charCodeAt(++p); }
    }
    let exp = 0;
    if (d === C_E || d === C_e) {
      d = t.charCodeAt(++p);
      let eneg = false;
      if (d === C_PLUS || d === C_MINUS) { eneg = d === C_MINUS; d = t.charCodeAt(++p); }
      while (d >= C_0 && d <= C_9 && exp < 1000) { exp = exp * 10 + (d - C_0); d = t.charCodeAt(++p); }
      if (eneg) exp = -exp;
    }
    const e10 = exp - frac;
    if (p === end && digits <= 15 && e10 >= -22 && e10 <= 22) {
      const v = e10 < 0 ? m / POW10[-e10] : m * POW10[e10];
      return neg ? -v : v;
    }
    return Number(t.slice(start, end));
  }

  /** Validates the number token at pos and moves past it, allocating nothing; returns its end. */
  skipNumber(): number {
    const t = this.text;
    const start = this.pos;
    let p = start;
    if (t.charCodeAt(p) === 78 && t.startsWith('NaN', p)) return (this.pos = p + 3);
    if (t.charCodeAt(p) === C_MINUS) p++;
    // Python's json writes NaN and ±Infinity; accept them so NumPy dumps load.
    if (t.charCodeAt(p) === 73 && t.startsWith('Infinity', p)) return (this.pos = p + 8);
    const digitsFrom = p;
    let c = t.charCodeAt(p);
    while (c >= C_0 && c <= C_9) c = t.charCodeAt(++p);
    if (p === digitsFrom) this.fail(`expected a value but found ${this.describeHere()}`);
    if (p - digitsFrom > 1 && t.charCodeAt(digitsFrom) === C_0) this.fail('numbers cannot have leading zeros', start, p);
    if (c === C_DOT) {
      const f = ++p;
      c = t.charCodeAt(p);
      while (c >= C_0 && c <= C_9) c = t.charCodeAt(++p);
      if (p === f) this.fail('expected digits after "."', start, p);
    }
    if (c === C_E || c === C_e) {
      c = t.charCodeAt(++p);
      if (c === C_PLUS || c === C_MINUS) c = t.charCodeAt(++p);
      const f = p;
      while (c >= C_0 && c <= C_9) c = t.charCodeAt(++p);
      if (p === f) this.fail('expected digits in the exponent', start, p);
    }
    return (this.pos = p);
  }

  private literal(): JsonNode {
    const start = this.pos;
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, start)) {
        this.pos += word.length;
        return { type: 'literal', start, end: this.pos, value };
      }
    }
    this.fail(`expected a value but found ${this.describeHere()}`);
  }

  /** Checks syntax of one value and moves past it without building anything (iterative: no recursion limit issues). */
  skipValue(): void {
    const t = this.text;
    const stack: number[] = [];
    for (;;) {
      this.ws();
      const c = t.charCodeAt(this.pos);
      if (c === C_LBRACKET || c === C_LBRACE) {
        if (stack.length >= MAX_JSON_DEPTH) this.fail(`nested deeper than ${MAX_JSON_DEPTH} levels`);
        stack.push(c);
        this.pos++;
        this.ws();
        const close = c === C_LBRACKET ? C_RBRACKET : C_RBRACE;
        if (t.charCodeAt(this.pos) === close) { this.pos++; stack.pop(); }
        else if (c === C_LBRACE) { this.skipKey(); continue; }
        else continue;
      } else if (c === C_QUOTE) this.string();
      else if (c === C_MINUS || (c >= C_0 && c <= C_9) || c === 73 || c === 78) this.skipNumber();
      else this.literal();
      // After a value: close containers or move to the next element.
      for (;;) {
        if (stack.length === 0) return;
        this.ws();
        const top = stack[stack.length - 1];
        const d = t.charCodeAt(this.pos);
        if (d === C_COMMA) {
          this.pos++;
          if (top === C_LBRACE) this.skipKey();
          break;
        }
        if ((top === C_LBRACKET && d === C_RBRACKET) || (top === C_LBRACE && d === C_RBRACE)) { this.pos++; stack.pop(); continue; }
        this.fail(`expected "," or "${top === C_LBRACKET ? ']' : '}'}" but found ${this.describeHere()}`);
      }
    }
  }

  private skipKey(): void {
    this.ws();
    if (this.text.charCodeAt(this.pos) !== C_QUOTE) this.fail(`expected a key in double quotes but found ${this.describeHere()}`);
    this.string();
    this.ws();
    if (this.text.charCodeAt(this.pos) !== C_COLON) this.fail('expected ":"');
    this.pos++;
  }
}

/** Parses a whole JSON document into nodes with offsets; syntax errors are MatrixErrors with a location. */
export function parseJson(text: string, file = '<json>'): JsonNode {
  return new Parser(text, file).parseDocument();
}
