import assert from 'node:assert/strict';
import type { VrrpInstanceConfig } from '../../src/vrrp/config';
import { assertClean, assertOne, at, atEnd, describeAll, instance, lines, loadText, mainFile, only, summary, withCode } from './load-text';

function firstInstance(text: string): VrrpInstanceConfig {
  const vi = loadText(text).config.vrrpInstances[0];
  assert.ok(vi !== undefined, 'an instance was read');
  return vi;
}

describe('vrrp_script', () => {
  const script = (...body: string[]): string => lines('vrrp_script chk {', ...body.map((b) => `    ${b}`), '}');

  it("has keepalived's defaults: interval 1 s, timeout = interval, weight 0, rise 1, fall 1", () => {
    const result = loadText(script('script /bin/true'));
    assertClean(result);
    assert.equal(result.config.vrrpScripts[0]?.timeoutMs, undefined, 'the timeout follows the interval');
    assert.deepEqual(result.config.vrrpScripts, [
      {
        name: 'chk',
        where: { file: mainFile, line: 1, col: 1 },
        script: { argv: ['/bin/true'], where: { file: mainFile, line: 2, col: 12 } },
        intervalMs: 1000,
        weight: 0,
        weightReverse: false,
        rise: 1,
        fall: 1,
        initFail: false,
      },
    ]);
  });

  it('splits a quoted script into argv, keeping inner quotes together', () => {
    const s = loadText(script(`script "/usr/bin/curl -sf 'http://127.0.0.1/health check' --max-time 2"`)).config.vrrpScripts[0];
    assert.deepEqual(s?.script?.argv, ['/usr/bin/curl', '-sf', 'http://127.0.0.1/health check', '--max-time', '2']);
  });

  it('reads the user and group written after the script', () => {
    const s = loadText(script('script "/bin/check a b" nobody nogroup')).config.vrrpScripts[0];
    assert.deepEqual(s?.script?.argv, ['/bin/check', 'a', 'b']);
    assert.equal(s?.script?.user, 'nobody');
    assert.equal(s?.script?.group, 'nogroup');
  });

  it('an unquoted script is one program with no arguments', () => {
    const s = loadText(script('script /usr/local/bin/check-ha')).config.vrrpScripts[0];
    assert.deepEqual(s?.script?.argv, ['/usr/local/bin/check-ha']);
    assert.equal(s?.script?.user, undefined);
  });

  it('reads interval, timeout, weight, rise, fall, user and init_fail', () => {
    const result = loadText(script('script /bin/true', 'interval 2.5', 'timeout 0.5', 'weight -20', 'rise 3', 'fall 4', 'user nobody nogroup', 'init_fail'));
    assertClean(result);
    const s = result.config.vrrpScripts[0];
    assert.equal(s?.intervalMs, 2500);
    assert.equal(s?.timeoutMs, 500);
    assert.equal(s?.weight, -20);
    assert.equal(s?.weightReverse, false);
    assert.equal(s?.rise, 3);
    assert.equal(s?.fall, 4);
    assert.equal(s?.user, 'nobody');
    assert.equal(s?.initFail, true);
  });

  it('weight N reverse sets the reverse flag', () => {
    const s = loadText(script('script /bin/true', 'weight 10 reverse')).config.vrrpScripts[0];
    assert.equal(s?.weight, 10);
    assert.equal(s?.weightReverse, true);
  });

  it('a word other than reverse after the weight is a warning at that word', () => {
    const text = script('script /bin/true', 'weight 10 backwards');
    const result = loadText(text);
    assertOne(result, 'HAD_CFG_UNKNOWN_KEYWORD', 'warning', at(text, 'backwards'));
    assert.equal(result.config.vrrpScripts[0]?.weightReverse, false);
  });

  const bad: Array<[string, string, 'HAD_CFG_OUT_OF_RANGE' | 'HAD_CFG_BAD_NUMBER']> = [
    ['weight 254', '254', 'HAD_CFG_OUT_OF_RANGE'],
    ['weight -254', '-254', 'HAD_CFG_OUT_OF_RANGE'],
    ['interval 0', '0', 'HAD_CFG_OUT_OF_RANGE'],
    ['interval 86401', '86401', 'HAD_CFG_OUT_OF_RANGE'],
    ['timeout soon', 'soon', 'HAD_CFG_BAD_NUMBER'],
    ['rise 0', '0', 'HAD_CFG_OUT_OF_RANGE'],
    ['fall 1.5', '1.5', 'HAD_CFG_BAD_NUMBER'],
  ];
  for (const [line, value, code] of bad) {
    it(`'${line}' is ${code} at '${value}' and keeps the default`, () => {
      const text = script('script /bin/true', line);
      const result = loadText(text);
      assertOne(result, code, 'warning', `${mainFile}:3:${5 + line.lastIndexOf(value)}`);
      const s = result.config.vrrpScripts[0];
      assert.deepEqual([s?.weight, s?.intervalMs, s?.timeoutMs, s?.rise, s?.fall], [0, 1000, undefined, 1, 1]);
    });
  }

  it('a vrrp_script with no script is a warning at the block', () => {
    const text = script('interval 2');
    assertOne(loadText(text), 'HAD_CFG_MISSING_KEYWORD', 'warning', at(text, 'vrrp_script'));
  });

  it('a vrrp_script with no name is HAD_CFG_MISSING_ARGUMENT', () => {
    const text = 'vrrp_script {\n  script /bin/true\n}\n';
    assertOne(loadText(text), 'HAD_CFG_MISSING_ARGUMENT', 'error', at(text, 'vrrp_script'));
  });

  it('two vrrp_scripts of one name: a HAD_CFG_DUPLICATE warning at the second, which is skipped', () => {
    const text = script('script /bin/true') + script('script /bin/false');
    const result = loadText(text);
    const d = assertOne(result, 'HAD_CFG_DUPLICATE', 'warning', at(text, 'vrrp_script', 2));
    assert.match(d.message, /h\.conf:1:1/);
    assert.deepEqual(result.config.vrrpScripts.map((x) => x.script?.argv.join(' ')), ['/bin/true']);
  });
});

describe('vrrp_instance', () => {
  describe('defaults', () => {
    it('a minimal instance is BACKUP, priority 100, advert 1 s, v2, preempting, with the global GARP timing', () => {
      const result = loadText(instance('VI_1', 51, '10.0.0.1'));
      assertClean(result);
      const vi = result.config.vrrpInstances[0];
      assert.equal(vi?.name, 'VI_1');
      assert.equal(vi?.initialState, 'BACKUP');
      assert.equal(vi?.interface, 'eth0');
      assert.equal(vi?.virtualRouterId, 51);
      assert.equal(vi?.priority, 100);
      assert.equal(vi?.advertIntMs, 1000);
      assert.equal(vi?.version, 2);
      assert.equal(vi?.preempt, true);
      assert.equal(vi?.preemptDelayMs, 0);
      assert.deepEqual(vi?.garp, { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1 });
      assert.equal(vi?.smtpAlert, false);
      assert.deepEqual([vi?.trackInterfaces, vi?.trackScripts, vi?.unicastPeers, vi?.virtualIpAddressesExcluded], [[], [], [], []]);
      assert.deepEqual(vi?.notify, {});
      assert.equal(vi?.authentication, undefined);
    });

    it('an instance with no virtual_router_id is an error at the block', () => {
      const text = lines('vrrp_instance VI_1 {', '  interface eth0', '  virtual_ipaddress {', '    10.0.0.1', '  }', '}');
      assertOne(loadText(text), 'HAD_CFG_MISSING_KEYWORD', 'error', at(text, 'vrrp_instance'));
    });

    it('an instance with no interface and no VIP gets two warnings at the block', () => {
      const text = lines('vrrp_instance VI_1 {', '  virtual_router_id 1', '}');
      const result = loadText(text);
      assert.deepEqual(withCode(result, 'HAD_CFG_MISSING_KEYWORD').map((d) => [d.severity, d.where?.line, d.where?.col]), [
        ['warning', 1, 1],
        ['warning', 1, 1],
      ]);
      assert.equal(result.errorCount, 0);
    });
  });

  describe('state', () => {
    it('MASTER and BACKUP are taken in any case', () => {
      assert.equal(firstInstance(instance('VI_1', 1, '10.0.0.1', 'state MASTER')).initialState, 'MASTER');
      assert.equal(firstInstance(instance('VI_1', 1, '10.0.0.1', 'state master')).initialState, 'MASTER');
      assert.equal(firstInstance(instance('VI_1', 1, '10.0.0.1', 'state BACKUP')).initialState, 'BACKUP');
    });

    it('an unknown state (SLAVE) is a warning at the value and BACKUP is used, as keepalived does', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'state SLAVE');
      const result = loadText(text);
      const d = assertOne(result, 'HAD_CFG_BAD_VALUE', 'warning', at(text, 'SLAVE'));
      assert.match(d.message, /SLAVE.*BACKUP/);
      assert.equal(result.config.vrrpInstances[0]?.initialState, 'BACKUP');
    });
  });

  describe('virtual_router_id, priority, advert_int, version', () => {
    it('reads them', () => {
      const vi = firstInstance(instance('VI_1', 255, '10.0.0.1', 'priority 254', 'advert_int 2', 'version 3'));
      assert.equal(vi.virtualRouterId, 255);
      assert.equal(vi.priority, 254);
      assert.equal(vi.advertIntMs, 2000);
      assert.equal(vi.version, 3);
    });

    it('virtual_router_id 0 and 256 are out of range at the value', () => {
      for (const vrid of ['0', '256']) {
        const text = lines('vrrp_instance VI_1 {', '  interface eth0', `  virtual_router_id ${vrid}`, '  virtual_ipaddress {', '    10.0.0.1', '  }', '}');
        const result = loadText(text);
        assertOne(result, 'HAD_CFG_OUT_OF_RANGE', 'warning', `${mainFile}:3:21`);
        assert.equal(result.config.vrrpInstances[0]?.virtualRouterId, undefined);
      }
    });

    it('priority 300 is HAD_CFG_OUT_OF_RANGE at the value and the default 100 stays', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'priority 300');
      const result = loadText(text);
      const d = assertOne(result, 'HAD_CFG_OUT_OF_RANGE', 'warning', at(text, '300'));
      assert.match(d.message, /1\.\.255/);
      assert.equal(result.errorCount, 0);
      assert.equal(result.config.vrrpInstances[0]?.priority, 100);
    });

    it('priority 0 is out of range (0 is reserved for a master that leaves)', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'priority 0');
      assertOne(loadText(text), 'HAD_CFG_OUT_OF_RANGE', 'warning', atEnd(text, 'priority '));
    });

    it('advert_int takes fractions of a second', () => {
      assert.equal(firstInstance(instance('VI_1', 1, '10.0.0.1', 'version 3', 'advert_int 0.25')).advertIntMs, 250);
    });

    it('advert_int below 0.01 or above 255 is out of range', () => {
      for (const v of ['0.001', '256']) {
        const text = instance('VI_1', 1, '10.0.0.1', `advert_int ${v}`);
        assertOne(loadText(text), 'HAD_CFG_OUT_OF_RANGE', 'warning', at(text, v));
      }
    });

    it('version 4 is out of range at the value', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'version 4');
      assertOne(loadText(text), 'HAD_CFG_OUT_OF_RANGE', 'warning', atEnd(text, 'version '));
    });
  });

  describe('preemption', () => {
    it('nopreempt turns preemption off', () => {
      assert.equal(firstInstance(instance('VI_1', 1, '10.0.0.1', 'nopreempt')).preempt, false);
    });

    it('preempt is accepted and turns it back on', () => {
      const result = loadText(instance('VI_1', 1, '10.0.0.1', 'nopreempt', 'preempt'));
      assertClean(result);
      assert.equal(result.config.vrrpInstances[0]?.preempt, true);
    });

    it('preempt_delay is read in seconds, up to 1000', () => {
      assert.equal(firstInstance(instance('VI_1', 1, '10.0.0.1', 'preempt_delay 2.5')).preemptDelayMs, 2500);
      const text = instance('VI_1', 1, '10.0.0.1', 'preempt_delay 1001');
      assertOne(loadText(text), 'HAD_CFG_OUT_OF_RANGE', 'warning', at(text, '1001'));
    });

    it('nopreempt with a value is a HAD_CFG_EXTRA_ARGUMENT warning', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'nopreempt yes');
      assertOne(loadText(text), 'HAD_CFG_EXTRA_ARGUMENT', 'warning', at(text, 'yes'));
    });
  });

  describe('virtual_ipaddress', () => {
    it('reads an address with /prefix, dev, label, brd, scope and no_track', () => {
      const vi = firstInstance(instance('VI_1', 1, '192.168.1.10/24 brd 192.168.1.255 dev eth1 scope link label eth1:vip no_track'));
      assert.deepEqual(vi.virtualIpAddresses, [
        {
          address: '192.168.1.10',
          family: 4,
          prefix: 24,
          where: { file: mainFile, line: 5, col: 9 },
          brd: '192.168.1.255',
          dev: 'eth1',
          scope: 'link',
          label: 'eth1:vip',
          noTrack: true,
        },
      ]);
    });

    it('an address with no prefix is a /32 (IPv4) or /128 (IPv6)', () => {
      const vi = firstInstance(lines('vrrp_instance VI_1 {', '  interface eth0', '  virtual_router_id 1', '  virtual_ipaddress {', '    10.0.0.1', '    2001:db8::1', '    2001:db8::2/64', '  }', '}'));
      assert.deepEqual(vi.virtualIpAddresses.map((v) => [v.address, v.family, v.prefix]), [
        ['10.0.0.1', 4, 32],
        ['2001:db8::1', 6, 128],
        ['2001:db8::2', 6, 64],
      ]);
    });

    it('scope takes a name or a number up to 255', () => {
      const vi = firstInstance(instance('VI_1', 1, '10.0.0.1 scope 200'));
      assert.equal(vi.virtualIpAddresses[0]?.scope, '200');
      const text = instance('VI_1', 1, '10.0.0.1 scope galaxy');
      assertOne(loadText(text), 'HAD_CFG_BAD_VALUE', 'error', at(text, 'galaxy'));
    });

    it('a bad address is HAD_CFG_BAD_ADDRESS at the address and the VIP is dropped', () => {
      const text = instance('VI_1', 1, '10.0.0.300/24');
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_BAD_ADDRESS', 'error', at(text, '10.0.0.300'));
      assert.deepEqual(result.config.vrrpInstances[0]?.virtualIpAddresses, []);
    });

    it('a prefix beyond 32 for IPv4 is HAD_CFG_BAD_ADDRESS', () => {
      const text = instance('VI_1', 1, '10.0.0.1/33');
      assertOne(loadText(text), 'HAD_CFG_BAD_ADDRESS', 'error', at(text, '10.0.0.1/33'));
    });

    it('a bad brd is HAD_CFG_BAD_ADDRESS at the broadcast address', () => {
      const text = instance('VI_1', 1, '10.0.0.1/24 brd 10.0.0.256');
      assertOne(loadText(text), 'HAD_CFG_BAD_ADDRESS', 'error', at(text, '10.0.0.256'));
    });

    it('an option with no value is HAD_CFG_MISSING_ARGUMENT at the option', () => {
      const text = instance('VI_1', 1, '10.0.0.1 dev');
      assertOne(loadText(text), 'HAD_CFG_MISSING_ARGUMENT', 'error', at(text, 'dev\n'));
    });

    it('an unknown option is a warning and the address is kept', () => {
      const text = instance('VI_1', 1, '10.0.0.1 frobnicate');
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_UNKNOWN_KEYWORD', 'warning', at(text, 'frobnicate'));
      assert.equal(result.config.vrrpInstances[0]?.virtualIpAddresses.length, 1);
    });

    it('virtual_ipaddress_excluded is read like virtual_ipaddress, into its own list', () => {
      const vi = firstInstance(instance('VI_1', 1, '10.0.0.1', 'virtual_ipaddress_excluded {', '    10.0.1.1/24 dev eth1', '}'));
      assert.deepEqual(vi.virtualIpAddressesExcluded.map((v) => [v.address, v.prefix, v.dev]), [['10.0.1.1', 24, 'eth1']]);
      assert.deepEqual(vi.virtualIpAddresses.map((v) => v.address), ['10.0.0.1']);
    });
  });

  describe('track_interface and track_script', () => {
    const text = lines(
      'vrrp_script chk_a {',
      '    script /bin/true',
      '}',
      'vrrp_script chk_b {',
      '    script /bin/true',
      '}',
      'vrrp_instance VI_1 {',
      '    interface eth0',
      '    virtual_router_id 1',
      '    virtual_ipaddress {',
      '        10.0.0.1',
      '    }',
      '    track_interface {',
      '        eth1',
      '        eth2 weight -10',
      '        eth3 weight 5 reverse',
      '    }',
      '    track_script {',
      '        chk_a',
      '        chk_b weight 20 reverse',
      '    }',
      '}',
    );

    it('reads names, weights and reverse; no weight means none', () => {
      const result = loadText(text);
      assertClean(result);
      const vi = result.config.vrrpInstances[0];
      assert.deepEqual(vi?.trackInterfaces.map((t) => [t.name, t.weight, t.reverse, t.where.line]), [
        ['eth1', undefined, false, 14],
        ['eth2', -10, false, 15],
        ['eth3', 5, true, 16],
      ]);
      assert.deepEqual(vi?.trackScripts.map((t) => [t.name, t.weight, t.reverse]), [
        ['chk_a', undefined, false],
        ['chk_b', 20, true],
      ]);
    });

    it('a weight outside -253..253 is out of range at the weight', () => {
      const t = instance('VI_1', 1, '10.0.0.1', 'track_interface {', '    eth1 weight 254', '}');
      assertOne(loadText(t), 'HAD_CFG_OUT_OF_RANGE', 'warning', at(t, '254'));
    });

    it('weight with no value is HAD_CFG_MISSING_ARGUMENT at the word weight', () => {
      const t = instance('VI_1', 1, '10.0.0.1', 'track_interface {', '    eth1 weight', '}');
      assertOne(loadText(t), 'HAD_CFG_MISSING_ARGUMENT', 'error', at(t, 'weight'));
    });

    it('an option other than weight is a warning at the option', () => {
      const t = instance('VI_1', 1, '10.0.0.1', 'track_interface {', '    eth1 factor 2', '}');
      assertOne(loadText(t), 'HAD_CFG_UNKNOWN_KEYWORD', 'warning', at(t, 'factor'));
    });

    it('track_script naming an unknown vrrp_script is HAD_CFG_UNKNOWN_REFERENCE at the name', () => {
      const t = instance('VI_1', 1, '10.0.0.1', 'track_script {', '    chk_missing', '}');
      const d = assertOne(loadText(t), 'HAD_CFG_UNKNOWN_REFERENCE', 'error', at(t, 'chk_missing'));
      assert.match(d.message, /chk_missing/);
    });

    it('track_script naming a vrrp_script with no command is a warning', () => {
      const t = lines('vrrp_script chk {', '    interval 1', '}') + instance('VI_1', 1, '10.0.0.1', 'track_script {', '    chk', '}');
      const result = loadText(t);
      assertOne(result, 'HAD_CFG_UNKNOWN_REFERENCE', 'warning', at(t, 'chk', 2));
      assert.equal(result.errorCount, 0);
    });
  });

  describe('authentication', () => {
    it('reads auth_type and auth_pass', () => {
      const vi = firstInstance(instance('VI_1', 1, '10.0.0.1', 'authentication {', '    auth_type PASS', '    auth_pass secret', '}'));
      assert.equal(vi.authentication?.type, 'PASS');
      assert.equal(vi.authentication?.pass, 'secret');
      assert.equal(vi.authentication?.where.line, 7);
    });

    it('auth_pass longer than 8 characters is cut to 8 with a warning at the password', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'authentication {', '    auth_type AH', '    auth_pass 0123456789', '}');
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_BAD_VALUE', 'warning', at(text, '0123456789'));
      assert.equal(result.config.vrrpInstances[0]?.authentication?.pass, '01234567');
      assert.equal(result.config.vrrpInstances[0]?.authentication?.type, 'AH');
    });

    it('an unknown auth_type is HAD_CFG_BAD_VALUE at the value', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'authentication {', '    auth_type MD5', '}');
      assertOne(loadText(text), 'HAD_CFG_BAD_VALUE', 'error', at(text, 'MD5'));
    });

    it('auth_type PASS with no auth_pass is an error', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'authentication {', '    auth_type PASS', '}');
      assertOne(loadText(text), 'HAD_CFG_MISSING_KEYWORD', 'error', at(text, 'authentication'));
    });

    it('authentication with VRRPv3 is a warning: v3 has no authentication field', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'version 3', 'authentication {', '    auth_type PASS', '    auth_pass x', '}');
      assertOne(loadText(text), 'HAD_CFG_CONFLICT', 'warning', at(text, 'authentication'));
    });
  });

  describe('unicast', () => {
    it("old_unicast_checksum: the old form from the start, 'never' to refuse it, anything else a warning at the word and keepalived's default", () => {
      assert.equal(firstInstance(instance('VI_1', 1, '10.0.0.1')).oldUnicastChecksum, 'on-hearing');
      assert.equal(firstInstance(instance('VI_1', 1, '10.0.0.1', 'old_unicast_checksum')).oldUnicastChecksum, 'always');
      assert.equal(firstInstance(instance('VI_1', 1, '10.0.0.1', 'old_unicast_checksum never')).oldUnicastChecksum, 'never');
      const text = instance('VI_1', 1, '10.0.0.1', 'old_unicast_checksum sometimes');
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_BAD_VALUE', 'warning', at(text, 'sometimes'));
      assert.equal(result.config.vrrpInstances[0]?.oldUnicastChecksum, 'on-hearing');
    });

    it('reads unicast_src_ip and unicast_peer with min_ttl and max_ttl', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'unicast_src_ip 10.0.0.11', 'unicast_peer {', '    10.0.0.12', '    10.0.0.13 min_ttl 250 max_ttl 255', '    2001:db8::14 max_ttl 64', '}');
      const result = loadText(text);
      assertClean(result);
      const vi = result.config.vrrpInstances[0];
      assert.deepEqual(vi?.unicastSrcIp, { address: '10.0.0.11', family: 4 });
      assert.deepEqual(vi?.unicastPeers.map((p) => [p.address, p.family, p.minTtl, p.maxTtl]), [
        ['10.0.0.12', 4, undefined, undefined],
        ['10.0.0.13', 4, 250, 255],
        ['2001:db8::14', 6, undefined, 64],
      ]);
    });

    it('a bad peer address, a TTL over 255 and an unknown option are reported at their words', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'unicast_src_ip 10.0.0.311', 'unicast_peer {', '    10.0.0.x', '    10.0.0.13 min_ttl 256', '    10.0.0.14 hops 3', '}');
      const result = loadText(text);
      assert.deepEqual(
        summary(result),
        [
          `error HAD_CFG_BAD_ADDRESS ${at(text, '10.0.0.311')}`,
          `error HAD_CFG_BAD_ADDRESS ${at(text, '10.0.0.x')}`,
          `warning HAD_CFG_OUT_OF_RANGE ${at(text, '256')}`,
          `warning HAD_CFG_UNKNOWN_KEYWORD ${at(text, 'hops')}`,
        ],
        describeAll(result),
      );
    });

    it('a peer listed twice is HAD_CFG_DUPLICATE at the second', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'unicast_peer {', '    10.0.0.12', '    10.0.0.12', '}');
      assertOne(loadText(text), 'HAD_CFG_DUPLICATE', 'error', at(text, '10.0.0.12', 2));
    });
  });

  describe('notify scripts, GARP, smtp_alert, lvs_sync_daemon_interface', () => {
    it('reads notify, notify_master, notify_backup, notify_fault and notify_stop as commands', () => {
      const vi = firstInstance(
        instance(
          'VI_1',
          1,
          '10.0.0.1',
          'notify "/etc/ha/notify.sh all"',
          'notify_master "/etc/ha/master.sh --vip 10.0.0.1" root',
          'notify_backup /etc/ha/backup.sh',
          'notify_fault "/etc/ha/fault.sh" nobody nogroup',
          'notify_stop /etc/ha/stop.sh',
        ),
      );
      assert.deepEqual(vi.notify.notify?.argv, ['/etc/ha/notify.sh', 'all']);
      assert.deepEqual(vi.notify.master?.argv, ['/etc/ha/master.sh', '--vip', '10.0.0.1']);
      assert.equal(vi.notify.master?.user, 'root');
      assert.deepEqual(vi.notify.backup?.argv, ['/etc/ha/backup.sh']);
      assert.deepEqual([vi.notify.fault?.argv, vi.notify.fault?.user, vi.notify.fault?.group], [['/etc/ha/fault.sh'], 'nobody', 'nogroup']);
      assert.deepEqual(vi.notify.stop?.argv, ['/etc/ha/stop.sh']);
    });

    it('a notify with no command is HAD_CFG_MISSING_ARGUMENT', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'notify_master');
      assertOne(loadText(text), 'HAD_CFG_MISSING_ARGUMENT', 'error', at(text, 'notify_master'));
    });

    it('reads garp_master_delay, _repeat, _refresh and _refresh_repeat', () => {
      const vi = firstInstance(instance('VI_1', 1, '10.0.0.1', 'garp_master_delay 2', 'garp_master_repeat 3', 'garp_master_refresh 120', 'garp_master_refresh_repeat 2'));
      assert.deepEqual(vi.garp, { masterDelayMs: 2000, masterRepeat: 3, masterRefreshMs: 120_000, masterRefreshRepeat: 2 });
    });

    it('garp_master_repeat 0 is out of range at the value', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'garp_master_repeat 0');
      assertOne(loadText(text), 'HAD_CFG_OUT_OF_RANGE', 'warning', atEnd(text, 'garp_master_repeat '));
    });

    it('reads smtp_alert and lvs_sync_daemon_interface', () => {
      const vi = firstInstance(instance('VI_1', 1, '10.0.0.1', 'smtp_alert', 'lvs_sync_daemon_interface eth1'));
      assert.equal(vi.smtpAlert, true);
      assert.equal(vi.lvsSyncDaemonInterface, 'eth1');
    });
  });

  describe('checks within an instance', () => {
    it('nopreempt with state MASTER is a HAD_CFG_CONFLICT warning at nopreempt', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'state MASTER', 'nopreempt');
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_CONFLICT', 'warning', at(text, 'nopreempt'));
      assert.equal(result.errorCount, 0);
    });

    it('nopreempt with state BACKUP is fine', () => {
      assertClean(loadText(instance('VI_1', 1, '10.0.0.1', 'state BACKUP', 'nopreempt')));
    });

    it('preempt_delay with nopreempt is a warning that it has no effect', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'nopreempt', 'preempt_delay 5');
      assertOne(loadText(text), 'HAD_CFG_CONFLICT', 'warning', at(text, 'nopreempt'));
    });

    it('priority 255 with state BACKUP is a warning at the priority: the owner starts as MASTER', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'state BACKUP', 'priority 255');
      assertOne(loadText(text), 'HAD_CFG_CONFLICT', 'warning', at(text, '255', 1));
    });

    it('priority 255 with state MASTER is fine', () => {
      assertClean(loadText(instance('VI_1', 1, '10.0.0.1', 'state MASTER', 'priority 255')));
    });

    it('VRRPv3 with advert_int above 40.95 s is HAD_CFG_OUT_OF_RANGE at the value', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'version 3', 'advert_int 41');
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_OUT_OF_RANGE', 'warning', at(text, '41'));
    });

    it('VRRPv3 takes advert_int 40.95 and VRRPv2 takes 255', () => {
      assertClean(loadText(instance('VI_1', 1, '10.0.0.1', 'version 3', 'advert_int 40.95')));
      assertClean(loadText(instance('VI_1', 1, '10.0.0.1', 'advert_int 255')));
    });

    it('the v3 limit also applies when vrrp_version 3 comes from global_defs', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'advert_int 50') + 'global_defs {\n  vrrp_version 3\n}\n';
      assertOne(loadText(text), 'HAD_CFG_OUT_OF_RANGE', 'warning', at(text, '50'));
    });

    it('a sub-second advert_int with VRRPv2 is a warning (v2 carries whole seconds)', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'advert_int 0.5');
      assertOne(loadText(text), 'HAD_CFG_CONFLICT', 'warning', at(text, '0.5'));
    });

    it('a VRRPv3 advert_int finer than centiseconds is a warning that it is rounded', () => {
      const text = instance('VI_1', 1, '10.0.0.1', 'version 3', 'advert_int 0.125');
      const d = assertOne(loadText(text), 'HAD_CFG_CONFLICT', 'warning', at(text, '0.125'));
      assert.match(d.message, /0\.13/);
    });

    it('a VIP listed twice in one instance is a HAD_CFG_DUPLICATE warning at the second', () => {
      const text = lines('vrrp_instance VI_1 {', '  interface eth0', '  virtual_router_id 1', '  virtual_ipaddress {', '    10.0.0.1/24', '    10.0.0.1', '  }', '}');
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_DUPLICATE', 'warning', `${mainFile}:6:5`);
      assert.equal(result.errorCount, 0);
    });
  });
});

describe('checks across vrrp_instances', () => {
  it('a duplicate VRID on one interface is HAD_CFG_DUPLICATE at the second VRID value, naming the first', () => {
    const text = instance('VI_1', 51, '10.0.0.1') + instance('VI_2', 51, '10.0.0.2');
    const result = loadText(text);
    const d = assertOne(result, 'HAD_CFG_DUPLICATE', 'error', at(text, '51', 2));
    assert.ok(d.message.includes(at(text, '51', 1)), d.message);
    assert.match(d.message, /virtual_router_id 51 on interface eth0/);
  });

  it('the same VRID on different interfaces is fine', () => {
    const text = instance('VI_1', 51, '10.0.0.1') + instance('VI_2', 51, '10.0.1.1').replace('interface eth0', 'interface eth1');
    assertClean(loadText(text));
  });

  it('the same VRID for an IPv4 and an IPv6 instance on one interface is fine (RFC 5798 keeps the families apart)', () => {
    const text = instance('VI_4', 51, '10.0.0.1') + instance('VI_6', 51, '2001:db8::1', 'version 3');
    assertClean(loadText(text));
  });

  it('two IPv6 instances with one VRID on one interface are a duplicate', () => {
    const text = instance('VI_1', 51, '2001:db8::1', 'version 3') + instance('VI_2', 51, '2001:db8::2', 'version 3');
    assertOne(loadText(text), 'HAD_CFG_DUPLICATE', 'error', at(text, '51', 2));
  });

  it('two instances of one name: a warning at the second block, which is skipped (as keepalived skips it)', () => {
    const text = instance('VI_1', 1, '10.0.0.1') + instance('VI_1', 2, '10.0.0.2');
    const result = loadText(text);
    assertOne(result, 'HAD_CFG_DUPLICATE', 'warning', at(text, 'vrrp_instance', 2));
    assert.deepEqual(result.config.vrrpInstances.map((i) => i.virtualRouterId), [1]);
  });

  it('a VIP in two instances is a HAD_CFG_DUPLICATE warning at the second (keepalived runs it)', () => {
    const text = instance('VI_1', 1, '10.0.0.1/24') + instance('VI_2', 2, '10.0.0.1');
    const result = loadText(text);
    const d = assertOne(result, 'HAD_CFG_DUPLICATE', 'warning', at(text, '10.0.0.1', 2));
    assert.match(d.message, /VI_2/);
  });

  it('a VIP twice in one instance and once in another gives two warnings', () => {
    const text = instance('VI_1', 1, '10.0.0.1', 'virtual_ipaddress {', '    10.0.0.1', '}') + instance('VI_2', 2, '10.0.0.1');
    const result = loadText(text);
    assert.deepEqual(withCode(result, 'HAD_CFG_DUPLICATE').map((d) => `${d.severity} ${d.where?.line}`), ['warning 8', 'warning 15']);
  });
});

describe('vrrp_sync_group', () => {
  const two = instance('VI_1', 1, '10.0.0.1') + instance('VI_2', 2, '10.0.0.2');

  it('reads group members, notify scripts, smtp_alert and trackers', () => {
    const text =
      two +
      lines('vrrp_script chk {', '    script /bin/true', '}') +
      lines(
        'vrrp_sync_group G1 {',
        '    group {',
        '        VI_1 VI_2',
        '    }',
        '    notify "/etc/ha/group.sh"',
        '    notify_master /etc/ha/gm.sh',
        '    notify_backup /etc/ha/gb.sh',
        '    notify_fault /etc/ha/gf.sh',
        '    notify_stop /etc/ha/gs.sh',
        '    smtp_alert',
        '    track_interface {',
        '        eth1',
        '    }',
        '    track_script {',
        '        chk',
        '    }',
        '}',
      );
    const result = loadText(text);
    assertClean(result);
    const g = result.config.vrrpSyncGroups[0];
    assert.deepEqual(g?.members.map((m) => m.name), ['VI_1', 'VI_2']);
    assert.deepEqual(
      [g?.notify.notify?.argv, g?.notify.master?.argv, g?.notify.backup?.argv, g?.notify.fault?.argv, g?.notify.stop?.argv],
      [['/etc/ha/group.sh'], ['/etc/ha/gm.sh'], ['/etc/ha/gb.sh'], ['/etc/ha/gf.sh'], ['/etc/ha/gs.sh']],
    );
    assert.equal(g?.smtpAlert, true);
    assert.deepEqual(g?.trackInterfaces.map((t) => t.name), ['eth1']);
    assert.deepEqual(g?.trackScripts.map((t) => t.name), ['chk']);
  });

  it('members listed outside group { } (the old syntax) are kept with a HAD_CFG_DEPRECATED warning each', () => {
    const text = two + lines('vrrp_sync_group G1 {', '    VI_1', '    VI_2', '}');
    const result = loadText(text);
    assert.deepEqual(withCode(result, 'HAD_CFG_DEPRECATED').map((d) => `${d.severity} ${d.where?.line}:${d.where?.col}`), ['warning 16:5', 'warning 17:5']);
    assert.equal(result.errorCount, 0);
    assert.deepEqual(result.config.vrrpSyncGroups[0]?.members.map((m) => m.name), ['VI_1', 'VI_2']);
  });

  it('a member naming an unknown instance is HAD_CFG_UNKNOWN_REFERENCE at the name', () => {
    const text = two + lines('vrrp_sync_group G1 {', '    group {', '        VI_1 VI_9', '    }', '}');
    const d = assertOne(loadText(text), 'HAD_CFG_UNKNOWN_REFERENCE', 'error', at(text, 'VI_9'));
    assert.match(d.message, /VI_9/);
  });

  it('an instance in two groups is HAD_CFG_CONFLICT at its place in the second group', () => {
    const text = two + instance('VI_3', 3, '10.0.0.3') + lines('vrrp_sync_group G1 {', '    group {', '        VI_1 VI_2', '    }', '}', 'vrrp_sync_group G2 {', '    group {', '        VI_3 VI_1', '    }', '}');
    const d = assertOne(loadText(text), 'HAD_CFG_CONFLICT', 'error', at(text, 'VI_1', 3));
    assert.match(d.message, /G1/);
  });

  it('a group with no members is an error and a group of one a warning', () => {
    const empty = two + lines('vrrp_sync_group G1 {', '}');
    assertOne(loadText(empty), 'HAD_CFG_MISSING_KEYWORD', 'error', at(empty, 'vrrp_sync_group'));
    const single = two + lines('vrrp_sync_group G1 {', '    group {', '        VI_1', '    }', '}');
    assertOne(loadText(single), 'HAD_CFG_RISKY', 'warning', at(single, 'vrrp_sync_group'));
  });

  it('a group track_script naming an unknown script is an error', () => {
    const text = two + lines('vrrp_sync_group G1 {', '    group {', '        VI_1 VI_2', '    }', '    track_script {', '        nope', '    }', '}');
    assertOne(loadText(text), 'HAD_CFG_UNKNOWN_REFERENCE', 'error', at(text, 'nope'));
  });

  it('two groups of one name are a duplicate', () => {
    const group = lines('vrrp_sync_group G1 {', '    group {', '        VI_1 VI_2', '    }', '}');
    const text = two + group + group;
    const result = loadText(text);
    assert.equal(only(result, 'HAD_CFG_DUPLICATE').where?.line, 20);
  });
});

describe('vrrp_track_file and vrrp_track_process', () => {
  it('reads a file tracker (weight 1 by default) and its init_file, under either top-level name', () => {
    const text = lines('vrrp_track_file prio {', '    file /run/ha/prio', '    weight -5 reverse', '    init_file 10 overwrite', '}', 'track_file other {', '    file /run/ha/other', '    init_file', '}');
    const result = loadText(text);
    assertClean(result);
    const [prio, other] = result.config.vrrpTrackFiles;
    assert.deepEqual([prio?.name, prio?.file, prio?.weight, prio?.weightReverse, prio?.initFile], ['prio', '/run/ha/prio', -5, true, { value: 10, overwrite: true }]);
    assert.deepEqual([other?.weight, other?.initFile], [1, { value: 0, overwrite: false }]);
  });

  it('reads a process tracker with its parameters, quorum and delays', () => {
    const text = lines('vrrp_track_process web {', '    process nginx -g "daemon off;"', '    param_match partial', '    weight -254', '    quorum 2', '    quorum_max 4', '    delay 1.5', '    terminate_delay 3', '    full_command', '}');
    const result = loadText(text);
    assertClean(result);
    const p = result.config.vrrpTrackProcesses[0];
    assert.deepEqual(
      [p?.process, p?.params, p?.paramMatch, p?.weight, p?.quorum, p?.quorumMax, p?.forkDelayMs, p?.terminateDelayMs, p?.fullCommand],
      ['nginx', ['-g', 'daemon off;'], 'partial', -254, 2, 4, 1500, 3000, true],
    );
  });

  it('instances and groups track them by name, with an optional weight', () => {
    const text =
      lines('vrrp_track_file prio {', '    file /run/prio', '}', 'vrrp_track_process web {', '    process nginx', '}') +
      instance('VI_1', 1, '10.0.0.1', 'track_file {', '    prio weight 3', '}', 'track_process {', '    web weight -254', '}');
    const result = loadText(text);
    assertClean(result);
    const vi = result.config.vrrpInstances[0];
    assert.deepEqual(vi?.trackFiles.map((r) => [r.name, r.weight]), [['prio', 3]]);
    assert.deepEqual(vi?.trackProcesses.map((r) => [r.name, r.weight]), [['web', -254]]);
  });

  it('unknown names are errors at the reference; quorum_max below quorum is an error', () => {
    const text = instance('VI_1', 1, '10.0.0.1', 'track_file {', '    nofile', '}', 'track_process {', '    noproc', '}');
    const result = loadText(text);
    assert.deepEqual(withCode(result, 'HAD_CFG_UNKNOWN_REFERENCE').map((d) => d.message), ["track_file names unknown vrrp_track_file 'nofile'", "track_process names unknown vrrp_track_process 'noproc'"]);
    const bad = lines('vrrp_track_process web {', '    process nginx', '    quorum 3', '    quorum_max 2', '}');
    assertOne(loadText(bad), 'HAD_CFG_CONFLICT', 'error', at(bad, 'vrrp_track_process'));
  });

  it('a weight in a sync group member is ignored, with a warning', () => {
    const text =
      lines('vrrp_script chk {', '    script /bin/true', '}') +
      instance('VI_1', 1, '10.0.0.1', 'track_script {', '    chk weight 10', '}') +
      instance('VI_2', 2, '10.0.0.2') +
      lines('vrrp_sync_group G1 {', '    group {', '        VI_1 VI_2', '    }', '}');
    const d = assertOne(loadText(text), 'HAD_CFG_CONFLICT', 'warning', at(text, 'chk weight'));
    assert.match(d.message, /weights are ignored in a sync group/);
  });

  it("the owner's weights are ignored, with a warning", () => {
    const text = lines('vrrp_script chk {', '    script /bin/true', '}') + instance('VI_1', 1, '10.0.0.1', 'priority 255', 'state MASTER', 'track_script {', '    chk weight -10', '}');
    assertOne(loadText(text), 'HAD_CFG_CONFLICT', 'warning', at(text, 'chk weight'));
  });
});
