import assert from 'node:assert/strict';
import { Diagnostics } from '../../src/config/diagnostics';
import { commentStart, lexLine, readQuoted } from '../../src/config/lexer';

function lex(text: string, colMap?: number[]) {
  const diags = new Diagnostics();
  const tokens = lexLine({ file: 'f.conf', line: 3, text, ...(colMap ? { colMap } : {}) }, diags);
  return { tokens, diags: diags.list };
}

const words = (text: string): string[] => lex(text).tokens.map((t) => (t.kind === 'word' ? t.text : t.kind));

describe('lexer', () => {
  it('splits words on blanks and makes braces tokens wherever they stand', () => {
    assert.deepEqual(words('real_server 10.0.0.1 80 {weight 2}'), ['real_server', '10.0.0.1', '80', 'open', 'weight', '2', 'close']);
    assert.deepEqual(words('\t a  b\t'), ['a', 'b']);
  });

  it('gives each token its 1-based column, or the column the map says', () => {
    assert.deepEqual(lex('  priority 100').tokens.map((t) => t.where.col), [3, 12]);
    assert.deepEqual(lex('ab cd', [10, 11, 12, 13, 14]).tokens.map((t) => t.where.col), [10, 13]);
    assert.deepEqual(lex('a').tokens[0]?.where, { file: 'f.conf', line: 3, col: 1 });
  });

  it('groups quoted words, joins quoted parts shell-style and keeps braces inside quotes', () => {
    const { tokens } = lex(`script "killall -0 sshd" 'a b'c x"{y}"`);
    assert.deepEqual(tokens.map((t) => [t.text, t.quoted]), [['script', false], ['killall -0 sshd', true], ['a bc', true], ['x{y}', true]]);
  });

  it('applies escapes inside quotes only', () => {
    assert.deepEqual(words(`"a\\tb\\n\\\\\\"\\x41\\101\\cA"`), ['a\tb\n\\"AA\x01']);
    assert.deepEqual(words('a\\tb'), ['a\\tb']);
  });

  it('reports an unmatched quote at the quote', () => {
    const { diags } = lex('script "/bin/true');
    assert.deepEqual(diags.map((d) => [d.code, d.severity, d.where?.col]), [['HAD_CFG_UNMATCHED_QUOTE', 'error', 8]]);
  });

  it('turns a newline into an end-of-line token (multi-line definitions)', () => {
    assert.deepEqual(words('a\nb'), ['a', 'eol', 'b']);
  });

  it('finds comments (# or !) only outside quotes', () => {
    assert.equal(commentStart('priority 100 # high'), 13);
    assert.equal(commentStart('weight 2 ! note'), 9);
    assert.equal(commentStart('script "echo #1 !" # real'), 19);
    assert.equal(commentStart('no comment'), 10);
    assert.equal(commentStart('script "unclosed # not a comment'), 32);
  });

  it('reads a quoted part and says where it ends', () => {
    assert.deepEqual(readQuoted(`"ab" c`, 0), { value: 'ab', end: 4 });
    assert.equal(readQuoted(`'open`, 0), null);
  });
});
