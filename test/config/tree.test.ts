import assert from 'node:assert/strict';
import { Diagnostics } from '../../src/config/diagnostics';
import { readConfig } from '../../src/config/reader';
import { blockDepthMax, buildTree, type Statement } from '../../src/config/tree';
import { memoryFs } from '../support/memory-fs';

function tree(text: string) {
  const diags = new Diagnostics();
  const { tokens } = readConfig('/c.conf', { fs: memoryFs({ '/c.conf': text }), node: 'd1', cwd: '/', env: {} }, diags);
  return { statements: buildTree(tokens, diags), diags: diags.list };
}

/** `keyword args { ... }` back as nested arrays, for compact assertions. */
function shape(list: readonly Statement[]): unknown[] {
  return list.map((s) => {
    const head = [s.keyword.text, ...s.args.map((a) => a.text)].join(' ');
    return s.block === undefined ? head : [head, shape(s.block)];
  });
}

describe('statement tree', () => {
  it('opens a block with a brace on the same line or on a later line', () => {
    assert.deepEqual(shape(tree('global_defs {\n router_id a\n}\nvrrp_script x\n\n{\n interval 1\n}').statements), [
      ['global_defs', ['router_id a']],
      ['vrrp_script x', ['interval 1']],
    ]);
  });

  it('holds several statements on one line through braces', () => {
    assert.deepEqual(shape(tree('virtual_server 10.0.0.1 80 { real_server 10.0.0.2 80 { weight 2 } } virtual_server fwmark 1 {\n}').statements), [
      ['virtual_server 10.0.0.1 80', [['real_server 10.0.0.2 80', ['weight 2']]]],
      ['virtual_server fwmark 1', []],
    ]);
  });

  it('reports a } that closes no block, and a { with no keyword', () => {
    const extra = tree('a {\n}\n}').diags;
    assert.deepEqual(extra.map((d) => [d.code, d.where?.line, d.where?.col]), [['HAD_CFG_UNEXPECTED_BRACE', 3, 1]]);
    const bare = tree('a {\n}\n{\n}').diags;
    assert.deepEqual(bare.map((d) => [d.code, d.where?.line]), [['HAD_CFG_UNEXPECTED_BRACE', 3]]);
  });

  it('reports each block left open, at its {', () => {
    const { diags } = tree('a {\n  b {\n  }\n  c {\n');
    assert.deepEqual(diags.map((d) => [d.code, d.where?.line, d.where?.col, d.message]), [
      ['HAD_CFG_UNCLOSED_BLOCK', 4, 5, "'{' of 'c' is never closed: it ends with the file, as keepalived ends it"],
      ['HAD_CFG_UNCLOSED_BLOCK', 1, 3, "'{' of 'a' is never closed: it ends with the file, as keepalived ends it"],
    ]);
  });

  it('refuses nesting deeper than the bound', () => {
    const deep = 'x {\n'.repeat(blockDepthMax + 2) + '}\n'.repeat(blockDepthMax + 2);
    assert.ok(tree(deep).diags.some((d) => d.code === 'HAD_CFG_NESTING_TOO_DEEP'));
  });

  it('does not let a later brace reopen a statement that already has a block', () => {
    const { statements, diags } = tree('a {\n}\n{\n  b 1\n}');
    assert.deepEqual(shape(statements), [['a', []]], 'the stray block is not attached to a');
    assert.equal(diags.length, 1);
  });
});
