// One VRRP instance at work: the machine of instance.ts, its timers armed on the clock,
// its adverts carried by the cluster node, the takeover gate fed from the cluster's view
// and what peers claim, the self-release of a master cut off from its quorum
// (no_quorum_policy stop), and the VIP driver told when to hold and when to let go.
import type { Clock, TimerHandle } from '../common/clock';
import type { NoQuorumPolicy } from '../cluster/config';
import type { FenceMode } from '../fencing/config';
import type { View } from '../cluster/membership';
import type { AdvertBody, Want } from '../heartbeat/envelope';
import { selfReleaseDue, selfReleaseGuardMs, takeoverGate, type Claim, type GateVerdict } from './gate';
import { addressGreater, VrrpInstance, type VrrpAction, type VrrpSettings, type VrrpState, type VrrpTimer } from './instance';

/** What the agent needs of the cluster node. */
export interface ClusterView {
  readonly view: View;
  settled(): boolean;
  alive(peer: string): boolean;
  lastHeardByPartitionMs(node: string): number;
  holdsOf(peer: string): { readonly holds: readonly string[]; readonly wants: readonly Want[]; readonly atMs: number } | undefined;
  quorumContactMs(nowMs: number): number;
  /** Known fenced by this node or by a peer in its view. */
  fencedByPartition(node: string): boolean;
  sendAdvert(advert: AdvertBody, to?: readonly string[]): void;
}

export interface VipDriver {
  hold(instance: string): void;
  release(instance: string): void;
}

export interface VrrpAgentEvents {
  stateChanged(from: VrrpState, to: VrrpState, reason: string): void;
  gateChanged(verdict: GateVerdict): void;
}

export interface VrrpAgentOptions {
  readonly settings: VrrpSettings;
  /** The other directors (a witness never holds a VIP, so it is no candidate). */
  readonly peers: readonly string[];
  /** Whom adverts go to (`unicast_peer`); every cluster peer when absent. */
  readonly advertTo?: readonly string[];
  readonly clock: Clock;
  readonly cluster: ClusterView;
  readonly deadtimeMs: number;
  readonly heartbeatIntervalMs: number;
  readonly policy: NoQuorumPolicy;
  /** `power`: a silent holder must be fenced before a takeover; `self_release`: its deadline suffices. */
  readonly fenceMode?: FenceMode;
  readonly driver: VipDriver;
  readonly events: VrrpAgentEvents;
  /**
   * Why this node must not preempt the holder yet (connection sync: its copy of the
   * holder's table is not whole), or undefined. While it says so, the node does not say
   * it wants the instance, so the holder keeps it.
   */
  readonly preemptHold?: (holder: string) => string | undefined;
}

/** How often the gate and the self-release deadline are looked at, at the most. */
const checkEveryMs = 100;

export class VrrpAgent {
  readonly instance: VrrpInstance;
  private readonly timers = new Map<VrrpTimer, TimerHandle>();
  private readonly advertClaims = new Map<string, { holding: boolean; atMs: number }>();
  private checkTimer: TimerHandle | undefined;
  /** A timer at the next moment a verdict changes by time alone: a gate or a self-release deadline. */
  private deadline: { atMs: number; timer: TimerHandle } | undefined;
  private gate: GateVerdict = { open: false, reason: 'not yet evaluated' };
  private releasedForQuorum = false;
  /** After a freeze, when this node may hold again. */
  private stallClearAtMs: number | undefined;
  private running = false;

  constructor(private readonly o: VrrpAgentOptions) {
    this.instance = new VrrpInstance(o.settings, o.clock);
  }

  get holding(): boolean {
    return this.instance.state === 'master';
  }

  get gateVerdict(): GateVerdict {
    return this.gate;
  }

  /** What this node tells peers it would preempt, in its heartbeats. */
  wants(): Want[] {
    const i = this.instance;
    if (!this.running || !i.preempting) return [];
    const holder = this.o.peers.find((p) => this.o.cluster.alive(p) && this.o.cluster.holdsOf(p)?.holds.includes(this.o.settings.name) === true);
    if (holder !== undefined && this.o.preemptHold?.(holder) !== undefined) return [];
    return [{ instance: this.o.settings.name, priority: i.effectivePriority, address: this.o.settings.primaryAddress }];
  }

  start(): void {
    this.running = true;
    this.evaluate();
    this.perform(this.instance.step({ kind: 'startup' }));
    this.scheduleCheck();
  }

  /** Stops: a master sends priority 0 and lets its VIPs go. */
  stop(): void {
    if (!this.running) return;
    this.perform(this.instance.step({ kind: 'shutdown' }));
    this.crash();
  }

  /** Forget everything at once, as a crash would (the VIPs go with the process). */
  crash(): void {
    this.running = false;
    for (const t of this.timers.values()) this.o.clock.clearTimeout(t);
    this.timers.clear();
    if (this.checkTimer !== undefined) this.o.clock.clearTimeout(this.checkTimer);
    if (this.deadline !== undefined) this.o.clock.clearTimeout(this.deadline.timer);
    this.deadline = undefined;
  }

  /** What the trackers say: the effective priority, and FAULT while any of them fails. Before start too. */
  tracked(priority: number, faults: readonly string[]): void {
    if (priority !== this.instance.effectivePriority) this.perform(this.instance.step({ kind: 'priorityChanged', priority }));
    this.perform(this.instance.step(faults.length > 0 ? { kind: 'faultRaised', source: 'track', reason: faults.join('; ') } : { kind: 'faultCleared', source: 'track' }));
  }

  /**
   * This node was frozen for `gapMs`: peers may have counted it dead and taken over. It
   * lets go at once and holds nothing for deadtime, until what it hears is current again.
   */
  stalled(gapMs: number): void {
    if (!this.running) return;
    this.stallClearAtMs = this.o.clock.nowMs() + this.o.deadtimeMs;
    this.perform(this.instance.step({ kind: 'faultRaised', source: 'stall', reason: `this node was frozen for ${Math.round(gapMs)} ms: peers may have taken over` }));
    this.evaluate();
  }

  /** A sync group sibling took over or let go: do the same. */
  followGroup(kind: 'groupMaster' | 'groupBackup', reason: string): void {
    if (this.running) this.perform(this.instance.step({ kind, reason }));
  }

  advertReceived(sender: string, advert: AdvertBody): void {
    if (!this.running || advert.instance !== this.o.settings.name) return;
    this.advertClaims.set(sender, { holding: advert.priority > 0, atMs: this.o.clock.nowMs() });
    this.evaluate();
    this.perform(this.instance.step({ kind: 'advertReceived', from: advert.address, priority: advert.priority, advertIntervalMs: advert.advertIntervalMs }));
  }

  /** The cluster's view changed: the gate and the self-release may have too. */
  viewChanged(): void {
    if (this.running) this.evaluate();
  }

  /**
   * Every other director is a possible holder until known otherwise: it released by
   * advert, or we hear it and its latest word (advert or heartbeat) is that it does not
   * hold the instance. Stale word from a node we do not hear proves nothing: it may have
   * taken over since, on the other side of a partition.
   */
  private claims(): Claim[] {
    const name = this.o.settings.name;
    return this.o.peers.map((node) => {
      const advert = this.advertClaims.get(node);
      const beat = this.o.cluster.holdsOf(node);
      const fromBeat = beat === undefined ? undefined : { holding: beat.holds.includes(name), atMs: beat.atMs };
      // The newer word wins: a release by advert beats an older heartbeat, and back.
      const latest = advert === undefined ? fromBeat : fromBeat === undefined || advert.atMs >= fromBeat.atMs ? advert : fromBeat;
      const heard = this.o.cluster.alive(node);
      const releasedByAdvert = advert !== undefined && !advert.holding && latest === advert;
      const knownFree = releasedByAdvert || (heard && latest !== undefined && !latest.holding);
      return { node, holding: !knownFree, heard, lastHeardMs: this.o.cluster.lastHeardByPartitionMs(node) };
    });
  }

  private evaluate(): void {
    const nowMs = this.o.clock.nowMs();
    const view = this.o.cluster.view;
    const guard = selfReleaseGuardMs(this.o.heartbeatIntervalMs);
    const quorumContactMs = this.o.cluster.quorumContactMs(nowMs);
    const verdict = takeoverGate({
      nowMs,
      quorate: view.quorate,
      policy: this.o.policy,
      quorumContactMs,
      guardMs: guard,
      settled: this.o.cluster.settled(),
      deadtimeMs: this.o.deadtimeMs,
      claims: this.claims(),
      fenced: (node) => this.o.cluster.fencedByPartition(node),
      waitForFence: this.o.fenceMode === 'power',
    });
    if (verdict.open !== this.gate.open || verdict.reason !== this.gate.reason) {
      this.gate = verdict;
      this.o.events.gateChanged(verdict);
      this.perform(this.instance.step({ kind: 'gateChanged', open: verdict.open, reason: verdict.reason }));
    }
    if (this.instance.state === 'master') {
      const better = this.betterBackup();
      if (better !== undefined) this.perform(this.instance.step({ kind: 'yieldTo', node: better }));
    }
    if (this.stallClearAtMs !== undefined && nowMs >= this.stallClearAtMs) {
      this.stallClearAtMs = undefined;
      this.perform(this.instance.step({ kind: 'faultCleared', source: 'stall' }));
    }
    let selfReleaseAtMs: number | undefined;
    if (this.o.policy === 'stop') {
      const cutOff = selfReleaseDue(nowMs, quorumContactMs, this.o.deadtimeMs, guard);
      if (cutOff && !this.releasedForQuorum && this.instance.state === 'master') {
        this.releasedForQuorum = true;
        this.perform(this.instance.step({ kind: 'faultRaised', source: 'quorum', reason: 'no quorum has heard this node for deadtime less the guard' }));
      } else if (this.releasedForQuorum && !cutOff && view.quorate) {
        this.releasedForQuorum = false;
        this.perform(this.instance.step({ kind: 'faultCleared', source: 'quorum' }));
      }
      if (this.instance.state === 'master') selfReleaseAtMs = quorumContactMs + this.o.deadtimeMs - guard;
    }
    this.armDeadline(Math.min(this.gate.recheckAtMs ?? Infinity, selfReleaseAtMs ?? Infinity, this.stallClearAtMs ?? Infinity));
  }

  /**
   * The periodic check alone would be up to its period late: at short intervals a
   * master's self-release could then come after a survivor's gate opened on it.
   */
  private armDeadline(atMs: number): void {
    if (this.deadline?.atMs === atMs) return;
    if (this.deadline !== undefined) this.o.clock.clearTimeout(this.deadline.timer);
    this.deadline = undefined;
    if (!Number.isFinite(atMs) || !this.running) return;
    const timer = this.o.clock.setTimeout(
      () => {
        this.deadline = undefined;
        if (this.running) this.evaluate();
      },
      Math.max(0, atMs - this.o.clock.nowMs()),
    );
    this.deadline = { atMs, timer };
  }

  /** A peer we hear, a backup wanting this instance with a better priority (or address). */
  private betterBackup(): string | undefined {
    const mine = this.instance.effectivePriority;
    for (const node of this.o.peers) {
      if (!this.o.cluster.alive(node)) continue;
      const want = this.o.cluster.holdsOf(node)?.wants.find((w) => w.instance === this.o.settings.name);
      if (want === undefined) continue;
      if (want.priority > mine || (want.priority === mine && addressGreater(want.address, this.o.settings.primaryAddress))) return node;
    }
    return undefined;
  }

  private scheduleCheck(): void {
    this.checkTimer = this.o.clock.setTimeout(() => {
      if (!this.running) return;
      this.evaluate();
      this.scheduleCheck();
    }, checkEveryMs);
  }

  private perform(actions: readonly VrrpAction[]): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'sendAdvert':
          this.o.cluster.sendAdvert({ instance: this.o.settings.name, priority: a.priority, advertIntervalMs: a.advertIntervalMs, address: this.o.settings.primaryAddress }, this.o.advertTo);
          break;
        case 'setTimer': {
          const old = this.timers.get(a.timer);
          if (old !== undefined) this.o.clock.clearTimeout(old);
          const timer = a.timer;
          this.timers.set(
            timer,
            this.o.clock.setTimeout(() => {
              this.timers.delete(timer);
              if (!this.running) return;
              // A master that was frozen past its self-release deadline lets go before it adverts again.
              if (timer === 'advert') this.evaluate();
              this.perform(this.instance.step({ kind: 'timerFired', timer }));
            }, Math.max(0, a.atMs - this.o.clock.nowMs())),
          );
          break;
        }
        case 'cancelTimer': {
          const old = this.timers.get(a.timer);
          if (old !== undefined) this.o.clock.clearTimeout(old);
          this.timers.delete(a.timer);
          break;
        }
        case 'stateChanged':
          if (a.to === 'master') this.o.driver.hold(this.o.settings.name);
          if (a.from === 'master') this.o.driver.release(this.o.settings.name);
          this.o.events.stateChanged(a.from, a.to, a.reason);
          break;
      }
    }
  }
}
