// Turns a configuration file and everything it includes into one stream of tokens with
// the place of each. Line-level features live here, before any grammar: `@node` and
// `@^node` conditionals, `$NAME=value` definitions, comments, expansion, and `include`,
// which splices the named files in textually (so an included file may hold part of a
// block, as in keepalived). Includes are followed with an explicit stack, not recursion.
import path from 'node:path';
import type { SourcePos } from '../common/where';
import { describeFsError, type ConfigFs } from './config-fs';
import { Definitions, parseDefinition } from './definitions';
import type { Diagnostics } from './diagnostics';
import { globFiles } from './glob';
import { commentStart, lexLine, lineLengthMax, readQuoted, type LineSource } from './lexer';
import type { Token } from './token';

export const includeDepthMax = 16;
export const filesMax = 256;
export const tokensMax = 2_000_000;

export interface ReadOptions {
  readonly fs: ConfigFs;
  /** The node this configuration is read for: decides `@name` lines and ${_INSTANCE}. */
  readonly node: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface ReadResult {
  readonly tokens: Token[];
  /** Display names of every file read, the main one first. */
  readonly files: string[];
}

interface Frame {
  readonly kind: 'frame';
  readonly display: string;
  readonly abs: string;
  readonly real: string;
  readonly lines: string[];
  next: number;
}

/** A matched include waiting its turn: opened only when it reaches the top of the stack. */
interface Pending {
  readonly kind: 'pending';
  readonly abs: string;
  readonly display: string;
  readonly from: SourcePos;
}

const includeKeywords = new Set(['include', 'includer', 'includem', 'includew', 'includeb', 'includea']);

export function readConfig(mainPath: string, options: ReadOptions, diags: Diagnostics): ReadResult {
  const tokens: Token[] = [];
  const files: string[] = [];
  const definitions = new Definitions();
  const stack: Array<Frame | Pending> = [];

  const open = (abs: string, display: string, from: SourcePos | undefined): void => {
    let real: string;
    let text: string;
    try {
      real = options.fs.realpath(abs);
      text = options.fs.readFile(abs);
    } catch (err) {
      const message = `cannot read ${display}: ${describeFsError(err)}`;
      if (from === undefined) diags.add({ severity: 'error', code: 'HAD_CFG_FILE_UNREADABLE', message, file: display });
      else diags.error('HAD_CFG_FILE_UNREADABLE', message, from);
      return;
    }
    if (from !== undefined) {
      const chain = stack.filter((f): f is Frame => f.kind === 'frame');
      const cycle = chain.findIndex((f) => f.real === real);
      if (cycle !== -1) {
        const names = chain.slice(cycle).map((f) => f.display).concat(display).join(' -> ');
        diags.error('HAD_CFG_INCLUDE_CYCLE', `include cycle: ${names}`, from);
        return;
      }
      if (chain.length >= includeDepthMax) {
        diags.error('HAD_CFG_INCLUDE_LIMIT', `includes nested deeper than ${includeDepthMax} files`, from);
        return;
      }
      if (files.length >= filesMax) {
        diags.error('HAD_CFG_INCLUDE_LIMIT', `more than ${filesMax} files included`, from);
        return;
      }
    }
    files.push(display);
    stack.push({ kind: 'frame', display, abs, real, lines: text.split('\n'), next: 0 });
  };

  open(path.resolve(options.cwd, mainPath), mainPath, undefined);
  while (stack.length > 0 && tokens.length < tokensMax) {
    const top = stack[stack.length - 1] as Frame | Pending;
    if (top.kind === 'pending') {
      stack.pop();
      open(top.abs, top.display, top.from);
      continue;
    }
    const frame = top;
    if (frame.next >= frame.lines.length) {
      stack.pop();
      continue;
    }
    const lineNo = frame.next + 1;
    let raw = (frame.lines[frame.next++] as string).replace(/\r$/, '');
    const where = (col: number): SourcePos => ({ file: frame.display, line: lineNo, col });
    if (raw.length > lineLengthMax) {
      diags.error('HAD_CFG_BAD_VALUE', `line longer than ${lineLengthMax} characters`, where(1));
      continue;
    }

    // `@node` / `@^node`: keep the rest of the line only on (or only off) that node.
    let offset = 0;
    const cond = /^(\s*)@(\^?)(\S+)\s*/.exec(raw);
    if (cond !== null) {
      const negate = cond[2] === '^';
      const applies = (cond[3] === options.node) !== negate;
      if (!applies) continue;
      offset = cond[0].length;
      raw = raw.slice(offset);
    }

    const definition = parseDefinition(raw);
    if (definition !== null) {
      let value = stripComment(definition.value);
      while (value.endsWith('\\') && frame.next < frame.lines.length) {
        const more = (frame.lines[frame.next++] as string).replace(/\r$/, '');
        value = value.slice(0, -1) + '\n' + stripComment(more);
      }
      if (!definitions.define(definition.name, value.trim())) {
        diags.error('HAD_CFG_INCLUDE_LIMIT', `too many definitions (more than ${definitions.size})`, where(offset + 1));
      }
      continue;
    }

    const content = raw.slice(0, commentStart(raw));
    if (content.trim() === '') continue;
    let line: LineSource = { file: frame.display, line: lineNo, text: content, colOffset: offset };
    if (content.includes('$')) {
      const colMap = Array.from({ length: content.length }, (_, i) => offset + i + 1);
      const cx = { dir: path.dirname(frame.abs), node: options.node, env: options.env };
      const expanded = definitions.expand(content, colMap, cx);
      if (expanded.runaway) {
        diags.error('HAD_CFG_BAD_VALUE', 'definition expands without end (does it refer to itself?)', where(offset + 1));
        continue;
      }
      line = { ...line, text: expanded.text, colMap: expanded.colMap };
    }

    const include = firstWordIsInclude(line.text) ? /^\s*(\S+)\s*(.*)$/s.exec(line.text) : null;
    if (include !== null) {
      const keywordIndex = line.text.indexOf(include[1] as string);
      const at = where(line.colMap?.[keywordIndex] ?? offset + keywordIndex + 1);
      const pattern = unquote((include[2] as string).trim());
      if (pattern === '') {
        diags.error('HAD_CFG_MISSING_ARGUMENT', `${include[1]} needs a file name or pattern`, at);
        continue;
      }
      const matches = globFiles(options.fs, path.dirname(frame.abs), pattern);
      if (matches.length === 0) {
        diags.warn('HAD_CFG_INCLUDE_NO_MATCH', `include ${pattern}: no file matches`, at);
        continue;
      }
      // Pushed in reverse, so the first match is read first.
      for (const match of [...matches].reverse()) {
        const display = path.join(path.dirname(frame.display), path.relative(path.dirname(frame.abs), match));
        stack.push({ kind: 'pending', abs: match, display, from: at });
      }
      continue;
    }

    const lexed = lexLine(line, diags);
    for (const token of lexed) tokens.push(token);
    tokens.push({ kind: 'eol', text: '', quoted: false, where: where(offset + content.length + 1) });
  }
  if (tokens.length >= tokensMax) {
    diags.error('HAD_CFG_INCLUDE_LIMIT', `configuration has more than ${tokensMax} tokens`, tokens[tokens.length - 1]?.where);
  }
  return { tokens, files };
}

function firstWordIsInclude(text: string): boolean {
  const start = text.search(/\S/);
  if (start === -1 || text.charCodeAt(start) !== 105 /* i */) return false;
  const end = text.slice(start).search(/\s|$/);
  return includeKeywords.has(text.slice(start, start + end));
}

function stripComment(text: string): string {
  return text.slice(0, commentStart(text));
}

function unquote(text: string): string {
  if (text.startsWith('"') || text.startsWith("'")) {
    const q = readQuoted(text, 0);
    if (q !== null) return q.value;
  }
  return text;
}
