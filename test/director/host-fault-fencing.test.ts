// A director whose host goes red hands its VIP over and is never fenced for it: FAULT is
// a clean hand-over (priority 0, its heartbeats go on saying it holds nothing), and the
// coordinator fences only a director that left the view unheard (src/fencing/coordinator.ts
// fenceAbsent). The cluster's own shell on virtual time, fencing in mode power with a
// device that works, and the director's host-health shell on d1 (test/sim/sim-host.ts).
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import type { ControlPlane } from '../../src/director/control-plane';
import type { FenceAgentDriver } from '../../src/fencing/agents/runner';
import { defaultSimNodes, defaultSimTiming } from '../sim/cluster-sim';
import { NodeClock, VirtualNetwork } from '../sim/network';
import { memoryOf, SimHost, simHostHealth } from '../sim/sim-host';
import { simClusterConfig, simInstance, simPlane } from '../sim/sim-plane';

const holdMs = 10_000;

function cluster(twoNode = false) {
  const clock = new VirtualClock();
  const net = new VirtualNetwork(clock, new SeededRng(3));
  const fences: string[] = [];
  const planes = new Map<string, ControlPlane>();
  const device = { name: 'switch', where: { file: 'test', line: 1, col: 1 }, agent: 'exec', timeoutMs: 1500, retries: 0, hosts: [], options: {}, optionWhere: {} };
  const nodes = twoNode ? defaultSimNodes.filter((n) => !n.witness) : defaultSimNodes;
  const config = simClusterConfig({
    nodes,
    timing: defaultSimTiming,
    quorum: { twoNode, waitForAll: twoNode },
    fencing: { mode: 'power', action: 'off', delayBaseMs: 0, delayMaxMs: twoNode ? 5000 : 0, devices: [device] },
  });
  // The switch powers the target off: its plane stops, its datagrams with it.
  const agents: FenceAgentDriver = {
    start: (_d, target, _a, done) => {
      fences.push(`${clock.nowMs()} ${target}`);
      clock.setTimeout(() => {
        planes.get(target)?.crash();
        net.detach(target);
        done({ ok: true, detail: 'off' });
      }, 100);
      return () => undefined;
    },
  };
  const memory = { d1: memoryOf.green, d2: memoryOf.green };
  const hosts = new Map<string, SimHost>();
  nodes.forEach((n, i) => {
    const nodeClock = new NodeClock(clock);
    const instances = n.witness ? [] : [simInstance(n.priority, `10.0.0.${i + 1}`)];
    const plane = simPlane({ name: n.name, cluster: config, links: ['ring0'], net, clock: nodeClock, rng: new SeededRng(i + 1), bootEpoch: 1, instances, agents });
    planes.set(n.name, plane);
    if (!n.witness) hosts.set(n.name, new SimHost(plane, nodeClock, simHostHealth(1000, holdMs), instances, () => memory[n.name as 'd1' | 'd2']));
    plane.start();
  });
  const plane = (name: string) => planes.get(name) as ControlPlane;
  const masters = () => [...planes].filter(([, p]) => p.isHolding('VI_1')).map(([n]) => n);
  const marks = () => [...planes.values()].flatMap((p) => p.fencing.marks().map((m) => `${m.node} ${m.state}`));
  return { clock, net, fences, memory, plane, masters, marks, hosts };
}

describe('host health and fencing', () => {
  it('a red master goes to FAULT, hands VI_1 over within its skew time, and is never fenced: it stays alive and heard; green for the hold time, it preempts back', () => {
    const c = cluster();
    c.clock.advance(10_000);
    assert.deepEqual(c.masters(), ['d1']);

    c.memory.d1 = memoryOf.red;
    c.clock.advance(1000);
    assert.equal(c.plane('d1').instances()[0]?.state, 'fault', 'within one sample');
    assert.deepEqual(c.plane('d1').instances()[0]?.faults, ['host health red: memory red 95']);
    const redAt = c.clock.nowMs();
    // The priority 0 advert: d2 waits its skew time, not Master_Down.
    c.clock.advance(1000);
    assert.deepEqual(c.masters(), ['d2']);
    assert.ok(c.clock.nowMs() - redAt < 3 * 1000, 'faster than Master_Down');

    c.clock.advance(60_000);
    assert.deepEqual(c.fences, [], 'no fence agent ran');
    assert.deepEqual(c.marks(), [], 'no node marks another fencing or fenced');
    for (const name of ['d2', 'w1']) assert.deepEqual(c.plane(name).node.view.members, ['d1', 'd2', 'w1'], `${name} hears d1`);
    assert.equal(c.plane('d1').deposed, undefined);
    assert.deepEqual(c.masters(), ['d2']);

    c.memory.d1 = memoryOf.green;
    c.clock.advance(holdMs - 1000);
    assert.equal(c.plane('d1').instances()[0]?.state, 'fault', 'held');
    c.clock.advance(1000 + 3 * 1000 + 1000);
    assert.deepEqual(c.masters(), ['d1'], 'back with preempt after the hold');
    assert.deepEqual(c.fences, []);
  });

  it('two_node: a master whose host goes red as the link is cut is the one fenced, and the side that can serve takes over (its peer still counts it a holder, so it must not fence)', () => {
    const c = cluster(true);
    c.clock.advance(10_000);
    assert.deepEqual(c.masters(), ['d1']);
    c.net.partition([['d1']]);
    c.memory.d1 = memoryOf.red;
    c.clock.advance(40_000);
    assert.equal(c.fences.length, 1, c.fences.join('; '));
    assert.match(c.fences[0] ?? '', / d1$/);
    assert.deepEqual(c.masters(), ['d2']);
  });

  it('the same red node, once its links are cut (no longer heard), is fenced as any silent node is', () => {
    const c = cluster();
    c.clock.advance(10_000);
    c.memory.d1 = memoryOf.red;
    c.clock.advance(5000);
    assert.deepEqual([c.masters(), c.fences], [['d2'], []]);
    c.net.partition([['d1']]);
    c.clock.advance(defaultSimTiming.deadtimeMs + 3000);
    assert.equal(c.fences.length, 1, c.fences.join('; '));
    assert.match(c.fences[0] ?? '', / d1$/);
  });
});
