import assert from 'node:assert/strict';
import { brief, loadText, messages } from '../support/load-text';

const minimal = (body: string): string => `vrrp_instance VI_1 {\n    interface lo\n    virtual_router_id 51\n${body}\n    virtual_ipaddress {\n        10.0.0.1\n    }\n}\n`;

describe('vrrp_script', () => {
  it('splits a quoted script into argv and keeps user and group', () => {
    const { config, diagnostics } = loadText(`vrrp_script chk {\n  script "bash -c '</dev/tcp/127.0.0.1/80'" nobody nogroup\n}`);
    assert.deepEqual(diagnostics, []);
    const s = config.vrrpScripts[0];
    assert.deepEqual(s?.script?.argv, ['bash', '-c', '</dev/tcp/127.0.0.1/80']);
    assert.equal(s?.script?.user, 'nobody');
    assert.equal(s?.script?.group, 'nogroup');
  });

  it("takes keepalived's defaults: interval 1 s, weight 0, rise 1, fall 1", () => {
    const s = loadText('vrrp_script chk {\n  script /bin/true\n}').config.vrrpScripts[0];
    assert.deepEqual([s?.intervalMs, s?.timeoutMs, s?.weight, s?.weightReverse, s?.rise, s?.fall, s?.initFail], [1000, undefined, 0, false, 1, 1, false]);
  });

  it('reads interval, timeout, weight with reverse, rise, fall, user and init_fail', () => {
    const s = loadText('vrrp_script chk {\n  script /bin/true\n  interval 2\n  timeout 0.5\n  weight -20 reverse\n  rise 3\n  fall 4\n  user nobody\n  init_fail\n}').config.vrrpScripts[0];
    assert.deepEqual([s?.intervalMs, s?.timeoutMs, s?.weight, s?.weightReverse, s?.rise, s?.fall, s?.user, s?.initFail], [2000, 500, -20, true, 3, 4, 'nobody', true]);
  });

  it('refuses a weight outside -253..253 at the value', () => {
    assert.deepEqual(brief(loadText('vrrp_script chk {\n  script /bin/true\n  weight 300\n}').diagnostics), ['3:10 error HAD_CFG_OUT_OF_RANGE']);
  });

  it('warns about a script with no command', () => {
    assert.deepEqual(brief(loadText('vrrp_script chk {\n  interval 1\n}').diagnostics), ['1:1 warning HAD_CFG_MISSING_KEYWORD']);
  });
});

describe('vrrp_instance', () => {
  it('has keepalived defaults: BACKUP, priority 100, advert 1 s, version 2, preempt', () => {
    const { config, diagnostics } = loadText(minimal(''));
    assert.deepEqual(diagnostics, []);
    const i = config.vrrpInstances[0];
    assert.deepEqual([i?.initialState, i?.priority, i?.advertIntMs, i?.version, i?.preempt, i?.preemptDelayMs, i?.smtpAlert], ['BACKUP', 100, 1000, 2, true, 0, false]);
    assert.deepEqual(i?.garp, { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1 });
  });

  it('reads state, priority, advert_int, version, nopreempt, preempt_delay and the GARP settings', () => {
    const i = loadText(
      minimal('    state BACKUP\n    priority 150\n    advert_int 0.5\n    version 3\n    nopreempt\n    preempt_delay 10\n    garp_master_delay 2\n    garp_master_repeat 3\n    garp_master_refresh 60\n    garp_master_refresh_repeat 2\n    smtp_alert\n    lvs_sync_daemon_interface eth1'),
    ).config.vrrpInstances[0];
    assert.deepEqual([i?.initialState, i?.priority, i?.advertIntMs, i?.version, i?.preempt, i?.preemptDelayMs], ['BACKUP', 150, 500, 3, false, 10_000]);
    assert.deepEqual(i?.garp, { masterDelayMs: 2000, masterRepeat: 3, masterRefreshMs: 60_000, masterRefreshRepeat: 2 });
    assert.equal(i?.smtpAlert, true);
    assert.equal(i?.lvsSyncDaemonInterface, 'eth1');
  });

  it('reports priority 300 at its value and keeps the default', () => {
    const r = loadText(minimal('    priority 300'));
    assert.deepEqual(messages(r.diagnostics), ['/etc/hadirector/h.conf:4:14: error: priority 300 is outside 1..255 [HAD_CFG_OUT_OF_RANGE]']);
    assert.equal(r.config.vrrpInstances[0]?.priority, 100);
  });

  it('reports a virtual_router_id outside 1..255 and one that is no number', () => {
    const zero = brief(loadText('vrrp_instance A {\n  virtual_router_id 0\n}').diagnostics);
    assert.ok(zero.includes('2:21 error HAD_CFG_OUT_OF_RANGE'), zero.join(', '));
    assert.ok(zero.includes('1:1 error HAD_CFG_MISSING_KEYWORD'), 'the instance is left without a VRID');
    assert.ok(brief(loadText('vrrp_instance A {\n  virtual_router_id x1\n}').diagnostics).includes('2:21 error HAD_CFG_BAD_NUMBER'));
  });

  it('warns on an unknown state and uses BACKUP, as keepalived does', () => {
    const r = loadText(minimal('    state SLAVE'));
    assert.deepEqual(brief(r.diagnostics), ['4:11 warning HAD_CFG_BAD_VALUE']);
    assert.equal(r.config.vrrpInstances[0]?.initialState, 'BACKUP');
  });

  it('reads VIPs with prefix, dev, label, brd, scope and no_track', () => {
    const text = 'vrrp_instance A {\n  virtual_router_id 1\n  interface eth0\n  virtual_ipaddress {\n    10.0.0.1/24 brd 10.0.0.255 dev eth1 scope link label eth1:vip no_track\n    2001:db8::1/64\n    10.0.0.2\n  }\n  virtual_ipaddress_excluded {\n    10.0.1.1/32\n  }\n}';
    const { config, diagnostics } = loadText(text);
    assert.deepEqual(diagnostics, []);
    const [a, b, c] = config.vrrpInstances[0]?.virtualIpAddresses ?? [];
    assert.deepEqual(
      { address: a?.address, prefix: a?.prefix, brd: a?.brd, dev: a?.dev, scope: a?.scope, label: a?.label, noTrack: a?.noTrack, family: a?.family },
      { address: '10.0.0.1', prefix: 24, brd: '10.0.0.255', dev: 'eth1', scope: 'link', label: 'eth1:vip', noTrack: true, family: 4 },
    );
    assert.deepEqual([b?.address, b?.prefix, b?.family], ['2001:db8::1', 64, 6]);
    assert.deepEqual([c?.prefix, c?.where.line, c?.where.col], [32, 7, 5]);
    assert.equal(config.vrrpInstances[0]?.virtualIpAddressesExcluded[0]?.address, '10.0.1.1');
  });

  it('reports a VIP that is not an address, a bad prefix and a bad scope', () => {
    const text = 'vrrp_instance A {\n  virtual_router_id 1\n  virtual_ipaddress {\n    10.0.0.300\n    10.0.0.1/40\n    10.0.0.2 scope galaxy\n    10.0.0.3 dev\n  }\n}';
    const codes = brief(loadText(text).diagnostics).filter((d) => d.includes('error'));
    assert.deepEqual(codes, ['4:5 error HAD_CFG_BAD_ADDRESS', '5:5 error HAD_CFG_BAD_ADDRESS', '6:20 error HAD_CFG_BAD_VALUE', '7:14 error HAD_CFG_MISSING_ARGUMENT']);
  });

  it('reads track_interface and track_script entries with weight and reverse', () => {
    const text = `vrrp_script chk {\n  script /bin/true\n}\n${minimal('    track_interface {\n        eth0\n        eth1 weight -10 reverse\n    }\n    track_script {\n        chk weight 5\n    }')}`;
    const { config, diagnostics } = loadText(text);
    assert.deepEqual(diagnostics, []);
    const i = config.vrrpInstances[0];
    assert.deepEqual(i?.trackInterfaces.map((t) => [t.name, t.weight, t.reverse]), [['eth0', undefined, false], ['eth1', -10, true]]);
    assert.deepEqual(i?.trackScripts.map((t) => [t.name, t.weight]), [['chk', 5]]);
  });

  it('reports a track_script naming an unknown vrrp_script', () => {
    const r = loadText(minimal('    track_script {\n        nothere\n    }'));
    assert.deepEqual(brief(r.diagnostics), ['5:9 error HAD_CFG_UNKNOWN_REFERENCE']);
  });

  it('reads authentication, unicast_src_ip, unicast_peer with TTLs and notify scripts', () => {
    const text = minimal(
      '    authentication {\n        auth_type PASS\n        auth_pass secret\n    }\n    unicast_src_ip 10.0.0.10\n    unicast_peer {\n        10.0.0.11 min_ttl 1 max_ttl 3\n        10.0.0.12\n    }\n    notify "/bin/n a"\n    notify_master /bin/m\n    notify_backup /bin/b\n    notify_fault "/bin/f x y"\n    notify_stop /bin/s',
    );
    const { config, diagnostics } = loadText(text);
    assert.deepEqual(diagnostics, []);
    const i = config.vrrpInstances[0];
    assert.deepEqual([i?.authentication?.type, i?.authentication?.pass], ['PASS', 'secret']);
    assert.equal(i?.unicastSrcIp?.address, '10.0.0.10');
    assert.deepEqual(i?.unicastPeers.map((p) => [p.address, p.minTtl, p.maxTtl]), [['10.0.0.11', 1, 3], ['10.0.0.12', undefined, undefined]]);
    assert.deepEqual([i?.notify.notify?.argv, i?.notify.master?.argv, i?.notify.backup?.argv, i?.notify.fault?.argv, i?.notify.stop?.argv], [['/bin/n', 'a'], ['/bin/m'], ['/bin/b'], ['/bin/f', 'x', 'y'], ['/bin/s']]);
  });

  it('warns that only 8 characters of auth_pass count', () => {
    const r = loadText(minimal('    authentication {\n        auth_type PASS\n        auth_pass 0123456789\n    }'));
    assert.deepEqual(brief(r.diagnostics), ['6:19 warning HAD_CFG_BAD_VALUE']);
    assert.equal(r.config.vrrpInstances[0]?.authentication?.pass, '01234567');
  });

  it('reports the same VRID twice on one interface, naming the first', () => {
    const text = `${minimal('')}vrrp_instance VI_2 {\n    interface lo\n    virtual_router_id 51\n}\n`;
    const r = loadText(text);
    assert.ok(messages(r.diagnostics).includes('/etc/hadirector/h.conf:11:23: error: virtual_router_id 51 on interface lo is already defined at /etc/hadirector/h.conf:3:23 [HAD_CFG_DUPLICATE]'), messages(r.diagnostics).join('\n'));
  });

  it('accepts the same VRID on two interfaces', () => {
    const text = `${minimal('')}vrrp_instance VI_2 {\n    interface eth1\n    virtual_router_id 51\n    virtual_ipaddress {\n        10.0.0.2\n    }\n}\n`;
    assert.deepEqual(loadText(text).diagnostics, []);
  });

  it('makes a VIP in two instances an error and a VIP twice in one instance a warning', () => {
    const twice = minimal('').replace('10.0.0.1\n', '10.0.0.1\n        10.0.0.1 label lo:x\n');
    assert.deepEqual(brief(loadText(twice).diagnostics), ['7:9 warning HAD_CFG_DUPLICATE']);
    const two = `${minimal('')}vrrp_instance VI_2 {\n    interface lo\n    virtual_router_id 52\n    virtual_ipaddress {\n        10.0.0.1\n    }\n}\n`;
    assert.deepEqual(brief(loadText(two).diagnostics), ['13:9 error HAD_CFG_DUPLICATE']);
  });

  it('warns about nopreempt with state MASTER and priority 255 with state BACKUP', () => {
    assert.deepEqual(brief(loadText(minimal('    state MASTER\n    nopreempt')).diagnostics), ['5:5 warning HAD_CFG_CONFLICT']);
    assert.deepEqual(brief(loadText(minimal('    priority 255')).diagnostics), ['4:14 warning HAD_CFG_CONFLICT']);
  });

  it('refuses a VRRPv3 advert interval above 40.95 s and warns of sub-second VRRPv2 adverts', () => {
    assert.deepEqual(brief(loadText(minimal('    version 3\n    advert_int 50')).diagnostics), ['5:16 error HAD_CFG_OUT_OF_RANGE']);
    assert.deepEqual(brief(loadText(minimal('    advert_int 0.5')).diagnostics), ['4:16 warning HAD_CFG_CONFLICT']);
  });
});

describe('vrrp_sync_group', () => {
  const instances = ['VI_1', 'VI_2', 'VI_3'].map((n, k) => `vrrp_instance ${n} {\n  interface lo\n  virtual_router_id ${k + 1}\n  virtual_ipaddress {\n    10.0.0.${k + 1}\n  }\n}`).join('\n');

  it('reads members, notify scripts, smtp_alert and trackers', () => {
    const { config, diagnostics } = loadText(`${instances}\nvrrp_sync_group G {\n  group {\n    VI_1 VI_2\n  }\n  notify_master "/bin/m x"\n  notify_backup /bin/b\n  notify_fault /bin/f\n  notify_stop /bin/s\n  notify /bin/n\n  smtp_alert\n  track_interface {\n    eth0\n  }\n}`);
    assert.deepEqual(diagnostics, []);
    const g = config.vrrpSyncGroups[0];
    assert.deepEqual(g?.members.map((m) => m.name), ['VI_1', 'VI_2']);
    assert.deepEqual(g?.notify.master?.argv, ['/bin/m', 'x']);
    assert.equal(g?.smtpAlert, true);
    assert.equal(g?.trackInterfaces[0]?.name, 'eth0');
  });

  it('accepts the old syntax of bare members with a deprecation warning', () => {
    const r = loadText(`${instances}\nvrrp_sync_group G {\n  VI_1\n  VI_2\n}`);
    assert.deepEqual(brief(r.diagnostics), ['23:3 warning HAD_CFG_DEPRECATED', '24:3 warning HAD_CFG_DEPRECATED']);
    assert.deepEqual(r.config.vrrpSyncGroups[0]?.members.map((m) => m.name), ['VI_1', 'VI_2']);
  });

  it('reports an unknown member and an instance in two groups', () => {
    const r = loadText(`${instances}\nvrrp_sync_group G {\n  group {\n    VI_1 VI_9\n  }\n}\nvrrp_sync_group H {\n  group {\n    VI_1 VI_2\n  }\n}`);
    assert.deepEqual(brief(r.diagnostics), ['24:10 error HAD_CFG_UNKNOWN_REFERENCE', '29:5 error HAD_CFG_CONFLICT']);
  });
});
