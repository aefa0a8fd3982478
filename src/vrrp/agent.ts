// One VRRP instance at work in a cluster: the machine of instance.ts, with around it the
// takeover gate fed from the cluster's facts and what peers claim, the self-release of a
// master cut off from its quorum (no_quorum_policy stop), the hand-over to a better
// backup that wants the instance (yield), and FAULT while this node is deposed (it was
// fenced, is being fenced, lost every link, or was frozen). Pure, as VrrpInstance is:
// events in (the cluster's facts, an advert, a timer fired, what the trackers read),
// actions out (adverts, deadlines, state and gate changes). The shell carries adverts,
// arms timers and brings addresses up and down.
//
// Invariants: while running, the `deadline` timer is armed exactly when a verdict can
// change by time alone (a silent holder's self-release deadline, this master's own);
// a master always has a quorum that heard it within deadtime less the guard (stop), or
// it is about to release.
import type { Clock } from '../common/clock';
import { invariant } from '../common/invariant';
import type { NoQuorumPolicy } from '../cluster/config';
import type { ClusterFacts } from '../cluster/facts';
import type { FenceMode } from '../fencing/config';
import type { AdvertBody, Want } from '../heartbeat/envelope';
import { selfReleaseDue, selfReleaseGuardMs, takeoverGate, type Claim, type GateVerdict } from './gate';
import { addressGreater, trackedEvents, VrrpInstance, type VrrpAction, type VrrpSettings, type VrrpTimer } from './instance';

export type AgentTimer = VrrpTimer | 'deadline';

export type VrrpAgentEvent =
  | { readonly kind: 'start' }
  /** A clean stop: a master sends priority 0 and lets its VIPs go. */
  | { readonly kind: 'shutdown' }
  | { readonly kind: 'clusterChanged'; readonly facts: ClusterFacts }
  | { readonly kind: 'advertReceived'; readonly sender: string; readonly advert: AdvertBody }
  /**
   * A VRRP advert from the wire: from any router of the VRID (a keepalived one, or a node
   * of the cluster beside its envelope advert). It moves the machine as it moves
   * keepalived's, and says nothing of what a node claims: the gate is the cluster's alone.
   */
  | { readonly kind: 'wireAdvertReceived'; readonly from: string; readonly priority: number; readonly advertIntervalMs: number }
  | { readonly kind: 'timerFired'; readonly timer: AgentTimer }
  /** What the trackers say: the effective priority, and FAULT while any of them fails. */
  | { readonly kind: 'tracked'; readonly priority: number; readonly faults: readonly string[] }
  /** A sync group sibling took over (`master`) or let go (`backup`): do the same. */
  | { readonly kind: 'followGroup'; readonly to: 'master' | 'backup'; readonly reason: string };

export type VrrpAgentAction =
  | Exclude<VrrpAction, { kind: 'setTimer' } | { kind: 'cancelTimer' }>
  | { readonly kind: 'setTimer'; readonly timer: AgentTimer; readonly atMs: number }
  | { readonly kind: 'cancelTimer'; readonly timer: AgentTimer }
  | { readonly kind: 'gateChanged'; readonly verdict: GateVerdict };

export interface VrrpAgentOptions {
  /** This node's name. */
  readonly self: string;
  readonly settings: VrrpSettings;
  /** The other directors (a witness never holds a VIP, so it is no candidate). */
  readonly peers: readonly string[];
  readonly deadtimeMs: number;
  readonly heartbeatIntervalMs: number;
  readonly policy: NoQuorumPolicy;
  /** `power`: a silent holder must be fenced before a takeover; `self_release`: its deadline suffices. */
  readonly fenceMode?: FenceMode;
}

export class VrrpAgent {
  readonly instance: VrrpInstance;
  private readonly advertClaims = new Map<string, { holding: boolean; atMs: number }>();
  private facts: ClusterFacts | undefined;
  private gate: GateVerdict = { open: false, reason: 'not yet evaluated' };
  private releasedForQuorum = false;
  private deposed: string | undefined;
  private deadlineAtMs = Infinity;
  private running = false;

  constructor(
    private readonly o: VrrpAgentOptions,
    private readonly clock: Clock,
  ) {
    this.instance = new VrrpInstance(o.settings, clock);
  }

  get name(): string {
    return this.o.settings.name;
  }

  get holding(): boolean {
    return this.instance.state === 'master';
  }

  get gateVerdict(): GateVerdict {
    return this.gate;
  }

  /** What this node tells peers it would preempt, in its heartbeats, and from whom (the holder it hears). */
  wants(): { readonly want: Want; readonly holder?: string } | undefined {
    const i = this.instance;
    if (!this.running || !i.preempting) return undefined;
    const holder = this.o.peers.find((p) => {
      const peer = this.facts?.peers.get(p);
      return peer?.alive === true && peer.claims?.holds.includes(this.o.settings.name) === true;
    });
    const want = { instance: this.o.settings.name, priority: i.effectivePriority, address: this.o.settings.primaryAddress, from: holder ?? '' };
    return holder !== undefined ? { want, holder } : { want };
  }

  step(event: VrrpAgentEvent): VrrpAgentAction[] {
    const actions = this.handle(event);
    invariant(this.deposed === undefined || this.instance.state !== 'master', 'a node that stands down holds no VIP');
    return actions;
  }

  private handle(event: VrrpAgentEvent): VrrpAgentAction[] {
    switch (event.kind) {
      case 'start':
        this.running = true;
        return [...this.evaluate(), ...this.instance.step({ kind: 'startup' })];
      case 'shutdown':
        if (!this.running) return [];
        this.running = false;
        return [...this.instance.step({ kind: 'shutdown' }), ...this.armDeadline(Infinity)];
      case 'clusterChanged':
        this.facts = event.facts;
        return this.running ? this.evaluate() : [];
      case 'advertReceived':
        if (!this.running || event.advert.instance !== this.o.settings.name) return [];
        this.advertClaims.set(event.sender, { holding: event.advert.priority > 0, atMs: this.clock.nowMs() });
        return [...this.evaluate(), ...this.instance.step({ kind: 'advertReceived', from: event.advert.address, priority: event.advert.priority, advertIntervalMs: event.advert.advertIntervalMs })];
      case 'wireAdvertReceived':
        return this.running ? this.instance.step({ kind: 'advertReceived', from: event.from, priority: event.priority, advertIntervalMs: event.advertIntervalMs }) : [];
      case 'timerFired':
        if (!this.running) return [];
        if (event.timer === 'deadline') {
          this.deadlineAtMs = Infinity;
          return this.evaluate();
        }
        // A master that was frozen past its self-release deadline lets go before it adverts again.
        return [...(event.timer === 'advert' ? this.evaluate() : []), ...this.instance.step({ kind: 'timerFired', timer: event.timer })];
      case 'tracked':
        return this.onTracked(event.priority, event.faults);
      case 'followGroup':
        return this.running ? this.instance.step({ kind: event.to === 'master' ? 'groupMaster' : 'groupBackup', reason: event.reason }) : [];
    }
  }

  /** One stable line for logs and tests. */
  describe(): string {
    return `${this.instance.describe()}${this.deposed !== undefined ? ` deposed (${this.deposed})` : ''}`;
  }

  private onTracked(priority: number, faults: readonly string[]): VrrpAgentAction[] {
    return trackedEvents(this.instance, priority, faults).flatMap((e) => this.instance.step(e));
  }

  /**
   * Every other director is a possible holder until known otherwise: it released by
   * advert, or it said it is leaving, or we hear it and its latest word (advert or
   * heartbeat) is that it does not hold the instance. Stale word from a node we do not
   * hear proves nothing: it may have taken over since, on the other side of a partition.
   */
  private claims(facts: ClusterFacts): Claim[] {
    const name = this.o.settings.name;
    return this.o.peers.map((node) => {
      const advert = this.advertClaims.get(node);
      const peer = facts.peers.get(node);
      const beat = peer?.claims;
      const fromBeat = beat === undefined ? undefined : { holding: beat.holds.includes(name), atMs: beat.atMs };
      // The newer word wins: a release by advert beats an older heartbeat, and back.
      const latest = advert === undefined ? fromBeat : fromBeat === undefined || advert.atMs >= fromBeat.atMs ? advert : fromBeat;
      const heard = peer?.alive === true;
      const releasedByAdvert = advert !== undefined && !advert.holding && latest === advert;
      const knownFree = releasedByAdvert || peer?.left === true || (heard && latest !== undefined && !latest.holding);
      return { node, holding: !knownFree, heard, lastHeardMs: peer?.lastHeardByPartitionMs ?? -Infinity };
    });
  }

  private evaluate(): VrrpAgentAction[] {
    const facts = this.facts;
    if (facts === undefined) return [];
    const nowMs = this.clock.nowMs();
    const actions: VrrpAgentAction[] = [...this.followDeposition(facts.deposed)];
    const guard = selfReleaseGuardMs(this.o.heartbeatIntervalMs);
    const verdict = takeoverGate({
      nowMs,
      quorate: facts.view.quorate,
      policy: this.o.policy,
      quorumContactMs: facts.quorumContactMs,
      guardMs: guard,
      settled: facts.settled,
      deadtimeMs: this.o.deadtimeMs,
      claims: this.claims(facts),
      fenced: new Set(this.o.peers.filter((node) => facts.peers.get(node)?.fenced === true)),
      waitForFence: this.o.fenceMode === 'power',
    });
    const changed = verdict.open !== this.gate.open || verdict.reason !== this.gate.reason;
    this.gate = verdict;
    if (changed) actions.push({ kind: 'gateChanged', verdict }, ...this.instance.step({ kind: 'gateChanged', open: verdict.open, reason: verdict.reason }));
    if (this.instance.state === 'master') {
      const better = this.betterBackup(facts);
      if (better !== undefined) actions.push(...this.instance.step({ kind: 'yieldTo', node: better }));
    }
    let selfReleaseAtMs = Infinity;
    if (this.o.policy === 'stop') {
      const cutOff = selfReleaseDue(nowMs, facts.quorumContactMs, this.o.deadtimeMs, guard);
      if (cutOff && !this.releasedForQuorum && this.instance.state === 'master') {
        this.releasedForQuorum = true;
        actions.push(...this.instance.step({ kind: 'faultRaised', source: 'quorum', reason: 'no quorum has heard this node for deadtime less the guard' }));
      } else if (this.releasedForQuorum && !cutOff && facts.view.quorate) {
        this.releasedForQuorum = false;
        actions.push(...this.instance.step({ kind: 'faultCleared', source: 'quorum' }));
      }
      if (this.instance.state === 'master') selfReleaseAtMs = facts.quorumContactMs + this.o.deadtimeMs - guard;
    }
    return [...actions, ...this.armDeadline(Math.min(this.gate.recheckAtMs ?? Infinity, selfReleaseAtMs))];
  }

  /** FAULT while deposed: the VIPs go at once, with priority 0. */
  private followDeposition(reason: string | undefined): VrrpAgentAction[] {
    if (reason === this.deposed) return [];
    this.deposed = reason;
    return this.instance.step(reason !== undefined ? { kind: 'faultRaised', source: 'deposed', reason } : { kind: 'faultCleared', source: 'deposed' });
  }

  /** A deadline as precise as the verdict it waits for: at short intervals a periodic look would come too late. */
  private armDeadline(atMs: number): VrrpAgentAction[] {
    const next = Number.isFinite(atMs) && this.running ? atMs : Infinity;
    if (next === this.deadlineAtMs) return [];
    this.deadlineAtMs = next;
    return Number.isFinite(next) ? [{ kind: 'setTimer', timer: 'deadline', atMs: next }] : [{ kind: 'cancelTimer', timer: 'deadline' }];
  }

  /**
   * A peer we hear, a backup wanting this instance from this node (it saw us holding it,
   * and its copy of our table is whole) with a better priority (or address). A want said
   * before this node held the instance is not for it.
   */
  private betterBackup(facts: ClusterFacts): string | undefined {
    const mine = this.instance.effectivePriority;
    for (const node of this.o.peers) {
      const peer = facts.peers.get(node);
      if (peer?.alive !== true) continue;
      const want = peer.claims?.wants.find((w) => w.instance === this.o.settings.name && w.from === this.o.self);
      if (want === undefined) continue;
      if (want.priority > mine || (want.priority === mine && addressGreater(want.address, this.o.settings.primaryAddress))) return node;
    }
    return undefined;
  }
}
