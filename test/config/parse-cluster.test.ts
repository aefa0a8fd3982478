import assert from 'node:assert/strict';
import { detectorTiming } from '../../src/cluster/config';
import { brief, loadText, messages } from '../support/load-text';

const key = { '/etc/hadirector/cluster.key': 'k'.repeat(32) };
const nodes = 'node d1 {\n  address 127.0.0.11\n}\nnode d2 {\n  address 127.0.0.12\n}\nnode w1 {\n  address 127.0.0.13\n  witness\n}';
/** A valid three-node cluster plus `extra` lines. */
const cluster = (extra: string, nodeList = nodes): string => `cluster {\n  auth_key_file cluster.key\n${extra}\n${nodeList}\n  fencing {\n    mode self_release\n  }\n}\n`;
const load = (text: string, node = 'd1'): ReturnType<typeof loadText> => loadText(text, { files: key, node });

describe('cluster', () => {
  it('reads nodes with their addresses, priorities, votes and witness flag, with the documented defaults', () => {
    const { config, diagnostics } = load(cluster(''));
    assert.deepEqual(diagnostics, []);
    const c = config.cluster;
    assert.ok(c !== undefined);
    assert.deepEqual([c.clusterId, c.port, c.noQuorumPolicy, c.quorum.twoNode], ['hadirector', 6405, 'stop', false]);
    assert.deepEqual(c.nodes.map((n) => [n.name, n.addresses[0]?.address, n.addresses[0]?.port, n.addresses[0]?.link, n.priority, n.votes, n.witness]), [
      ['d1', '127.0.0.11', 6405, 'ring0', 100, 1, false],
      ['d2', '127.0.0.12', 6405, 'ring0', 100, 1, false],
      ['w1', '127.0.0.13', 6405, 'ring0', 100, 1, true],
    ]);
    assert.deepEqual(detectorTiming(c), { intervalMs: 1000, warntimeMs: 1500, deadtimeMs: 3000, initdeadMs: 6000 });
    assert.equal(c.auth?.kind === 'key' ? c.auth.file : '', '/etc/hadirector/cluster.key');
  });

  it('reads durations with units and bare seconds', () => {
    const c = load(cluster('  heartbeat_interval 200ms\n  warntime 0.5\n  deadtime 1.5s\n  initdead 1m')).config.cluster;
    assert.ok(c !== undefined);
    assert.deepEqual(detectorTiming(c), { intervalMs: 200, warntimeMs: 500, deadtimeMs: 1500, initdeadMs: 60_000 });
  });

  it('refuses a duration it cannot read and a deadtime within two heartbeats', () => {
    assert.deepEqual(brief(load(cluster('  deadtime soon')).diagnostics), ['3:12 error HAD_CFG_BAD_DURATION']);
    assert.deepEqual(brief(load(cluster('  heartbeat_interval 1s\n  deadtime 2s')).diagnostics), ['4:3 error HAD_CFG_CONFLICT']);
  });

  it('reads links and addresses on them, IP:PORT and [IPv6]:PORT', () => {
    const list = 'node d1 {\n  address ring0 127.0.0.11:7000\n  address ring1 [::1]:7001\n  priority 200\n  votes 2\n}\nnode d2 {\n  address ring0 127.0.0.12\n  address ring1 127.0.1.12\n}';
    const text = cluster('  link ring0 {\n    port 7000\n  }\n  link ring1 {\n    port 7001\n    mcast_group 239.192.0.1\n    ttl 2\n    interface eth1\n  }', list);
    const { config, diagnostics } = load(text);
    assert.deepEqual(diagnostics, []);
    const c = config.cluster;
    assert.deepEqual(c?.links.map((l) => [l.name, l.port, l.mcastGroup, l.ttl, l.interface]), [['ring0', 7000, undefined, 1, undefined], ['ring1', 7001, '239.192.0.1', 2, 'eth1']]);
    assert.deepEqual(c?.nodes[0]?.addresses.map((a) => `${a.link} ${a.address} ${a.port} ${a.family}`), ['ring0 127.0.0.11 7000 4', 'ring1 ::1 7001 6']);
    assert.deepEqual([c?.nodes[0]?.priority, c?.nodes[0]?.votes], [200, 2]);
    assert.equal(c?.nodes[1]?.addresses[1]?.port, 7001, 'a link port is the default for addresses on it');
  });

  it('refuses a unicast mcast_group and an address on an unknown link', () => {
    assert.deepEqual(brief(load(cluster('  link ring0 {\n    mcast_group 10.0.0.1\n  }')).diagnostics), ['4:17 error HAD_CFG_BAD_ADDRESS']);
    const list = 'node d1 {\n  address ring7 127.0.0.11\n}\nnode d2 {\n  address 127.0.0.12\n}\nnode w1 {\n  address 127.0.0.13\n}';
    assert.ok(brief(load(cluster('', list)).diagnostics).includes('5:11 error HAD_CFG_UNKNOWN_REFERENCE'));
  });

  it('reports duplicate node names and addresses, and a node without address', () => {
    const list = 'node d1 {\n  address 127.0.0.11\n}\nnode d1 {\n  address 127.0.0.11\n}\nnode d3 {\n}';
    const codes = messages(load(cluster('', list)).diagnostics);
    assert.ok(codes.some((m) => /:7:1: error: node 'd1' is already defined at .*:4:1 \[HAD_CFG_DUPLICATE\]/.test(m)), codes.join('\n'));
    assert.ok(codes.some((m) => /:8:11: error: address 127\.0\.0\.11:6405 of node 'd1' is already defined/.test(m)), codes.join('\n'));
    assert.ok(codes.some((m) => /:10:1: error: node 'd3' needs an address \[HAD_CFG_MISSING_KEYWORD\]/.test(m)), codes.join('\n'));
  });

  it('refuses to check for a node that is not in the cluster', () => {
    assert.deepEqual(brief(load(cluster(''), 'd9').diagnostics), ['1:1 error HAD_CFG_UNKNOWN_NODE']);
  });

  it('requires authentication: a key file, or auth none with a warning', () => {
    const noAuth = cluster('').replace('  auth_key_file cluster.key\n', '');
    assert.deepEqual(brief(load(noAuth).diagnostics), ['1:1 error HAD_CFG_NO_AUTH']);
    assert.deepEqual(brief(load(noAuth.replace('cluster {\n', 'cluster {\n  auth none\n')).diagnostics), ['2:3 warning HAD_CFG_RISKY']);
  });

  it('reports a missing key file and a key that is too short', () => {
    assert.deepEqual(brief(loadText(cluster(''), { node: 'd1' }).diagnostics), ['2:3 error HAD_CFG_KEY_FILE']);
    assert.deepEqual(brief(loadText(cluster(''), { node: 'd1', files: { '/etc/hadirector/cluster.key': 'short' } }).diagnostics), ['2:3 error HAD_CFG_KEY_FILE']);
  });

  it('reads quorum settings and no_quorum_policy', () => {
    const c = load(cluster('  quorum {\n    expected_votes 3\n    wait_for_all\n  }\n  no_quorum_policy freeze')).config.cluster;
    assert.deepEqual([c?.quorum.expectedVotes, c?.quorum.waitForAll, c?.noQuorumPolicy], [3, true, 'freeze']);
    assert.deepEqual(brief(load(cluster('  no_quorum_policy panic')).diagnostics), ['3:20 error HAD_CFG_BAD_VALUE']);
  });

  it('allows two_node only with exactly two voters, and warns of an even vote count without it', () => {
    const pair = 'node d1 {\n  address 127.0.0.11\n}\nnode d2 {\n  address 127.0.0.12\n}';
    assert.deepEqual(load(cluster('  quorum {\n    two_node\n  }', pair)).diagnostics, []);
    assert.deepEqual(brief(load(cluster('  quorum {\n    two_node\n  }')).diagnostics), ['4:5 error HAD_CFG_CONFLICT']);
    assert.deepEqual(brief(load(cluster('', pair)).diagnostics), ['1:1 warning HAD_CFG_RISKY']);
    assert.deepEqual(brief(load(cluster('  quorum {\n    two_node\n    wait_for_all off\n  }', pair)).diagnostics), ['4:5 warning HAD_CFG_RISKY']);
  });

  it('reads fencing devices, options, levels and delays', () => {
    const text = cluster('').replace(
      '  fencing {\n    mode self_release\n  }',
      '  fencing {\n    mode power\n    action off\n    delay_base 1s\n    delay_max 5s\n    device ipmi-d1 {\n      agent fence_ipmilan\n      ip 10.9.0.1\n      username admin\n      password_script /etc/pw.sh\n      timeout 30s\n      retries 1\n      hosts d1\n    }\n    device kill-d2 {\n      agent signal\n      pid_file /run/d2.pid\n    }\n    level d1 1 ipmi-d1\n    level d2 1 kill-d2\n    level d2 2 ipmi-d1 kill-d2\n  }',
    );
    const { config, diagnostics } = load(text);
    assert.deepEqual(diagnostics, []);
    const f = config.cluster?.fencing;
    assert.deepEqual([f?.mode, f?.action, f?.delayBaseMs, f?.delayMaxMs], ['power', 'off', 1000, 5000]);
    assert.deepEqual(f?.devices.map((d) => [d.name, d.agent, d.timeoutMs, d.retries, d.hosts, d.options]), [
      ['ipmi-d1', 'fence_ipmilan', 30_000, 1, ['d1'], { ip: '10.9.0.1', username: 'admin', password_script: '/etc/pw.sh' }],
      ['kill-d2', 'signal', 60_000, 2, [], { pid_file: '/run/d2.pid' }],
    ]);
    assert.deepEqual(f?.levels.map((l) => `${l.target} ${l.index} ${l.devices.map((d) => d.name).join('+')}`), ['d1 1 ipmi-d1', 'd2 1 kill-d2', 'd2 2 ipmi-d1+kill-d2']);
  });

  it('refuses a bad agent, a level naming an unknown node or device, and level 10', () => {
    const bad = (fencing: string): string[] => brief(load(cluster('').replace('  fencing {\n    mode self_release\n  }', `  fencing {\n${fencing}\n  }`)).diagnostics);
    assert.deepEqual(bad('    mode self_release\n    device x {\n      agent telnet_reboot\n    }'), ['16:5 error HAD_CFG_MISSING_KEYWORD', '17:13 error HAD_CFG_BAD_VALUE']);
    assert.ok(bad('    mode self_release\n    level d9 1 nodev').includes('16:5 error HAD_CFG_UNKNOWN_REFERENCE'));
    assert.ok(bad('    mode self_release\n    level d9 1 nodev').includes('16:16 error HAD_CFG_UNKNOWN_REFERENCE'));
    assert.deepEqual(bad('    mode self_release\n    device x {\n      agent exec\n    }\n    level d1 10 x'), ['19:14 error HAD_CFG_OUT_OF_RANGE']);
  });

  it('warns when power fencing has no level for a director', () => {
    const codes = messages(load(cluster('').replace('mode self_release', 'mode power')).diagnostics);
    assert.equal(codes.length, 2);
    assert.ok(codes.every((m) => / warning: node 'd[12]' has no fencing level/.test(m)), codes.join('\n'));
  });

  it('reads time checks: NTP servers, skew thresholds, a cron schedule and notify', () => {
    const text = cluster('  time {\n    ntp_server pool.ntp.org\n    ntp_server 127.0.0.1:12300\n    ntp_server [::1]:123\n    skew_warn 100ms\n    skew_critical 2s\n    schedule */10 * * * *\n    notify "/bin/skew alarm"\n  }');
    const { config, diagnostics } = load(text);
    assert.deepEqual(diagnostics, []);
    const t = config.cluster?.time;
    assert.deepEqual(t?.ntpServers.map((s) => `${s.host}:${s.port}`), ['pool.ntp.org:123', '127.0.0.1:12300', '::1:123']);
    assert.deepEqual([t?.skewWarnMs, t?.skewCriticalMs, t?.schedule, t?.notify?.argv], [100, 2000, '*/10 * * * *', ['/bin/skew', 'alarm']]);
  });

  it('defaults time checks to warn at 250 ms and alarm at one second, and refuses warn above critical or a bad schedule', () => {
    const t = load(cluster('')).config.cluster?.time;
    assert.deepEqual([t?.skewWarnMs, t?.skewCriticalMs, t?.schedule], [250, 1000, '*/5 * * * *']);
    assert.deepEqual(brief(load(cluster('  time {\n    skew_warn 2s\n  }')).diagnostics), ['1:1 error HAD_CFG_CONFLICT']);
    assert.deepEqual(brief(load(cluster('  time {\n    schedule every day\n  }')).diagnostics), ['4:14 error HAD_CFG_BAD_VALUE']);
  });

  it('reports a second cluster block', () => {
    assert.deepEqual(brief(load(`${cluster('')}cluster {\n}\n`).diagnostics), ['18:1 error HAD_CFG_DUPLICATE']);
  });
});
