import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import { emptyStats, runClusterSim, runCutSim, type SimStats } from './cluster-sim';
import { NodeClock, VirtualNetwork } from './network';
import { defaultSimNodes, defaultSimTiming, describeOptions, optionsFromSeed, replayCommand, simBreaks, type SimBreak } from './options';
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

/** Runs seeds from `first`; the violations of the first run that has any, with its replay line. */
function firstCaught(breaks: SimBreak, seedsMax: number): { seed: number; violations: string[] } | undefined {
  for (let seed = 1; seed <= seedsMax; seed++) {
    const r = runClusterSim(optionsFromSeed(seed, { breaks }));
    if (r.violations.length > 0) return { seed, violations: r.violations };
  }
  return undefined;
}

describe('cluster simulation', function () {
  this.timeout(120_000);

  it('150 seeds, each drawing its cluster, faults and fencing: no invariant broken after any event, and the cluster converges after the heal', () => {
    const totals: SimStats = emptyStats();
    for (let seed = 1; seed <= 150; seed++) {
      const options = optionsFromSeed(seed);
      const r = runClusterSim(options);
      assert.deepEqual(r.violations, [], `seed ${seed} (${describeOptions(options)}); replay: ${replayCommand(options)}`);
      for (const k of Object.keys(totals) as Array<keyof SimStats>) totals[k] += r.stats[k];
    }
    // None of it is vacuous: fences complete, power fences are taken over from, nodes leave cleanly, two-node links are cut, red hosts hand over.
    const seen = `${totals.fencesCompleted} fences completed, ${totals.takeoversAfterPowerFence} takeovers after a power fence, ${totals.cleanStops} clean stops, ${totals.twoNodeCuts} two-node cuts, ${totals.depositions} depositions, ${totals.syncEntriesChecked} synced entries checked, ${totals.hostChanges} host colours drawn, ${totals.hostRedMasters} masters handed over for their host`;
    assert.ok(totals.fencesCompleted > 50 && totals.takeoversAfterPowerFence > 5 && totals.cleanStops > 50 && totals.twoNodeCuts > 50 && totals.depositions > 50 && totals.syncEntriesChecked > 10_000 && totals.hostChanges > 100 && totals.hostRedMasters > 10, seen);
  });

  for (const breaks of simBreaks) {
    it(`a control: with '${breaks}' broken on purpose, the invariants catch it within 100 seeds`, () => {
      const caught = firstCaught(breaks, 100);
      assert.ok(caught !== undefined, `${breaks} was never caught`);
    });
  }

  it('two directors, two_node, the link cut: exactly one side is fenced (the VIP holder survives and serves), never both, never neither', () => {
    for (const agent of ['power', 'isolate'] as const) {
      for (let seed = 1; seed <= 50; seed++) {
        const base = optionsFromSeed(seed);
        const options = { ...base, nodes: defaultSimNodes.filter((n) => !n.witness), twoNode: true, durationMs: 30_000, maxLoss: 0, freezes: false, cleanStops: false, fencing: { mode: 'power' as const, agent, faults: false, delayMaxMs: 6000, timeoutMs: 1500, retries: 1 } };
        const r = runCutSim(options);
        assert.deepEqual(r.violations, [], `${agent} seed ${seed}`);
        assert.deepEqual([r.fenced, r.masters], [['d2'], ['d1']], `${agent} seed ${seed}: fenced ${JSON.stringify(r.fenced)}, masters ${JSON.stringify(r.masters)}`);
      }
    }
  });

  it('replays a seed exactly', () => {
    const run = () => runClusterSim(optionsFromSeed(42, { durationMs: 60_000 }));
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

  it('a member that leaves cleanly is out of the others\' view at once, not after deadtime', () => {
    const { clock, nodes, net } = trio();
    clock.advance(10_000);
    nodes.d2.node.leave();
    net.detach('d2');
    clock.advance(100);
    assert.deepEqual([nodes.d1.node.node.view.members, nodes.w1.node.node.view.members], [['d1', 'w1'], ['d1', 'w1']]);
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
