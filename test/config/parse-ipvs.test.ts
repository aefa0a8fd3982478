import assert from 'node:assert/strict';
import { schedulers } from '../../src/ipvs/config';
import { brief, loadText } from '../support/load-text';

const service = (head: string, body: string, real = '    real_server 10.0.0.21 80 {\n    }'): string => `virtual_server ${head} {\n    protocol TCP\n${body}\n${real}\n}\n`;

describe('virtual_server', () => {
  it("takes keepalived's defaults: wlc, NAT, no persistence, quorum 1, weight 1, delay_loop 60 s", () => {
    const { config, diagnostics } = loadText(service('10.0.0.1 80', ''));
    assert.deepEqual(diagnostics, []);
    const vs = config.virtualServers[0];
    assert.deepEqual(vs?.key, { kind: 'address', address: '10.0.0.1', family: 4, port: 80 });
    assert.deepEqual([vs?.scheduler, vs?.method, vs?.persistenceTimeoutS, vs?.protocol, vs?.quorum, vs?.hysteresis], ['wlc', 'NAT', undefined, 'TCP', 1, 0]);
    assert.deepEqual([vs?.realServers[0]?.weight, vs?.realServers[0]?.port, vs?.realServers[0]?.inhibitOnFailure], [1, 80, false]);
  });

  it('reads a fwmark service and a group service', () => {
    const text = 'virtual_server_group G {\n  10.0.0.1 80\n}\nvirtual_server fwmark 7 {\n  real_server 10.0.0.21 80 {\n  }\n}\nvirtual_server group G {\n  protocol TCP\n  real_server 10.0.0.22 80 {\n  }\n}';
    const { config, diagnostics } = loadText(text);
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(config.virtualServers.map((v) => v.key), [{ kind: 'fwmark', mark: 7 }, { kind: 'group', name: 'G' }]);
  });

  it('reads an IPv6 service with IPv6 real servers', () => {
    const { config, diagnostics } = loadText(service('2001:db8::1 443', '', '    real_server 2001:db8::21 8443 {\n    }'));
    assert.deepEqual(diagnostics, []);
    assert.deepEqual([config.virtualServers[0]?.key.kind, config.virtualServers[0]?.realServers[0]?.family], ['address', 6]);
  });

  it('reports a group service naming no virtual_server_group', () => {
    assert.deepEqual(brief(loadText('virtual_server group NOPE {\n  protocol TCP\n  real_server 10.0.0.2 80 {\n  }\n}').diagnostics), ['1:1 error HAD_CFG_UNKNOWN_REFERENCE']);
  });

  for (const name of schedulers) {
    it(`accepts the ${name} scheduler under lb_algo and lvs_sched`, () => {
      assert.equal(loadText(service('10.0.0.1 80', `    lb_algo ${name}`)).config.virtualServers[0]?.scheduler, name);
      assert.equal(loadText(service('10.0.0.1 80', `    lvs_sched ${name}`)).config.virtualServers[0]?.scheduler, name);
    });
  }

  it('refuses an unknown scheduler at its value and keeps wlc', () => {
    const r = loadText(service('10.0.0.1 80', '    lb_algo fastest'));
    assert.deepEqual(brief(r.diagnostics), ['3:13 error HAD_CFG_BAD_VALUE']);
    assert.equal(r.config.virtualServers[0]?.scheduler, 'wlc');
  });

  it('reads NAT, DR and TUN under lb_kind and lvs_method, and refuses others', () => {
    for (const [kw, method] of [['lb_kind', 'DR'], ['lvs_method', 'TUN'], ['lb_kind', 'nat']] as const) {
      assert.equal(loadText(service('10.0.0.1 80', `    ${kw} ${method}`)).config.virtualServers[0]?.method, method.toUpperCase());
    }
    assert.deepEqual(brief(loadText(service('10.0.0.1 80', '    lb_kind BRIDGE')).diagnostics), ['3:13 error HAD_CFG_BAD_VALUE']);
  });

  it('takes persistence_timeout alone as 360 s, and a value as given', () => {
    assert.equal(loadText(service('10.0.0.1 80', '    persistence_timeout')).config.virtualServers[0]?.persistenceTimeoutS, 360);
    assert.equal(loadText(service('10.0.0.1 80', '    persistence_timeout 50')).config.virtualServers[0]?.persistenceTimeoutS, 50);
  });

  it('reads persistence_granularity as a netmask and refuses a mask with holes', () => {
    const ok = loadText(service('10.0.0.1 80', '    persistence_timeout 60\n    persistence_granularity 255.255.255.0'));
    assert.deepEqual(ok.diagnostics, []);
    assert.equal(ok.config.virtualServers[0]?.persistenceGranularity, '255.255.255.0');
    assert.deepEqual(brief(loadText(service('10.0.0.1 80', '    persistence_granularity 255.0.255.0')).diagnostics)[0], '3:29 error HAD_CFG_BAD_ADDRESS');
  });

  it('defaults a missing protocol to TCP with a warning', () => {
    const r = loadText('virtual_server 10.0.0.1 80 {\n  real_server 10.0.0.2 80 {\n  }\n}');
    assert.deepEqual(brief(r.diagnostics), ['1:1 warning HAD_CFG_IMPLICIT_DEFAULT']);
    assert.equal(r.config.virtualServers[0]?.protocol, 'TCP');
  });

  it('warns that protocol is ignored on a fwmark service', () => {
    assert.deepEqual(brief(loadText('virtual_server fwmark 1 {\n  protocol UDP\n  real_server 10.0.0.2 80 {\n  }\n}').diagnostics), ['2:3 warning HAD_CFG_CONFLICT']);
  });

  it('reads sorry_server, quorum, hysteresis, quorum scripts and flags', () => {
    const body = '    sorry_server 10.0.0.99 8080\n    sorry_server_inhibit\n    quorum 7\n    hysteresis 2\n    quorum_up "/bin/up now"\n    quorum_down /bin/down\n    alpha\n    omega\n    ha_suspend\n    virtualhost www.example.com\n    ops\n    lb_algo sh\n    sh-port\n    sh-fallback';
    const { config, diagnostics } = loadText(service('10.0.0.1 80', body));
    assert.deepEqual(diagnostics, []);
    const vs = config.virtualServers[0];
    assert.deepEqual([vs?.sorryServer?.address, vs?.sorryServer?.port, vs?.sorryServerInhibit], ['10.0.0.99', 8080, true]);
    assert.deepEqual([vs?.quorum, vs?.hysteresis, vs?.quorumUp?.argv, vs?.quorumDown?.argv], [7, 2, ['/bin/up', 'now'], ['/bin/down']]);
    assert.deepEqual([vs?.alpha, vs?.omega, vs?.haSuspend, vs?.virtualhost, vs?.onePacket], [true, true, true, 'www.example.com', true]);
    assert.deepEqual(vs?.schedulerFlags, ['sh-port', 'sh-fallback']);
  });

  it('warns when hysteresis is not below quorum', () => {
    assert.deepEqual(brief(loadText(service('10.0.0.1 80', '    quorum 2\n    hysteresis 2')).diagnostics), ['4:5 warning HAD_CFG_CONFLICT']);
  });
});

describe('real_server', () => {
  it('reads weight, inhibit_on_failure, notify_up/down, uthreshold, lthreshold and lb_kind', () => {
    const rs = '    real_server 10.0.0.21 80 {\n        weight 3\n        inhibit_on_failure\n        notify_up "/bin/up rs"\n        notify_down /bin/down\n        uthreshold 100\n        lthreshold 50\n        lb_kind NAT\n    }';
    const { config, diagnostics } = loadText(service('10.0.0.1 80', '', rs));
    assert.deepEqual(diagnostics, []);
    const r = config.virtualServers[0]?.realServers[0];
    assert.deepEqual([r?.weight, r?.inhibitOnFailure, r?.notifyUp?.argv, r?.notifyDown?.argv, r?.upperThreshold, r?.lowerThreshold, r?.method], [3, true, ['/bin/up', 'rs'], ['/bin/down'], 100, 50, 'NAT']);
  });

  it('accepts weight 0 (quiescent) and 65535, refuses 70000', () => {
    for (const w of [0, 65535]) assert.equal(loadText(service('10.0.0.1 80', '', `    real_server 10.0.0.21 80 {\n        weight ${w}\n    }`)).config.virtualServers[0]?.realServers[0]?.weight, w);
    assert.deepEqual(brief(loadText(service('10.0.0.1 80', '', '    real_server 10.0.0.21 80 {\n        weight 70000\n    }')).diagnostics), ['5:16 error HAD_CFG_OUT_OF_RANGE']);
  });

  it('inherits inhibit_on_failure from its service', () => {
    assert.equal(loadText(service('10.0.0.1 80', '    inhibit_on_failure')).config.virtualServers[0]?.realServers[0]?.inhibitOnFailure, true);
  });

  it('needs a port when its service has one', () => {
    assert.deepEqual(brief(loadText(service('10.0.0.1 80', '', '    real_server 10.0.0.21 {\n    }')).diagnostics), ['4:5 error HAD_CFG_MISSING_ARGUMENT']);
  });

  it('may remap the port under NAT but not under DR', () => {
    assert.deepEqual(loadText(service('10.0.0.1 80', '    lb_kind NAT', '    real_server 10.0.0.21 8080 {\n    }')).diagnostics, []);
    assert.deepEqual(brief(loadText(service('10.0.0.1 80', '    lb_kind DR', '    real_server 10.0.0.21 8080 {\n    }')).diagnostics), ['4:5 error HAD_CFG_CONFLICT']);
  });

  it('reports the same real server twice, and a family that differs from the service', () => {
    const twice = '    real_server 10.0.0.21 80 {\n    }\n    real_server 10.0.0.21 80 {\n    }';
    assert.deepEqual(brief(loadText(service('10.0.0.1 80', '', twice)).diagnostics), ['6:5 error HAD_CFG_DUPLICATE']);
    assert.deepEqual(brief(loadText(service('10.0.0.1 80', '', '    real_server 2001:db8::2 80 {\n    }')).diagnostics), ['4:5 error HAD_CFG_CONFLICT']);
  });

  it('refuses lthreshold above uthreshold', () => {
    assert.deepEqual(brief(loadText(service('10.0.0.1 80', '', '    real_server 10.0.0.21 80 {\n        uthreshold 10\n        lthreshold 20\n    }')).diagnostics), ['4:5 error HAD_CFG_CONFLICT']);
  });
});

describe('virtual_server_group', () => {
  it('reads addresses, ranges, prefixes and fwmarks', () => {
    const { config, diagnostics } = loadText('virtual_server_group G {\n  10.0.0.1 80\n  192.168.200.3-10 80\n  10.1.0.0/29 443\n  2001:db8::1-ff 53\n  fwmark 5\n}');
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(
      config.virtualServerGroups[0]?.entries.map((e) => (e.kind === 'fwmark' ? `fwmark ${e.mark}` : `${e.first}..${e.last}:${e.port}`)),
      ['10.0.0.1..10.0.0.1:80', '192.168.200.3..192.168.200.10:80', '10.1.0.0..10.1.0.7:443', '2001:db8::1..2001:db8::ff:53', 'fwmark 5'],
    );
  });

  it('refuses a backwards range and an entry without a port', () => {
    assert.deepEqual(brief(loadText('virtual_server_group G {\n  10.0.0.9-3 80\n  10.0.0.1\n}').diagnostics), ['1:1 warning HAD_CFG_MISSING_KEYWORD', '2:3 error HAD_CFG_BAD_ADDRESS', '3:3 error HAD_CFG_MISSING_ARGUMENT']);
  });
});
