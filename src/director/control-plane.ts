// The one shell of a director's control plane. It owns the machines that decide (the
// cluster node, the fencing coordinator through ClusterFencing, one VRRP agent per
// instance), feeds them events and performs what they return, in order: datagrams to the
// link driver, deadlines to timers, agents to the fence-agent driver, state changes to
// the host (addresses, notify scripts). The daemon runs it on UDP sockets and real
// agents; the simulation runs the very same shell on a virtual network, virtual time
// and simulated power switches.
//
// Every event for a machine goes through one queue: a machine never sees an event
// while it is still handling another, and what a step causes happens in the order the
// step said. When the queue runs dry and the cluster's facts may have changed, the
// coordinator and the agents are told before anything else happens.
import type { Clock } from '../common/clock';
import { invariant } from '../common/invariant';
import type { LogSink } from '../common/log';
import type { Rng } from '../common/rng';
import type { ClusterConfig } from '../cluster/config';
import { detectorTiming } from '../cluster/config';
import type { ClusterFacts } from '../cluster/facts';
import { ClusterNode, type ClusterAction, type ClusterEvent, type ClusterStatus, type ClusterTimer, type LocalClaims } from '../cluster/node';
import type { AdvertBody, ClusterKey } from '../heartbeat/envelope';
import type { AgentRunner, FenceAgentDriver } from '../fencing/agents/runner';
import type { FenceControl } from './control-protocol';
import type { SkewLevel } from '../time/skew';
import type { SyncBody } from '../sync/wire';
import { VrrpAgent, type AgentTimer, type VrrpAgentAction, type VrrpAgentEvent, type VrrpAgentOptions } from '../vrrp/agent';
import type { GateVerdict } from '../vrrp/gate';
import type { VrrpSettings, VrrpState } from '../vrrp/instance';
import { ClusterFencing, fencingView, type CoordinatorFactory } from './cluster-fencing';
import { Timers } from './timers';

/** Carries datagrams: the UDP links in the daemon, the virtual network in the simulation. */
export interface LinkDriver {
  /** One datagram to some peers on a link: once to a multicast link's group. */
  send(peers: readonly string[], link: string, datagram: Buffer): void;
  /** The receive buffer of a link's socket, as the kernel granted it. */
  receiveBufferBytes?(link: string): number | undefined;
  /** The links this node cannot send on now (its interface down, its address gone), looked at at once. */
  linksDown?(): readonly string[];
}

/** What the shell tells the rest of the director. */
export interface ControlPlaneHost {
  /** An instance changed state: to MASTER its addresses come up, from MASTER they go. */
  instanceChanged(instance: string, from: VrrpState, to: VrrpState, reason: string, priority: number): void;
  syncReceived?(sender: string, body: SyncBody): void;
  /** Why this node must not preempt an instance's holder yet (its copy of the holder's table is not whole), or undefined. */
  preemptHold?(instance: string, holder: string): string | undefined;
  /** The clock skew with a peer crossed a threshold. */
  skewChanged?(peer: string, level: SkewLevel, offsetMs: number): void;
}

/**
 * VRRP on the wire beside the envelope (the daemon's WireCarrier), so a router that is no
 * node of the cluster (keepalived, on the director not yet migrated) hears this node's
 * adverts and is heard.
 */
export interface AdvertWire {
  send(instance: string, priority: number, advertIntervalMs: number): void;
  stateChanged(instance: string, from: VrrpState, to: VrrpState): void;
}

/** A wire advert that passed keepalived's checks. */
export interface WireAdvertHeard {
  readonly instance: string;
  readonly from: string;
  readonly priority: number;
  readonly advertIntervalMs: number;
}

export interface InstanceSettings extends VrrpSettings {
  /** Whom adverts go to (`unicast_peer`); every cluster peer when absent. */
  readonly advertTo?: readonly string[];
}

export interface ControlPlaneOptions {
  readonly cluster: ClusterConfig;
  readonly self: string;
  readonly key: ClusterKey;
  /** The links this node has an address on. */
  readonly links: readonly string[];
  /** The VRRP instances this node runs (none on a witness). */
  readonly instances: readonly InstanceSettings[];
  readonly clock: Clock;
  readonly rng: Rng;
  readonly transport: LinkDriver;
  /** VRRP on the wire as well, when this node's VIPs are real addresses. */
  readonly wire?: AdvertWire;
  readonly fenceAgents: FenceAgentDriver;
  readonly host: ControlPlaneHost;
  readonly log: LogSink;
  readonly bootEpoch?: number;
  /** How long after every level failed a fence is tried again (30 s by default). */
  readonly fenceRetryAfterMs?: number;
  /** Builds the machines: the simulation's controls break one on purpose, to see it caught. */
  readonly machines?: MachineFactories;
}

export interface MachineFactories {
  readonly agent?: (o: VrrpAgentOptions, clock: Clock) => VrrpAgent;
  readonly coordinator?: CoordinatorFactory;
}

interface WireSpeaker {
  heard: number;
  kind: 'unsure' | 'node' | 'foreign';
}

type Work = { readonly agent?: undefined; readonly event: ClusterEvent } | { readonly agent: VrrpAgent; readonly event: VrrpAgentEvent };

const cluster = { component: 'cluster' };
const vrrp = { component: 'vrrp' };

export class ControlPlane {
  readonly node: ClusterNode;
  readonly fencing: ClusterFencing;
  private readonly agents = new Map<string, VrrpAgent>();
  private readonly settings = new Map<string, InstanceSettings>();
  private readonly nodeTimers: Timers<ClusterTimer>;
  private readonly agentTimers = new Map<string, Timers<AgentTimer>>();
  private readonly queue: Work[] = [];
  /** Per instance, each address heard on the wire: how often, and whether it was told apart yet. */
  private readonly wireSpeakers = new Map<string, Map<string, WireSpeaker>>();
  /** What address each node's envelope adverts give: its wire source. */
  private readonly advertAddresses = new Map<string, string>();
  /** Until when each other node counts as heard on the wire (four of its advert intervals after its last advert). */
  private readonly wireHeardUntil = new Map<string, number>();
  private readonly wireTimer: Timers<'wireHeard'>;
  /** Per instance, why its trackers and host health hold it in FAULT (empty: they do not). */
  private readonly trackedFaults = new Map<string, readonly string[]>();
  private draining = false;
  private factsDirty = false;
  private running = false;

  constructor(private readonly o: ControlPlaneOptions) {
    const c = o.cluster;
    const timing = detectorTiming(c);
    this.node = new ClusterNode(
      {
        self: o.self,
        clusterId: c.clusterId,
        key: o.key,
        nodes: c.nodes.map((n) => ({ name: n.name, votes: n.votes, priority: n.priority, witness: n.witness })),
        links: o.links,
        timing,
        quorum: { twoNode: c.quorum.twoNode, waitForAll: c.quorum.waitForAll ?? c.quorum.twoNode, ...(c.quorum.expectedVotes !== undefined ? { expectedVotes: c.quorum.expectedVotes } : {}) },
        skew: { warnMs: c.time.skewWarnMs, criticalMs: c.time.skewCriticalMs },
        stallQuarantineMs: stallQuarantineMs(c),
        ...(o.bootEpoch !== undefined ? { bootEpoch: o.bootEpoch } : {}),
        ...(c.sync.link !== undefined ? { syncLink: c.sync.link } : {}),
      },
      o.clock,
    );
    this.wireTimer = new Timers(o.clock, () => this.wireHeardExpired());
    this.nodeTimers = new Timers(o.clock, (timer) => {
      if (timer === 'heartbeat') this.dispatch({ event: { kind: 'claimsChanged', claims: this.claims() } });
      this.dispatch({ event: { kind: 'timerFired', timer } });
    });
    this.fencing = new ClusterFencing({
      cluster: c,
      self: o.self,
      clock: o.clock,
      rng: o.rng,
      agents: o.fenceAgents,
      log: o.log,
      ...(o.fenceRetryAfterMs !== undefined ? { retryAfterMs: o.fenceRetryAfterMs } : {}),
      ...(o.machines?.coordinator !== undefined ? { coordinator: o.machines.coordinator } : {}),
      // A node whose links an isolating fence just cut must see it before it fences back.
      beforeFence: () => {
        for (const link of o.transport.linksDown?.() ?? []) this.linkState(link, false);
      },
      onFenced: () => {
        this.factsDirty = true;
        this.dispatch({ event: { kind: 'claimsChanged', claims: this.claims() } });
      },
    });
    const peers = c.nodes.filter((n) => n.name !== o.self && !n.witness).map((n) => n.name);
    for (const settings of o.instances) {
      const agentOptions: VrrpAgentOptions = { self: o.self, settings, peers, deadtimeMs: timing.deadtimeMs, heartbeatIntervalMs: timing.intervalMs, policy: c.noQuorumPolicy, fenceMode: c.fencing.mode };
      const agent = o.machines?.agent?.(agentOptions, o.clock) ?? new VrrpAgent(agentOptions, o.clock);
      this.agents.set(settings.name, agent);
      this.settings.set(settings.name, settings);
      this.agentTimers.set(settings.name, new Timers(o.clock, (timer) => this.dispatch({ agent, event: { kind: 'timerFired', timer } })));
    }
  }

  /** Starts heartbeating, then the instances (their trackers' first readings already in). */
  start(): void {
    this.running = true;
    this.dispatch({ event: { kind: 'start' } });
    for (const agent of this.agents.values()) this.dispatch({ agent, event: { kind: 'start' } });
  }

  /** A datagram from a link; whatever it holds, this returns normally. */
  receive(datagram: Uint8Array): void {
    if (this.running) this.dispatch({ event: { kind: 'datagram', bytes: datagram } });
  }

  /** Whether an instance reads the wire now. */
  listening(instance: string): boolean {
    return this.running && this.agents.get(instance)?.instance.readsAdverts === true;
  }

  /** A VRRP advert from the wire, for the instance's machine as keepalived would take it. */
  wireAdvert(a: WireAdvertHeard): void {
    const agent = this.agents.get(a.instance);
    if (!this.running || agent === undefined) return;
    this.noteWireSpeaker(a.instance, a.from);
    this.heardOnWire(a.from, a.advertIntervalMs);
    this.dispatch({ agent, event: { kind: 'wireAdvertReceived', from: a.from, priority: a.priority, advertIntervalMs: a.advertIntervalMs } });
  }

  /** Whether this node can send on a link at all (its interface is up). */
  linkState(link: string, up: boolean): void {
    this.dispatch({ event: { kind: 'linkState', link, up } });
  }

  /** What an instance's trackers read: before start too. */
  tracked(instance: string, priority: number, faults: readonly string[]): void {
    const agent = this.agents.get(instance);
    if (agent === undefined) return;
    const wasUnfit = this.unfit() !== undefined;
    this.trackedFaults.set(instance, faults);
    // The coordinator hears it with the facts: unfit, it starts no fence in a race.
    if (this.running && wasUnfit !== (this.unfit() !== undefined)) this.factsDirty = true;
    this.dispatch({ agent, event: { kind: 'tracked', priority, faults } });
  }

  /** Why this node can serve no instance: its trackers or host health hold every one in FAULT. */
  private unfit(): string | undefined {
    if (this.agents.size === 0) return undefined;
    const faults = [...this.agents.keys()].map((name) => this.trackedFaults.get(name) ?? []);
    return faults.some((f) => f.length === 0) ? undefined : [...new Set(faults.flat())].join('; ');
  }

  /** A sync group sibling took over or let go: the instance does the same. */
  followGroup(instance: string, to: 'master' | 'backup', reason: string): void {
    const agent = this.agents.get(instance);
    if (agent !== undefined) this.dispatch({ agent, event: { kind: 'followGroup', to, reason } });
  }

  /** Connection-table sync goes out through the cluster node's envelope. */
  sendSync(body: SyncBody): void {
    this.dispatch({ event: { kind: 'sendSync', body } });
  }

  syncReceiveBufferBytes(): number | undefined {
    const link = this.node.syncLink;
    return link === undefined ? undefined : this.o.transport.receiveBufferBytes?.(link);
  }

  /**
   * An operator's fencing request. `clear` of this node lets it act again (unless a member
   * still names it fenced); of another, drops this node's mark of it.
   */
  fenceRequest(r: FenceControl, runner?: AgentRunner): Promise<unknown> {
    // Everything but a device test is done by the time this returns.
    const answer = this.fencing.request(r, runner);
    if (r.action === 'clear') {
      if (r.target === this.o.self) this.dispatch({ event: { kind: 'cleared' } });
      this.factsDirty = true;
      this.dispatch({ event: { kind: 'claimsChanged', claims: this.claims() } });
    }
    return answer;
  }

  /** The first half of a clean stop: every master sends priority 0 and lets its VIPs go. */
  release(): void {
    for (const agent of this.agents.values()) this.dispatch({ agent, event: { kind: 'shutdown' } });
  }

  /** The second half: tell the peers this node is leaving, and stop. */
  leave(): void {
    this.release();
    this.dispatch({ event: { kind: 'leave' } });
    this.halt();
  }

  /**
   * After a bug: a priority-0 advert for every instance this node holds, straight from the
   * cluster node to the links (the agents may be what broke), then nothing more.
   */
  abandon(): void {
    this.queue.length = 0;
    for (const agent of this.agents.values()) {
      if (!agent.holding) continue;
      const intervalMs = this.settings.get(agent.name)?.advertIntervalMs ?? 1000;
      for (const a of this.node.step(this.advertEvent(agent.name, 0, intervalMs))) {
        if (a.kind === 'send') this.o.transport.send(a.peers, a.link, a.datagram);
      }
      this.o.wire?.send(agent.name, 0, intervalMs);
    }
    this.halt();
  }

  /** Stop at once, without a word: as a crash would. */
  crash(): void {
    this.dispatch({ event: { kind: 'stop' } });
    this.halt();
  }

  /** Why this node stands down, if it does. */
  get deposed(): string | undefined {
    return this.node.deposed;
  }

  isHolding(instance: string): boolean {
    return this.agents.get(instance)?.holding === true;
  }

  status(): ClusterStatus {
    return this.node.status();
  }

  instances(): Array<{ name: string; instance: string; state: VrrpState; gate: GateVerdict; faults?: string[]; foreignRouters?: string[] }> {
    return [...this.agents.values()].map((a) => {
      const foreign = [...(this.wireSpeakers.get(a.name) ?? [])].flatMap(([address, w]) => (w.kind === 'foreign' ? [address] : []));
      const faults = a.instance.faultReasons;
      return { name: a.name, instance: a.describe(), state: a.instance.state, gate: a.gateVerdict, ...(faults.length > 0 ? { faults } : {}), ...(foreign.length > 0 ? { foreignRouters: foreign } : {}) };
    });
  }

  /** A node whose adverts come on the wire is in a known state: the coordinator is told while it is. */
  private heardOnWire(from: string, advertIntervalMs: number): void {
    const node = this.nodeAt(from);
    if (node === undefined || node === this.o.self) return;
    const untilMs = this.o.clock.nowMs() + 4 * advertIntervalMs;
    if (!this.wireHeardUntil.has(node)) this.factsDirty = true;
    this.wireHeardUntil.set(node, untilMs);
    this.wireTimer.set('wireHeard', Math.min(...this.wireHeardUntil.values()));
  }

  private wireHeardExpired(): void {
    const nowMs = this.o.clock.nowMs();
    for (const [node, untilMs] of this.wireHeardUntil) if (untilMs <= nowMs) this.wireHeardUntil.delete(node);
    if (this.wireHeardUntil.size > 0) this.wireTimer.set('wireHeard', Math.min(...this.wireHeardUntil.values()));
    this.factsDirty = true;
    this.dispatch({ event: { kind: 'claimsChanged', claims: this.claims() } });
  }

  /** The node that speaks from an address: one of its own, or what its envelope adverts gave. */
  private nodeAt(address: string): string | undefined {
    return this.o.cluster.nodes.find((n) => this.advertAddresses.get(n.name) === address || n.addresses.some((x) => x.address === address))?.name;
  }

  /**
   * Tells once, per instance and address, who speaks VRRP on the wire: a router that is
   * no node of the cluster (keepalived) is followed as keepalived would follow it and is
   * never fenced; a node of the cluster heard there but not in the cluster is a mistake
   * worth a warning (once silent there too, it is fenced as a node never heard). Told on the
   * second advert, when a node's envelope advert has had the time to say its address.
   */
  private noteWireSpeaker(instance: string, from: string): void {
    let speakers = this.wireSpeakers.get(instance);
    if (speakers === undefined) {
      speakers = new Map();
      this.wireSpeakers.set(instance, speakers);
    }
    const known = speakers.get(from) ?? { heard: 0, kind: 'unsure' };
    speakers.set(from, known);
    if (known.kind !== 'unsure' || ++known.heard < 2) return;
    const name = this.nodeAt(from);
    if (name === undefined) {
      known.kind = 'foreign';
      this.o.log.info(`${instance}: ${from} speaks VRRP on the wire and is no node of the cluster (keepalived?): it is followed as keepalived would follow it, and never fenced`, vrrp);
      return;
    }
    if (name === this.o.self || this.node.facts().peers.get(name)?.alive === true) {
      known.kind = 'node';
      return;
    }
    if (!this.node.facts().settled) {
      known.heard = 0;
      return;
    }
    known.kind = 'node';
    this.o.log.warn(`${instance}: node ${name} is heard on the wire (VRRP from ${from}) but not in the cluster: it is not fenced while it is heard there, but once silent it is fenced as a node never heard; if it still runs keepalived, take it out of the cluster block until it runs hadirector`, { ...vrrp, code: 'HAD_WIRE_ONLY_NODE' });
  }

  private halt(): void {
    this.running = false;
    this.fencing.stop();
    this.nodeTimers.clear();
    this.wireTimer.clear();
    for (const t of this.agentTimers.values()) t.clear();
  }

  /** What this node says of itself in heartbeats: what it holds, would preempt, and fences. */
  private claims(): LocalClaims {
    const agents = [...this.agents.values()];
    return {
      holds: agents.filter((a) => a.holding).map((a) => a.name),
      wants: agents.flatMap((a) => {
        const w = a.wants();
        return w === undefined || (w.holder !== undefined && this.o.host.preemptHold?.(a.name, w.holder) !== undefined) ? [] : [w.want];
      }),
      fences: this.fencing.marks(),
    };
  }

  private dispatch(work: Work): void {
    this.queue.push(work);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let n = 0; ; n++) {
        const next = this.queue.shift();
        if (next !== undefined) {
          if (next.agent === undefined) for (const a of this.node.step(next.event)) this.performNode(a);
          else for (const a of next.agent.step(next.event)) this.performAgent(next.agent, a);
          continue;
        }
        if (!this.factsDirty) {
          invariant(this.node.deposed === undefined || ![...this.agents.values()].some((a) => a.holding), 'a node that stands down holds no VIP');
          break;
        }
        this.factsDirty = false;
        this.queue.push({ event: { kind: 'claimsChanged', claims: this.claims() } });
        const facts = this.node.facts();
        this.fencing.viewChanged(fencingView(facts, this.node.epochs(), this.holders(facts), [...this.wireHeardUntil.keys()], this.unfit()));
        for (const agent of this.agents.values()) this.queue.push({ agent, event: { kind: 'clusterChanged', facts } });
      }
    } finally {
      this.draining = false;
    }
  }

  private performNode(a: ClusterAction): void {
    const log = this.o.log;
    switch (a.kind) {
      case 'send':
        this.o.transport.send(a.peers, a.link, a.datagram);
        return;
      case 'setTimer':
        if (this.running) this.nodeTimers.set(a.timer, a.atMs);
        return;
      case 'peerChanged': {
        const c = a.change;
        const fields = { ...cluster, peer: c.peer, ...(c.silentMs !== undefined ? { silentMs: Math.round(c.silentMs) } : {}) };
        if (c.to === 'late' || c.to === 'dead') log.warn(`peer ${c.peer} is ${c.to}`, fields);
        else if (c.to === 'left') log.info(`peer ${c.peer} left`, fields);
        else log.info(`peer ${c.peer} is ${c.to}`, fields);
        this.factsDirty = true;
        return;
      }
      case 'viewChanged': {
        const v = a.change.view;
        log.info(`view ${v.id}: [${v.members.join(', ')}] ${v.quorate ? 'quorate' : 'WITHOUT QUORUM'}, ${v.votes}/${v.expectedVotes} votes, DC ${v.dc ?? 'none'}`, cluster);
        if (a.change.dcReason !== undefined) log.info(`DC: ${a.change.dcReason}`, cluster);
        this.factsDirty = true;
        return;
      }
      case 'skewChanged': {
        const message = `clock skew with ${a.peer}: ${a.offsetMs >= 0 ? '+' : ''}${a.offsetMs.toFixed(0)} ms (${a.level})`;
        if (a.level === 'ok') log.info(message, cluster);
        else log.warn(message, cluster);
        this.o.host.skewChanged?.(a.peer, a.level, a.offsetMs);
        return;
      }
      case 'advertReceived': {
        this.advertAddresses.set(a.sender, a.advert.address);
        const agent = this.agents.get(a.advert.instance);
        if (agent !== undefined) this.queue.push({ agent, event: { kind: 'advertReceived', sender: a.sender, advert: a.advert } });
        return;
      }
      case 'syncReceived':
        this.o.host.syncReceived?.(a.sender, a.body);
        return;
      case 'syncLinkChanged':
        if (a.link === a.syncLink) log.info(`sync to ${a.peer} is back on link ${a.link}`, { ...cluster, peer: a.peer });
        else log.warn(`sync to ${a.peer} goes on link ${a.link}: ${a.peer} is not heard on the sync link ${a.syncLink}`, { ...cluster, peer: a.peer });
        return;
      case 'stalled':
        log.warn(`this node did not run for ${Math.round(a.gapMs)} ms (was it frozen?): peers may have counted it dead; it lets go of what it holds before it sends again`, cluster);
        return;
      case 'peerLeft':
        log.info(`${a.peer} says it is leaving: it is not fenced for it`, { ...cluster, peer: a.peer });
        this.fencing.peerLeft(a.peer);
        this.factsDirty = true;
        return;
      case 'leaveRevoked':
        log.warn(`${a.peer} said it was leaving but is still sending: its leave no longer counts`, { ...cluster, peer: a.peer });
        this.fencing.leaveRevoked(a.peer);
        this.factsDirty = true;
        return;
      case 'deposedChanged':
        if (a.reason !== undefined) log.warn(`this node stands down: ${a.reason}; it holds no VIP and fences no one until it is back in a quorate view and cleared`, { ...cluster, code: 'HAD_STANDING_DOWN' });
        else log.info('this node is cleared: it may hold VIPs and fence again', cluster);
        this.fencing.deposed(a.reason);
        this.factsDirty = true;
        return;
      case 'claimsHeard':
        this.factsDirty = true;
        return;
      case 'dropped':
        return;
    }
  }

  private performAgent(agent: VrrpAgent, a: VrrpAgentAction): void {
    const name = agent.name;
    switch (a.kind) {
      case 'sendAdvert':
        this.queue.push({ event: this.advertEvent(name, a.priority, a.advertIntervalMs) });
        this.o.wire?.send(name, a.priority, a.advertIntervalMs);
        return;
      case 'setTimer':
        if (this.running) this.agentTimers.get(name)?.set(a.timer, a.atMs);
        return;
      case 'cancelTimer':
        this.agentTimers.get(name)?.cancel(a.timer);
        return;
      case 'stateChanged':
        this.o.log.info(`${name}: ${a.from.toUpperCase()} -> ${a.to.toUpperCase()}: ${a.reason}`, vrrp);
        this.o.wire?.stateChanged(name, a.from, a.to);
        this.o.host.instanceChanged(name, a.from, a.to, a.reason, agent.instance.effectivePriority);
        // Heartbeats say at once what this node holds now.
        this.queue.push({ event: { kind: 'claimsChanged', claims: this.claims() } });
        return;
      case 'gateChanged':
        this.o.log.info(`${name}: takeover gate ${a.verdict.open ? 'open' : 'shut'}: ${a.verdict.reason}`, vrrp);
        return;
    }
  }

  /** An instance's advert for the cluster node to send, from this node's address, to its `unicast_peer`s if it names them. */
  private advertEvent(instance: string, priority: number, advertIntervalMs: number): ClusterEvent {
    const settings = this.settings.get(instance);
    const advert: AdvertBody = { instance, priority, advertIntervalMs, address: settings?.primaryAddress ?? this.o.self };
    return { kind: 'sendAdvert', advert, ...(settings?.advertTo !== undefined ? { to: settings.advertTo } : {}) };
  }

  /** The directors known to hold a VIP: this node's instances, and peers' latest heartbeats. */
  private holders(facts: ClusterFacts): string[] {
    const out = [...this.agents.values()].some((a) => a.holding) ? [this.o.self] : [];
    for (const [peer, p] of facts.peers) if ((p.claims?.holds.length ?? 0) > 0) out.push(peer);
    return out;
  }
}

/**
 * How long a node found frozen stands down unless it rejoins first: long enough for a
 * peer's fence of it to have landed (deadtime, the longest race delay, and every device's
 * every try), so that an isolating fence is seen (its links down) before it could act.
 */
export function stallQuarantineMs(c: ClusterConfig): number {
  const f = c.fencing;
  const devicesMs = f.devices.reduce((sum, d) => sum + d.timeoutMs * (1 + d.retries), 0);
  return c.deadtimeMs + 3 * Math.max(f.delayBaseMs, f.delayMaxMs) + devicesMs;
}
