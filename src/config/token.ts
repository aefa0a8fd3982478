import type { SourcePos } from '../common/where';

/**
 * `word`: a keyword or value (quotes removed, escapes applied); `open`/`close`: braces;
 * `eol`: end of a logical line, which ends a statement.
 */
export type TokenKind = 'word' | 'open' | 'close' | 'eol';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** True when any part of the word was quoted: `"a b"` is one word, never a brace. */
  readonly quoted: boolean;
  readonly where: SourcePos;
}
