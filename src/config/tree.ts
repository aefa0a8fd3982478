// Groups tokens into statements and blocks. A statement is a keyword and its arguments,
// ended by the end of a line, a `{` (which opens its block) or a `}`. A `{` alone on a
// line opens the block of the statement just before it, so braces may sit on the same
// or the next line, and `real_server 10.0.0.1 80 { weight 2 }` is one line with two
// statements. Blocks are tracked on an explicit stack with a depth bound.
import type { SourcePos } from '../common/where';
import type { Diagnostics } from './diagnostics';
import type { Token } from './token';

export const blockDepthMax = 12;

export interface Statement {
  readonly keyword: Token;
  readonly args: Token[];
  /** Present when the statement opened a block, even an empty one. */
  block?: Statement[];
  /** Where its `{` stood. */
  open?: SourcePos;
  readonly where: SourcePos;
}

interface Level {
  readonly list: Statement[];
  readonly owner: Statement | null;
}

export function buildTree(tokens: readonly Token[], diags: Diagnostics): Statement[] {
  const root: Statement[] = [];
  const stack: Level[] = [{ list: root, owner: null }];
  let words: Token[] = [];
  let lastEnded: Statement | null = null;

  const flush = (): Statement | null => {
    if (words.length === 0) return null;
    const [keyword, ...args] = words as [Token, ...Token[]];
    const stmt: Statement = { keyword, args, where: keyword.where };
    (stack[stack.length - 1] as Level).list.push(stmt);
    words = [];
    return stmt;
  };

  for (const token of tokens) {
    switch (token.kind) {
      case 'word':
        words.push(token);
        break;
      case 'eol': {
        const stmt = flush();
        if (stmt !== null) lastEnded = stmt;
        break;
      }
      case 'open': {
        let owner = flush();
        if (owner === null && lastEnded !== null && lastEnded.block === undefined) owner = lastEnded;
        lastEnded = null;
        if (owner === null) {
          diags.error('HAD_CFG_UNEXPECTED_BRACE', "'{' without a keyword before it", token.where);
          owner = { keyword: { ...token, kind: 'word' }, args: [], where: token.where };
        }
        owner.block = [];
        owner.open = token.where;
        if (stack.length > blockDepthMax) {
          diags.error('HAD_CFG_NESTING_TOO_DEEP', `blocks nested deeper than ${blockDepthMax}`, token.where);
        }
        stack.push({ list: owner.block, owner });
        break;
      }
      case 'close': {
        flush();
        lastEnded = null;
        if (stack.length === 1) {
          diags.warn('HAD_CFG_UNEXPECTED_BRACE', "'}' closes no block: ignored, as keepalived ignores it", token.where);
          break;
        }
        stack.pop();
        break;
      }
    }
  }
  flush();
  for (let depth = stack.length - 1; depth >= 1; depth--) {
    const owner = (stack[depth] as Level).owner as Statement;
    const name = [owner.keyword, ...owner.args].map((t) => t.text).join(' ');
    diags.warn('HAD_CFG_UNCLOSED_BLOCK', `'{' of '${name}' is never closed: it ends with the file, as keepalived ends it`, owner.open);
  }
  return root;
}
