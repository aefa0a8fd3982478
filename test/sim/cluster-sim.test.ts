import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import { defaultSimNodes, defaultSimTiming, runClusterSim } from './cluster-sim';
import { NodeClock, VirtualNetwork } from './network';
import { simClusterConfig, simPlane } from './sim-plane';

/** Three nodes on one virtual network, for scripted scenarios. */
function trio(seed = 1) {
  const clock = new VirtualClock();
  const rng = new SeededRng(seed);
  const net = new VirtualNetwork(clock, rng);
  const log: string[] = [];
  const cluster = simClusterConfig({ nodes: defaultSimNodes, timing: defaultSimTiming });
  const make = (name: string, bootEpoch?: number) => {
    const nodeClock = new NodeClock(clock);
    const info = (m: string): void => {
      const view = /^view \d+: \[([^\]]*)\] (quorate|WITHOUT QUORUM), \S+ votes, DC (\S+)$/.exec(m);
      if (view !== null) log.push(`${clock.nowMs()} ${name} [${(view[1] ?? '').split(', ').join(',')}] ${view[2] === 'quorate' ? 'Q' : '-'} ${view[3] === 'none' ? '-' : view[3]}`);
    };
    const plane = simPlane({
      name,
      cluster,
      links: ['ring0'],
      net,
      clock: nodeClock,
      rng,
      ...(bootEpoch !== undefined ? { bootEpoch } : {}),
      log: { error: () => undefined, warn: info, info },
      host: { skewChanged: (peer, level, offset) => log.push(`${clock.nowMs()} ${name} skew ${peer} ${level} ${Math.round(offset)}`) },
    });
    return { node: plane, clock: nodeClock };
  };
  const nodes = { d1: make('d1', 1000), d2: make('d2', 1000), w1: make('w1', 1000) };
  for (const n of Object.values(nodes)) n.node.start();
  return { clock, net, nodes, log, make };
}

describe('cluster simulation', function () {
  this.timeout(30_000);

  it('100 random seeds of two minutes, up to 20% loss, partitions, crashes and clock jumps, with VRRP: no invariant broken', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const r = runClusterSim({ seed, durationMs: 120_000, nodes: defaultSimNodes, links: ['ring0', 'ring1'], timing: defaultSimTiming, maxLoss: 0.2, vrrp: true });
      assert.deepEqual(r.violations, [], `seed ${seed}: npm run sim -- --seed ${seed} --trace`);
      assert.ok(r.stats.calmChecks > 0 && r.stats.datagrams > 0 && r.stats.takeovers > 0);
    }
  });

  it('100 seeds with fencing (agents that fail, hang and act late) and frozen nodes, in both fencing modes: no invariant broken', () => {
    let fences = 0;
    let freezes = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const mode = seed % 2 === 0 ? 'power' : 'self_release';
      const r = runClusterSim({ seed, durationMs: 120_000, nodes: defaultSimNodes, links: ['ring0', 'ring1'], timing: defaultSimTiming, maxLoss: 0.2, vrrp: true, fencing: { mode, faults: true }, freezes: true });
      assert.deepEqual(r.violations, [], `seed ${seed} (${mode}): npm run sim -- --seed ${seed} --trace`);
      fences += r.stats.fences;
      freezes += r.stats.freezes;
    }
    assert.ok(fences > 20 && freezes > 100, `${fences} fences, ${freezes} freezes`);
  });

  it('the fencing invariant is not vacuous: a gate that trusts deadlines in mode power lets a frozen master hold beside a new one', () => {
    const caught = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].flatMap((seed) =>
      runClusterSim({ seed, durationMs: 120_000, nodes: defaultSimNodes, links: ['ring0'], timing: defaultSimTiming, maxLoss: 0.2, vrrp: true, fencing: { mode: 'power', faults: false, gateTrustsDeadlines: true }, freezes: true }).violations,
    );
    assert.ok(caught.some((v) => /two masters of VI_1 at once/.test(v)), caught.join('\n'));
  });

  it('50 seeds with connection sync (masters making connections, copies over the lossy network, fencing and freezes): every takeover keeps what the new master\'s copy had applied', () => {
    let checked = 0;
    let entries = 0;
    for (let seed = 1; seed <= 50; seed++) {
      const mode = seed % 2 === 0 ? 'power' : 'self_release';
      const r = runClusterSim({ seed, durationMs: 120_000, nodes: defaultSimNodes, links: ['ring0', 'ring1'], timing: defaultSimTiming, maxLoss: 0.2, vrrp: true, fencing: { mode, faults: true }, freezes: true, sync: {} });
      assert.deepEqual(r.violations, [], `seed ${seed} (${mode}): npm run sim -- --seed ${seed} --trace`);
      checked += r.stats.syncChecks;
      entries += r.stats.syncEntriesChecked;
    }
    assert.ok(checked > 30 && entries > 10_000, `${checked} takeovers checked, ${entries} entries`);
  });

  it('the sync invariant is not vacuous: a takeover that does not load the copies is caught', () => {
    const caught = [1, 2, 3, 4, 5].flatMap((seed) =>
      runClusterSim({ seed, durationMs: 120_000, nodes: defaultSimNodes, links: ['ring0'], timing: defaultSimTiming, maxLoss: 0.2, vrrp: true, sync: { skipLoad: true } }).violations,
    );
    assert.ok(caught.some((v) => /took over from d\d without tcp\|/.test(v)), caught.join('\n'));
  });

  it('two nodes, the link cut: exactly one side fences the other, never both, never neither (100 runs)', () => {
    const twoNodes = defaultSimNodes.filter((n) => !n.witness);
    const survivors = new Map<string, number>();
    for (let seed = 1; seed <= 100; seed++) {
      const r = runClusterSim({ seed, durationMs: 20_000, nodes: twoNodes, links: ['ring0'], timing: defaultSimTiming, maxLoss: 0, vrrp: true, quorum: { twoNode: true, waitForAll: true }, fencing: { mode: 'power', faults: false, delayMaxMs: 1000 }, cutAll: true });
      assert.equal(r.poweredOff.length, 1, `seed ${seed}: powered off ${JSON.stringify(r.poweredOff)}`);
      const survivor = twoNodes.find((n) => n.name !== r.poweredOff[0])?.name ?? '?';
      survivors.set(survivor, (survivors.get(survivor) ?? 0) + 1);
    }
    // The master holds the VIP: it is the side that survives.
    assert.deepEqual([...survivors], [['d1', 100]]);
  });

  it('the VRRP invariants are not vacuous: masters that ignore a lost quorum are caught beside a new one', () => {
    const caught = [1, 2, 3, 4, 5, 6, 7, 8].flatMap((seed) =>
      runClusterSim({ seed, durationMs: 120_000, nodes: defaultSimNodes, links: ['ring0'], timing: defaultSimTiming, maxLoss: 0.2, vrrp: true, noQuorumPolicy: 'ignore' }).violations,
    );
    assert.ok(caught.some((v) => /two masters of VI_1 at once/.test(v)), caught.join('\n'));
    assert.ok(caught.some((v) => /master of VI_1 without quorum/.test(v)), caught.join('\n'));
  });

  it('the invariants are not vacuous: nodes that count every vote as their own are caught claiming quorum alone', () => {
    const caught = [1, 2, 3, 4, 5].flatMap((seed) =>
      runClusterSim({ seed, durationMs: 120_000, nodes: defaultSimNodes, links: ['ring0'], timing: defaultSimTiming, maxLoss: 0.2, selfishVotes: true }).violations,
    );
    assert.ok(caught.some((v) => /claims quorum on its own/.test(v)), caught.join('\n'));
    assert.ok(caught.some((v) => /cut off from a majority .* still reports quorum/.test(v)), caught.join('\n'));
  });

  it('replays a seed exactly', () => {
    const run = () => runClusterSim({ seed: 42, durationMs: 60_000, nodes: defaultSimNodes, links: ['ring0'], timing: defaultSimTiming, maxLoss: 0.2 });
    assert.deepEqual(run().trace, run().trace);
  });

  it('a crashed member leaves the others\' view, with a new DC, within deadtime + one interval', () => {
    const { clock, nodes, net, log } = trio();
    clock.advance(10_000);
    assert.deepEqual([nodes.d1.node.node.view.dc, nodes.d2.node.node.view.dc, nodes.w1.node.node.view.dc], ['d1', 'd1', 'd1']);
    nodes.d1.node.crash();
    net.detach('d1');
    const crashAt = clock.nowMs();
    log.length = 0;
    clock.advance(defaultSimTiming.deadtimeMs + defaultSimTiming.intervalMs);
    assert.deepEqual([nodes.d2.node.node.view.members, nodes.d2.node.node.view.dc, nodes.w1.node.node.view.members, nodes.w1.node.node.view.dc], [['d2', 'w1'], 'd2', ['d2', 'w1'], 'd2']);
    const agreedAt = Math.max(...log.map((l) => Number(l.split(' ')[0])));
    assert.ok(agreedAt - crashAt <= defaultSimTiming.deadtimeMs + defaultSimTiming.intervalMs, log.join('\n'));
  });

  it('a node cut off reports no quorum within deadtime; the majority keeps it', () => {
    const { clock, nodes, net } = trio();
    clock.advance(10_000);
    net.partition([['w1']]);
    clock.advance(defaultSimTiming.deadtimeMs + defaultSimTiming.intervalMs);
    assert.deepEqual([nodes.w1.node.node.view.quorate, nodes.w1.node.node.view.dc], [false, undefined]);
    assert.deepEqual([nodes.d1.node.node.view.quorate, nodes.d1.node.node.view.members], [true, ['d1', 'd2']]);
    net.heal();
    clock.advance(2 * defaultSimTiming.intervalMs);
    assert.deepEqual(nodes.w1.node.node.view.members, ['d1', 'd2', 'w1']);
  });

  it('a peer whose clock is 1.5 s ahead raises a critical skew alert on the others, and it clears', () => {
    const { clock, nodes, log } = trio();
    clock.advance(5000);
    nodes.d2.clock.wallOffsetMs = 1500;
    clock.advance(10_000);
    assert.ok(log.some((l) => / d1 skew d2 critical 1[45]\d\d$/.test(l)), log.join('\n'));
    assert.ok(log.some((l) => / d2 skew d1 critical -1[45]\d\d$/.test(l)), log.join('\n'));
    nodes.d2.clock.wallOffsetMs = 0;
    clock.advance(10_000);
    assert.ok(log.some((l) => / d1 skew d2 ok /.test(l)), log.join('\n'));
    const status = nodes.w1.node.status();
    assert.equal(status.peers.find((p) => p.peer === 'd2')?.skew, 'ok');
  });

  it('takes back a node restarted with its clock stepped back (a lower boot epoch), once it echoes a fresh heartbeat', () => {
    const { clock, nodes, net, make } = trio();
    clock.advance(10_000);
    nodes.d2.node.crash();
    nodes.d2.clock.clearAll();
    net.detach('d2');
    clock.advance(5000);
    const again = make('d2', 500);
    again.node.start();
    clock.advance(4 * defaultSimTiming.intervalMs);
    assert.deepEqual(nodes.d1.node.node.view.members, ['d1', 'd2', 'w1']);
    assert.deepEqual(again.node.node.view.members, ['d1', 'd2', 'w1']);
    // Its first heartbeats, which echo nothing yet, were dropped as from an old epoch.
    assert.ok((nodes.d1.node.status().dropped['old-epoch'] ?? 0) >= 1);
  });
});
