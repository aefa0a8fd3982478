// Splits one logical line (comments already removed, definitions expanded) into tokens.
// Words end at white space and braces; quotes (" or ') group words and may join parts
// shell-style (`a"b c"` is one word); inside quotes, C escapes apply (\n \t \r \\ \" \'
// \xHH \NNN and \cX for control characters), as in keepalived's quoted strings.
import type { SourcePos } from '../common/where';
import type { Diagnostics } from './diagnostics';
import type { Token } from './token';

export interface LineSource {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  /**
   * colMap[i] is the 1-based column in the original line of text[i] (past the end, the
   * last + 1). Without one, text[i] stood at column colOffset + i + 1: the common case of
   * a line that expanded nothing, which then allocates no map.
   */
  readonly colMap?: readonly number[];
  readonly colOffset?: number;
}

export const lineLengthMax = 64 * 1024;

export function lexLine(src: LineSource, diags: Diagnostics): Token[] {
  const tokens: Token[] = [];
  const { text } = src;
  const at = (i: number): SourcePos => ({ file: src.file, line: src.line, col: colAt(src, i) });
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\v' || c === '\f') {
      i++;
    } else if (c === '\n') {
      tokens.push({ kind: 'eol', text: '', quoted: false, where: at(i) });
      i++;
    } else if (c === '{' || c === '}') {
      tokens.push({ kind: c === '{' ? 'open' : 'close', text: c, quoted: false, where: at(i) });
      i++;
    } else {
      const start = i;
      let word = '';
      let quoted = false;
      while (i < text.length && !isWordEnd(text[i] as string)) {
        const q = text[i] as string;
        if (q !== '"' && q !== "'") {
          word += q;
          i++;
          continue;
        }
        const inner = readQuoted(text, i);
        if (inner === null) {
          diags.error('HAD_CFG_UNMATCHED_QUOTE', `unmatched ${q === '"' ? 'double' : 'single'} quote`, at(i));
          i = text.length;
          break;
        }
        word += inner.value;
        quoted = true;
        i = inner.end;
      }
      tokens.push({ kind: 'word', text: word, quoted, where: at(start) });
    }
  }
  return tokens;
}

function isWordEnd(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\v' || c === '\f' || c === '{' || c === '}';
}

function colAt(src: LineSource, i: number): number {
  const map = src.colMap;
  if (map === undefined) return (src.colOffset ?? 0) + i + 1;
  if (i < map.length) return map[i] as number;
  const last = map.length === 0 ? 0 : (map[map.length - 1] as number);
  return last + 1;
}

/** Reads the quoted part starting at text[open]; null when the quote is never closed. */
export function readQuoted(text: string, open: number): { value: string; end: number } | null {
  const quote = text[open];
  let value = '';
  let i = open + 1;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === quote) return { value, end: i + 1 };
    if (c === '\n') return null;
    if (c !== '\\' || i + 1 >= text.length) {
      value += c;
      i++;
      continue;
    }
    const escape = readEscape(text, i + 1);
    value += escape.value;
    i = escape.end;
  }
  return null;
}

function readEscape(text: string, at: number): { value: string; end: number } {
  const c = text[at] as string;
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', e: '\x1b' };
  if (c in simple) return { value: simple[c] as string, end: at + 1 };
  if (c === 'x') {
    const hex = /^[0-9a-fA-F]{1,2}/.exec(text.slice(at + 1, at + 3));
    if (hex !== null) return { value: String.fromCharCode(parseInt(hex[0], 16)), end: at + 1 + hex[0].length };
  }
  if (/[0-7]/.test(c)) {
    const oct = /^[0-7]{1,3}/.exec(text.slice(at, at + 3)) as RegExpExecArray;
    return { value: String.fromCharCode(parseInt(oct[0], 8) & 0xff), end: at + oct[0].length };
  }
  if (c === 'c' && at + 1 < text.length) {
    return { value: String.fromCharCode((text.charCodeAt(at + 1) & 0x1f) >>> 0), end: at + 2 };
  }
  return { value: c, end: at + 1 };
}

/**
 * Index where a `#` or `!` comment starts outside quotes, or text.length. An unmatched quote
 * keeps the rest of the line (the lexer then reports it).
 */
export function commentStart(text: string): number {
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '#' || c === '!') return i;
    if (c === '"' || c === "'") {
      const q = readQuoted(text, i);
      if (q === null) return text.length;
      i = q.end;
      continue;
    }
    i++;
  }
  return text.length;
}
