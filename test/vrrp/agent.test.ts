// VRRP over the cluster on virtual time: who becomes master, how long a takeover takes
// after a crash and after a clean stop, and a preempting return handed over without two
// masters at once.
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import { ClusterNode, type ClusterAction } from '../../src/cluster/node';
import type { ControlPlane } from '../../src/director/control-plane';
import { decodeEnvelope } from '../../src/heartbeat/envelope';
import { selfReleaseDue, takeoverGate } from '../../src/vrrp/gate';
import { defaultSimNodes, defaultSimTiming } from '../sim/cluster-sim';
import { NodeClock, VirtualNetwork } from '../sim/network';
import { simClusterConfig, simInstance, simKey, simPlane } from '../sim/sim-plane';

const advertMs = 1000;

/** `preemptHold`: what a node's connection sync says about preempting, while it says it. */
function lab(preemptHold: Map<string, string> = new Map()) {
  const clock = new VirtualClock();
  const rng = new SeededRng(3);
  const net = new VirtualNetwork(clock, rng);
  const planes = new Map<string, ControlPlane>();
  const cluster = simClusterConfig({ nodes: defaultSimNodes, timing: defaultSimTiming });
  /** What each director sent: when, and whether it claimed to hold the instance. */
  const sent = new Map<string, Array<{ atMs: number; holding: boolean }>>();
  let epoch = 100;
  const boot = (name: string) => {
    const member = defaultSimNodes.find((n) => n.name === name);
    if (member === undefined) throw new Error(name);
    const nodeClock = new NodeClock(clock);
    if (!member.witness) sent.set(name, []);
    const plane = simPlane({
      name,
      cluster,
      links: ['ring0'],
      net,
      clock: nodeClock,
      rng,
      bootEpoch: epoch++,
      instances: member.witness ? [] : [simInstance(member.priority, `10.0.0.${defaultSimNodes.indexOf(member) + 1}`)],
      host: { preemptHold: () => preemptHold.get(name) },
      sent: (_peer, _link, d) => {
        const e = decodeEnvelope(d, simKey) as { advert?: { priority: number }; heartbeat?: { holds: string[] } };
        sent.get(name)?.push({ atMs: clock.nowMs(), holding: (e.advert?.priority ?? 0) > 0 || (e.heartbeat?.holds.length ?? 0) > 0 });
      },
    });
    planes.set(name, plane);
    plane.start();
    return nodeClock;
  };
  const clocks = new Map(defaultSimNodes.map((n) => [n.name, boot(n.name)]));
  const masters = () => [...planes].filter(([, p]) => p.isHolding('VI_1')).map(([n]) => n);
  const down = (name: string, how: 'crash' | 'leave') => {
    const plane = planes.get(name);
    if (how === 'crash') plane?.crash();
    else plane?.leave();
    planes.delete(name);
    clocks.get(name)?.clearAll();
    net.detach(name);
  };
  const crash = (name: string) => down(name, 'crash');
  const stop = (name: string) => down(name, 'leave');
  /** Runs in 10 ms steps; answers when `done` first held, and the longest time with no master and with two. */
  const runUntil = (done: () => boolean, maxMs: number) => {
    const start = clock.nowMs();
    let noneSince: number | undefined;
    let longestNone = 0;
    let twoSeen = false;
    for (let t = 0; t <= maxMs; t += 10) {
      const m = masters();
      if (m.length > 1) twoSeen = true;
      if (m.length === 0) noneSince ??= clock.nowMs();
      else if (noneSince !== undefined) {
        longestNone = Math.max(longestNone, clock.nowMs() - noneSince);
        noneSince = undefined;
      }
      if (done()) return { afterMs: clock.nowMs() - start, longestNoneMs: longestNone, twoSeen };
      clock.advance(10);
    }
    throw new Error(`not done within ${maxMs} ms; masters: ${masters().join(',')}`);
  };
  return { clock, masters, crash, stop, runUntil, sent, clocks, boot: (name: string) => clocks.set(name, boot(name)) };
}

describe('VRRP over the cluster (virtual time)', () => {
  it('the highest priority director becomes the one master', () => {
    const l = lab();
    l.runUntil(() => l.masters().length === 1 && l.masters()[0] === 'd1', 15_000);
    l.clock.advance(10_000);
    assert.deepEqual(l.masters(), ['d1']);
  });

  it('after a crash of the master the backup serves within Master_Down_Interval (3 × advert + skew)', () => {
    const l = lab();
    l.runUntil(() => l.masters()[0] === 'd1', 15_000);
    l.clock.advance(500);
    l.crash('d1');
    const r = l.runUntil(() => l.masters()[0] === 'd2', 10_000);
    const mdi = 3 * advertMs + ((256 - 100) * advertMs) / 256;
    assert.ok(r.afterMs <= mdi + 20, `took ${r.afterMs} ms, MDI ${mdi}`);
    console.log(`      (crash: served after ${r.afterMs} ms; MDI ${mdi} ms)`);
    assert.ok(!r.twoSeen);
  });

  it('after a clean stop (priority 0) the backup serves within the skew time', () => {
    const l = lab();
    l.runUntil(() => l.masters()[0] === 'd1', 15_000);
    l.clock.advance(500);
    l.stop('d1');
    const r = l.runUntil(() => l.masters()[0] === 'd2', 10_000);
    const skew = ((256 - 100) * advertMs) / 256;
    assert.ok(r.afterMs <= skew + 20, `took ${r.afterMs} ms, skew ${skew}`);
    console.log(`      (clean stop: served after ${r.afterMs} ms; skew ${skew} ms)`);
  });

  it('a returning higher priority director takes over by handover: never two masters, no gap longer than one advert', () => {
    const l = lab();
    l.runUntil(() => l.masters()[0] === 'd1', 15_000);
    l.crash('d1');
    l.runUntil(() => l.masters()[0] === 'd2', 10_000);
    l.boot('d1');
    const r = l.runUntil(() => l.masters()[0] === 'd1', 20_000);
    assert.ok(!r.twoSeen, 'two masters during the handover');
    assert.ok(r.longestNoneMs <= advertMs, `a gap of ${r.longestNoneMs} ms`);
    console.log(`      (handover gap ${r.longestNoneMs} ms)`);
  });

  it('a returning director held back from preempting (its copy of the table not whole) stays backup until released', () => {
    const hold = new Map<string, string>();
    const l = lab(hold);
    l.runUntil(() => l.masters()[0] === 'd1', 15_000);
    l.crash('d1');
    l.runUntil(() => l.masters()[0] === 'd2', 10_000);
    hold.set('d1', "waiting for a whole copy of d2's connection table");
    l.boot('d1');
    l.clock.advance(15_000);
    assert.deepEqual(l.masters(), ['d2'], 'd2 keeps it while d1 is held');
    hold.delete('d1');
    const r = l.runUntil(() => l.masters()[0] === 'd1', 5000);
    assert.ok(!r.twoSeen);
  });

  it('a master frozen past deadtime lets go as it thaws, before it sends anything that claims the instance', () => {
    const l = lab();
    l.runUntil(() => l.masters()[0] === 'd1', 15_000);
    const thawAt = l.clock.nowMs() + 8000;
    l.clocks.get('d1')?.freeze(thawAt);
    l.runUntil(() => l.masters().includes('d2'), 10_000);
    l.runUntil(() => l.clock.nowMs() >= thawAt + 2000, 10_000);
    const afterThaw = (l.sent.get('d1') ?? []).filter((x) => x.atMs >= thawAt);
    assert.ok(afterThaw.length > 0, 'd1 runs again');
    assert.deepEqual(afterThaw.filter((x) => x.holding), [], 'no advert or heartbeat claiming VI_1 after the thaw');
    assert.deepEqual(l.masters(), ['d2']);
  });
});

describe('the takeover gate', () => {
  const base = { nowMs: 10_000, quorate: true, policy: 'stop' as const, settled: true, deadtimeMs: 3000, quorumContactMs: 9900, guardMs: 1000, claims: [] };
  it('opens with quorum, a quorum that hears us, and no other holder, until that quorum contact is too old', () => {
    assert.deepEqual(takeoverGate(base), { open: true, reason: 'quorum, and no other holder', recheckAtMs: 11_900 });
  });
  it('stays shut while starting, without quorum, or when no quorum has heard us lately', () => {
    assert.equal(takeoverGate({ ...base, settled: false }).open, false);
    assert.equal(takeoverGate({ ...base, quorate: false }).reason, 'no quorum (no_quorum_policy stop)');
    assert.equal(takeoverGate({ ...base, quorate: false, policy: 'freeze' }).reason, 'no quorum (no_quorum_policy freeze)');
    assert.equal(takeoverGate({ ...base, quorumContactMs: 7900 }).reason, 'no quorum has heard this node lately');
  });
  it('no_quorum_policy ignore takes over without quorum, as docs/configuration.md says', () => {
    assert.equal(takeoverGate({ ...base, quorate: false, quorumContactMs: -Infinity, policy: 'ignore' }).open, true);
  });
  it('waits for a silent holder\'s self-release deadline, and never for a holder it hears', () => {
    const silent = takeoverGate({ ...base, claims: [{ node: 'd1', holding: true, heard: false, lastHeardMs: 8000 }] });
    assert.deepEqual(silent, { open: false, reason: 'd1 may still hold it: its self-release deadline is in 1000 ms', recheckAtMs: 11_000 });
    assert.equal(takeoverGate({ ...base, claims: [{ node: 'd1', holding: true, heard: false, lastHeardMs: 7000 }] }).open, true);
    assert.equal(takeoverGate({ ...base, claims: [{ node: 'd1', holding: true, heard: true, lastHeardMs: 9999 }] }).reason, 'd1 holds it and is heard');
    assert.equal(takeoverGate({ ...base, claims: [{ node: 'd1', holding: true, heard: false, lastHeardMs: 9999 }], fenced: new Set(['d1']) }).open, true);
  });
  it('lets a master keep its VIPs until deadtime less the guard after a quorum last heard it', () => {
    assert.equal(selfReleaseDue(11_899, 9900, 3000, 1000), false);
    assert.equal(selfReleaseDue(11_900, 9900, 3000, 1000), true);
  });
});

describe('advert recipients (unicast_peer)', () => {
  it('go to every peer by default, and only to the named ones when given', () => {
    const clock = new VirtualClock();
    const sent: string[] = [];
    const node = new ClusterNode({ self: 'd1', clusterId: 'sim', key: simKey, nodes: defaultSimNodes, links: ['ring0', 'ring1'], timing: defaultSimTiming, quorum: { twoNode: false, waitForAll: false }, skew: { warnMs: 500, criticalMs: 1000 }, bootEpoch: 1 }, clock);
    const adverts = (actions: ClusterAction[]) => actions.flatMap((a) => (a.kind === 'send' && (decodeEnvelope(a.datagram, simKey) as { advert?: unknown }).advert !== undefined ? a.peers.map((p) => `${p}/${a.link}`) : []));
    node.step({ kind: 'start' });
    const advert = { instance: 'VI_1', priority: 100, advertIntervalMs: 1000, address: '10.0.0.1' };
    sent.push(...adverts(node.step({ kind: 'sendAdvert', advert })));
    assert.deepEqual(sent.splice(0), ['d2/ring0', 'd2/ring1', 'w1/ring0', 'w1/ring1']);
    sent.push(...adverts(node.step({ kind: 'sendAdvert', advert, to: ['d2'] })));
    assert.deepEqual(sent.splice(0), ['d2/ring0', 'd2/ring1']);
  });
});
