import assert from 'node:assert/strict';
import { Definitions, parseDefinition } from '../../src/config/definitions';

const cx = { dir: '/etc/hadirector', node: 'd1', env: { HOME: '/root' } };
const cols = (text: string): number[] => Array.from({ length: text.length }, (_, i) => i + 1);

function expand(defs: Definitions, text: string) {
  return defs.expand(text, cols(text), cx);
}

describe('definitions', () => {
  it('parses $NAME=value at the start of a line, and nothing else', () => {
    assert.deepEqual(parseDefinition('$VIP=10.0.0.1'), { name: 'VIP', value: '10.0.0.1' });
    assert.deepEqual(parseDefinition('  $A_1=x y'), { name: 'A_1', value: 'x y' });
    assert.equal(parseDefinition('$VIP = 10.0.0.1'), null);
    assert.equal(parseDefinition('x $VIP=1'), null);
  });

  it('expands $NAME and ${NAME}, and leaves undefined names as written', () => {
    const defs = new Definitions();
    defs.define('VIP', '10.0.0.1');
    assert.equal(expand(defs, 'virtual_server $VIP 80').text, 'virtual_server 10.0.0.1 80');
    assert.equal(expand(defs, '${VIP}/32').text, '10.0.0.1/32');
    assert.equal(expand(defs, 'script "/bin/x $1 $OTHER"').text, 'script "/bin/x $1 $OTHER"');
  });

  it('expands at use time, so a definition may name one made later', () => {
    const defs = new Definitions();
    defs.define('A', '$B-x');
    defs.define('B', 'b');
    assert.equal(expand(defs, '$A').text, 'b-x');
  });

  it('knows ${_PWD}, ${_INSTANCE}, ${_HASH}, ${_BANG} and ${_ENV VAR}', () => {
    const defs = new Definitions();
    assert.equal(expand(defs, '${_PWD} ${_INSTANCE} ${_HASH} ${_BANG} ${_ENV HOME} ${_ENV NONE}').text, '/etc/hadirector d1 # ! /root ');
  });

  it('flags a definition that refers to itself', () => {
    const defs = new Definitions();
    defs.define('LOOP', 'x $LOOP');
    assert.equal(expand(defs, '$LOOP').runaway, true);
  });

  it('maps every expanded character to the column of its $', () => {
    const defs = new Definitions();
    defs.define('V', 'abc');
    const r = expand(defs, 'x $V y');
    assert.equal(r.text, 'x abc y');
    assert.deepEqual(r.colMap, [1, 2, 3, 3, 3, 5, 6]);
  });
});
