import assert from 'node:assert/strict';
import { detectorTiming, type ClusterConfig } from '../../src/cluster/config';
import type { LoadResult } from '../../src/config/load';
import { assertClean, assertOne, at, atEnd, describeAll, lines, loadText, mainFile, summary, withCode, type LoadTextOptions } from './load-text';

const keyFile = '/etc/hadirector/cluster.key';
const key32 = 'k'.repeat(32);
const files = { [keyFile]: `${key32}\n` };

const auth = 'auth_key_file cluster.key';
/** Two directors and a witness: three votes, no even split. */
const threeNodes = ['node d1 {', '    address 10.0.0.11', '}', 'node d2 {', '    address 10.0.0.12', '}', 'node w1 {', '    address 10.0.0.13', '    witness', '}'];
/** Keeps power fencing's "no level" warnings out of tests about other things. */
const selfRelease = ['fencing {', '    mode self_release', '}'];
/** A pair's fencing that raises no warning: power, a device for both, a race delay past two heartbeats. */
const pairFencing = ['fencing {', '    delay_max 5s', '    device x {', '        agent exec', '        command /bin/true', '    }', '}'];

/** `cluster { body }`, indented. */
function clusterText(...body: string[]): string {
  return lines('cluster {', ...body.map((b) => `    ${b}`), '}');
}

function loadCluster(text: string, options: LoadTextOptions = {}): LoadResult {
  return loadText(text, { files, ...options });
}

function clusterOf(result: LoadResult): ClusterConfig {
  const c = result.config.cluster;
  assert.ok(c !== undefined, `a cluster was read:\n${describeAll(result)}`);
  return c;
}

describe('cluster', () => {
  describe('a minimal cluster', () => {
    const text = clusterText(auth, ...threeNodes, ...selfRelease);

    it('loads with no diagnostic', () => {
      assertClean(loadCluster(text));
    });

    it('has the documented defaults', () => {
      const c = clusterOf(loadCluster(text));
      assert.equal(c.clusterId, 'hadirector');
      assert.equal(c.port, 6405);
      assert.equal(c.heartbeatIntervalMs, 1000);
      assert.equal(c.deadtimeMs, 3000);
      assert.equal(c.warntimeMs, undefined);
      assert.equal(c.initdeadMs, undefined);
      assert.deepEqual(detectorTiming(c), { intervalMs: 1000, warntimeMs: 1500, deadtimeMs: 3000, initdeadMs: 6000 });
      assert.deepEqual(c.links, [{ name: 'ring0', where: { file: mainFile, line: 1, col: 1 }, port: 6405, ttl: 1 }]);
      assert.deepEqual(c.quorum, { twoNode: false });
      assert.equal(c.noQuorumPolicy, 'stop');
      assert.deepEqual(c.time, { ntpServers: [], skewWarnMs: 500, skewCriticalMs: 1000, schedule: '*/5 * * * *' });
      assert.deepEqual(c.nodes.map((n) => [n.name, n.priority, n.votes, n.witness]), [
        ['d1', 100, 1, false],
        ['d2', 100, 1, false],
        ['w1', 100, 1, true],
      ]);
      assert.deepEqual(c.nodes[0]?.addresses, [{ address: '10.0.0.11', family: 4, port: 6405, link: 'ring0', where: { file: mainFile, line: 4, col: 17 } }]);
    });

    it('fencing defaults to power, reboot, no delay, no devices and no levels', () => {
      const c = clusterOf(loadCluster(clusterText(auth, ...threeNodes)));
      assert.deepEqual(c.fencing, { mode: 'power', action: 'reboot', delayBaseMs: 0, delayMaxMs: 0, devices: [], levels: [] });
    });
  });

  describe('cluster_id and port', () => {
    it('reads cluster_id and port', () => {
      const c = clusterOf(loadCluster(clusterText(auth, 'cluster_id lab-1.eu_west', 'port 7000', ...threeNodes, ...selfRelease)));
      assert.equal(c.clusterId, 'lab-1.eu_west');
      assert.equal(c.port, 7000);
      assert.equal(c.nodes[0]?.addresses[0]?.port, 7000, 'node addresses use the cluster port');
    });

    it('a cluster_id with other characters is HAD_CFG_BAD_VALUE at the value', () => {
      const text = clusterText(auth, 'cluster_id lab/1', ...threeNodes, ...selfRelease);
      assertOne(loadCluster(text), 'HAD_CFG_BAD_VALUE', 'error', at(text, 'lab/1'));
    });

    it('port 0 and port 65536 are out of range at the value', () => {
      for (const port of ['0', '65536']) {
        const text = clusterText(auth, `port ${port}`, ...threeNodes, ...selfRelease);
        assertOne(loadCluster(text), 'HAD_CFG_OUT_OF_RANGE', 'error', atEnd(text, 'port '));
      }
    });

    it('a second cluster block is HAD_CFG_DUPLICATE at it', () => {
      const text = clusterText(auth, ...threeNodes, ...selfRelease) + clusterText(auth);
      const d = assertOne(loadCluster(text), 'HAD_CFG_DUPLICATE', 'error', at(text, 'cluster {', 2));
      assert.match(d.message, /line 1/);
    });
  });

  describe('authentication', () => {
    it('auth_key_file is resolved against the directory of the main file', () => {
      const c = clusterOf(loadCluster(clusterText(auth, ...threeNodes, ...selfRelease)));
      assert.deepEqual(c.auth, { kind: 'key', file: keyFile, written: 'cluster.key', where: { file: mainFile, line: 2, col: 5 } });
    });

    it('an absolute auth_key_file is taken as it is', () => {
      const text = clusterText('auth_key_file /srv/keys/lab.key', ...threeNodes, ...selfRelease);
      const result = loadCluster(text, { files: { '/srv/keys/lab.key': key32 } });
      assertClean(result);
      assert.equal(result.config.cluster?.auth?.kind === 'key' ? result.config.cluster.auth.file : undefined, '/srv/keys/lab.key');
    });

    it('a missing key file is HAD_CFG_KEY_FILE at auth_key_file', () => {
      const text = clusterText('auth_key_file missing.key', ...threeNodes, ...selfRelease);
      const d = assertOne(loadCluster(text), 'HAD_CFG_KEY_FILE', 'error', at(text, 'auth_key_file'));
      assert.match(d.message, /\/etc\/hadirector\/missing\.key: no such file/);
    });

    it('a key shorter than 16 bytes is HAD_CFG_KEY_FILE', () => {
      const text = clusterText(auth, ...threeNodes, ...selfRelease);
      const d = assertOne(loadCluster(text, { files: { [keyFile]: 'short-key-15byt\n' } }), 'HAD_CFG_KEY_FILE', 'error', at(text, 'auth_key_file'));
      assert.match(d.message, /holds 15/);
    });

    it('a key of exactly 16 bytes (the newline not counted) is enough', () => {
      assertClean(loadCluster(clusterText(auth, ...threeNodes, ...selfRelease), { files: { [keyFile]: '0123456789abcdef\n' } }));
    });

    it('auth none is accepted with a HAD_CFG_RISKY warning at it', () => {
      const text = clusterText('auth none', ...threeNodes, ...selfRelease);
      const result = loadCluster(text);
      assertOne(result, 'HAD_CFG_RISKY', 'warning', at(text, 'auth none'));
      assert.equal(result.errorCount, 0);
      assert.equal(result.config.cluster?.auth?.kind, 'none');
    });

    it('auth with anything but none is HAD_CFG_BAD_VALUE at the value', () => {
      const text = clusterText('auth hmac', ...threeNodes, ...selfRelease);
      const result = loadCluster(text);
      assertOne(result, 'HAD_CFG_BAD_VALUE', 'error', at(text, 'hmac'));
    });

    it('no authentication at all is HAD_CFG_NO_AUTH at the cluster block', () => {
      const text = clusterText(...threeNodes, ...selfRelease);
      const d = assertOne(loadCluster(text), 'HAD_CFG_NO_AUTH', 'error', at(text, 'cluster'));
      assert.match(d.message, /auth_key_file/);
    });
  });

  describe('failure-detector timing', () => {
    it('reads milliseconds, seconds with a fraction, minutes and bare seconds', () => {
      const c = clusterOf(loadCluster(clusterText(auth, 'heartbeat_interval 200ms', 'warntime 1.5s', 'deadtime 3', 'initdead 2m', ...threeNodes, ...selfRelease)));
      assert.deepEqual([c.heartbeatIntervalMs, c.warntimeMs, c.deadtimeMs, c.initdeadMs], [200, 1500, 3000, 120_000]);
    });

    it('hours are read too', () => {
      const c = clusterOf(loadCluster(clusterText(auth, 'initdead 1h', ...threeNodes, ...selfRelease)));
      assert.equal(c.initdeadMs, 3_600_000);
    });

    it('warntime defaults to half the deadtime and initdead to twice it, at least 5 s', () => {
      const short = clusterOf(loadCluster(clusterText(auth, 'heartbeat_interval 100ms', 'deadtime 1s', ...threeNodes, ...selfRelease)));
      assert.deepEqual(detectorTiming(short), { intervalMs: 100, warntimeMs: 500, deadtimeMs: 1000, initdeadMs: 5000 });
      const long = clusterOf(loadCluster(clusterText(auth, 'deadtime 10s', ...threeNodes, ...selfRelease)));
      assert.deepEqual(detectorTiming(long), { intervalMs: 1000, warntimeMs: 5000, deadtimeMs: 10_000, initdeadMs: 20_000 });
    });

    it('a word that is no duration is HAD_CFG_BAD_DURATION at the value', () => {
      const text = clusterText(auth, 'deadtime 3x', ...threeNodes, ...selfRelease);
      assertOne(loadCluster(text), 'HAD_CFG_BAD_DURATION', 'error', at(text, '3x'));
    });

    it('durations below 10ms or above an hour are out of range at the value', () => {
      for (const line of ['heartbeat_interval 5ms', 'initdead 2h']) {
        const text = clusterText(auth, line, ...threeNodes, ...selfRelease);
        assertOne(loadCluster(text), 'HAD_CFG_OUT_OF_RANGE', 'error', at(text, line.split(' ')[1] as string));
      }
    });

    it('deadtime at or below twice heartbeat_interval is HAD_CFG_CONFLICT at deadtime', () => {
      for (const deadtime of ['2s', '1500ms']) {
        const text = clusterText(auth, 'heartbeat_interval 1s', `deadtime ${deadtime}`, 'warntime 1200ms', ...threeNodes, ...selfRelease);
        const result = loadCluster(text);
        const d = withCode(result, 'HAD_CFG_CONFLICT').find((x) => /twice heartbeat_interval/.test(x.message));
        assert.ok(d !== undefined, describeAll(result));
        assert.equal(d.severity, 'error');
        assert.equal(`${d.where?.file}:${d.where?.line}:${d.where?.col}`, at(text, 'deadtime'));
      }
    });

    it('deadtime just above twice heartbeat_interval is fine', () => {
      assertClean(loadCluster(clusterText(auth, 'heartbeat_interval 1s', 'deadtime 2.01s', ...threeNodes, ...selfRelease)));
    });

    it('warntime at or past deadtime, or below heartbeat_interval, is a conflict', () => {
      for (const warntime of ['3s', '500ms']) {
        const result = loadCluster(clusterText(auth, `warntime ${warntime}`, ...threeNodes, ...selfRelease));
        const d = withCode(result, 'HAD_CFG_CONFLICT');
        assert.equal(d.length, 1, describeAll(result));
        assert.match(d[0]?.message ?? '', /warntime/);
      }
    });

    it('initdead below deadtime is a conflict', () => {
      const result = loadCluster(clusterText(auth, 'initdead 2s', ...threeNodes, ...selfRelease));
      assert.match(withCode(result, 'HAD_CFG_CONFLICT')[0]?.message ?? '', /initdead/, describeAll(result));
    });
  });

  describe('links', () => {
    it('reads port, mcast_group, ttl and interface', () => {
      const text = clusterText(
        auth,
        'link ring0 {',
        '    port 7001',
        '    mcast_group 239.1.1.1',
        '    ttl 2',
        '    interface eth1',
        '}',
        'link ring1 {',
        '    mcast_group ff15::1',
        '}',
        'node d1 {',
        '    address 10.0.0.11',
        '    address ring1 [2001:db8::11]',
        '}',
        'node d2 {',
        '    address ring0 10.0.0.12',
        '    address ring1 [2001:db8::12]:7100',
        '}',
        'node w1 {',
        '    address 10.0.0.13:7002',
        '    address ring1 2001:db8::13',
        '    witness',
        '}',
        ...selfRelease,
      );
      const result = loadCluster(text);
      assertClean(result);
      const c = clusterOf(result);
      assert.deepEqual(c.links.map((l) => [l.name, l.port, l.mcastGroup, l.ttl, l.interface]), [
        ['ring0', 7001, '239.1.1.1', 2, 'eth1'],
        ['ring1', 6405, 'ff15::1', 1, undefined],
      ]);
      assert.deepEqual(c.nodes.map((n) => n.addresses.map((a) => `${a.link} ${a.address} ${a.family} ${a.port}`)), [
        ['ring0 10.0.0.11 4 7001', 'ring1 2001:db8::11 6 6405'],
        ['ring0 10.0.0.12 4 7001', 'ring1 2001:db8::12 6 7100'],
        ['ring0 10.0.0.13 4 7002', 'ring1 2001:db8::13 6 6405'],
      ]);
    });

    it('a link without a port takes the cluster port, even when port is written after the link', () => {
      const c = clusterOf(loadCluster(clusterText(auth, 'link ring0 {', '    ttl 1', '}', 'port 7000', ...threeNodes, ...selfRelease)));
      assert.equal(c.links[0]?.port, 7000);
      assert.equal(c.nodes[0]?.addresses[0]?.port, 7000);
    });

    it('a node address may name a link declared after the node', () => {
      const result = loadCluster(clusterText(auth, ...threeNodes.map((l) => l.replace('address 10', 'address late 10')), 'link late {', '}', ...selfRelease));
      assertClean(result);
      assert.equal(clusterOf(result).nodes[0]?.addresses[0]?.link, 'late');
    });

    it('an mcast_group that is not multicast is HAD_CFG_BAD_ADDRESS at the value', () => {
      const text = clusterText(auth, 'link ring0 {', '    mcast_group 10.1.1.1', '}', ...threeNodes, ...selfRelease);
      const result = loadCluster(text);
      assertOne(result, 'HAD_CFG_BAD_ADDRESS', 'error', at(text, '10.1.1.1'));
      assert.equal(clusterOf(result).links[0]?.mcastGroup, undefined);
    });

    it('ttl 0 and a link with no name are reported', () => {
      const ttl = clusterText(auth, 'link ring0 {', '    ttl 0', '}', ...threeNodes, ...selfRelease);
      assertOne(loadCluster(ttl), 'HAD_CFG_OUT_OF_RANGE', 'error', atEnd(ttl, 'ttl '));
      const nameless = clusterText(auth, 'link {', '}', ...threeNodes, ...selfRelease);
      assertOne(loadCluster(nameless), 'HAD_CFG_MISSING_ARGUMENT', 'error', at(nameless, 'link'));
    });

    it('an address naming an unknown link is HAD_CFG_UNKNOWN_REFERENCE at the link name', () => {
      const text = clusterText(auth, ...threeNodes.map((l) => l.replace('address 10.0.0.12', 'address ring9 10.0.0.12')), ...selfRelease);
      const d = assertOne(loadCluster(text), 'HAD_CFG_UNKNOWN_REFERENCE', 'error', at(text, 'ring9'));
      assert.match(d.message, /ring0/);
    });

    it('a node with no address on one of the links is a warning at the node', () => {
      const text = clusterText(auth, 'link ring0 {', '}', 'link ring1 {', '}', ...threeNodes.map((l) => l.replace('address 10.0.0.11', 'address 10.0.0.11\n        address ring1 10.1.0.11')), ...selfRelease);
      const result = loadCluster(text);
      assert.deepEqual(summary(result), [`warning HAD_CFG_MISSING_KEYWORD ${at(text, 'node d2')}`, `warning HAD_CFG_MISSING_KEYWORD ${at(text, 'node w1')}`]);
    });

    it('two links of one name are a duplicate', () => {
      const text = clusterText(auth, 'link ring0 {', '}', 'link ring0 {', '}', ...threeNodes, ...selfRelease);
      assertOne(loadCluster(text), 'HAD_CFG_DUPLICATE', 'error', at(text, 'link', 2));
    });
  });

  describe('nodes', () => {
    it('reads priority, votes and witness', () => {
      const text = clusterText(auth, 'node d1 {', '    address 10.0.0.11', '    priority 200', '    votes 2', '}', 'node d2 {', '    address 10.0.0.12', '    priority 0', '}', 'node w1 {', '    address 10.0.0.13', '    witness yes', '    votes 2', '}', ...selfRelease);
      const result = loadCluster(text);
      assertClean(result);
      assert.deepEqual(clusterOf(result).nodes.map((n) => [n.name, n.priority, n.votes, n.witness]), [
        ['d1', 200, 2, false],
        ['d2', 0, 1, false],
        ['w1', 100, 2, true],
      ]);
    });

    it('priority and votes above 255 are out of range at the value', () => {
      const text = clusterText(auth, ...threeNodes.map((l) => l.replace('witness', 'witness\n        priority 256\n        votes 300')), ...selfRelease);
      assert.deepEqual(summary(loadCluster(text)), [`error HAD_CFG_OUT_OF_RANGE ${at(text, '256')}`, `error HAD_CFG_OUT_OF_RANGE ${at(text, '300')}`]);
    });

    it('a bad address, a bad port and an IPv6 address without brackets and port are told apart', () => {
      const text = clusterText(auth, ...threeNodes.map((l) => l.replace('10.0.0.11', '10.0.0.311').replace('10.0.0.12', '10.0.0.12:0').replace('10.0.0.13', '2001:db8::13')), ...selfRelease);
      const result = loadCluster(text);
      assert.deepEqual(summary(result).filter((s) => s.startsWith('error HAD_CFG_BAD') || s.startsWith('error HAD_CFG_OUT')), [
        `error HAD_CFG_BAD_ADDRESS ${at(text, '10.0.0.311')}`,
        `error HAD_CFG_OUT_OF_RANGE ${at(text, '10.0.0.12:0')}`,
      ]);
      assert.deepEqual(clusterOf(result).nodes[2]?.addresses.map((a) => [a.address, a.port]), [['2001:db8::13', 6405]]);
    });

    it('a node name that is not a host-like word is HAD_CFG_BAD_VALUE at the name', () => {
      const text = clusterText(auth, ...threeNodes, 'node -bad {', '    address 10.0.0.14', '    votes 0', '}', ...selfRelease);
      assertOne(loadCluster(text), 'HAD_CFG_BAD_VALUE', 'error', at(text, '-bad'));
    });

    it('a node with no name is HAD_CFG_MISSING_ARGUMENT', () => {
      const text = clusterText(auth, ...threeNodes, 'node {', '}', ...selfRelease);
      assertOne(loadCluster(text), 'HAD_CFG_MISSING_ARGUMENT', 'error', at(text, 'node {'));
    });

    it('two nodes of one name are HAD_CFG_DUPLICATE at the second, naming the first', () => {
      const text = clusterText(auth, ...threeNodes, 'node d2 {', '    address 10.0.0.14', '}', ...selfRelease);
      const d = withCode(loadCluster(text), 'HAD_CFG_DUPLICATE')[0];
      assert.equal(`${d?.where?.file}:${d?.where?.line}:${d?.where?.col}`, at(text, 'node d2', 2));
      assert.ok(d?.message.includes(at(text, 'node d2', 1)), d?.message);
    });

    it('two nodes with one address and port are HAD_CFG_DUPLICATE at the second address', () => {
      const text = clusterText(auth, ...threeNodes.map((l) => l.replace('10.0.0.12', '10.0.0.11')), ...selfRelease);
      const d = withCode(loadCluster(text), 'HAD_CFG_DUPLICATE');
      assert.deepEqual(d.map((x) => `${x.where?.file}:${x.where?.line}:${x.where?.col}`), [at(text, '10.0.0.11', 2)]);
    });

    it('one address on two ports is two addresses', () => {
      const text = clusterText(auth, ...threeNodes.map((l) => l.replace('10.0.0.12', '10.0.0.11:6406')), ...selfRelease);
      assertClean(loadCluster(text));
    });

    it('a node with no address is HAD_CFG_MISSING_KEYWORD at the node', () => {
      const text = clusterText(auth, ...threeNodes, 'node d3 {', '    votes 0', '}', ...selfRelease);
      assertOne(loadCluster(text), 'HAD_CFG_MISSING_KEYWORD', 'error', at(text, 'node d3'));
    });

    it('a cluster with no node is an error at the cluster', () => {
      const text = clusterText(auth);
      const result = loadCluster(text);
      assert.ok(
        withCode(result, 'HAD_CFG_MISSING_KEYWORD').some((d) => d.severity === 'error' && d.where?.line === 1),
        describeAll(result),
      );
    });

    it('a node name that is not in the cluster is HAD_CFG_UNKNOWN_NODE at the cluster block', () => {
      const text = clusterText(auth, ...threeNodes, ...selfRelease);
      const d = assertOne(loadCluster(text, { node: 'd9' }), 'HAD_CFG_UNKNOWN_NODE', 'error', at(text, 'cluster'));
      assert.match(d.message, /'d9'.*d1, d2, w1/);
    });

    it('every node of the cluster may be the one read for', () => {
      for (const node of ['d1', 'd2', 'w1']) assertClean(loadCluster(clusterText(auth, ...threeNodes, ...selfRelease), { node }));
    });
  });

  describe('quorum', () => {
    const pair = ['node d1 {', '    address 10.0.0.11', '}', 'node d2 {', '    address 10.0.0.12', '}'];

    it('reads expected_votes, two_node and wait_for_all', () => {
      const result = loadCluster(clusterText(auth, ...pair, 'quorum {', '    expected_votes 2', '    two_node', '    wait_for_all yes', '}', ...pairFencing));
      assertClean(result);
      const q = clusterOf(result).quorum;
      assert.deepEqual([q.expectedVotes, q.twoNode, q.waitForAll], [2, true, true]);
    });

    it('two_node needs exactly two voting nodes: with three it is HAD_CFG_CONFLICT at two_node', () => {
      const text = clusterText(auth, ...threeNodes, 'quorum {', '    two_node', '}', ...selfRelease);
      const d = assertOne(loadCluster(text), 'HAD_CFG_CONFLICT', 'error', at(text, 'two_node'));
      assert.match(d.message, /has 3/);
    });

    it('a node with votes 0 does not count towards two_node', () => {
      const text = clusterText(auth, ...threeNodes.map((l) => l.replace('witness', 'witness\n        votes 0')), 'quorum {', '    two_node', '}', ...pairFencing);
      assertClean(loadCluster(text));
    });

    it('two_node with wait_for_all off is a HAD_CFG_RISKY warning', () => {
      const text = clusterText(auth, ...pair, 'quorum {', '    two_node', '    wait_for_all off', '}', ...pairFencing);
      assertOne(loadCluster(text), 'HAD_CFG_RISKY', 'warning', at(text, 'two_node'));
    });

    it('two_node with mode self_release, or with a race delay below two heartbeats, is a HAD_CFG_RISKY warning at fencing', () => {
      const selfReleased = clusterText(auth, ...pair, 'quorum {', '    two_node', '}', ...selfRelease);
      assert.match(assertOne(loadCluster(selfReleased), 'HAD_CFG_RISKY', 'warning', at(selfReleased, 'fencing')).message, /a cut link leaves each director quorate/);
      const hasty = clusterText(auth, ...pair, 'quorum {', '    two_node', '}', ...pairFencing.map((l) => l.replace('delay_max 5s', 'delay_max 1s')));
      assert.match(assertOne(loadCluster(hasty), 'HAD_CFG_RISKY', 'warning', at(hasty, 'fencing')).message, /delay_max 1000 ms is below twice heartbeat_interval/);
    });

    it('an even number of votes without two_node is a HAD_CFG_RISKY warning at the cluster', () => {
      const text = clusterText(auth, ...pair, ...selfRelease);
      const d = assertOne(loadCluster(text), 'HAD_CFG_RISKY', 'warning', at(text, 'cluster'));
      assert.match(d.message, /2 votes/);
    });

    it('expected_votes below the votes configured is a warning at expected_votes', () => {
      const text = clusterText(auth, ...threeNodes, 'quorum {', '    expected_votes 2', '}', ...selfRelease);
      assertOne(loadCluster(text), 'HAD_CFG_CONFLICT', 'warning', at(text, 'expected_votes'));
    });

    it('expected_votes 0 is out of range', () => {
      const text = clusterText(auth, ...threeNodes, 'quorum {', '    expected_votes 0', '}', ...selfRelease);
      assertOne(loadCluster(text), 'HAD_CFG_OUT_OF_RANGE', 'error', atEnd(text, 'expected_votes '));
    });

    for (const policy of ['stop', 'freeze', 'ignore'] as const) {
      it(`no_quorum_policy ${policy} is read`, () => {
        assert.equal(clusterOf(loadCluster(clusterText(auth, `no_quorum_policy ${policy}`, ...threeNodes, ...selfRelease))).noQuorumPolicy, policy);
      });
    }

    it('an unknown no_quorum_policy is HAD_CFG_BAD_VALUE at the value', () => {
      const text = clusterText(auth, 'no_quorum_policy suicide', ...threeNodes, ...selfRelease);
      assertOne(loadCluster(text), 'HAD_CFG_BAD_VALUE', 'error', at(text, 'suicide'));
    });
  });

  describe('fencing', () => {
    const fencing = (...body: string[]): string[] => ['fencing {', ...body.map((b) => `    ${b}`), '}'];
    const ipmi = (name: string, host: string): string[] => [
      `device ${name} {`,
      '    agent fence_ipmilan',
      `    ip 10.9.0.${host === 'd1' ? 11 : 12}`,
      '    username admin',
      '    password "s3cret pass"',
      '    lanplus 1',
      `    hosts ${host}`,
      '}',
    ];

    it('reads mode, action, delays, devices with their options, and levels', () => {
      const text = clusterText(
        auth,
        ...threeNodes,
        ...fencing('mode power', 'action off', 'delay_base 1s', 'delay_max 5s', ...ipmi('ipmi-d1', 'd1'), ...ipmi('ipmi-d2', 'd2'), 'device pdu {', '    agent fence_apc', '    timeout 30s', '    retries 0', '    hosts d1 d2', '}', 'level d1 1 ipmi-d1', 'level d1 2 pdu', 'level d2 1 ipmi-d2 pdu'),
      );
      const result = loadCluster(text);
      assertClean(result);
      const f = clusterOf(result).fencing;
      assert.deepEqual([f.mode, f.action, f.delayBaseMs, f.delayMaxMs], ['power', 'off', 1000, 5000]);
      assert.deepEqual(f.devices.map((d) => [d.name, d.agent, d.timeoutMs, d.retries, d.hosts]), [
        ['ipmi-d1', 'fence_ipmilan', 60_000, 2, ['d1']],
        ['ipmi-d2', 'fence_ipmilan', 60_000, 2, ['d2']],
        ['pdu', 'fence_apc', 30_000, 0, ['d1', 'd2']],
      ]);
      assert.deepEqual(f.devices[0]?.options, { ip: '10.9.0.11', username: 'admin', password: 's3cret pass', lanplus: '1' });
      const passwordAt = f.devices[0]?.optionWhere['password'];
      assert.equal(`${passwordAt?.file}:${passwordAt?.line}:${passwordAt?.col}`, at(text, 'password'));
      assert.deepEqual(f.devices[2]?.options, {});
      assert.deepEqual(f.levels.map((l) => [l.target, l.index, l.devices.map((d) => d.name)]), [
        ['d1', 1, ['ipmi-d1']],
        ['d1', 2, ['pdu']],
        ['d2', 1, ['ipmi-d2', 'pdu']],
      ]);
    });

    for (const agent of ['exec', 'http', 'signal', 'netns', 'fence_virsh', 'fence_aws']) {
      it(`agent ${agent} is accepted`, () => {
        const result = loadCluster(clusterText(auth, ...threeNodes, ...fencing('mode self_release', 'device x {', `    agent ${agent}`, '}')));
        assertClean(result);
        assert.equal(clusterOf(result).fencing.devices[0]?.agent, agent);
      });
    }

    it('an agent that is neither built in nor fence_* is HAD_CFG_BAD_VALUE at the agent', () => {
      const text = clusterText(auth, ...threeNodes, ...fencing('mode self_release', 'device x {', '    agent ipmitool', '}'));
      const result = loadCluster(text);
      assertOne(result, 'HAD_CFG_BAD_VALUE', 'error', at(text, 'ipmitool'));
    });

    it('a device with no agent is an error at the device', () => {
      const text = clusterText(auth, ...threeNodes, ...fencing('mode self_release', 'device x {', '    ip 10.9.0.1', '}'));
      assertOne(loadCluster(text), 'HAD_CFG_MISSING_KEYWORD', 'error', at(text, 'device'));
    });

    it('timeout below 1 s, retries above 10 and an option with no value are reported', () => {
      const text = clusterText(auth, ...threeNodes, ...fencing('mode self_release', 'device x {', '    agent exec', '    timeout 500ms', '    retries 11', '    plug', '}'));
      assert.deepEqual(summary(loadCluster(text)), [
        `error HAD_CFG_OUT_OF_RANGE ${at(text, '500ms')}`,
        `error HAD_CFG_OUT_OF_RANGE ${atEnd(text, 'retries ')}`,
        `error HAD_CFG_MISSING_ARGUMENT ${at(text, 'plug')}`,
      ]);
    });

    it('hosts naming an unknown node is an error at the device', () => {
      const text = clusterText(auth, ...threeNodes, ...fencing('mode self_release', 'device x {', '    agent exec', '    hosts d1 d7', '}'));
      const d = assertOne(loadCluster(text), 'HAD_CFG_UNKNOWN_REFERENCE', 'error', at(text, 'device'));
      assert.match(d.message, /d7/);
    });

    it('a level naming an unknown node, an unknown device or index 10 is reported at its place', () => {
      const text = clusterText(auth, ...threeNodes, ...fencing(...ipmi('ipmi-d1', 'd1'), ...ipmi('ipmi-d2', 'd2'), 'level d1 1 ipmi-d1', 'level d2 1 ipmi-d2', 'level d9 2 ipmi-d1', 'level d1 2 nosuch', 'level d2 10 ipmi-d2'));
      const result = loadCluster(text);
      assert.deepEqual(summary(result), [
        `error HAD_CFG_UNKNOWN_REFERENCE ${at(text, 'level d9')}`,
        `error HAD_CFG_UNKNOWN_REFERENCE ${at(text, 'nosuch')}`,
        `error HAD_CFG_OUT_OF_RANGE ${at(text, '10 ipmi-d2')}`,
      ]);
    });

    it('a level with fewer than three words is HAD_CFG_MISSING_ARGUMENT', () => {
      const text = clusterText(auth, ...threeNodes, ...fencing('mode self_release', 'level d1 1'));
      assertOne(loadCluster(text), 'HAD_CFG_MISSING_ARGUMENT', 'error', at(text, 'level'));
    });

    it('two levels with one node and index are a duplicate', () => {
      const text = clusterText(auth, ...threeNodes, ...fencing(...ipmi('ipmi-d1', 'd1'), ...ipmi('ipmi-d2', 'd2'), 'level d1 1 ipmi-d1', 'level d2 1 ipmi-d2', 'level d1 1 ipmi-d2'));
      assertOne(loadCluster(text), 'HAD_CFG_DUPLICATE', 'error', at(text, 'level d1 1', 2));
    });

    it('delay_max below delay_base is a conflict', () => {
      const text = clusterText(auth, ...threeNodes, ...fencing('mode self_release', 'delay_base 5s', 'delay_max 2s'));
      assertOne(loadCluster(text), 'HAD_CFG_CONFLICT', 'error', at(text, 'fencing'));
    });

    it('an unknown mode or action is HAD_CFG_BAD_VALUE at the value', () => {
      const text = clusterText(auth, ...threeNodes, ...fencing('mode stonith', 'action shoot'));
      const result = loadCluster(text);
      assert.deepEqual(summary(result).filter((s) => s.startsWith('error')), [`error HAD_CFG_BAD_VALUE ${at(text, 'stonith')}`, `error HAD_CFG_BAD_VALUE ${at(text, 'shoot')}`]);
    });

    it('power mode with a director that has no level is a HAD_CFG_RISKY warning at each such node, never at the witness', () => {
      const text = clusterText(auth, ...threeNodes);
      const result = loadCluster(text);
      assert.deepEqual(summary(result), [`warning HAD_CFG_RISKY ${at(text, 'node d1')}`, `warning HAD_CFG_RISKY ${at(text, 'node d2')}`]);
    });

    it('self_release mode needs no levels', () => {
      assertClean(loadCluster(clusterText(auth, ...threeNodes, ...selfRelease)));
    });
  });

  describe('time', () => {
    const time = (...body: string[]): string => clusterText(auth, ...threeNodes, ...selfRelease, 'time {', ...body.map((b) => `    ${b}`), '}');

    it('reads ntp_server as a host name, an IP, IP:PORT, [IPv6]:PORT and a bare IPv6 address', () => {
      const result = loadCluster(time('ntp_server ntp.example.com', 'ntp_server ntp2:1123', 'ntp_server 192.0.2.123', 'ntp_server 192.0.2.124:12300', 'ntp_server [2001:db8::123]:1234', 'ntp_server 2001:db8::124'));
      assertClean(result);
      assert.deepEqual(clusterOf(result).time.ntpServers.map((s) => `${s.host} ${s.port}`), [
        'ntp.example.com 123',
        'ntp2 1123',
        '192.0.2.123 123',
        '192.0.2.124 12300',
        '2001:db8::123 1234',
        '2001:db8::124 123',
      ]);
    });

    it('a host name may start with a digit, as the NTP pool names do', () => {
      const result = loadCluster(time('ntp_server 0.debian.pool.ntp.org', 'ntp_server 1.pool.ntp.org:123'));
      assertClean(result);
      assert.deepEqual(clusterOf(result).time.ntpServers.map((s) => `${s.host} ${s.port}`), ['0.debian.pool.ntp.org 123', '1.pool.ntp.org 123']);
    });

    it('a bad IP or port is reported at the server', () => {
      const text = time('ntp_server 192.0.2.300', 'ntp_server ntp.example.com:70000', 'ntp_server [2001:db8::1]:0');
      assert.deepEqual(summary(loadCluster(text)), [
        `error HAD_CFG_BAD_ADDRESS ${at(text, '192.0.2.300')}`,
        `error HAD_CFG_OUT_OF_RANGE ${at(text, 'ntp.example.com:70000')}`,
        `error HAD_CFG_OUT_OF_RANGE ${at(text, '[2001:db8::1]:0')}`,
      ]);
    });

    it('reads skew_warn, skew_critical, schedule and notify', () => {
      const result = loadCluster(time('skew_warn 100ms', 'skew_critical 2s', 'schedule */10 * * * *', 'notify "/etc/ha/clock.sh --page"'));
      assertClean(result);
      const t = clusterOf(result).time;
      assert.deepEqual([t.skewWarnMs, t.skewCriticalMs, t.schedule, t.notify?.argv], [100, 2000, '*/10 * * * *', ['/etc/ha/clock.sh', '--page']]);
    });

    it('a quoted schedule and one with seconds are cron expressions too', () => {
      assert.equal(clusterOf(loadCluster(time('schedule "0 */15 * * * *"'))).time.schedule, '0 */15 * * * *');
    });

    it('a schedule that is no cron expression is HAD_CFG_BAD_VALUE at its first field', () => {
      const text = time('schedule 61 * * * *');
      const result = loadCluster(text);
      assertOne(result, 'HAD_CFG_BAD_VALUE', 'error', at(text, '61'));
      assert.equal(clusterOf(result).time.schedule, '*/5 * * * *');
    });

    it('skew_warn at or above skew_critical is a conflict', () => {
      for (const body of [['skew_warn 1s'], ['skew_warn 2s', 'skew_critical 1s']]) {
        const result = loadCluster(time(...body));
        const d = withCode(result, 'HAD_CFG_CONFLICT');
        assert.equal(d.length, 1, describeAll(result));
        assert.match(d[0]?.message ?? '', /skew_warn/);
      }
    });

    it('a skew of 0 is out of range', () => {
      const text = time('skew_warn 0ms');
      assertOne(loadCluster(text), 'HAD_CFG_OUT_OF_RANGE', 'error', at(text, '0ms'));
    });
  });

  it('an unknown keyword in a cluster sub-block is a warning with a suggestion', () => {
    const text = clusterText(auth, ...threeNodes, ...selfRelease, 'quorum {', '    wait_for_al yes', '}');
    const d = assertOne(loadCluster(text), 'HAD_CFG_UNKNOWN_KEYWORD', 'warning', at(text, 'wait_for_al'));
    assert.match(d.message, /wait_for_all/);
  });
});
