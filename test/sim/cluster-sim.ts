// The deterministic cluster simulation: the daemon's own control plane (the shell and its
// machines) on every node, in one process, on a virtual network that loses, duplicates,
// delays and partitions, with crashes, clean stops, freezes, clock jumps, and fence agents
// that power nodes off or cut their links (and fail, hang or act late), all drawn from
// one seed (options.ts). Chaos phases alternate with calm ones; at the end the network is
// healed, every node restarted or repaired, and the cluster must converge.
//
// The invariants are looked at after every single event (a datagram delivered, a timer
// fired), the safety rules of ARCHITECTURE.md among them:
//   - at most one master of VI_1 (mode power: a frozen master counts, one cut off by an
//     isolating fence does not; self_release: running masters);
//   - a master without quorum lets go within deadtime (no_quorum_policy stop);
//   - a node that stands down (it knows it was fenced, is being fenced, lost its links, or
//     was frozen) holds no VIP, and starts no fence agent;
//   - no fence agent is started against a node whose leave the fencer heard in its run;
//   - in two_node, never both directors fenced at once;
//   - every fence operation ends (success, failure, cancel) within its configured bound;
//   - no node of a cluster where one vote is no quorum claims quorum alone, and one cut
//     off from a majority says so within deadtime;
//   - after a calm phase, the members of each connected group agree on the view and the
//     DC, and a quorate group with a director has one master (unless, in mode power, a
//     silent holder is not fenced yet);
//   - with sync, a takeover keeps every entry the new master's copy had applied
//     (sync-watch.ts);
//   - host health (migrate_on_red, hosts going red and green by chaos): a director whose
//     host holds its instances in FAULT holds no VIP, and takes none within the hold time
//     after its host left red; a fence agent runs only against a director its fencer does
//     not hear (not in its view): never for being red or in FAULT;
//   - after the heal, within its bound: every node in one view, one master, no node
//     standing down, the copies in sync.
import { VirtualClock } from '../../src/common/clock';
import { InvariantError } from '../../src/common/invariant';
import type { LogSink } from '../../src/common/log';
import { silentLogger } from '../../src/common/log';
import { SeededRng } from '../../src/common/rng';
import type { ClusterConfig } from '../../src/cluster/config';
import { stallQuarantineMs, type ControlPlane, type MachineFactories } from '../../src/director/control-plane';
import { ClusterSync } from '../../src/director/cluster-sync';
import type { FenceAgentDriver } from '../../src/fencing/agents/runner';
import { FencingCoordinator, type FencingEvent } from '../../src/fencing/coordinator';
import type { IpvsEngine } from '../../src/ipvs/engine';
import { VrrpAgent, type VrrpAgentEvent } from '../../src/vrrp/agent';
import { NodeClock, VirtualNetwork } from './network';
import { describeOptions, type SimOptions } from './options';
import { simClusterConfig, simInstance, simPlane } from './sim-plane';
import { simEngine, simVip, SyncWatch } from './sync-watch';
import { memoryOf, SimHost, simHostHealth } from './sim-host';
import type { HostColour } from '../../src/host/config';

export { defaultSimNodes, defaultSimTiming, optionsFromSeed, replayCommand, describeOptions } from './options';
export type { SimOptions } from './options';

export interface SimStats {
  events: number;
  datagrams: number;
  crashes: number;
  restarts: number;
  cleanStops: number;
  partitions: number;
  twoNodeCuts: number;
  freezes: number;
  viewChanges: number;
  takeovers: number;
  takeoversAfterPowerFence: number;
  fenceAgentRuns: number;
  agentFaults: number;
  fencesCompleted: number;
  poweredOff: number;
  isolated: number;
  repairs: number;
  depositions: number;
  calmChecks: number;
  syncChecks: number;
  syncEntriesChecked: number;
  /** Host health: colours drawn for a host, masters that went to FAULT for their host, fences started against a red host. */
  hostChanges: number;
  hostRedMasters: number;
  hostRedFences: number;
  convergedMs: number;
}

export interface SimResult {
  readonly options: SimOptions;
  readonly violations: string[];
  readonly trace: string[];
  readonly stats: SimStats;
  /** The nodes fence agents took down (powered off or cut off), in order. */
  readonly fenced: string[];
  /** The masters of VI_1 at the end. */
  readonly masters: string[];
}

export const emptyStats = (): SimStats => ({
  events: 0,
  datagrams: 0,
  crashes: 0,
  restarts: 0,
  cleanStops: 0,
  partitions: 0,
  twoNodeCuts: 0,
  freezes: 0,
  viewChanges: 0,
  takeovers: 0,
  takeoversAfterPowerFence: 0,
  fenceAgentRuns: 0,
  agentFaults: 0,
  fencesCompleted: 0,
  poweredOff: 0,
  isolated: 0,
  repairs: 0,
  depositions: 0,
  calmChecks: 0,
  syncChecks: 0,
  syncEntriesChecked: 0,
  hostChanges: 0,
  hostRedMasters: 0,
  hostRedFences: 0,
  convergedMs: 0,
});

/** Two masters that can hear each other's adverts settle it within this (five advert intervals: losses in a row). */
const duplicateMastersMaxMs = 5000;

/** How long after the heal the cluster has to converge. */
export const convergeBoundMs = 40_000;

interface SimNode {
  readonly name: string;
  readonly director: boolean;
  readonly clock: NodeClock;
  plane: ControlPlane | null;
  engine: IpvsEngine | null;
  sync: ClusterSync | null;
  epoch: number;
  /** Why it is not running: crashed by chaos, powered off by a fence, stopped cleanly. */
  down?: 'crashed' | 'powered-off' | 'stopped';
  /** Since when it has been master without a quorate view. */
  masterWithoutQuorumSince?: number;
  /** Since when it has been cut off from a majority. */
  minoritySince?: number;
  /** Whom it could reach at the last look. */
  reachable?: string;
  /** Fence operations it runs: target → since when. */
  readonly fencing: Map<string, number>;
  /** The host it runs on, which a restart does not change: its memory is in this colour. */
  hostColour: HostColour;
  /** The director's host-health shell, while it runs. */
  host: SimHost | null;
  /** When this run's host last left red, and since when its instances have been fit. */
  hostRedEndedMs?: number;
  hostFitSinceMs?: number;
}

/** The machines, with a rule broken on purpose (the controls). */
function brokenMachines(o: SimOptions): MachineFactories | undefined {
  switch (o.breaks) {
    case 'fence-clean-leaves':
    case 'deposed-keeps-fencing': {
      const leaves = o.breaks === 'fence-clean-leaves';
      return { coordinator: (co, clock, rng) => new (class extends FencingCoordinator {
        override step(e: FencingEvent) {
          if (e.kind === (leaves ? 'peerLeft' : 'deposed')) return [];
          // Nor what the partition knows of leaves.
          return super.step(leaves && e.kind === 'viewChanged' ? { ...e, view: { ...e.view, left: [] } } : e);
        }
      })(co, clock, rng) };
    }
    case 'deposed-keeps-vips':
      return { agent: (ao, clock) => new (class extends VrrpAgent {
        override step(e: VrrpAgentEvent) {
          if (e.kind !== 'clusterChanged') return super.step(e);
          const { deposed: _ignored, ...facts } = e.facts;
          return super.step({ ...e, facts });
        }
      })(ao, clock) };
    case 'gate-trusts-deadlines':
      return { agent: (ao, clock) => new VrrpAgent({ ...ao, fenceMode: 'self_release' }, clock) };
    default:
      return undefined;
  }
}

/** Thrown to end a run whose machine broke its own invariant. */
class RunEnded extends Error {}

export function runClusterSim(o: SimOptions): SimResult {
  return new Simulation(o).run();
}

class Simulation {
  private readonly clock = new VirtualClock();
  private readonly rng: SeededRng;
  /** Host colours have a stream of their own: drawing them leaves the seed's other faults as they were. */
  private readonly hostRng: SeededRng;
  private readonly net: VirtualNetwork;
  private readonly trace: string[] = [];
  private readonly violations: string[] = [];
  private readonly stats = emptyStats();
  private readonly watch: SyncWatch;
  private readonly nodes: SimNode[];
  private readonly cluster: ClusterConfig;
  private readonly directors: number;
  private readonly totalVotes: number;
  private readonly quorumVotes: number;
  private readonly votesOf: Map<string, number>;
  /** Nodes a fence agent took down now: powered off, or cut off. */
  private readonly fencedNow = new Map<string, 'powered-off' | 'isolated'>();
  private readonly fenced: string[] = [];
  private lastMaster: string | undefined;
  /** When the last freeze, and the quarantine it brought, end. */
  private quietFromMs = 0;
  /** Since when two masters have been able to hear each other, or not. */
  private mastersTalkingSince: number | undefined;
  private mastersApartSince: number | undefined;
  private client = 0;
  private readonly fenceBoundMs: number;
  private readonly firstMasterDownMs = 3 * 1000 + 1000;

  constructor(private readonly o: SimOptions) {
    this.rng = new SeededRng(o.seed);
    this.hostRng = new SeededRng(o.seed ^ 0x4057);
    this.net = new VirtualNetwork(this.clock, this.rng);
    this.watch = new SyncWatch(this.clock);
    this.nodes = o.nodes.map((n) => ({ name: n.name, director: !n.witness, clock: new NodeClock(this.clock), plane: null, engine: null, sync: null, epoch: 10_000, fencing: new Map(), down: 'stopped', hostColour: 'green', host: null }));
    this.directors = o.nodes.filter((n) => !n.witness).length;
    this.totalVotes = o.nodes.reduce((s, n) => s + n.votes, 0);
    this.quorumVotes = o.twoNode ? 1 : Math.floor(this.totalVotes / 2) + 1;
    this.votesOf = new Map(o.nodes.map((n) => [n.name, n.votes]));
    const f = o.fencing;
    const device = f === undefined ? undefined : { name: 'switch', where: { file: 'sim', line: 1, col: 1 }, agent: 'exec', timeoutMs: f.timeoutMs, retries: f.retries, hosts: [], options: {}, optionWhere: {} };
    this.cluster = simClusterConfig({
      nodes: o.nodes,
      timing: o.timing,
      quorum: { twoNode: o.twoNode, waitForAll: o.twoNode },
      noQuorumPolicy: o.breaks === 'ignore-quorum' ? 'ignore' : 'stop',
      fencing: { mode: f?.mode ?? 'self_release', action: f?.agent === 'isolate' ? 'off' : 'reboot', delayBaseMs: 0, delayMaxMs: f?.delayMaxMs ?? 0, devices: device !== undefined ? [device] : [] },
    });
    // The longest an operation may take: its delay (twice delay_max more when it yields), every try.
    this.fenceBoundMs = 3 * (f?.delayMaxMs ?? 0) + (f === undefined ? 0 : f.timeoutMs * (1 + f.retries)) + 1000;
  }

  run(): SimResult {
    try {
      this.chaosAndHeal();
    } catch (err) {
      if (err instanceof InvariantError) this.violation(err.message);
      else if (!(err instanceof RunEnded)) throw err;
    }
    this.stats.datagrams = this.net.sent;
    this.stats.syncChecks = this.watch.checks;
    this.stats.syncEntriesChecked = this.watch.entriesChecked;
    return this.result();
  }

  private chaosAndHeal(): void {
    const o = this.o;
    this.note(`run: ${describeOptions(o)}`);
    for (const s of this.nodes) this.clock.setTimeout(() => this.boot(s), Math.floor(this.rng.next() * 2000));
    const agreementBoundMs = o.timing.initdeadMs + o.timing.deadtimeMs + 2 * o.timing.intervalMs;
    this.runFor(agreementBoundMs);
    this.checkAgreement();
    while (this.clock.nowMs() < o.durationMs) {
      const chaosMs = 5000 + Math.floor(this.rng.next() * 15_000);
      const events = 1 + Math.floor(this.rng.next() * 4);
      for (let i = 0; i < events; i++) {
        this.runFor(Math.floor(chaosMs / events));
        this.chaos();
      }
      // Calm: a steady network for the agreement bound (partitions may stay), from the end of
      // the last freeze and of the quarantine a long one brings.
      this.net.conditions = { loss: 0, duplicate: 0, minDelayMs: 1, maxDelayMs: 5 };
      if (this.quietFromMs > this.clock.nowMs()) this.runFor(this.quietFromMs - this.clock.nowMs());
      this.runFor(agreementBoundMs + Math.floor(this.rng.next() * 3000));
      this.checkAgreement();
    }
    this.heal();
  }

  private result(): SimResult {
    const masters = this.nodes.filter((n) => n.plane?.isHolding('VI_1') === true).map((n) => n.name);
    return { options: this.o, violations: this.violations, trace: this.trace, stats: this.stats, fenced: this.fenced, masters };
  }

  /** Two directors, two_node, the link cut at once and for good: who fences whom. */
  runCut(): SimResult {
    try {
      for (const s of this.nodes) this.boot(s);
      this.runFor(this.o.timing.initdeadMs + this.o.timing.deadtimeMs);
      this.net.partition(this.nodes.map((n) => [n.name]));
      this.stats.twoNodeCuts++;
      this.note('network: every node cut off from the others');
      this.runFor(this.o.durationMs);
    } catch (err) {
      if (err instanceof InvariantError) this.violation(err.message);
      else if (!(err instanceof RunEnded)) throw err;
    }
    return this.result();
  }

  private at(): string {
    return `t=${(this.clock.nowMs() / 1000).toFixed(3)}s`;
  }

  private note(line: string): void {
    this.trace.push(`${this.at()} ${line}`);
  }

  private violation(line: string): void {
    if (this.violations.length < 20) this.violations.push(`${this.at()} ${line}`);
  }

  /** Every event, one at a time, each followed by a look at the invariants. */
  private runFor(ms: number): void {
    const end = this.clock.nowMs() + ms;
    let lastServedMs = this.clock.nowMs();
    while (this.fire(end)) {
      this.stats.events++;
      this.checkEvent();
      // Masters serve: a new connection every 50 ms.
      if (this.clock.nowMs() - lastServedMs >= 50) {
        lastServedMs = this.clock.nowMs();
        this.serve();
      }
    }
    this.clock.advanceTo(end);
  }

  /** One event; a machine that finds its own invariant broken ends the run, as it would end the daemon. */
  private fire(endMs: number): boolean {
    try {
      return this.clock.fireNext(endMs);
    } catch (err) {
      if (!(err instanceof InvariantError)) throw err;
      this.violation(err.message);
      throw new RunEnded();
    }
  }

  private serve(): void {
    for (const s of this.nodes) {
      if (s.plane?.isHolding('VI_1') !== true || s.engine === null || s.clock.frozen) continue;
      this.watch.connect(s.engine, this.client++);
    }
  }

  private boot(s: SimNode): void {
    // Now and then a restart comes with the wall clock stepped back: a lower epoch.
    s.epoch = s.epoch > 0 && this.rng.next() < 0.2 ? s.epoch - 1000 : s.epoch + 1;
    delete s.down;
    this.fencedNow.delete(s.name);
    this.net.isolated.delete(s.name);
    const member = this.o.nodes.find((n) => n.name === s.name);
    const peers = this.o.nodes.filter((n) => n.name !== s.name && !n.witness).map((n) => n.name);
    const engine = s.director && this.o.sync ? simEngine(s.clock, this.o.seed) : null;
    const sync = engine !== null ? new ClusterSync(engine, s.name, peers, s.clock, silentLogger()) : null;
    s.engine = engine;
    s.sync = sync;
    const cluster = this.o.breaks === 'selfish-votes' ? { ...this.cluster, nodes: this.cluster.nodes.map((n) => ({ ...n, votes: n.name === s.name ? this.totalVotes : 0 })) } : this.cluster;
    const machines = brokenMachines(this.o);
    const plane = simPlane({
      name: s.name,
      cluster,
      links: this.o.links,
      net: this.net,
      clock: s.clock,
      rng: this.rng,
      bootEpoch: s.epoch,
      instances: s.director && member !== undefined ? [simInstance(member.priority, `10.0.0.${this.o.nodes.indexOf(member) + 1}`)] : [],
      agents: this.fenceSwitch(s),
      fenceRetryAfterMs: 5000,
      ...(machines !== undefined ? { machines } : {}),
      log: this.logFor(s),
      host: {
        instanceChanged: (instance, from, to, reason) => this.instanceChanged(s, instance, from, to, reason),
        syncReceived: (sender, body) => sync?.receive(sender, body),
        preemptHold: (instance, holder) => sync?.preemptHold(instance, holder),
      },
    });
    s.plane = plane;
    this.attachHost(s, plane, member?.priority ?? 0);
    plane.start();
    sync?.start({
      sendSync: (body) => {
        this.watch.sending(s.name, sync.status().epoch, body);
        plane.sendSync(body);
      },
    });
  }

  /** The director's host health, its first sample before the instance starts (as the daemon's). */
  private attachHost(s: SimNode, plane: ControlPlane, priority: number): void {
    const health = this.o.hostHealth;
    delete s.hostRedEndedMs;
    s.hostFitSinceMs = -Infinity;
    if (health === undefined || !s.director) return;
    const instances = this.o.breaks === 'red-keeps-vips' ? { tracked: (instance: string, p: number) => plane.tracked(instance, p, []) } : plane;
    s.host = new SimHost(instances, s.clock, simHostHealth(health.intervalMs, health.holdMs), [{ name: 'VI_1', priority }], () => memoryOf[s.hostColour], {
      colourChanged: (from, to) => {
        this.note(`${s.name}: host ${from} -> ${to}`);
        if (from === 'red') s.hostRedEndedMs = this.clock.nowMs();
      },
      decided: (fault) => {
        if (fault) delete s.hostFitSinceMs;
        else s.hostFitSinceMs ??= this.clock.nowMs();
      },
    });
  }

  /** Chaos, now and then: a director's host turns red, yellow or green. */
  private hostChaos(): void {
    if (this.hostRng.next() >= 0.3) return;
    const directors = this.nodes.filter((n) => n.director);
    const s = directors[Math.floor(this.hostRng.next() * directors.length)];
    if (s === undefined) return;
    const roll = this.hostRng.next();
    s.hostColour = roll < 0.5 ? 'red' : roll < 0.65 ? 'yellow' : 'green';
    this.stats.hostChanges++;
    this.note(`${s.name}: its host's memory goes ${s.hostColour} (${memoryOf[s.hostColour]}%)`);
  }

  private logFor(s: SimNode): LogSink {
    const line = (m: string): void => {
      if (m.startsWith('view ')) this.stats.viewChanges++;
      if (m.startsWith('this node stands down')) this.stats.depositions++;
      this.note(`${s.name}: ${m}`);
    };
    return { error: (m) => line(`ALERT ${m}`), warn: line, info: line };
  }

  private instanceChanged(s: SimNode, instance: string, from: string, to: string, reason: string): void {
    this.note(`${s.name}: ${instance} ${from} -> ${to} (${reason})`);
    if (from === 'master' && to === 'fault' && reason.startsWith('host health')) this.stats.hostRedMasters++;
    if (to !== 'master') return;
    const hold = this.o.hostHealth?.holdMs ?? 0;
    if (s.host?.shell.decision().fault === true) this.violation(`${s.name} takes VI_1 while its host holds it in FAULT`);
    if (s.hostRedEndedMs !== undefined && this.clock.nowMs() - s.hostRedEndedMs < hold) this.violation(`${s.name} takes VI_1 ${Math.round(this.clock.nowMs() - s.hostRedEndedMs)} ms after its host left red (hold ${hold} ms)`);
    this.stats.takeovers++;
    const previous = this.lastMaster;
    if (previous !== undefined && previous !== s.name && this.fencedNow.get(previous) === 'powered-off') this.stats.takeoversAfterPowerFence++;
    const { sync, engine } = s;
    if (sync !== null && engine !== null) {
      if (this.o.breaks !== 'skip-sync-load') sync.takeOver('VI_1', [simVip]);
      if (previous !== undefined && previous !== s.name) for (const p of this.watch.check(s.name, sync, engine, previous)) this.violation(p);
    }
    this.lastMaster = s.name;
  }

  /** A fence device: it acts on its own, whatever becomes of the node that asked. */
  private fenceSwitch(fencer: SimNode): FenceAgentDriver {
    return {
      start: (_device, target, _action, done) => {
        let aborted = false;
        const answer = (ok: boolean, detail: string) => () => {
          if (!aborted) done({ ok, detail });
        };
        const f = this.o.fencing;
        this.stats.fenceAgentRuns++;
        const plane = fencer.plane;
        if (plane?.deposed !== undefined) this.violation(`${fencer.name} starts a fence agent against ${target} while it stands down (${plane.deposed})`);
        if (plane?.node.facts().peers.get(target)?.left === true) this.violation(`${fencer.name} starts a fence agent against ${target}, whose leave it heard`);
        const red = this.nodes.find((n) => n.name === target)?.host?.shell.decision().fault === true;
        if (red) this.stats.hostRedFences++;
        if (plane?.node.view.members.includes(target) === true) this.violation(`${fencer.name} starts a fence agent against ${target}, which is in its view (heard)${red ? ', and whose host holds it in FAULT' : ''}`);
        const roll = f?.faults === true ? this.rng.next() : 0;
        const latencyMs = 50 + Math.floor(this.rng.next() * 450);
        const kind = roll < 0.7 ? 'ok' : roll < 0.8 ? 'fail' : roll < 0.9 ? 'hang' : 'late';
        if (kind !== 'ok') this.stats.agentFaults++;
        this.note(`${fencer.name}: fence agent for ${target}: ${kind}`);
        const act = (): void => this.fenceTakesEffect(target, fencer.name);
        if (kind === 'ok') {
          this.clock.setTimeout(act, latencyMs);
          fencer.clock.setTimeout(answer(true, 'done'), latencyMs + 1);
        } else if (kind === 'fail') {
          fencer.clock.setTimeout(answer(false, 'exit 1'), latencyMs);
        } else if (kind === 'late') {
          // The device acts after the fencer gave up on it: done all the same.
          this.clock.setTimeout(act, (f?.timeoutMs ?? 0) + latencyMs);
        }
        return () => {
          aborted = true;
        };
      },
    };
  }

  private fenceTakesEffect(target: string, by: string): void {
    const victim = this.nodes.find((n) => n.name === target);
    if (victim === undefined || victim.plane === null || this.fencedNow.has(target)) return;
    this.stats.fencesCompleted++;
    this.fenced.push(target);
    if (this.o.fencing?.agent === 'isolate') {
      this.net.isolated.add(target);
      this.fencedNow.set(target, 'isolated');
      this.stats.isolated++;
      this.note(`${target} cut off by a fence (asked by ${by})`);
    } else {
      this.down(victim, 'powered-off');
      this.fencedNow.set(target, 'powered-off');
      this.stats.poweredOff++;
      this.note(`${target} powered off (fence asked by ${by})`);
    }
    this.checkTwoNodeFences();
  }

  private down(s: SimNode, why: NonNullable<SimNode['down']>): void {
    if (why === 'stopped') s.plane?.leave();
    else s.plane?.crash();
    s.plane = null;
    s.sync?.stop();
    s.sync = null;
    s.engine = null;
    s.down = why;
    s.fencing.clear();
    s.host?.stop();
    s.host = null;
    s.clock.freeze(-Infinity);
    delete s.masterWithoutQuorumSince;
    s.clock.clearAll();
    this.net.detach(s.name);
  }

  /** SIGTERM: the last changes flushed, priority 0, the addresses down a moment later, then the leave. */
  private stopCleanly(s: SimNode): void {
    const plane = s.plane;
    if (plane === null) return;
    s.sync?.flushNow();
    plane.release();
    s.clock.setTimeout(() => {
      if (s.plane === plane) this.down(s, 'stopped');
    }, 20);
  }

  /** An operator puts a cut-off node's links back and clears it everywhere. */
  private repair(s: SimNode): void {
    this.net.isolated.delete(s.name);
    this.fencedNow.delete(s.name);
    this.stats.repairs++;
    this.note(`operator: ${s.name}'s links back up; fence clear ${s.name} on every node`);
    for (const n of this.nodes) n.plane?.fenceRequest({ action: 'clear', target: s.name }).catch(() => undefined);
  }

  private master(): SimNode | undefined {
    return this.nodes.find((n) => n.plane?.isHolding('VI_1') === true);
  }

  private pick<T>(list: readonly T[]): T | undefined {
    return list[Math.floor(this.rng.next() * list.length)];
  }

  private chaos(): void {
    const o = this.o;
    const live = this.nodes.filter((n) => n.plane !== null);
    const roll = this.rng.next();
    const partitionUntil = 0.2 + o.partitionRate;
    if (roll < 0.2) {
      this.net.conditions = { loss: this.rng.next() * o.maxLoss, duplicate: this.rng.next() * 0.05, minDelayMs: 1, maxDelayMs: 1 + this.rng.next() * 80 };
      this.note(`network: loss ${(this.net.conditions.loss * 100).toFixed(0)}%, delay up to ${this.net.conditions.maxDelayMs.toFixed(0)} ms`);
    } else if (roll < partitionUntil) {
      // Often the master: its takeover is what fencing is for.
      const lone = (this.rng.next() < 0.5 ? this.master() : undefined)?.name ?? this.pick(this.nodes)?.name ?? 'd1';
      this.net.partition([[lone]]);
      this.stats.partitions++;
      if (this.directors === 2 && o.nodes.length === 2) this.stats.twoNodeCuts++;
      this.note(`network: ${lone} cut off`);
    } else if (roll < partitionUntil + 0.1) {
      this.net.heal();
      this.note('network: healed');
    } else if (roll < partitionUntil + 0.22) {
      const victim = this.pick(live);
      if (victim !== undefined && live.length > 1) {
        this.down(victim, 'crashed');
        this.stats.crashes++;
        this.note(`${victim.name} crashed`);
      }
    } else if (roll < partitionUntil + 0.34) {
      const back = this.pick(this.nodes.filter((n) => n.plane === null));
      if (back !== undefined) {
        this.boot(back);
        this.stats.restarts++;
        this.note(`${back.name} restarted`);
      }
    } else if (roll < partitionUntil + 0.46 && o.cleanStops) {
      // Often the master: that is the stop that matters.
      const master = this.master();
      const victim = master !== undefined && this.rng.next() < 0.5 ? master : this.pick(live);
      if (victim !== undefined && live.length > 1) {
        this.stopCleanly(victim);
        this.stats.cleanStops++;
        this.note(`${victim.name} stopped cleanly (SIGTERM)`);
      }
    } else if (roll < partitionUntil + 0.52) {
      const cut = this.pick(this.nodes.filter((n) => this.fencedNow.get(n.name) === 'isolated'));
      if (cut !== undefined) this.repair(cut);
    } else {
      const s = this.pick(this.nodes) as SimNode;
      s.clock.wallOffsetMs += (this.rng.next() - 0.5) * 4000;
      this.note(`${s.name}: wall clock jumped to ${s.clock.wallOffsetMs.toFixed(0)} ms off`);
    }
    if (o.hostHealth !== undefined) this.hostChaos();
    if (o.freezes && this.rng.next() < 0.25) {
      const running = this.nodes.filter((n) => n.plane !== null && !n.clock.frozen);
      const master = this.master();
      const victim = master !== undefined && running.includes(master) && this.rng.next() < 0.5 ? master : this.pick(running);
      if (victim !== undefined) {
        const forMs = 500 + Math.floor(this.rng.next() * 7500);
        const thawMs = this.clock.nowMs() + forMs;
        victim.clock.freeze(thawMs);
        // A node runs at least every interval, so what it finds it missed is up to one more.
        const stalls = forMs + o.timing.intervalMs > o.timing.deadtimeMs - o.timing.intervalMs;
        this.quietFromMs = Math.max(this.quietFromMs, thawMs + (stalls ? stallQuarantineMs(this.cluster) : 0));
        this.stats.freezes++;
        this.note(`${victim.name} frozen for ${forMs} ms`);
      }
    }
  }

  /** Live nodes s can exchange heartbeats with, itself included. */
  private reachable(s: SimNode): SimNode[] {
    return this.nodes.filter((n) => n.plane !== null && (n === s || this.net.canReach(s.name, n.name)));
  }

  /** Since when each node has been cut off from a majority, counted anew whenever whom it can reach changes. */
  private updateMinority(): void {
    for (const s of this.nodes) {
      const reach = s.plane === null ? [] : this.reachable(s);
      const names = reach.map((n) => n.name).join(',');
      const votes = reach.reduce((sum, n) => sum + (this.votesOf.get(n.name) ?? 0), 0);
      if (s.plane === null || votes >= this.quorumVotes) delete s.minoritySince;
      else if (s.minoritySince === undefined || s.reachable !== names) s.minoritySince = this.clock.nowMs();
      s.reachable = names;
    }
  }

  /** After every event. */
  private checkEvent(): void {
    this.updateMinority();
    const now = this.clock.nowMs();
    const mode = this.o.fencing?.mode ?? 'self_release';
    this.checkMasters(now, mode);
    for (const s of this.nodes) {
      const plane = s.plane;
      if (plane === null) continue;
      const holding = plane.isHolding('VI_1');
      const view = plane.node.view;
      if (holding && plane.deposed !== undefined) this.violation(`${s.name} holds VI_1 while it stands down (${plane.deposed})`);
      if (holding && s.host?.shell.decision().fault === true) this.violation(`${s.name} holds VI_1 while its host holds it in FAULT (${s.host.shell.describe()})`);
      if (!holding || view.quorate || s.clock.frozen || this.o.breaks === 'ignore-quorum') delete s.masterWithoutQuorumSince;
      else {
        s.masterWithoutQuorumSince ??= now;
        if (now - s.masterWithoutQuorumSince > this.o.timing.deadtimeMs) this.violation(`${s.name} is master of VI_1 without quorum since t=${(s.masterWithoutQuorumSince / 1000).toFixed(3)}s`);
      }
      if (view.quorate && view.members.length === 1 && this.quorumVotes > 1 && !s.clock.frozen) this.violation(`${s.name} claims quorum on its own: [${view.members.join(',')}]`);
      // A frozen node cannot notice anything; it gets deadtime from its thaw, as from a cut.
      if (s.minoritySince !== undefined && view.quorate && now - Math.max(s.minoritySince, s.clock.thawMs) > this.o.timing.deadtimeMs + this.o.timing.intervalMs + 100) {
        this.violation(`${s.name} is cut off from a majority since t=${(s.minoritySince / 1000).toFixed(3)}s but still reports quorum: [${view.members.join(',')}]`);
      }
      this.checkFenceBound(s, plane);
    }
  }

  /**
   * At most one master. A frozen one still holds its VIP (its kernel answers for it): in
   * mode power no one may take over from it until it is fenced; one cut off by a fence
   * does not matter. Running masters that can talk settle it by their adverts (VRRP's own
   * rule) as soon as one gets through: only a pair that lasts is wrong. Running masters
   * that cannot talk (each took over on what it last heard, across a cut) are wrong once
   * a master cut off from its quorum had to let go: deadtime, and an interval's slack.
   * two_node with self_release promises only what keepalived does.
   */
  private checkMasters(now: number, mode: 'power' | 'self_release'): void {
    const masters = this.nodes.filter((n) => n.plane?.isHolding('VI_1') === true && !this.net.isolated.has(n.name));
    const running = masters.filter((n) => !n.clock.frozen);
    const names = masters.map((m) => m.name).join(', ');
    if (now <= this.firstMasterDownMs) return;
    if (mode === 'power' && masters.length > 1 && running.length < masters.length) this.violation(`two masters of VI_1 at once, one of them frozen: ${names}`);
    const talking = running.length > 1 && running.every((m) => running.every((x) => this.net.canReach(m.name, x.name)));
    const apart = running.length > 1 && !talking && !(this.o.twoNode && mode === 'self_release');
    this.mastersTalkingSince = talking ? (this.mastersTalkingSince ?? now) : undefined;
    this.mastersApartSince = apart ? (this.mastersApartSince ?? now) : undefined;
    const t = this.o.timing;
    if (this.mastersTalkingSince !== undefined && now - this.mastersTalkingSince > duplicateMastersMaxMs) this.violation(`two masters of VI_1 at once, able to talk for ${Math.round(now - this.mastersTalkingSince)} ms: ${names}`);
    if (this.mastersApartSince !== undefined && now - this.mastersApartSince > t.deadtimeMs + t.intervalMs) this.violation(`two masters of VI_1 at once, cut off from each other for ${Math.round(now - this.mastersApartSince)} ms: ${names}`);
  }

  /** Every fence operation ends within its configured bound, counted in the fencer's own running time. */
  private checkFenceBound(s: SimNode, plane: ControlPlane): void {
    const now = this.clock.nowMs();
    const pending = plane.fencing.pending();
    for (const target of s.fencing.keys()) if (!pending.includes(target)) s.fencing.delete(target);
    for (const target of pending) {
      const since = s.fencing.get(target);
      if (since === undefined) s.fencing.set(target, now);
      else if (!s.clock.frozen && now - Math.max(since, s.clock.thawMs) > this.fenceBoundMs) {
        this.violation(`${s.name}'s fence of ${target} has not ended ${now - since} ms after it started (bound ${this.fenceBoundMs} ms)`);
        s.fencing.set(target, now);
      }
    }
  }

  private checkTwoNodeFences(): void {
    if (!this.o.twoNode) return;
    const directors = this.nodes.filter((n) => n.director);
    if (directors.every((d) => this.fencedNow.has(d.name))) this.violation(`two_node: both directors fenced (${directors.map((d) => `${d.name} ${this.fencedNow.get(d.name) ?? ''}`).join(', ')})`);
  }

  /** Whether the node's host has let its instances be fit for at least `forMs`. */
  private hostFitFor(s: SimNode, forMs: number): boolean {
    return s.hostFitSinceMs !== undefined && this.clock.nowMs() - s.hostFitSinceMs >= forMs;
  }

  /** After a calm phase: each connected group agrees, and a quorate one has its master. */
  private checkAgreement(): void {
    this.stats.calmChecks++;
    const hostTakeoverMs = 3 * 1000 + 1000;
    for (const n of this.nodes) this.note(`calm: ${n.plane === null ? `${n.name} ${n.down ?? 'down'}` : n.plane.node.describe()}${n.plane?.isHolding('VI_1') === true ? ' MASTER' : ''}`);
    const seen = new Set<string>();
    for (const s of this.nodes) {
      if (s.plane === null || seen.has(s.name)) continue;
      const group = this.reachable(s);
      group.forEach((g) => seen.add(g.name));
      const expected = group.map((g) => g.name).sort().join(',');
      for (const g of group) {
        const view = g.plane?.node.view;
        if (view !== undefined && view.members.join(',') !== expected) this.violation(`${g.name} sees [${view.members.join(',')}] after a calm phase; its group is [${expected}]`);
      }
      const dcs = new Set(group.map((g) => g.plane?.node.view.dc ?? '-'));
      if (dcs.size > 1) this.violation(`group [${expected}] disagrees on the DC: ${[...dcs].join(' vs ')}`);
      const votes = group.reduce((sum, g) => sum + (this.votesOf.get(g.name) ?? 0), 0);
      // A director cut off by a fence rightly stands down.
      const directors = group.filter((g) => g.director && !this.net.isolated.has(g.name));
      // two_node's wait_for_all: a node back alone waits to see its peer before it claims quorum.
      if (votes < this.quorumVotes || directors.length === 0 || group.some((g) => g.plane?.node.view.waitingForAll === true)) continue;
      const masters = directors.filter((g) => g.plane?.isHolding('VI_1') === true).map((g) => g.name);
      // In mode power, a failing or hanging agent rightly keeps everyone from taking over.
      const known = (d: SimNode) => group.some((g) => g.plane?.fencing.isFenced(d.name) === true || g.plane?.node.facts().peers.get(d.name)?.left === true);
      const unfenced = this.nodes.filter((d) => d.director && !group.includes(d) && !known(d));
      const waitingForFence = this.o.fencing?.mode === 'power' && masters.length === 0 && unfenced.length > 0;
      // Every director's host holds it in FAULT, or let it go less than Master_Down ago.
      const hostsUnfit = masters.length === 0 && !directors.some((d) => this.hostFitFor(d, hostTakeoverMs));
      // Every director stands down (named as being fenced by a node gone since, say) until
      // its quarantine ends; that it ends, the heal's convergence checks.
      const standingDown = masters.length === 0 && directors.every((d) => d.plane?.deposed !== undefined);
      if (masters.length !== 1 && !waitingForFence && !hostsUnfit && !standingDown) this.violation(`quorate group [${expected}] has ${masters.length} masters of VI_1 after a calm phase: [${masters.join(',')}]`);
    }
  }

  /**
   * The end: the network healed, every node back (an operator repairs what a fence cut
   * off, and restarts what it powered off, again if the healing cluster fences a node that
   * was not heard in time); the cluster must converge within its bound after the last of it.
   */
  private heal(): void {
    this.net.heal();
    // Every host well again; a director comes back after its hold time.
    for (const s of this.nodes) s.hostColour = 'green';
    this.net.conditions = { loss: 0, duplicate: 0, minDelayMs: 1, maxDelayMs: 5 };
    if (this.quietFromMs > this.clock.nowMs()) this.runFor(this.quietFromMs - this.clock.nowMs());
    let why: string | undefined = 'not started';
    for (let round = 0; round < 3 && why !== undefined; round++) {
      for (const s of this.nodes) if (this.fencedNow.get(s.name) === 'isolated') this.repair(s);
      for (const s of this.nodes) if (s.plane === null) this.boot(s);
      this.note('heal: network healed, every node running');
      const startMs = this.clock.nowMs();
      const fences = this.stats.fencesCompleted;
      why = this.unconverged();
      while (why !== undefined && this.clock.nowMs() - startMs < convergeBoundMs && this.stats.fencesCompleted === fences) {
        this.runFor(100);
        why = this.unconverged();
      }
      this.stats.convergedMs = this.clock.nowMs() - startMs;
    }
    if (why !== undefined) this.violation(`no convergence ${convergeBoundMs} ms after the heal: ${why}`);
  }

  /** Why the cluster has not converged yet, or undefined once it has. */
  private unconverged(): string | undefined {
    const names = this.nodes.map((n) => n.name).join(',');
    for (const s of this.nodes) {
      const plane = s.plane;
      if (plane === null) return `${s.name} is down`;
      if (plane.node.view.members.join(',') !== names) return `${s.name} sees [${plane.node.view.members.join(',')}]`;
      if (plane.deposed !== undefined) return `${s.name} stands down: ${plane.deposed}`;
    }
    const dcs = new Set(this.nodes.map((n) => n.plane?.node.view.dc));
    if (dcs.size !== 1) return `the DC is not agreed: ${[...dcs].join(' vs ')}`;
    const masters = this.nodes.filter((n) => n.plane?.isHolding('VI_1') === true);
    if (masters.length !== 1) return `${masters.length} masters of VI_1`;
    const master = masters[0] as SimNode;
    for (const s of this.nodes) {
      if (s === master || s.sync === null) continue;
      const copy = s.sync.status().copies.find((c) => c.peer === master.name);
      if (copy?.inSync !== true) return `${s.name}'s copy of ${master.name}'s table is not in sync: ${JSON.stringify(copy)}; ${master.name} says ${JSON.stringify(master.sync?.status().peers.find((p) => p.peer === s.name))}, its stream ${master.sync?.status().lastSeq} batches, ${master.sync?.status().pendingChanges} pending`;
    }
    return undefined;
  }
}

/** Two directors, two_node, the link cut for good: who fences whom. */
export function runCutSim(o: SimOptions): SimResult {
  return new Simulation(o).runCut();
}
