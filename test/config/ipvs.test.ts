import assert from 'node:assert/strict';
import { schedulers, type VirtualServerConfig } from '../../src/ipvs/config';
import { assertClean, assertNoErrors, assertOne, at, atEnd, describeAll, lines, loadText, mainFile, service, summary, withCode } from './load-text';

const rs = (address: string, ...body: string[]): string[] => [`real_server ${address} {`, ...body.map((b) => `    ${b}`), '}'];

function firstService(text: string): VirtualServerConfig {
  const result = loadText(text);
  const vs = result.config.virtualServers[0];
  assert.ok(vs !== undefined, `a virtual server was read:\n${describeAll(result)}`);
  return vs;
}

describe('virtual_server', () => {
  describe('the service key', () => {
    it('IP PORT is an address service', () => {
      const vs = firstService(service('192.168.200.100 443', ...rs('10.0.0.2 443')));
      assert.deepEqual(vs.key, { kind: 'address', address: '192.168.200.100', family: 4, port: 443 });
      assert.deepEqual(vs.where, { file: mainFile, line: 1, col: 1 });
    });

    it('an IPv6 address is an IPv6 service', () => {
      const result = loadText(service('2001:db8::100 80', ...rs('2001:db8::2 80')));
      assertClean(result);
      assert.deepEqual(result.config.virtualServers[0]?.key, { kind: 'address', address: '2001:db8::100', family: 6, port: 80 });
      assert.deepEqual(result.config.virtualServers[0]?.realServers.map((r) => [r.address, r.family, r.port]), [['2001:db8::2', 6, 80]]);
    });

    it('fwmark N is a firewall-mark service', () => {
      const result = loadText(lines('virtual_server fwmark 4000000000 {', ...rs('10.0.0.2'), '}'));
      assertClean(result);
      assert.deepEqual(result.config.virtualServers[0]?.key, { kind: 'fwmark', mark: 4_000_000_000 });
    });

    it('fwmark 0 is out of range at the mark', () => {
      const text = lines('virtual_server fwmark 0 {', ...rs('10.0.0.2'), '}');
      assertOne(loadText(text), 'HAD_CFG_OUT_OF_RANGE', 'warning', atEnd(text, 'fwmark '));
    });

    it('group NAME names a virtual_server_group', () => {
      const text = lines('virtual_server_group WEB {', '    10.0.0.100 80', '}') + service('group WEB', ...rs('10.0.0.2 80'));
      const result = loadText(text);
      assertClean(result);
      assert.deepEqual(result.config.virtualServers[0]?.key, { kind: 'group', name: 'WEB' });
    });

    it('group naming no virtual_server_group is HAD_CFG_UNKNOWN_REFERENCE at the virtual_server', () => {
      const text = service('group NOPE', ...rs('10.0.0.2 80'));
      const d = assertOne(loadText(text), 'HAD_CFG_UNKNOWN_REFERENCE', 'error', at(text, 'virtual_server'));
      assert.match(d.message, /NOPE/);
    });

    it('a bad address or port is reported at that word and the service is dropped', () => {
      const text = service('10.0.0.300 80') + service('10.0.0.1 http');
      const result = loadText(text);
      assert.deepEqual(summary(result), [`error HAD_CFG_BAD_ADDRESS ${at(text, '10.0.0.300')}`, `error HAD_CFG_BAD_NUMBER ${at(text, 'http')}`]);
      assert.equal(result.config.virtualServers.length, 0);
    });

    it('a head with one word is HAD_CFG_MISSING_ARGUMENT', () => {
      const text = service('10.0.0.1');
      assertOne(loadText(text), 'HAD_CFG_MISSING_ARGUMENT', 'error', at(text, 'virtual_server'));
    });

    it('a surplus word in the head is a warning at it', () => {
      const text = service('10.0.0.1 80 tcp', ...rs('10.0.0.2 80'));
      assertOne(loadText(text), 'HAD_CFG_EXTRA_ARGUMENT', 'warning', at(text, 'tcp'));
    });
  });

  describe('defaults', () => {
    it('wlc, NAT, TCP, no persistence, quorum 1, hysteresis 0, all flags off; weight 1 and delay_loop 60 s below', () => {
      const text = lines('virtual_server 10.0.0.1 80 {', ...rs('10.0.0.2 80', 'TCP_CHECK {', '}'), '}');
      const result = loadText(text);
      const vs = result.config.virtualServers[0];
      assert.ok(vs !== undefined);
      assert.equal(vs.scheduler, 'wlc');
      assert.deepEqual(vs.schedulerFlags, []);
      assert.equal(vs.method, 'NAT');
      assert.equal(vs.protocol, 'TCP');
      assert.equal(vs.persistenceTimeoutS, undefined);
      assert.equal(vs.persistenceGranularity, undefined);
      assert.equal(vs.sorryServer, undefined);
      assert.equal(vs.quorum, 1);
      assert.equal(vs.hysteresis, 0);
      assert.deepEqual([vs.alpha, vs.omega, vs.haSuspend, vs.onePacket, vs.inhibitOnFailure, vs.sorryServerInhibit], [false, false, false, false, false, false]);
      assert.deepEqual(vs.timing, {});
      const real = vs.realServers[0];
      assert.equal(real?.weight, 1);
      assert.equal(real?.method, undefined, 'a real server follows its service');
      assert.equal(real?.inhibitOnFailure, false);
      assert.deepEqual([real?.upperThreshold, real?.lowerThreshold], [0, 0]);
      assert.equal(real?.checkers[0]?.timing.delayLoopMs, 60_000);
    });

    it('a missing protocol means TCP, with a HAD_CFG_IMPLICIT_DEFAULT warning at the virtual_server', () => {
      const text = lines('virtual_server 10.0.0.1 80 {', ...rs('10.0.0.2 80'), '}');
      const result = loadText(text);
      const d = assertOne(result, 'HAD_CFG_IMPLICIT_DEFAULT', 'warning', at(text, 'virtual_server'));
      assert.match(d.message, /TCP/);
      assert.equal(result.config.virtualServers[0]?.protocol, 'TCP');
      assert.equal(result.errorCount, 0);
    });

    it('a group service with no protocol gets the same warning', () => {
      const text = lines('virtual_server_group G {', '    10.0.0.1 80', '}', 'virtual_server group G {', ...rs('10.0.0.2 80'), '}');
      assertOne(loadText(text), 'HAD_CFG_IMPLICIT_DEFAULT', 'warning', at(text, 'virtual_server group'));
    });

    it('a fwmark service with no protocol gets no warning', () => {
      assertClean(loadText(lines('virtual_server fwmark 1 {', ...rs('10.0.0.2'), '}')));
    });
  });

  describe('lb_algo / lvs_sched', () => {
    it('knows all 14 IPVS schedulers', () => {
      assert.deepEqual([...schedulers].sort(), ['dh', 'fo', 'lblc', 'lblcr', 'lc', 'mh', 'nq', 'ovf', 'rr', 'sed', 'sh', 'twos', 'wlc', 'wrr']);
    });

    for (const scheduler of schedulers) {
      it(`lb_algo ${scheduler} and lvs_sched ${scheduler} both select ${scheduler}`, () => {
        for (const keyword of ['lb_algo', 'lvs_sched']) {
          const result = loadText(service('10.0.0.1 80', `${keyword} ${scheduler}`, ...rs('10.0.0.2 80')));
          assertClean(result);
          assert.equal(result.config.virtualServers[0]?.scheduler, scheduler);
        }
      });
    }

    it('an unknown lb_algo is HAD_CFG_BAD_VALUE at the value and wlc stays', () => {
      const text = service('10.0.0.1 80', 'lb_algo roundrobin', ...rs('10.0.0.2 80'));
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_BAD_VALUE', 'error', at(text, 'roundrobin'));
      assert.equal(result.config.virtualServers[0]?.scheduler, 'wlc');
    });

    it('scheduler names are case-sensitive, as ipvsadm takes them', () => {
      const text = service('10.0.0.1 80', 'lb_algo RR', ...rs('10.0.0.2 80'));
      assertOne(loadText(text), 'HAD_CFG_BAD_VALUE', 'error', at(text, 'RR'));
    });

    it('reads scheduler flags once each', () => {
      const vs = firstService(service('10.0.0.1 80', 'lb_algo sh', 'sh-port', 'sh-fallback', 'sh-port', 'flag-3', ...rs('10.0.0.2 80')));
      assert.deepEqual(vs.schedulerFlags, ['sh-port', 'sh-fallback', 'flag-3']);
    });

    it('an sh- flag with another scheduler is a warning', () => {
      const text = service('10.0.0.1 80', 'lb_algo rr', 'sh-port', ...rs('10.0.0.2 80'));
      assertOne(loadText(text), 'HAD_CFG_CONFLICT', 'warning', at(text, 'virtual_server'));
    });
  });

  describe('lb_kind / lvs_method', () => {
    for (const method of ['NAT', 'DR', 'TUN'] as const) {
      it(`lb_kind ${method} and lvs_method ${method.toLowerCase()} both select ${method}`, () => {
        for (const line of [`lb_kind ${method}`, `lvs_method ${method.toLowerCase()}`]) {
          const result = loadText(service('10.0.0.1 80', line, ...rs('10.0.0.2 80')));
          assertClean(result);
          assert.equal(result.config.virtualServers[0]?.method, method);
        }
      });
    }

    it('an unknown method is HAD_CFG_BAD_VALUE at the value', () => {
      const text = service('10.0.0.1 80', 'lb_kind FULLNAT', ...rs('10.0.0.2 80'));
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_BAD_VALUE', 'error', at(text, 'FULLNAT'));
      assert.equal(result.config.virtualServers[0]?.method, 'NAT');
    });

    it('tunnel options after TUN are a HAD_CFG_UNSUPPORTED warning', () => {
      const text = service('10.0.0.1 80', 'lvs_method TUN type gue port 5555', ...rs('10.0.0.2 80'));
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_UNSUPPORTED', 'warning', at(text, 'type'));
      assert.equal(result.config.virtualServers[0]?.method, 'TUN');
    });
  });

  describe('persistence', () => {
    it('persistence_timeout alone means 360 s', () => {
      assert.equal(firstService(service('10.0.0.1 80', 'persistence_timeout', ...rs('10.0.0.2 80'))).persistenceTimeoutS, 360);
    });

    it('persistence_timeout N sets N seconds', () => {
      assert.equal(firstService(service('10.0.0.1 80', 'persistence_timeout 900', ...rs('10.0.0.2 80'))).persistenceTimeoutS, 900);
    });

    it('persistence_timeout 0 is out of range at the value', () => {
      const text = service('10.0.0.1 80', 'persistence_timeout 0', ...rs('10.0.0.2 80'));
      assertOne(loadText(text), 'HAD_CFG_OUT_OF_RANGE', 'warning', atEnd(text, 'persistence_timeout '));
    });

    it('persistence_granularity takes a netmask for IPv4', () => {
      const result = loadText(service('10.0.0.1 80', 'persistence_timeout', 'persistence_granularity 255.255.255.0', ...rs('10.0.0.2 80')));
      assertClean(result);
      assert.equal(result.config.virtualServers[0]?.persistenceGranularity, '255.255.255.0');
    });

    it('persistence_granularity takes a prefix length for IPv6', () => {
      const result = loadText(service('2001:db8::1 80', 'persistence_timeout 60', 'persistence_granularity 64', ...rs('2001:db8::2 80')));
      assertClean(result);
      assert.equal(result.config.virtualServers[0]?.persistenceGranularity, '64');
    });

    it('a mask with holes is HAD_CFG_BAD_ADDRESS at the mask', () => {
      const text = service('10.0.0.1 80', 'persistence_timeout', 'persistence_granularity 255.0.255.0', ...rs('10.0.0.2 80'));
      assertOne(loadText(text), 'HAD_CFG_BAD_ADDRESS', 'error', at(text, '255.0.255.0'));
    });

    it('a prefix length on an IPv4 service, or a netmask on an IPv6 one, is HAD_CFG_BAD_ADDRESS', () => {
      const v4 = service('10.0.0.1 80', 'persistence_timeout', 'persistence_granularity 24', ...rs('10.0.0.2 80'));
      assertOne(loadText(v4), 'HAD_CFG_BAD_ADDRESS', 'error', at(v4, 'virtual_server'));
      const v6 = service('2001:db8::1 80', 'persistence_timeout', 'persistence_granularity 255.255.0.0', ...rs('2001:db8::2 80'));
      assertOne(loadText(v6), 'HAD_CFG_BAD_ADDRESS', 'error', at(v6, 'virtual_server'));
    });

    it('persistence_granularity without persistence_timeout is a warning', () => {
      const text = service('10.0.0.1 80', 'persistence_granularity 255.255.255.0', ...rs('10.0.0.2 80'));
      assertOne(loadText(text), 'HAD_CFG_CONFLICT', 'warning', at(text, 'virtual_server'));
    });
  });

  describe('protocol', () => {
    for (const p of ['TCP', 'UDP', 'SCTP'] as const) {
      it(`protocol ${p.toLowerCase()} selects ${p}`, () => {
        const result = loadText(lines('virtual_server 10.0.0.1 80 {', `    protocol ${p.toLowerCase()}`, ...rs('10.0.0.2 80'), '}'));
        assertClean(result);
        assert.equal(result.config.virtualServers[0]?.protocol, p);
      });
    }

    it('an unknown protocol is HAD_CFG_BAD_VALUE at the value', () => {
      const text = lines('virtual_server 10.0.0.1 80 {', '    protocol ICMP', ...rs('10.0.0.2 80'), '}');
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_BAD_VALUE', 'error', at(text, 'ICMP'));
      assert.equal(withCode(result, 'HAD_CFG_IMPLICIT_DEFAULT').length, 0, 'a protocol was written, even if bad');
    });

    it('a protocol on a fwmark service is a HAD_CFG_CONFLICT warning at the protocol', () => {
      const text = lines('virtual_server fwmark 1 {', '    protocol UDP', ...rs('10.0.0.2'), '}');
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_CONFLICT', 'warning', at(text, 'protocol'));
      assert.equal(result.errorCount, 0);
    });

    it('the same address and port with TCP and with UDP are two services', () => {
      const text = service('10.0.0.1 53', ...rs('10.0.0.2 53')) + lines('virtual_server 10.0.0.1 53 {', '    protocol UDP', ...rs('10.0.0.2 53'), '}');
      assertClean(loadText(text));
    });

    it('the same address, port and protocol twice is HAD_CFG_DUPLICATE at the second', () => {
      const text = service('10.0.0.1 80', ...rs('10.0.0.2 80')) + service('10.0.0.1 80', ...rs('10.0.0.3 80'));
      assertOne(loadText(text), 'HAD_CFG_DUPLICATE', 'error', at(text, 'virtual_server', 2));
    });
  });

  describe('sorry_server, quorum and the service flags', () => {
    it('reads sorry_server with and without a port, and sorry_server_inhibit', () => {
      const a = firstService(service('10.0.0.1 80', 'sorry_server 10.0.0.9 8080', 'sorry_server_inhibit', ...rs('10.0.0.2 80')));
      assert.deepEqual([a.sorryServer?.address, a.sorryServer?.family, a.sorryServer?.port, a.sorryServerInhibit], ['10.0.0.9', 4, 8080, true]);
      const b = firstService(service('10.0.0.1 80', 'sorry_server 10.0.0.9', ...rs('10.0.0.2 80')));
      assert.equal(b.sorryServer?.port, undefined);
    });

    it('a sorry_server alone is enough to serve; neither is a warning', () => {
      assertClean(loadText(service('10.0.0.1 80', 'sorry_server 10.0.0.9 80')));
      const text = service('10.0.0.1 80');
      assertOne(loadText(text), 'HAD_CFG_MISSING_KEYWORD', 'warning', at(text, 'virtual_server'));
    });

    it('a bad sorry_server address is HAD_CFG_BAD_ADDRESS at it', () => {
      const text = service('10.0.0.1 80', 'sorry_server sorry.example.com 80', ...rs('10.0.0.2 80'));
      assertOne(loadText(text), 'HAD_CFG_BAD_ADDRESS', 'error', at(text, 'sorry.example.com'));
    });

    it('reads quorum, hysteresis, quorum_up and quorum_down', () => {
      const vs = firstService(service('10.0.0.1 80', 'quorum 7', 'hysteresis 2', 'quorum_up "/etc/ha/up.sh web"', 'quorum_down /etc/ha/down.sh', ...rs('10.0.0.2 80')));
      assert.deepEqual([vs.quorum, vs.hysteresis], [7, 2]);
      assert.deepEqual(vs.quorumUp?.argv, ['/etc/ha/up.sh', 'web']);
      assert.deepEqual(vs.quorumDown?.argv, ['/etc/ha/down.sh']);
    });

    it('quorum 0 is out of range; hysteresis at or above quorum is a warning at the hysteresis', () => {
      const zero = service('10.0.0.1 80', 'quorum 0', ...rs('10.0.0.2 80'));
      assertOne(loadText(zero), 'HAD_CFG_OUT_OF_RANGE', 'warning', atEnd(zero, 'quorum '));
      const high = service('10.0.0.1 80', 'quorum 2', 'hysteresis 2', ...rs('10.0.0.2 80'));
      const d = assertOne(loadText(high), 'HAD_CFG_CONFLICT', 'warning', at(high, 'hysteresis'));
      assert.match(d.message, /using 1/);
    });

    it('reads alpha, omega, ha_suspend, virtualhost, ops and inhibit_on_failure', () => {
      const result = loadText(service('10.0.0.1 80', 'alpha', 'omega', 'ha_suspend', 'virtualhost www.example.com', 'ops', 'inhibit_on_failure', ...rs('10.0.0.2 80')));
      assertClean(result);
      const vs = result.config.virtualServers[0];
      assert.deepEqual([vs?.alpha, vs?.omega, vs?.haSuspend, vs?.virtualhost, vs?.onePacket, vs?.inhibitOnFailure], [true, true, true, 'www.example.com', true, true]);
    });

    it('the service flags take off as a value', () => {
      const vs = firstService(service('10.0.0.1 80', 'alpha off', 'omega no', 'ops false', ...rs('10.0.0.2 80')));
      assert.deepEqual([vs.alpha, vs.omega, vs.onePacket], [false, false, false]);
    });

    it('reads the timing it passes down to checkers', () => {
      const vs = firstService(service('10.0.0.1 80', 'delay_loop 10', 'connect_timeout 3', 'retry 4', 'delay_before_retry 2', 'warmup 5', ...rs('10.0.0.2 80')));
      assert.deepEqual(vs.timing, { delayLoopMs: 10_000, connectTimeoutMs: 3000, retry: 4, delayBeforeRetryMs: 2000, warmupMs: 5000 });
    });
  });
});

describe('real_server', () => {
  it('reads weight, lvs_method, inhibit_on_failure, notify_up/down and the thresholds', () => {
    const result = loadText(
      service('10.0.0.1 80', 'lb_kind DR', ...rs('10.0.0.2 80', 'weight 65535', 'lb_kind NAT', 'inhibit_on_failure', 'notify_up "/etc/ha/rs.sh up"', 'notify_down /etc/ha/rs-down.sh nobody', 'uthreshold 1000', 'lthreshold 10')),
    );
    assertClean(result);
    const real = result.config.virtualServers[0]?.realServers[0];
    assert.equal(real?.address, '10.0.0.2');
    assert.equal(real?.port, 80);
    assert.equal(real?.weight, 65535);
    assert.equal(real?.method, 'NAT');
    assert.equal(real?.inhibitOnFailure, true);
    assert.deepEqual(real?.notifyUp?.argv, ['/etc/ha/rs.sh', 'up']);
    assert.deepEqual([real?.notifyDown?.argv, real?.notifyDown?.user], [['/etc/ha/rs-down.sh'], 'nobody']);
    assert.deepEqual([real?.upperThreshold, real?.lowerThreshold], [1000, 10]);
    assert.deepEqual(real?.where, { file: mainFile, line: 4, col: 5 });
  });

  it('weight 0 is allowed (a drained server)', () => {
    const result = loadText(service('10.0.0.1 80', ...rs('10.0.0.2 80', 'weight 0')));
    assertClean(result);
    assert.equal(result.config.virtualServers[0]?.realServers[0]?.weight, 0);
  });

  it('weight 70000 is HAD_CFG_OUT_OF_RANGE at the value and the weight stays 1', () => {
    const text = service('10.0.0.1 80', ...rs('10.0.0.2 80', 'weight 70000'));
    const result = loadText(text);
    const d = assertOne(result, 'HAD_CFG_OUT_OF_RANGE', 'warning', at(text, '70000'));
    assert.match(d.message, /0\.\.65535/);
    assert.equal(result.config.virtualServers[0]?.realServers[0]?.weight, 1);
  });

  it('inhibit_on_failure on the service is inherited, even when written after the real_server', () => {
    const text = lines('virtual_server 10.0.0.1 80 {', '    protocol TCP', ...rs('10.0.0.2 80'), '    inhibit_on_failure', '}');
    assert.equal(firstService(text).realServers[0]?.inhibitOnFailure, true);
  });

  it('a real server may turn inherited inhibit_on_failure off', () => {
    const vs = firstService(service('10.0.0.1 80', 'inhibit_on_failure', ...rs('10.0.0.2 80', 'inhibit_on_failure off')));
    assert.equal(vs.realServers[0]?.inhibitOnFailure, false);
  });

  it('lthreshold above uthreshold is a conflict at the real_server', () => {
    const text = service('10.0.0.1 80', ...rs('10.0.0.2 80', 'uthreshold 10', 'lthreshold 20'));
    assertOne(loadText(text), 'HAD_CFG_CONFLICT', 'error', at(text, 'real_server'));
  });

  it('a missing port when the service has one is an error at the real_server', () => {
    const text = service('10.0.0.1 80', ...rs('10.0.0.2'));
    const d = assertOne(loadText(text), 'HAD_CFG_MISSING_ARGUMENT', 'error', at(text, 'real_server'));
    assert.match(d.message, /port 80/);
  });

  it('no port is fine for a fwmark service and for a port-0 service', () => {
    assertClean(loadText(lines('virtual_server fwmark 1 {', ...rs('10.0.0.2'), '}')));
    assertClean(loadText(service('10.0.0.1 0', 'persistence_timeout', ...rs('10.0.0.2'))));
  });

  it('DR with a real-server port other than the service port is an error at the real_server', () => {
    const text = service('10.0.0.1 80', 'lb_kind DR', ...rs('10.0.0.2 8080'));
    const d = assertOne(loadText(text), 'HAD_CFG_CONFLICT', 'error', at(text, 'real_server'));
    assert.match(d.message, /DR/);
  });

  it("a real server's own DR under a NAT service is checked the same way", () => {
    const text = service('10.0.0.1 80', ...rs('10.0.0.2 8080', 'lvs_method DR'));
    assertOne(loadText(text), 'HAD_CFG_CONFLICT', 'error', at(text, 'real_server'));
  });

  it('DR with the same port, and NAT with another port, are fine', () => {
    assertClean(loadText(service('10.0.0.1 80', 'lb_kind DR', ...rs('10.0.0.2 80'))));
    assertClean(loadText(service('10.0.0.1 80', 'lb_kind NAT', ...rs('10.0.0.2 8080'))));
  });

  it('an IPv4 real server behind an IPv6 service is a conflict unless TUN', () => {
    const text = service('2001:db8::1 80', ...rs('10.0.0.2 80'));
    assertOne(loadText(text), 'HAD_CFG_CONFLICT', 'error', at(text, 'real_server'));
    assertClean(loadText(service('2001:db8::1 80', 'lb_kind TUN', ...rs('10.0.0.2 80'))));
  });

  it('the same real server twice is HAD_CFG_DUPLICATE at the second, naming the first', () => {
    const text = service('10.0.0.1 80', ...rs('10.0.0.2 80'), ...rs('10.0.0.2 80'));
    const d = assertOne(loadText(text), 'HAD_CFG_DUPLICATE', 'error', at(text, 'real_server', 2));
    assert.ok(d.message.includes(at(text, 'real_server', 1)), d.message);
  });

  it('one address on two ports is two real servers', () => {
    const vs = firstService(service('10.0.0.1 0', ...rs('10.0.0.2 80'), ...rs('10.0.0.2 81')));
    assert.equal(vs.realServers.length, 2);
  });

  it('a bad real-server address or port is reported at it and the real server dropped', () => {
    const text = service('10.0.0.1 80', ...rs('10.0.0.256 80'), ...rs('10.0.0.3 99999'));
    const result = loadText(text);
    assert.deepEqual(summary(result).filter((s) => !s.includes('MISSING_KEYWORD')), [`error HAD_CFG_BAD_ADDRESS ${at(text, '10.0.0.256')}`, `warning HAD_CFG_OUT_OF_RANGE ${at(text, '99999')}`]);
    assert.equal(result.config.virtualServers[0]?.realServers.length, 0);
  });

  it('reads the timing it passes down to its checkers', () => {
    const vs = firstService(service('10.0.0.1 80', ...rs('10.0.0.2 80', 'delay_loop 7', 'retry 0', 'TCP_CHECK {', '}')));
    assert.deepEqual([vs.realServers[0]?.checkers[0]?.timing.delayLoopMs, vs.realServers[0]?.checkers[0]?.timing.retry], [7000, 0]);
  });
});

describe('virtual_server_group', () => {
  it('reads IP PORT, a range IP-LAST PORT, a prefix IP/N PORT and fwmark N', () => {
    const text = lines('virtual_server_group G {', '    192.168.200.1 80', '    192.168.200.3-10 80', '    192.168.200.8/29 443', '    fwmark 7', '    2001:db8::1-1f 80', '}');
    const result = loadText(text);
    assertNoErrors(result);
    const g = result.config.virtualServerGroups[0];
    assert.equal(g?.name, 'G');
    assert.deepEqual(
      g?.entries.map((e) => (e.kind === 'fwmark' ? ['fwmark', e.mark] : [e.first, e.last, e.family, e.port])),
      [
        ['192.168.200.1', '192.168.200.1', 4, 80],
        ['192.168.200.3', '192.168.200.10', 4, 80],
        ['192.168.200.8', '192.168.200.15', 4, 443],
        ['fwmark', 7],
        ['2001:db8::1', '2001:db8::1f', 6, 80],
      ],
    );
    assert.deepEqual(g?.entries.map((e) => e.where.line), [2, 3, 4, 5, 6]);
  });

  it('a range that runs backwards or past 255 is HAD_CFG_BAD_ADDRESS at the entry', () => {
    for (const range of ['192.168.200.10-3', '192.168.200.3-256', '192.168.200.3/33']) {
      const text = lines('virtual_server_group G {', `    ${range} 80`, '}');
      assertOne(loadText(text), 'HAD_CFG_BAD_ADDRESS', 'error', `${mainFile}:2:5`);
    }
  });

  it('an entry with no port is HAD_CFG_MISSING_ARGUMENT; a bad port is reported at the port', () => {
    const text = lines('virtual_server_group G {', '    192.168.200.1', '    192.168.200.2 eighty', '    fwmark 0', '}');
    const result = loadText(text);
    assert.deepEqual(summary(result).filter((s) => s.startsWith('error')), [
      `error HAD_CFG_MISSING_ARGUMENT ${at(text, '192.168.200.1')}`,
      `error HAD_CFG_BAD_NUMBER ${at(text, 'eighty')}`,
    ]);
    assert.ok(summary(result).includes(`warning HAD_CFG_OUT_OF_RANGE ${atEnd(text, 'fwmark ')}`), summary(result).join('\n'));
  });

  it('an entry listed twice is a duplicate; an empty group is a warning', () => {
    const dup = lines('virtual_server_group G {', '    10.0.0.1 80', '    10.0.0.1 80', '}');
    assertOne(loadText(dup), 'HAD_CFG_DUPLICATE', 'error', `${mainFile}:3:5`);
    const empty = lines('virtual_server_group G {', '}');
    assertOne(loadText(empty), 'HAD_CFG_MISSING_KEYWORD', 'warning', at(empty, 'virtual_server_group'));
  });

  it('two groups of one name are a duplicate', () => {
    const g = lines('virtual_server_group G {', '    10.0.0.1 80', '}');
    assertOne(loadText(g + g), 'HAD_CFG_DUPLICATE', 'error', `${mainFile}:4:1`);
  });
});
