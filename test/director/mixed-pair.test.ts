// A keepalived director and a hadirector one with a cluster block, as one VRRP pair, on
// virtual time: the cluster's control plane (the daemon's shell) with its adverts on a
// fake wire segment beside the envelope, and a keepalived stand-in (VRRP with no cluster,
// which the interop test holds to Debian's keepalived) on the same segment. The pair
// elects and fails over as a keepalived pair does; the keepalived side is never fenced;
// the hadirector side still takes over only with quorum; between hadirector nodes the
// gate applies as without the wire.
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import type { MemberConfig } from '../../src/cluster/membership';
import type { ControlPlane } from '../../src/director/control-plane';
import { WireCarrier } from '../../src/director/wire-carrier';
import type { FencingConfig } from '../../src/fencing/config';
import type { LogSink } from '../../src/common/log';
import { masterDownIntervalMs, skewTimeMs } from '../../src/vrrp/timing';
import { defaultSimTiming } from '../sim/cluster-sim';
import { NodeClock, VirtualNetwork } from '../sim/network';
import { simClusterConfig, simInstance, simPlane } from '../sim/sim-plane';
import { ip, node, Segment, settings, state, type Node } from '../support/wire-segment';

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined };
const member = (name: string, priority: number, witness = false): MemberConfig => ({ name, priority, votes: 1, witness });

interface Lab {
  readonly clock: VirtualClock;
  readonly segment: Segment;
  readonly net: VirtualNetwork;
  readonly planes: Map<string, ControlPlane>;
  readonly lines: string[];
  /** A keepalived director on the segment: VRRP with no cluster. */
  keepalived(name: string, address: string, priority: number): Node;
  /** Starts a node of the cluster (again), with the cluster block `block` lists (all nodes by default). */
  boot(name: string, block?: readonly string[]): ControlPlane;
  /** Who holds VI_1: the cluster's directors and the keepalived ones. */
  masters(): string[];
  crash(name: string): void;
  /** A clean stop of a node of the cluster: priority 0, then its leave. */
  stop(name: string): void;
}

const address = (i: number) => `10.9.0.${i + 1}`;

/**
 * The cluster's nodes at 10.9.0.N (N their place in the list), each director with VI_1 on
 * the wire from that address; all started but those `absent` (listed, not run).
 */
function lab(nodes: readonly MemberConfig[], fencing: Partial<FencingConfig> = {}, absent: readonly string[] = []): Lab {
  const clock = new VirtualClock();
  const segment = new Segment(clock);
  const net = new VirtualNetwork(clock, new SeededRng(7));
  const base = simClusterConfig({ nodes, timing: defaultSimTiming, fencing });
  const everyNode = base.nodes.map((n, i) => ({ ...n, addresses: [{ address: address(i), family: 4 as const, link: 'ring0', port: 694, where: n.where }] }));
  const planes = new Map<string, ControlPlane>();
  const carriers = new Map<string, WireCarrier>();
  const kas = new Map<string, Node>();
  const lines: string[] = [];
  const log: LogSink = { error: (m) => lines.push(m), warn: (m) => lines.push(m), info: (m) => lines.push(m) };
  let epoch = 1;
  const boot = (name: string, block: readonly string[] = nodes.map((n) => n.name)): ControlPlane => {
    const i = nodes.findIndex((n) => n.name === name);
    const m = nodes[i] as MemberConfig;
    segment.cut.delete(name);
    let plane: ControlPlane | undefined;
    const carrier = m.witness
      ? undefined
      : new WireCarrier([settings({ source: ip(address(i)), priority: m.priority })], segment.opener(name), { listening: (instance) => plane?.listening(instance) ?? false, received: (a) => plane?.wireAdvert(a) }, quiet);
    plane = simPlane({
      name,
      cluster: { ...base, nodes: everyNode.filter((n) => block.includes(n.name)) },
      links: ['ring0'],
      net,
      clock: new NodeClock(clock),
      rng: new SeededRng(i + 1),
      bootEpoch: epoch++,
      instances: m.witness ? [] : [simInstance(m.priority, address(i))],
      ...(carrier !== undefined ? { wire: carrier } : {}),
      log,
    });
    planes.set(name, plane);
    if (carrier !== undefined) carriers.set(name, carrier);
    plane.start();
    return plane;
  };
  for (const m of nodes) if (!absent.includes(m.name)) boot(m.name);
  const down = (name: string, how: 'crash' | 'leave') => {
    const plane = planes.get(name);
    if (how === 'crash') plane?.crash();
    else plane?.leave();
    planes.delete(name);
    carriers.get(name)?.close();
    segment.cut.add(name);
    net.detach(name);
  };
  return {
    clock,
    segment,
    net,
    planes,
    lines,
    boot,
    keepalived(name, address, priority) {
      const ka = node(clock, segment, name, settings({ source: ip(address), priority }));
      ka.wire.start();
      kas.set(name, ka);
      return ka;
    },
    masters: () => [...[...planes].filter(([, p]) => p.isHolding('VI_1')).map(([n]) => n), ...[...kas].filter(([, k]) => state(k) === 'master').map(([n]) => n)],
    crash(name) {
      segment.cut.add(name);
      const ka = kas.get(name);
      if (ka !== undefined) {
        ka.wire.close();
        kas.delete(name);
        return;
      }
      down(name, 'crash');
    },
    stop: (name) => down(name, 'leave'),
  };
}

/** Runs in 10 ms steps until `done`; how long that took, and whether two masters were ever seen. */
function runUntil(l: Lab, done: () => boolean, maxMs: number): { afterMs: number; twoSeen: boolean } {
  const start = l.clock.nowMs();
  let twoSeen = false;
  for (let t = 0; t <= maxMs; t += 10) {
    if (l.masters().length > 1) twoSeen = true;
    if (done()) return { afterMs: l.clock.nowMs() - start, twoSeen };
    l.clock.advance(10);
  }
  throw new Error(`not done within ${maxMs} ms; masters: ${l.masters().join(',') || 'none'}`);
}

describe('a mixed pair: keepalived beside a hadirector director with a cluster block (virtual time)', () => {
  it('keepalived master, hadirector backup: kill keepalived, hadirector takes over within Master_Down_Interval and fences no one', () => {
    const l = lab([member('h', 100), member('w', 0, true)]);
    l.keepalived('ka', '10.9.0.9', 150);
    l.clock.advance(10_000);
    assert.deepEqual(l.masters(), ['ka']);
    const h = l.planes.get('h') as ControlPlane;
    assert.deepEqual(h.instances()[0]?.foreignRouters, ['10.9.0.9']);
    assert.ok(l.lines.some((m) => m.includes('10.9.0.9 speaks VRRP on the wire and is no node of the cluster')), l.lines.join('\n'));
    l.crash('ka');
    const { afterMs, twoSeen } = runUntil(l, () => l.masters().join() === 'h', 10_000);
    assert.ok(afterMs <= masterDownIntervalMs(3, 1000, 100) + 20, `took over after ${afterMs} ms`);
    assert.equal(twoSeen, false);
    assert.deepEqual(h.fencing.status().history, [], 'the keepalived side is never fenced');
  });

  it('hadirector master, keepalived backup: a clean stop hands over at the skew time', () => {
    const l = lab([member('h', 150), member('w', 0, true)]);
    const ka = l.keepalived('ka', '10.9.0.9', 100);
    l.clock.advance(10_000);
    assert.deepEqual(l.masters(), ['h']);
    l.stop('h');
    const { afterMs } = runUntil(l, () => l.masters().join() === 'ka', 5000);
    assert.ok(afterMs <= skewTimeMs(3, 1000, 100) + 20, `keepalived took over ${afterMs} ms after priority 0`);
    assert.equal(ka.wire.status()[0]?.stats.pri_zero_rcvd, 1);
  });

  it('keepalived preempts a lower hadirector master, and the tie-break is by the wire source, as between two keepalived', () => {
    const l = lab([member('h', 100), member('w', 0, true)]);
    l.clock.advance(10_000);
    assert.deepEqual(l.masters(), ['h']);
    l.keepalived('ka', '10.9.0.9', 200);
    const { twoSeen } = runUntil(l, () => l.masters().join() === 'ka', 10_000);
    assert.equal(twoSeen, false, 'hadirector goes backup on the higher advert');

    // Equal priorities, both starting: the higher source address (keepalived's 10.9.0.9) keeps it.
    const tie = lab([member('h', 100), member('w', 0, true)]);
    tie.keepalived('ka', '10.9.0.9', 100);
    tie.clock.advance(20_000);
    assert.deepEqual(tie.masters(), ['ka']);
  });

  it('the hadirector side still needs quorum: with its witness gone it takes nothing from a dead keepalived master', () => {
    const l = lab([member('h', 100), member('w', 0, true)]);
    l.keepalived('ka', '10.9.0.9', 150);
    l.clock.advance(10_000);
    l.crash('w');
    l.clock.advance(5000);
    l.crash('ka');
    l.clock.advance(15_000);
    assert.deepEqual(l.masters(), []);
    assert.match((l.planes.get('h') as ControlPlane).instances()[0]?.gate.reason ?? '', /no quorum/);
  });

  it('between hadirector nodes the wire does not open the gate: a silent holder waits for its fence (mode power), adverts on the wire or not', () => {
    const l = lab([member('d1', 150), member('d2', 100), member('w', 0, true)], { mode: 'power' });
    l.clock.advance(10_000);
    assert.deepEqual(l.masters(), ['d1']);
    const d2 = l.planes.get('d2') as ControlPlane;
    assert.equal(d2.instances()[0]?.foreignRouters, undefined, 'a node of the cluster is no foreign router');
    l.crash('d1');
    l.clock.advance(20_000);
    assert.deepEqual(l.masters(), [], 'no fence agent answers: d2 waits, past Master_Down_Interval');
    assert.match(d2.instances()[0]?.gate.reason ?? '', /waiting for it to be fenced/);
  });

  it('a node of the cluster heard only on the wire (still keepalived) is warned about once the cluster settles', () => {
    // k is listed as a node but runs keepalived: it speaks VRRP from its node address and sends no heartbeat.
    const l = lab([member('h', 100), member('k', 150), member('w', 0, true)], {}, ['k']);
    l.keepalived('k', '10.9.0.2', 150);
    l.clock.advance(15_000);
    assert.ok(l.lines.some((m) => m.includes('node k is heard on the wire (VRRP from 10.9.0.2) but not in the cluster')), l.lines.join('\n'));
  });

  it('the last step of a migration: d1 joins with the full block while d2 still has the old one; neither fences; d2 restarted hands over with priority 0', () => {
    const nodes = [member('d1', 150), member('d2', 100), member('w', 0, true)];
    // d2 and w ran a cluster of their own beside keepalived on d1; w has been given the full block.
    const l = lab(nodes, { mode: 'power' }, ['d1', 'd2', 'w']);
    l.boot('w');
    l.boot('d2', ['d2', 'w']);
    l.clock.advance(10_000);
    assert.deepEqual(l.masters(), ['d2']);
    // keepalived on d1 is replaced by hadirector with the full block: it hears d2 only on the wire.
    const d1 = l.boot('d1');
    const { twoSeen } = runUntil(l, () => l.clock.nowMs() >= 40_000, 40_000);
    assert.equal(twoSeen, false);
    assert.deepEqual(l.masters(), ['d2'], 'd1 (150, preempt) waits: d2 is a node it cannot yet know is safe');
    assert.deepEqual(d1.fencing.status().history, [], 'd2 is heard on the wire: not fenced for its silence in the cluster');
    assert.ok(l.lines.some((m) => m.includes('node d2 is heard on the wire')), 'the operator is told');
    // d2 is restarted with the full block: a clean stop, priority 0 on the wire, its leave passed on by w.
    l.stop('d2');
    const handed = runUntil(l, () => l.masters().join() === 'd1', 10_000);
    console.log(`      (d2 stopped cleanly: d1 holds VI_1 after ${handed.afterMs} ms)`);
    assert.ok(handed.afterMs <= skewTimeMs(3, 1000, 150) + defaultSimTiming.intervalMs + 50, `took ${handed.afterMs} ms`);
    l.clock.advance(2000);
    l.boot('d2');
    const joined = runUntil(l, () => (l.planes.get('d2') as ControlPlane).status().view.members.length === 3, 15_000);
    assert.equal(joined.twoSeen, false);
    assert.deepEqual(l.masters(), ['d1']);
    assert.deepEqual(d1.fencing.status().history, [], 'no one was ever fenced');
  });
});
