// The deterministic cluster simulation: three nodes in one process on a virtual network
// that loses, duplicates, delays and partitions, with crashes, restarts and clock jumps,
// all driven by one seed. It alternates chaos phases with calm ones, and checks the
// invariants as it goes:
//   - no node of a three-node cluster claims quorum on its own;
//   - a node cut off from a majority reports no quorum within deadtime (and the slack
//     of one interval and the network's delay);
//   - after a calm phase as long as the agreement bound, the live members of each
//     connected group agree on the view's members and the DC.
// With fencing, nodes may also freeze (SIGSTOP) and be fenced by power agents that
// succeed, fail, hang or act late; in mode power no VIP is ever held by two nodes,
// counting a frozen one, and a frozen master that resumes never holds beside another.
// With sync, masters make connections and directors copy one another's tables over the
// same lossy network; a takeover keeps every entry the new master's copy had applied
// (test/sim/sync-watch.ts).
import { VirtualClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import type { FenceMode } from '../../src/fencing/config';
import type { FenceAgentDriver } from '../../src/fencing/agents/runner';
import type { ControlPlane } from '../../src/director/control-plane';
import type { MemberConfig } from '../../src/cluster/membership';
import type { QuorumRules } from '../../src/cluster/quorum';
import type { DetectorTiming } from '../../src/heartbeat/failure-detector';
import { silentLogger } from '../../src/common/log';
import { ClusterSync } from '../../src/director/cluster-sync';
import type { IpvsEngine } from '../../src/ipvs/engine';
import { VrrpAgent } from '../../src/vrrp/agent';
import { NodeClock, VirtualNetwork } from './network';
import { simClusterConfig, simInstance, simPlane } from './sim-plane';
import { simEngine, simVip, SyncWatch } from './sync-watch';

export interface ClusterSimOptions {
  readonly seed: number;
  readonly durationMs: number;
  readonly nodes: readonly MemberConfig[];
  readonly links: readonly string[];
  readonly timing: DetectorTiming;
  /** The worst loss a chaos phase may bring, 0..1. */
  readonly maxLoss: number;
  /** The nodes' quorum rules; a test may break them to see the invariants catch it. */
  readonly quorum?: QuorumRules;
  /** Break the quorum rule on purpose: each node counts every vote as its own. */
  readonly selfishVotes?: boolean;
  /** Run a VRRP instance on every director, and check its invariants. */
  readonly vrrp?: boolean;
  /** The directors' no_quorum_policy (stop unless told). */
  readonly noQuorumPolicy?: 'stop' | 'freeze' | 'ignore';
  /** Fence with simulated power agents; with `faults`, agents also fail, hang and act late. */
  readonly fencing?: {
    readonly mode: FenceMode;
    readonly faults: boolean;
    readonly delayBaseMs?: number;
    readonly delayMaxMs?: number;
    /** Break the gate on purpose (it trusts deadlines in mode power), to see the invariants catch it. */
    readonly gateTrustsDeadlines?: boolean;
  };
  /** Chaos may freeze a node (SIGSTOP) for up to 8 s. */
  readonly freezes?: boolean;
  /** Connection sync between the directors (with vrrp); `skipLoad` breaks the takeover on purpose. */
  readonly sync?: { readonly skipLoad?: boolean };
  /** Instead of chaos: let the cluster settle, cut every node off from the others, and watch. */
  readonly cutAll?: boolean;
}

export interface ClusterSimResult {
  readonly seed: number;
  readonly violations: string[];
  readonly trace: string[];
  readonly stats: {
    crashes: number;
    restarts: number;
    partitions: number;
    viewChanges: number;
    datagrams: number;
    calmChecks: number;
    takeovers: number;
    freezes: number;
    fences: number;
    fenceFaults: number;
    syncChecks: number;
    syncEntriesChecked: number;
  };
  /** The nodes a power agent turned off, in order. */
  readonly poweredOff: string[];
}

export const defaultSimNodes: readonly MemberConfig[] = [
  { name: 'd1', priority: 150, votes: 1, witness: false },
  { name: 'd2', priority: 100, votes: 1, witness: false },
  { name: 'w1', priority: 0, votes: 1, witness: true },
];

export const defaultSimTiming: DetectorTiming = { intervalMs: 1000, warntimeMs: 1500, deadtimeMs: 3000, initdeadMs: 6000 };

const checkEveryMs = 100;

interface SimNode {
  readonly name: string;
  readonly clock: NodeClock;
  plane: ControlPlane | null;
  engine: IpvsEngine | null;
  sync: ClusterSync | null;
  /** Since when this node has been master without a quorate view, if it has. */
  masterWithoutQuorumSince?: number;
  epoch: number;
  /** Since when this node has been cut off from a majority, if it is. */
  minoritySince?: number;
}

export function runClusterSim(o: ClusterSimOptions): ClusterSimResult {
  const clock = new VirtualClock();
  const rng = new SeededRng(o.seed);
  const net = new VirtualNetwork(clock, rng);
  const trace: string[] = [];
  const violations: string[] = [];
  const stats = { crashes: 0, restarts: 0, partitions: 0, viewChanges: 0, datagrams: 0, calmChecks: 0, takeovers: 0, freezes: 0, fences: 0, fenceFaults: 0, syncChecks: 0, syncEntriesChecked: 0 };
  const watch = new SyncWatch(clock);
  let lastMaster: string | undefined;
  const poweredOff: string[] = [];
  const at = (): string => `t=${(clock.nowMs() / 1000).toFixed(3)}s`;
  const note = (line: string): void => {
    trace.push(`${at()} ${line}`);
  };
  const totalVotes = o.nodes.reduce((s, n) => s + n.votes, 0);
  const quorumVotes = Math.floor(totalVotes / 2) + 1;
  const votesOf = new Map(o.nodes.map((n) => [n.name, n.votes]));
  const nodes = o.nodes.map((n): SimNode => ({ name: n.name, clock: new NodeClock(clock), plane: null, engine: null, sync: null, epoch: 10_000 }));
  const where = { file: 'sim', line: 1, col: 1 };
  const fenceDevice = { name: 'pdu', where, agent: 'exec', timeoutMs: 2000, retries: 1, hosts: [], options: {}, optionWhere: {} };
  const cluster = simClusterConfig({
    nodes: o.nodes,
    timing: o.timing,
    ...(o.quorum !== undefined ? { quorum: o.quorum } : {}),
    ...(o.noQuorumPolicy !== undefined ? { noQuorumPolicy: o.noQuorumPolicy } : {}),
    fencing: { mode: o.fencing?.mode ?? 'self_release', action: 'off', delayBaseMs: o.fencing?.delayBaseMs ?? 0, delayMaxMs: o.fencing?.delayMaxMs ?? 1000, devices: o.fencing !== undefined ? [fenceDevice] : [] },
  });

  /** A power switch: it acts on its own clock, whatever becomes of the node that asked. */
  const powerSwitch = (fencer: SimNode): FenceAgentDriver => ({
    start(_device, target, _action, done) {
      let aborted = false;
      const answer = (ok: boolean, detail: string) => () => {
        if (!aborted) done({ ok, detail });
      };
      const roll = o.fencing?.faults === true ? rng.next() : 0;
      const latencyMs = 50 + Math.floor(rng.next() * 450);
      const kind = roll < 0.7 ? 'ok' : roll < 0.8 ? 'fail' : roll < 0.9 ? 'hang' : 'late';
      if (kind !== 'ok') stats.fenceFaults++;
      note(`${fencer.name}: fence agent for ${target}: ${kind}`);
      const powerOff = (): void => {
        const victim = nodes.find((n) => n.name === target);
        if (victim === undefined || victim.plane === null) return;
        crash(victim);
        poweredOff.push(target);
        stats.fences++;
        note(`${target} powered off (fence asked by ${fencer.name})`);
      };
      if (kind === 'ok') {
        clock.setTimeout(powerOff, latencyMs);
        fencer.clock.setTimeout(answer(true, 'off'), latencyMs + 1);
      } else if (kind === 'fail') {
        fencer.clock.setTimeout(answer(false, 'exit 1'), latencyMs);
      } else if (kind === 'late') {
        // The switch acts after the fencer gave up on it: off all the same.
        clock.setTimeout(powerOff, fenceDevice.timeoutMs + latencyMs);
      }
      return () => {
        aborted = true;
      };
    },
  });
  const addressOf = (name: string): string => `10.0.0.${o.nodes.findIndex((n) => n.name === name) + 1}`;

  const boot = (s: SimNode): void => {
    // Now and then a restart comes with the wall clock stepped back: a lower epoch.
    s.epoch = s.epoch > 0 && rng.next() < 0.2 ? s.epoch - 1000 : s.epoch + 1;
    const member = o.nodes.find((n) => n.name === s.name);
    const director = o.vrrp === true && member !== undefined && !member.witness;
    const peers = o.nodes.filter((n) => n.name !== s.name && !n.witness).map((n) => n.name);
    const engine = director && o.sync !== undefined ? simEngine(s.clock, o.seed) : null;
    const sync = engine !== null ? new ClusterSync(engine, s.name, peers, s.clock, silentLogger()) : null;
    s.engine = engine;
    s.sync = sync;
    const own = o.selfishVotes === true ? { ...cluster, nodes: cluster.nodes.map((n) => ({ ...n, votes: n.name === s.name ? totalVotes : 0 })) } : cluster;
    const plane = simPlane({
      name: s.name,
      cluster: own,
      links: o.links,
      net,
      clock: s.clock,
      rng,
      bootEpoch: s.epoch,
      instances: director ? [simInstance(member.priority, addressOf(s.name))] : [],
      agents: powerSwitch(s),
      fenceRetryAfterMs: 5000,
      ...(o.fencing?.gateTrustsDeadlines === true ? { machines: { agent: (ao, c) => new VrrpAgent({ ...ao, fenceMode: 'self_release' }, c) } } : {}),
      log: {
        error: (m) => note(`${s.name}: ALERT ${m}`),
        warn: (m) => note(`${s.name}: ${m}`),
        info: (m) => {
          if (/^view /.test(m)) stats.viewChanges++;
          if (/ is fenced \(/.test(m) || / view |^view |DC:|peer |left|cleared|stands down/.test(m)) note(`${s.name}: ${m}`);
        },
      },
      host: {
        instanceChanged: (instance, from, to, reason) => {
          if (to === 'master') stats.takeovers++;
          note(`${s.name}: ${instance} ${from} -> ${to} (${reason})`);
          if (to !== 'master' || sync === null || engine === null) return;
          if (o.sync?.skipLoad !== true) sync.takeOver('VI_1', [simVip]);
          if (lastMaster !== undefined && lastMaster !== s.name) {
            for (const p of watch.check(s.name, sync, engine, lastMaster)) violations.push(`${at()} ${p}`);
          }
          lastMaster = s.name;
        },
        syncReceived: (sender, body) => sync?.receive(sender, body),
        preemptHold: (instance, holder) => sync?.preemptHold(instance, holder),
      },
    });
    s.plane = plane;
    plane.start();
    sync?.start({
      sendSync: (body) => {
        watch.sending(s.name, sync.status().epoch, body);
        plane.sendSync(body);
      },
    });
  };
  const crash = (s: SimNode): void => {
    s.plane?.crash();
    s.plane = null;
    s.sync?.stop();
    s.sync = null;
    s.engine = null;
    s.clock.freeze(-Infinity);
    delete s.masterWithoutQuorumSince;
    s.clock.clearAll();
    net.detach(s.name);
  };

  /** Live nodes s can exchange heartbeats with, itself included. */
  const reachable = (s: SimNode): SimNode[] => nodes.filter((n) => n.plane !== null && net.canReach(s.name, n.name));
  const updateMinority = (): void => {
    for (const s of nodes) {
      if (s.plane === null) {
        delete s.minoritySince;
        continue;
      }
      const votes = reachable(s).reduce((sum, n) => sum + (votesOf.get(n.name) ?? 0), 0);
      if (votes >= quorumVotes) delete s.minoritySince;
      else s.minoritySince ??= clock.nowMs();
    }
  };

  const slackMs = o.timing.intervalMs + 100;
  const firstMasterDownMs = 3 * 1000 + 1000;
  const checkVrrp = (): void => {
    // A frozen master still holds its VIP (its kernel still answers for it). In mode power no
    // one may take over until it is off; trusting self-release, it only must not hold on
    // beside the new master once it runs again.
    const countFrozen = o.fencing?.mode === 'power';
    const masters = nodes.filter((n) => n.plane?.isHolding('VI_1') === true && (countFrozen || !n.clock.frozen));
    if (clock.nowMs() > firstMasterDownMs && masters.length > 1) {
      violations.push(`${at()} two masters of VI_1 at once: ${masters.map((m) => m.name).join(', ')}${masters.every((m) => masters.every((x) => net.canReach(m.name, x.name))) ? ' (and they can talk)' : ' (cut off from each other)'}`);
    }
    for (const s of nodes) {
      const quorate = s.plane?.node.view.quorate === true;
      if (s.plane?.isHolding('VI_1') !== true || quorate || s.clock.frozen) {
        delete s.masterWithoutQuorumSince;
        continue;
      }
      s.masterWithoutQuorumSince ??= clock.nowMs();
      if (clock.nowMs() - s.masterWithoutQuorumSince > o.timing.deadtimeMs) violations.push(`${at()} ${s.name} is master of VI_1 without quorum since t=${(s.masterWithoutQuorumSince / 1000).toFixed(3)}s`);
    }
  };
  let client = 0;
  const checkContinuous = (): void => {
    if (o.vrrp === true) checkVrrp();
    // Masters serve: two new connections every check.
    for (const s of nodes) {
      if (s.plane?.isHolding('VI_1') !== true || s.engine === null || s.clock.frozen) continue;
      watch.connect(s.engine, client++);
      watch.connect(s.engine, client++);
    }
    for (const s of nodes) {
      const view = s.plane?.node.view;
      if (view === undefined) continue;
      if (view.quorate && view.members.length === 1 && totalVotes >= 3 && !s.clock.frozen) violations.push(`${at()} ${s.name} claims quorum on its own: ${JSON.stringify(view)}`);
      // A frozen node cannot notice anything; it gets deadtime from its thaw, as from a cut.
      if (s.minoritySince !== undefined && view.quorate && clock.nowMs() - Math.max(s.minoritySince, s.clock.thawMs) > o.timing.deadtimeMs + slackMs) {
        violations.push(`${at()} ${s.name} is cut off from a majority since t=${(s.minoritySince / 1000).toFixed(3)}s but still reports quorum: [${view.members.join(',')}]`);
      }
    }
  };

  const checkAgreement = (): void => {
    stats.calmChecks++;
    const seen = new Set<string>();
    for (const s of nodes) {
      if (s.plane === null || seen.has(s.name)) continue;
      const group = reachable(s);
      group.forEach((g) => seen.add(g.name));
      const expected = group.map((g) => g.name).sort().join(',');
      for (const g of group) {
        const view = g.plane?.node.view;
        if (view === undefined) continue;
        if (view.members.join(',') !== expected) violations.push(`${at()} ${g.name} sees [${view.members.join(',')}] after a calm phase; its group is [${expected}]`);
      }
      const dcs = new Set(group.map((g) => g.plane?.node.view.dc ?? '-'));
      if (dcs.size > 1) violations.push(`${at()} group [${expected}] disagrees on the DC: ${[...dcs].join(' vs ')}`);
      // Liveness: a quorate group with a director serves the VIP, from exactly one master.
      const votes = group.reduce((sum, g) => sum + (votesOf.get(g.name) ?? 0), 0);
      const directors = group.filter((g) => g.plane !== null && o.nodes.some((n) => n.name === g.name && !n.witness));
      if (o.vrrp === true && votes >= quorumVotes && directors.length > 0) {
        const masters = directors.filter((g) => g.plane?.isHolding('VI_1') === true).map((g) => g.name);
        // In mode power a failing or hanging agent rightly keeps everyone from taking over.
        const unfenced = o.nodes.filter((d) => !d.witness && !group.some((g) => g.name === d.name) && !group.some((g) => g.plane?.fencing.isFenced(d.name) === true));
        const waitingForFence = o.fencing?.mode === 'power' && masters.length === 0 && unfenced.length > 0;
        if (masters.length !== 1 && !waitingForFence) violations.push(`${at()} quorate group [${expected}] has ${masters.length} masters of VI_1 after a calm phase: [${masters.join(',')}]`);
      }
    }
  };

  const runFor = (ms: number): void => {
    const end = clock.nowMs() + ms;
    while (clock.nowMs() < end) {
      clock.advanceTo(Math.min(end, clock.nowMs() + checkEveryMs));
      checkContinuous();
    }
  };

  for (const s of nodes) clock.setTimeout(() => boot(s), Math.floor(rng.next() * 2000));
  const agreementBoundMs = o.timing.initdeadMs + o.timing.deadtimeMs + 2 * o.timing.intervalMs;
  runFor(agreementBoundMs);
  checkAgreement();

  if (o.cutAll === true) {
    net.partition(nodes.map((n) => [n.name]));
    stats.partitions++;
    note('network: every node cut off from the others');
    runFor(o.durationMs);
  }
  while (o.cutAll !== true && clock.nowMs() < o.durationMs) {
    // Chaos: a few random events.
    const chaosMs = 5000 + Math.floor(rng.next() * 15_000);
    const events = 1 + Math.floor(rng.next() * 4);
    for (let i = 0; i < events; i++) {
      runFor(Math.floor(chaosMs / events));
      const roll = rng.next();
      if (roll < 0.3) {
        net.conditions = { loss: rng.next() * o.maxLoss, duplicate: rng.next() * 0.05, minDelayMs: 1, maxDelayMs: 1 + rng.next() * 80 };
        note(`network: loss ${(net.conditions.loss * 100).toFixed(0)}%, delay up to ${net.conditions.maxDelayMs.toFixed(0)} ms`);
      } else if (roll < 0.55) {
        const names = nodes.map((n) => n.name);
        const lone = names[Math.floor(rng.next() * names.length)] as string;
        net.partition([[lone]]);
        stats.partitions++;
        note(`network: ${lone} cut off`);
      } else if (roll < 0.7) {
        net.heal();
        note('network: healed');
      } else if (roll < 0.85) {
        const live = nodes.filter((n) => n.plane !== null);
        const victim = live[Math.floor(rng.next() * live.length)];
        if (victim !== undefined && live.length > 1) {
          crash(victim);
          stats.crashes++;
          note(`${victim.name} crashed`);
        }
      } else if (roll < 0.95) {
        const dead = nodes.filter((n) => n.plane === null);
        const back = dead[Math.floor(rng.next() * dead.length)];
        if (back !== undefined) {
          boot(back);
          stats.restarts++;
          note(`${back.name} restarted`);
        }
      } else {
        const s = nodes[Math.floor(rng.next() * nodes.length)] as SimNode;
        s.clock.wallOffsetMs += (rng.next() - 0.5) * 4000;
        note(`${s.name}: wall clock jumped to ${s.clock.wallOffsetMs.toFixed(0)} ms off`);
      }
      if (o.freezes === true && rng.next() < 0.25) {
        const live = nodes.filter((n) => n.plane !== null && !n.clock.frozen);
        const victim = live[Math.floor(rng.next() * live.length)];
        if (victim !== undefined) {
          const forMs = 500 + Math.floor(rng.next() * 7500);
          victim.clock.freeze(clock.nowMs() + forMs);
          stats.freezes++;
          note(`${victim.name} frozen for ${forMs} ms`);
        }
      }
      updateMinority();
    }
    // Calm: a steady network for the agreement bound (partitions may stay), counted from
    // the end of the last freeze.
    net.conditions = { loss: 0, duplicate: 0, minDelayMs: 1, maxDelayMs: 5 };
    const lastThawMs = Math.max(...nodes.map((n) => n.clock.thawMs));
    if (lastThawMs > clock.nowMs()) runFor(lastThawMs - clock.nowMs());
    runFor(agreementBoundMs + Math.floor(rng.next() * 3000));
    checkAgreement();
  }
  stats.datagrams = net.sent;
  stats.syncChecks = watch.checks;
  stats.syncEntriesChecked = watch.entriesChecked;
  return { seed: o.seed, violations, trace, stats, poweredOff };
}
