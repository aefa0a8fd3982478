import assert from 'node:assert/strict';
import type { ConfigFs } from '../../src/config/config-fs';
import { Diagnostics } from '../../src/config/diagnostics';
import { readConfig } from '../../src/config/reader';
import { memoryFs } from '../support/memory-fs';

function read(files: Record<string, string>, node = 'd1', main = '/etc/h/main.conf', fs: ConfigFs = memoryFs(files)) {
  const diags = new Diagnostics();
  const result = readConfig(main, { fs, node, cwd: '/', env: {} }, diags);
  const lines: string[] = [];
  let current: string[] = [];
  for (const t of result.tokens) {
    if (t.kind === 'eol') {
      if (current.length > 0) lines.push(current.join(' '));
      current = [];
    } else current.push(t.text);
  }
  return { lines, files: result.files, diags: diags.list, tokens: result.tokens };
}

describe('config reader', () => {
  it('reads includes relative to the including file, not the working directory', () => {
    const r = read({ '/etc/h/main.conf': 'include conf.d/a.conf\nlast', '/etc/h/conf.d/a.conf': 'include b.conf\nfrom-a', '/etc/h/conf.d/b.conf': 'from-b' });
    assert.deepEqual(r.lines, ['from-b', 'from-a', 'last']);
    assert.deepEqual(r.files, ['/etc/h/main.conf', '/etc/h/conf.d/a.conf', '/etc/h/conf.d/b.conf']);
    assert.deepEqual(r.diags, []);
  });

  it('reads glob matches in sorted order and lets an included file hold part of a block', () => {
    const r = read({ '/etc/h/main.conf': 'vrrp_instance VI_1 {\ninclude parts/*.conf\n}', '/etc/h/parts/2.conf': 'priority 100', '/etc/h/parts/1.conf': 'interface lo' });
    assert.deepEqual(r.lines, ['vrrp_instance VI_1 {', 'interface lo', 'priority 100', '}']);
  });

  it('reports an include cycle at the include that closes it, naming the chain', () => {
    const r = read({ '/etc/h/main.conf': 'include a.conf', '/etc/h/a.conf': 'x\ninclude main.conf' });
    assert.deepEqual(r.diags.map((d) => [d.code, d.where?.file, d.where?.line, d.where?.col, d.message]), [
      ['HAD_CFG_INCLUDE_CYCLE', '/etc/h/a.conf', 2, 1, 'include cycle: /etc/h/main.conf -> /etc/h/a.conf -> /etc/h/main.conf'],
    ]);
  });

  it('reads the same file twice without calling it a cycle, and sibling matches are not a cycle', () => {
    const twice = read({ '/etc/h/main.conf': 'include x.conf\ninclude x.conf', '/etc/h/x.conf': 'x' });
    assert.deepEqual([twice.lines, twice.diags], [['x', 'x'], []]);
    const siblings = read({ '/etc/h/main.conf': 'include d/*.conf', '/etc/h/d/a.conf': 'include b.conf', '/etc/h/d/b.conf': 'b' });
    assert.deepEqual([siblings.lines, siblings.diags], [['b', 'b'], []]);
  });

  it('warns about a pattern with no match and reports an unreadable main file', () => {
    assert.deepEqual(read({ '/etc/h/main.conf': 'include none/*.conf' }).diags.map((d) => [d.code, d.severity]), [['HAD_CFG_INCLUDE_NO_MATCH', 'warning']]);
    const missing = read({}, 'd1', '/etc/h/nowhere.conf');
    assert.deepEqual(missing.diags.map((d) => [d.code, d.file, d.message]), [['HAD_CFG_FILE_UNREADABLE', '/etc/h/nowhere.conf', 'cannot read /etc/h/nowhere.conf: no such file']]);
  });

  it('keeps @node lines on that node only, and @^node lines everywhere else, with columns of the original line', () => {
    const files = { '/etc/h/main.conf': '@d1 priority 150\n@^d1 priority 100\n  @d2   state MASTER' };
    assert.deepEqual(read(files, 'd1').lines, ['priority 150']);
    const d2 = read(files, 'd2');
    assert.deepEqual(d2.lines, ['priority 100', 'state MASTER']);
    assert.equal(d2.tokens.find((t) => t.text === 'state')?.where.col, 9);
  });

  it('expands definitions, keeps columns at the $, and makes a multi-line definition several lines', () => {
    const r = read({ '/etc/h/main.conf': '$RS=real_server 10.0.0.2 80 { \\\n  weight 2 \\\n}\nvirtual_server 10.0.0.1 80 {\n  $RS\n}' });
    assert.deepEqual(r.lines, ['virtual_server 10.0.0.1 80 {', 'real_server 10.0.0.2 80 {', 'weight 2', '}', '}']);
    assert.equal(r.tokens.find((t) => t.text === 'weight')?.where.line, 5);
    assert.equal(r.tokens.find((t) => t.text === 'weight')?.where.col, 3);
  });

  it('strips comments and CR line endings', () => {
    assert.deepEqual(read({ '/etc/h/main.conf': 'a 1 # c\r\n! whole line\r\nb "x # y" ! note\r\n' }).lines, ['a 1', 'b x # y']);
  });

  it('follows a symlinked include to its real file for cycle detection', () => {
    const fs = memoryFs({ '/etc/h/main.conf': 'include link.conf', '/etc/h/real.conf': 'include main.conf' }, { '/etc/h/link.conf': '/etc/h/real.conf' });
    assert.deepEqual(read({}, 'd1', '/etc/h/main.conf', fs).diags.map((d) => d.code), ['HAD_CFG_INCLUDE_CYCLE']);
  });
});
