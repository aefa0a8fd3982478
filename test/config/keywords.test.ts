import assert from 'node:assert/strict';
import { assertClean, assertOne, at, atEnd, instance, lines, loadText, summary, withCode } from './load-text';

describe('keyword tables', () => {
  describe('unknown keywords', () => {
    it('an unknown keyword is a HAD_CFG_UNKNOWN_KEYWORD warning at it, and the block goes on', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'frobnicate 3', 'priority 120');
      const result = loadText(text);
      const d = assertOne(result, 'HAD_CFG_UNKNOWN_KEYWORD', 'warning', at(text, 'frobnicate'));
      assert.match(d.message, /'frobnicate' in vrrp_instance/);
      assert.equal(result.errorCount, 0);
      assert.equal(result.config.vrrpInstances[0]?.priority, 120);
    });

    it('a misspelt keyword gets a suggestion', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'priorty 120');
      const d = assertOne(loadText(text), 'HAD_CFG_UNKNOWN_KEYWORD', 'warning', at(text, 'priorty'));
      assert.match(d.message, /did you mean 'priority'\?/);
    });

    it('an unknown keyword at the top level is a warning, and the next blocks are read', () => {
      const text = 'frobnicate 3\n' + instance('VI_1', 1, '10.0.0.1');
      const result = loadText(text);
      const d = assertOne(result, 'HAD_CFG_UNKNOWN_KEYWORD', 'warning', at(text, 'frobnicate'));
      assert.match(d.message, /at the top level/);
      assert.equal(result.config.vrrpInstances.length, 1);
    });

    it('each unknown keyword is reported, in file order', () => {
      const text = lines('global_defs {', '    foo 1', '    router_id a', '    bar', '}');
      const result = loadText(text);
      assert.deepEqual(summary(result), [`warning HAD_CFG_UNKNOWN_KEYWORD ${at(text, 'foo')}`, `warning HAD_CFG_UNKNOWN_KEYWORD ${at(text, 'bar')}`]);
      assert.equal(result.config.global.routerId, 'a');
    });
  });

  describe('unknown blocks', () => {
    it('an unknown block at the top level is a HAD_CFG_UNKNOWN_BLOCK warning (keepalived warns and skips it) and its contents are ignored', () => {
      const text = lines('vrrp_instanse VI_1 {', '    priority 100', '}') + instance('VI_2', 2, '10.0.0.2');
      const result = loadText(text);
      const d = assertOne(result, 'HAD_CFG_UNKNOWN_BLOCK', 'warning', at(text, 'vrrp_instanse'));
      assert.match(d.message, /did you mean 'vrrp_instance'\?/);
      assert.deepEqual(result.config.vrrpInstances.map((i) => i.name), ['VI_2']);
      assert.equal(result.errorCount, 0);
      assert.equal(result.warningCount, 1, 'nothing inside the unknown block is reported');
    });

    it('an unknown block inside a block is a warning too', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'virtual_ipaddresses {', '    10.0.0.9', '}');
      const result = loadText(text);
      const d = assertOne(result, 'HAD_CFG_UNKNOWN_BLOCK', 'warning', at(text, 'virtual_ipaddresses'));
      assert.match(d.message, /in vrrp_instance/);
      assert.deepEqual(result.config.vrrpInstances[0]?.virtualIpAddresses.map((v) => v.address), ['10.0.0.1']);
    });

    it('a top-level block nested in another (a missing }) is an error naming both, and the open block is reported', () => {
      const text = lines('global_defs {', '    router_id a', '', ...instance('VI_1', 1, '10.0.0.1').trimEnd().split('\n'));
      const result = loadText(text);
      const nested = assertOne(result, 'HAD_CFG_UNKNOWN_BLOCK', 'error', at(text, 'vrrp_instance'));
      assert.match(nested.message, /'vrrp_instance' is a top-level block but stands inside 'global_defs': is a '}' missing above it\?/);
      assertOne(result, 'HAD_CFG_UNCLOSED_BLOCK', 'warning', at(text, '{'));
    });

    it("a virtual_server swallowed by a real_server's missing } is named as such", () => {
      const text = lines(
        'virtual_server 10.0.0.1 80 {',
        '    protocol TCP',
        '    real_server 10.0.0.2 80 {',
        '        weight 2',
        '',
        'virtual_server 10.0.0.1 81 {',
        '    protocol TCP',
        '}',
        '}',
      );
      const result = loadText(text);
      const d = assertOne(result, 'HAD_CFG_UNKNOWN_BLOCK', 'error', at(text, 'virtual_server', 2));
      assert.match(d.message, /stands inside 'real_server'/);
    });

    it('a keepalived block outside our scope (static_ipaddress) is a HAD_CFG_UNSUPPORTED warning, not an error', () => {
      const text = lines('static_ipaddress {', '    10.0.0.5/24 dev eth0', '}') + instance('VI_1', 1, '10.0.0.1');
      const result = loadText(text);
      const d = assertOne(result, 'HAD_CFG_UNSUPPORTED', 'warning', at(text, 'static_ipaddress'));
      assert.match(d.message, /not supported by hadirector/);
      assert.equal(result.errorCount, 0);
    });
  });

  describe('keepalived keywords outside our scope', () => {
    const cases: Array<[string, string]> = [
      ['use_ipvlan in vrrp_instance', instance('VI_1', 1, '10.0.0.1', 'use_ipvlan')],
      ['auth_hmac in vrrp_instance', instance('VI_1', 1, '10.0.0.1', 'auth_hmac {', '    key 1 hex:00', '}')],
      ['enable_snmp_vrrp in global_defs', lines('global_defs {', '    enable_snmp_vrrp', '}')],
      ['bfd_instance at the top level', lines('bfd_instance b1 {', '    neighbor_ip 10.0.0.9', '}')],
      ['persistence_engine in virtual_server', lines('virtual_server 10.0.0.1 5060 {', '    protocol UDP', '    persistence_engine sip', '    sorry_server 10.0.0.9 5060', '}')],
    ];
    for (const [name, text] of cases) {
      it(`${name} is a HAD_CFG_UNSUPPORTED warning and the file still loads`, () => {
        const keyword = name.split(' ')[0] as string;
        const result = loadText(text);
        assertOne(result, 'HAD_CFG_UNSUPPORTED', 'warning', at(text, keyword));
        assert.equal(result.errorCount, 0);
      });
    }
  });

  describe('strict', () => {
    it('turns every warning into an error with the same code and place', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'frobnicate', 'use_ipvlan');
      const plain = loadText(text);
      const strict = loadText(text, { strict: true });
      assert.deepEqual([plain.errorCount, plain.warningCount], [0, 2]);
      assert.deepEqual([strict.errorCount, strict.warningCount], [2, 0]);
      assert.deepEqual(
        strict.diagnostics.map((d) => [d.severity, d.code, d.where]),
        plain.diagnostics.map((d) => ['error', d.code, d.where]),
      );
    });

    it('leaves a clean file clean', () => {
      assertClean(loadText(instance('VI_1', 1, '10.0.0.1'), { strict: true }));
    });
  });

  describe('blocks where none belong, and none where one does', () => {
    it('a value keyword given a block is HAD_CFG_BLOCK_UNEXPECTED at its {, and its value is still read', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'priority 120 {', '}');
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_BLOCK_UNEXPECTED', 'error', atEnd(text, 'priority 120 '));
      assert.equal(result.config.vrrpInstances[0]?.priority, 120);
    });

    it('a flag given a block is reported the same way', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'nopreempt {', '    yes', '}');
      const result = loadText(text);
      assert.equal(withCode(result, 'HAD_CFG_BLOCK_UNEXPECTED').length, 1);
      assert.equal(withCode(result, 'HAD_CFG_UNKNOWN_KEYWORD').length, 0, 'the contents are not read');
    });

    it('a block keyword given a value instead is HAD_CFG_BLOCK_EXPECTED at it (and the value is surplus)', () => {
      const text = lines('vrrp_instance VI_1 {', '    interface eth0', '    virtual_router_id 1', '    virtual_ipaddress 10.0.0.1', '}');
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_BLOCK_EXPECTED', 'error', at(text, 'virtual_ipaddress'));
      assertOne(result, 'HAD_CFG_EXTRA_ARGUMENT', 'warning', at(text, '10.0.0.1'));
    });

    it('a top-level block with no block is HAD_CFG_BLOCK_EXPECTED', () => {
      for (const head of ['global_defs', 'vrrp_instance VI_1', 'vrrp_script chk', 'virtual_server 10.0.0.1 80', 'virtual_server_group G', 'cluster']) {
        const text = `${head}\n`;
        const result = loadText(text);
        assert.ok(
          withCode(result, 'HAD_CFG_BLOCK_EXPECTED').some((d) => d.where?.line === 1 && d.where.col === 1),
          `${head}: ${summary(result).join(', ')}`,
        );
      }
    });

    it('a { on the next line opens the block of the keyword above it', () => {
      const text = lines('vrrp_instance VI_1', '{', '    interface eth0', '    virtual_router_id 1', '    virtual_ipaddress', '    {', '        10.0.0.1', '    }', '}');
      const result = loadText(text);
      assertClean(result);
      assert.equal(result.config.vrrpInstances[0]?.virtualIpAddresses[0]?.address, '10.0.0.1');
    });

    it('a block may sit on one line, and ! or # start a comment', () => {
      const text = lines('virtual_server 10.0.0.1 80 { # web', '    protocol TCP ! as keepalived writes it', '    real_server 10.0.0.2 80 { weight 3 }', '}');
      const result = loadText(text);
      assertClean(result);
      assert.equal(result.config.virtualServers[0]?.realServers[0]?.weight, 3);
    });
  });
});
