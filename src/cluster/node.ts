// One member of the cluster: heartbeats on every link to every peer, what the receive
// gate lets through fed to the failure detector, the membership and the skew watches,
// clean leaves, and whether this node must stand down. Pure, as VrrpInstance is: events
// in (a datagram, a timer fired, what this node claims, a link's state), actions out
// (datagrams to send, deadlines, and what changed); sockets and timers are the shell's.
//
// A node stands down (is deposed) when a member of its view says it fenced this node's
// run or is fencing it, when every one of its links is down (an isolation fence, a pulled
// cable), or when it finds it did not run for longer than peers wait before counting it
// dead (SIGSTOP, a paused VM). It is reinstated once it is back in a quorate view whose
// every member it has heard from since (an interval after it stood down, so nothing
// queued during a freeze counts) and none of them names it; a stall alone also ends
// after its quarantine. A peer that says it is leaving is out of the view at once; if it
// sends anything later in the same run, its leave is revoked.
//
// Invariants: the heartbeat timer is always armed while running; a left peer is never
// alive; deposedChanged is said before anything else of the step that caused it.
import type { Clock } from '../common/clock';
import { invariant } from '../common/invariant';
import { encodeEnvelope, protocolVersion, type AdvertBody, type ClusterKey, type Departure, type Envelope, type Heard, type HeartbeatBody, type Want } from '../heartbeat/envelope';
import { FailureDetector, type DetectorTiming, type PeerChange, type PeerView } from '../heartbeat/failure-detector';
import { Receiver, type DropReason } from '../heartbeat/receiver';
import { offsetFromExchange, SkewWatch, type SkewLevel, type SkewThresholds } from '../time/skew';
import type { SyncBody } from '../sync/wire';
import type { FenceMark } from '../fencing/coordinator';
import type { ClusterFacts, PeerClaims, PeerFacts } from './facts';
import { Membership, type MemberConfig, type View, type ViewChange } from './membership';
import type { QuorumRules } from './quorum';

export type ClusterTimer = 'heartbeat' | 'evaluate';

/** What this node says of itself in every heartbeat. */
export interface LocalClaims {
  readonly holds: readonly string[];
  readonly wants: readonly Want[];
  readonly fences: readonly FenceMark[];
}

export type ClusterEvent =
  | { readonly kind: 'start' }
  | { readonly kind: 'datagram'; readonly bytes: Uint8Array }
  | { readonly kind: 'timerFired'; readonly timer: ClusterTimer }
  | { readonly kind: 'claimsChanged'; readonly claims: LocalClaims }
  /** A VRRP advert to every peer (or those named) on every link. */
  | { readonly kind: 'sendAdvert'; readonly advert: AdvertBody; readonly to?: readonly string[] }
  | { readonly kind: 'sendSync'; readonly body: SyncBody }
  /** Whether this node can send on a link at all (its interface is up). */
  | { readonly kind: 'linkState'; readonly link: string; readonly up: boolean }
  /** An operator cleared this node (`hadirector fence clear`): it may act again. */
  | { readonly kind: 'cleared' }
  /** A clean stop: say so on every link, then send nothing more. */
  | { readonly kind: 'leave' }
  /** Stop at once, as a crash would. */
  | { readonly kind: 'stop' };

export type ClusterAction =
  | { readonly kind: 'send'; readonly peers: readonly string[]; readonly link: string; readonly datagram: Buffer }
  | { readonly kind: 'setTimer'; readonly timer: ClusterTimer; readonly atMs: number }
  | { readonly kind: 'peerChanged'; readonly change: PeerChange }
  | { readonly kind: 'viewChanged'; readonly change: ViewChange }
  | { readonly kind: 'skewChanged'; readonly peer: string; readonly level: SkewLevel; readonly offsetMs: number }
  | { readonly kind: 'advertReceived'; readonly sender: string; readonly advert: AdvertBody }
  | { readonly kind: 'syncReceived'; readonly sender: string; readonly body: SyncBody }
  /** Sync to a peer moved: `link` is the sync link, or one the peer is heard on while it is not heard on the sync link. */
  | { readonly kind: 'syncLinkChanged'; readonly peer: string; readonly link: string; readonly syncLink: string }
  /** This node did not run for `gapMs`: frozen long enough for peers to count it dead. */
  | { readonly kind: 'stalled'; readonly gapMs: number }
  | { readonly kind: 'peerLeft'; readonly peer: string }
  | { readonly kind: 'leaveRevoked'; readonly peer: string }
  | { readonly kind: 'deposedChanged'; readonly reason: string | undefined }
  /** A heartbeat arrived: what a peer holds, wants or fences may have changed. */
  | { readonly kind: 'claimsHeard'; readonly peer: string }
  | { readonly kind: 'dropped'; readonly reason: DropReason };

export interface ClusterNodeOptions {
  readonly self: string;
  readonly clusterId: string;
  readonly key: ClusterKey;
  readonly nodes: readonly MemberConfig[];
  readonly links: readonly string[];
  readonly timing: DetectorTiming;
  readonly quorum: QuorumRules;
  readonly skew: SkewThresholds;
  /** Distinguishes this run from earlier ones; the wall clock in ms at start by default. */
  readonly bootEpoch?: number;
  /** The link connection-table sync travels on: the first of `links` by default. */
  readonly syncLink?: string;
  /**
   * How long a node found frozen, or named as being fenced by a node gone since, stands
   * down unless it rejoins first; twice deadtime by default.
   */
  readonly stallQuarantineMs?: number;
}

interface PeerExchange {
  /** The peer's send time and our receive time of its latest heartbeat, echoed back. */
  originUs: number;
  receiveUs: number;
  viewId: number;
}

interface PeerHeartbeat extends PeerClaims {
  readonly fences: readonly FenceMark[];
  readonly left: readonly Departure[];
}

type DepositionCause = 'fenced' | 'isolated' | 'stalled' | 'cleared';

/** Copies of a leave sent on each link: one lost would mean a fence. */
export const leaveCopies = 3;

export interface ClusterStatus {
  readonly self: string;
  readonly view: View;
  readonly settled: boolean;
  readonly deposed?: string;
  readonly peers: Array<PeerView & { readonly offsetMs?: number; readonly skew: SkewLevel; readonly viewId?: number }>;
  readonly dropped: Record<string, number>;
  readonly accepted: number;
}

export class ClusterNode {
  private readonly detector: FailureDetector;
  private readonly membership: Membership;
  private readonly receiver: Receiver;
  private readonly exchanges = new Map<string, PeerExchange>();
  /** The send times of our latest heartbeats to each peer, for the freshness proof. */
  private readonly recentSends = new Map<string, number[]>();
  private readonly skews = new Map<string, SkewWatch>();
  /** node → peer → when that peer last heard that node, as its heartbeats tell. */
  private readonly heardVia = new Map<string, Map<string, number>>();
  /** When this node last ran (a timer or a datagram): it runs at least every interval. */
  private lastRanMs: number | undefined;
  private readonly heartbeats = new Map<string, PeerHeartbeat>();
  /** Peers that said they leave: the run and the sequence number of the leave. */
  private readonly leaves = new Map<string, { readonly epoch: number; readonly sequence: number }>();
  private readonly peers: string[];
  /** The other directors (not witnesses): what sync goes to. */
  private readonly directorPeers: string[];
  /** The link each peer last got sync on. */
  private readonly syncRoutes = new Map<string, string>();
  private readonly linksDown = new Set<string>();
  private readonly deposition = new Map<DepositionCause, { readonly reason: string; readonly sinceMs: number; readonly untilMs?: number }>();
  private deposedReason: string | undefined;
  private claims: LocalClaims = { holds: [], wants: [], fences: [] };
  private readonly bootEpoch: number;
  private readonly startMs: number;
  private sequence = 0;
  private evaluateAtMs = Infinity;
  private running = false;

  constructor(
    private readonly o: ClusterNodeOptions,
    private readonly clock: Clock,
  ) {
    this.startMs = clock.nowMs();
    this.bootEpoch = o.bootEpoch ?? Math.floor(clock.wallMs());
    this.peers = o.nodes.map((n) => n.name).filter((n) => n !== o.self);
    this.directorPeers = o.nodes.filter((n) => n.name !== o.self && !n.witness).map((n) => n.name);
    this.detector = new FailureDetector(o.timing, this.peers, o.links, this.startMs);
    this.membership = new Membership(o.self, o.nodes, o.quorum);
    this.receiver = new Receiver(o.clusterId, o.key, new Set(o.nodes.map((n) => n.name)), o.self);
    for (const p of this.peers) this.skews.set(p, new SkewWatch(o.skew));
  }

  get view(): View {
    return this.membership.view;
  }

  /** Why this node stands down, if it does. */
  get deposed(): string | undefined {
    return this.deposedReason;
  }

  /** The link connection-table sync travels on. */
  get syncLink(): string | undefined {
    return this.o.syncLink ?? this.o.links[0];
  }

  step(event: ClusterEvent): ClusterAction[] {
    switch (event.kind) {
      case 'start':
        this.running = true;
        this.lastRanMs = undefined;
        return [...this.sendHeartbeats(), ...this.reevaluate()];
      case 'datagram':
        return this.running ? this.receive(event.bytes) : [];
      case 'timerFired':
        if (!this.running) return [];
        return event.timer === 'heartbeat' ? this.onHeartbeatTimer() : this.reevaluate();
      case 'claimsChanged':
        this.claims = event.claims;
        return [];
      case 'sendAdvert':
        return this.running ? this.sendAdvert(event.advert, event.to) : [];
      case 'sendSync':
        return this.running ? this.sendSync(event.body) : [];
      case 'linkState':
        if (event.up) this.linksDown.delete(event.link);
        else if (this.o.links.includes(event.link)) this.linksDown.add(event.link);
        return this.running ? this.checkDeposition() : [];
      case 'cleared': {
        if (this.deposedReason === undefined) return [];
        // The operator put things right (its links back up, say): a member that still names
        // this run, or a send that fails again, raises it anew. What it last heard is old:
        // it waits to hear its peers again (initdead at most) before it acts on it.
        const nowMs = this.clock.nowMs();
        this.deposition.clear();
        this.linksDown.clear();
        this.deposition.set('cleared', { reason: 'cleared by an operator: waiting to hear its peers again', sinceMs: nowMs, untilMs: nowMs + this.o.timing.initdeadMs });
        return [...this.checkDeposition(), ...this.armEvaluation(nowMs)];
      }
      case 'leave':
        return this.leave();
      case 'stop':
        this.running = false;
        return [];
    }
  }

  /** One stable line for logs and tests. */
  describe(): string {
    const v = this.view;
    const peers = this.peers.map((p) => `${p}:${this.leftByPartition(p) ? 'left' : (this.detector.state(p) ?? '?')}`).join(',');
    return `${this.o.self} view ${v.id} [${v.members.join(',')}] ${v.quorate ? 'quorate' : 'no-quorum'} dc=${v.dc ?? '-'} peers=${peers}${this.deposedReason !== undefined ? ` deposed (${this.deposedReason})` : ''}`;
  }

  /** What the other machines decide on. */
  facts(): ClusterFacts {
    const nowMs = this.clock.nowMs();
    const peers = new Map<string, PeerFacts>();
    for (const p of this.peers) {
      const hb = this.heartbeats.get(p);
      const claims = hb === undefined ? undefined : { holds: hb.holds, wants: hb.wants, atMs: hb.atMs };
      peers.set(p, { alive: this.detector.isAlive(p), left: this.leftByPartition(p), fenced: this.fencedByPartition(p), lastHeardByPartitionMs: this.lastHeardByPartitionMs(p), ...(claims !== undefined ? { claims } : {}) });
    }
    return {
      view: this.view,
      settled: this.detector.settled(nowMs),
      quorumContactMs: this.quorumContactMs(),
      ...(this.deposedReason !== undefined ? { deposed: this.deposedReason } : {}),
      peers,
    };
  }

  /** The boot epoch of each node heard (this one's own included). */
  epochs(): Map<string, number> {
    const out = new Map<string, number>([[this.o.self, this.bootEpoch]]);
    for (const p of this.peers) {
      const epoch = this.detector.epochOf(p);
      if (epoch !== undefined) out.set(p, epoch);
    }
    return out;
  }

  status(): ClusterStatus {
    const nowMs = this.clock.nowMs();
    return {
      self: this.o.self,
      view: this.membership.view,
      settled: this.detector.settled(nowMs),
      ...(this.deposedReason !== undefined ? { deposed: this.deposedReason } : {}),
      peers: this.detector.view(nowMs).map((p) => {
        const watch = this.skews.get(p.peer);
        const offsetMs = watch?.offsetMs;
        const viewId = this.exchanges.get(p.peer)?.viewId;
        return { ...p, skew: watch?.level ?? 'ok', ...(offsetMs !== undefined ? { offsetMs } : {}), ...(viewId !== undefined ? { viewId } : {}) };
      }),
      dropped: Object.fromEntries(this.receiver.dropped),
      accepted: this.receiver.accepted,
    };
  }

  private receive(bytes: Uint8Array): ClusterAction[] {
    const actions = this.noticeStall();
    const result = this.receiver.accept(bytes, this.recentSends);
    if (typeof result === 'string') return [...actions, { kind: 'dropped', reason: result }];
    const left = this.leaves.get(result.sender);
    if (left !== undefined && result.bootEpoch === left.epoch) {
      // Sent before the leave and overtaken by it on another link: stale, not a sign of life.
      if (result.sequence < left.sequence || result.leave !== undefined) return [...actions, { kind: 'dropped', reason: this.receiver.count('after-leave') }];
      this.leaves.delete(result.sender);
      actions.push({ kind: 'leaveRevoked', peer: result.sender });
    } else if (left !== undefined) {
      this.leaves.delete(result.sender);
    }
    if (result.leave !== undefined) return [...actions, ...this.onLeave(result)];
    if (result.advert !== undefined) return [...actions, { kind: 'advertReceived', sender: result.sender, advert: result.advert }];
    if (result.sync !== undefined) {
      if (result.sync.to === '' || result.sync.to === this.o.self) actions.push({ kind: 'syncReceived', sender: result.sender, body: result.sync });
      return actions;
    }
    const hb = result.heartbeat;
    if (hb === undefined) return actions;
    return [...actions, ...this.onHeartbeat(result, hb)];
  }

  private onHeartbeat(e: Envelope, hb: HeartbeatBody): ClusterAction[] {
    const actions: ClusterAction[] = [];
    const nowMs = this.clock.nowMs();
    this.heartbeats.set(e.sender, { holds: hb.holds, wants: hb.wants, fences: hb.fences, left: hb.left, atMs: nowMs });
    for (const h of hb.heard) {
      // Late by the datagram's transit at most: the self-release guard covers that.
      const at = nowMs - h.agoMs;
      const byNode = this.heardVia.get(h.node) ?? new Map<string, number>();
      if (at > (byNode.get(e.sender) ?? -Infinity)) byNode.set(e.sender, at);
      this.heardVia.set(h.node, byNode);
    }
    const nowUs = Math.round(this.clock.wallMs() * 1000);
    const forUs = hb.to === this.o.self;
    if (forUs && hb.echoOriginWallUs > 0) {
      const sample = offsetFromExchange(hb.echoOriginWallUs, hb.echoReceiveWallUs, e.sentWallUs, nowUs);
      this.detector.rtt(e.sender, sample.delayMs);
      const watch = this.skews.get(e.sender);
      const level = watch?.sample(sample);
      if (level !== undefined) actions.push({ kind: 'skewChanged', peer: e.sender, level, offsetMs: watch?.offsetMs ?? sample.offsetMs });
    }
    if (forUs) this.exchanges.set(e.sender, { originUs: e.sentWallUs, receiveUs: nowUs, viewId: hb.viewId });
    for (const change of this.detector.heard(e.sender, hb.link, nowMs, e.bootEpoch)) actions.push({ kind: 'peerChanged', change });
    const view = this.updateView();
    // A peer heard for the first time has deadlines sooner than the start-up grace.
    const timer = this.detector.nextDeadlineMs(nowMs) < this.evaluateAtMs ? this.armEvaluation(nowMs) : [];
    return [...this.checkDeposition(), ...actions, ...view, { kind: 'claimsHeard', peer: e.sender }, ...timer];
  }

  private onLeave(e: Envelope): ClusterAction[] {
    this.leaves.set(e.sender, { epoch: e.bootEpoch, sequence: e.sequence });
    this.heartbeats.delete(e.sender);
    const actions: ClusterAction[] = [{ kind: 'peerLeft', peer: e.sender }];
    for (const change of this.detector.left(e.sender, this.clock.nowMs())) actions.push({ kind: 'peerChanged', change });
    return [...actions, ...this.updateView(), ...this.checkDeposition()];
  }

  private onHeartbeatTimer(): ClusterAction[] {
    const stall = this.noticeStall();
    // What this node claims must be let go of before it says anything: send a moment later.
    if (stall.length > 0) return [...stall, { kind: 'setTimer', timer: 'heartbeat', atMs: this.clock.nowMs() }];
    return this.sendHeartbeats();
  }

  private sendAdvert(advert: AdvertBody, to?: readonly string[]): ClusterAction[] {
    const actions: ClusterAction[] = [];
    for (const peer of this.peers) {
      if (to !== undefined && !to.includes(peer)) continue;
      for (const link of this.o.links) actions.push({ kind: 'send', peers: [peer], link, datagram: encodeEnvelope({ ...this.envelopeHead(), advert }, this.o.key) });
    }
    return actions;
  }

  /**
   * Sends a sync message to one director, or (`to` empty) to every other director, on
   * one link only: the table is too much to send on every link, and a lost datagram is
   * asked for again. That link is the sync link, unless the peer is not heard on it but
   * is on another (the sync link is down): then the first such link.
   */
  private sendSync(body: SyncBody): ClusterAction[] {
    const actions: ClusterAction[] = [];
    const peers = body.to === '' ? this.directorPeers : [body.to];
    const byLink = new Map<string, string[]>();
    for (const peer of peers) {
      const route = this.syncLinkFor(peer);
      if (route === undefined) continue;
      if (route.changed) actions.push({ kind: 'syncLinkChanged', peer, link: route.link, syncLink: route.syncLink });
      const group = byLink.get(route.link);
      if (group === undefined) byLink.set(route.link, [peer]);
      else group.push(peer);
    }
    // One datagram for all: unlike a heartbeat, nothing in it is for one peer alone (each
    // receiver keeps its own replay window, so the shared sequence number is fresh to each).
    const datagram = encodeEnvelope({ ...this.envelopeHead(), sync: body }, this.o.key);
    for (const [link, group] of byLink) actions.push({ kind: 'send', peers: group, link, datagram });
    return actions;
  }

  private syncLinkFor(peer: string): { link: string; syncLink: string; changed: boolean } | undefined {
    const syncLink = this.syncLink;
    if (syncLink === undefined) return undefined;
    const now = this.clock.nowMs();
    const link = this.detector.linkUp(peer, syncLink, now) ? syncLink : (this.o.links.find((l) => this.detector.linkUp(peer, l, now)) ?? syncLink);
    const before = this.syncRoutes.get(peer);
    this.syncRoutes.set(peer, link);
    return { link, syncLink, changed: before !== undefined && before !== link };
  }

  private leave(): ClusterAction[] {
    if (!this.running) return [];
    this.running = false;
    const actions: ClusterAction[] = [];
    for (let copy = 0; copy < leaveCopies; copy++) {
      const datagram = encodeEnvelope({ ...this.envelopeHead(), leave: {} }, this.o.key);
      for (const link of this.o.links) actions.push({ kind: 'send', peers: this.peers, link, datagram });
    }
    return actions;
  }

  /**
   * Whether the node is known fenced in its current run: by this node, or by a peer in our
   * view whose latest heartbeat says so (the DC that fenced it, usually). A fence in a run
   * this node never heard (the target restarted while we could not hear it) counts when
   * it completed after our partition last heard the target, by more than a heartbeat's
   * travel: the target has not been heard since it was powered off.
   */
  private fencedByPartition(node: string): boolean {
    const epoch = this.detector.epochOf(node);
    const names = (m: FenceMark) => m.state === 'fenced' && m.node === node && (m.epoch === 0 || epoch === undefined || m.epoch === epoch);
    if (this.claims.fences.some(names)) return true;
    const heardMs = this.lastHeardByPartitionMs(node);
    const since = (hb: PeerHeartbeat, m: FenceMark) => m.state === 'fenced' && m.node === node && m.agoMs !== undefined && hb.atMs - m.agoMs - this.o.timing.intervalMs > heardMs;
    return this.memberHeartbeats().some(([, hb]) => hb.fences.some((m) => names(m) || since(hb, m)));
  }

  /** The latest heartbeat of each other member of the view: what the partition says. */
  private memberHeartbeats(): Array<[string, PeerHeartbeat]> {
    return this.membership.view.members.flatMap((m) => {
      const hb = m === this.o.self ? undefined : this.heartbeats.get(m);
      return hb === undefined ? [] : [[m, hb] as [string, PeerHeartbeat]];
    });
  }

  /**
   * Whether the node left cleanly in its current run: this node heard it leave, or a member
   * of its view did (and this node has not heard it in a newer run).
   */
  private leftByPartition(node: string): boolean {
    if (this.leaves.has(node)) return true;
    if (this.detector.isAlive(node)) return false;
    const epoch = this.detector.epochOf(node);
    return this.memberHeartbeats().some(([, hb]) => hb.left.some((d) => d.node === node && (epoch === undefined || d.epoch >= epoch)));
  }

  /**
   * When this node's partition last heard a node: by ourselves, or by a peer we hear now
   * (its heartbeats say when it last heard it).
   */
  private lastHeardByPartitionMs(node: string): number {
    let latest = this.detector.lastHeardMs(node);
    for (const [peer, at] of this.heardVia.get(node) ?? []) if (this.detector.isAlive(peer) && at > latest) latest = at;
    return latest;
  }

  /**
   * The last moment a quorum heard this node: enough peers (with our own votes), each by
   * when its heartbeats say it last heard us. A master whose quorum contact is older
   * than deadtime less a guard lets its VIPs go, before the others may take them. Its own
   * votes enough (two_node): always, which a snapshot of the facts cannot outlive.
   */
  private quorumContactMs(): number {
    const votes = new Map(this.o.nodes.map((n) => [n.name, n.votes]));
    let need = this.membership.view.quorum - (votes.get(this.o.self) ?? 0);
    if (need <= 0) return Infinity;
    const contacts = [...(this.heardVia.get(this.o.self) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]);
    for (const [peer, atMs] of contacts) {
      need -= votes.get(peer) ?? 0;
      if (need <= 0) return atMs;
    }
    return -Infinity;
  }

  private sendHeartbeats(): ClusterAction[] {
    const nowMs = this.clock.nowMs();
    const hears = this.detector.alive();
    const actions: ClusterAction[] = [];
    for (const peer of this.peers) {
      const echo = this.exchanges.get(peer);
      for (const link of this.o.links) {
        const envelope: Envelope = {
          ...this.envelopeHead(),
          heartbeat: {
            link,
            to: peer,
            echoOriginWallUs: echo?.originUs ?? 0,
            echoReceiveWallUs: echo?.receiveUs ?? 0,
            hears,
            viewId: this.membership.view.id,
            uptimeMs: Math.max(0, Math.round(nowMs - this.startMs)),
            heard: this.heardList(nowMs),
            holds: this.claims.holds,
            wants: this.claims.wants,
            fences: this.claims.fences,
            left: [...this.leaves].map(([node, l]) => ({ node, epoch: l.epoch })),
          },
        };
        actions.push({ kind: 'send', peers: [peer], link, datagram: encodeEnvelope(envelope, this.o.key) });
        this.rememberSend(peer, envelope.sentWallUs);
      }
    }
    actions.push({ kind: 'setTimer', timer: 'heartbeat', atMs: nowMs + this.o.timing.intervalMs });
    return actions;
  }

  private heardList(nowMs: number): Heard[] {
    const out: Heard[] = [];
    for (const peer of this.peers) {
      const last = this.detector.lastHeardMs(peer);
      if (last !== -Infinity) out.push({ node: peer, agoMs: Math.min(0xffffffff, Math.max(0, Math.round(nowMs - last))) });
    }
    return out;
  }

  private envelopeHead(): Omit<Envelope, 'heartbeat' | 'advert' | 'sync' | 'leave'> {
    return {
      version: protocolVersion,
      clusterId: this.o.clusterId,
      sender: this.o.self,
      bootEpoch: this.bootEpoch,
      sequence: ++this.sequence,
      sentWallUs: Math.round(this.clock.wallMs() * 1000),
    };
  }

  private rememberSend(peer: string, sentWallUs: number): void {
    const list = this.recentSends.get(peer) ?? [];
    list.push(sentWallUs);
    // A few intervals' worth on every link: an echo older than that proves nothing.
    if (list.length > 4 * this.o.links.length) list.shift();
    this.recentSends.set(peer, list);
  }

  /**
   * Runs first in every entry point: a gap longer than deadtime less one interval since the
   * node last ran means it was frozen, and peers may have counted it dead, taken over and
   * set about fencing it. It stands down before it reads or sends anything.
   */
  private noticeStall(): ClusterAction[] {
    const nowMs = this.clock.nowMs();
    const gapMs = this.lastRanMs === undefined ? 0 : nowMs - this.lastRanMs;
    this.lastRanMs = nowMs;
    if (gapMs <= this.o.timing.deadtimeMs - this.o.timing.intervalMs) return [];
    const untilMs = nowMs + this.quarantineMs;
    this.deposition.set('stalled', { reason: `this node was frozen for ${Math.round(gapMs)} ms: peers may have taken over or be fencing it`, sinceMs: nowMs, untilMs });
    return [{ kind: 'stalled', gapMs }, ...this.checkDeposition(), ...(untilMs < this.evaluateAtMs ? this.armEvaluation(nowMs) : [])];
  }

  /** Raises and clears the causes of standing down; says when the outcome changed. */
  private checkDeposition(): ClusterAction[] {
    const nowMs = this.clock.nowMs();
    const named = this.namedAsFenced();
    // Named as being fenced, by a node that is gone since: had its fence gone on, it would
    // have landed within the quarantine (this node powered off, or its links down).
    if (named !== undefined) this.deposition.set('fenced', { reason: named.reason, sinceMs: this.deposition.get('fenced')?.sinceMs ?? nowMs, ...(named.done ? {} : { untilMs: nowMs + this.quarantineMs }) });
    if (this.linksDown.size === this.o.links.length && this.o.links.length > 0 && !this.deposition.has('isolated')) {
      this.deposition.set('isolated', { reason: 'every link of this node is down', sinceMs: nowMs });
    }
    for (const [cause, d] of this.deposition) if (d.untilMs !== undefined && nowMs >= d.untilMs) this.deposition.delete(cause);
    if (this.deposition.size > 0 && named === undefined && this.rejoined(nowMs)) this.deposition.clear();
    const reason = this.deposition.size === 0 ? undefined : [...this.deposition.values()].map((d) => d.reason).join('; ');
    if (reason === this.deposedReason) return [];
    this.deposedReason = reason;
    return [{ kind: 'deposedChanged', reason }];
  }

  /** A member of the view names this run of this node as fenced (`done`), or being fenced. */
  private namedAsFenced(): { reason: string; done: boolean } | undefined {
    for (const [peer, hb] of this.memberHeartbeats()) {
      const mark = hb.fences.find((m) => m.node === this.o.self && m.epoch === this.bootEpoch);
      if (mark !== undefined) return mark.state === 'fenced' ? { reason: `${peer} fenced this node`, done: true } : { reason: `${peer} is fencing this node`, done: false };
    }
    return undefined;
  }

  private get quarantineMs(): number {
    return this.o.stallQuarantineMs ?? 2 * this.o.timing.deadtimeMs;
  }

  /**
   * Back in a quorate view with a peer, every member heard from since it stood down (an
   * interval later, so nothing queued meanwhile counts), every link up.
   */
  private rejoined(nowMs: number): boolean {
    const view = this.membership.view;
    if (!view.quorate || view.members.length < 2 || this.linksDown.size > 0) return false;
    const since = Math.max(...[...this.deposition.values()].map((d) => d.sinceMs)) + this.o.timing.intervalMs;
    return nowMs >= since && view.members.every((m) => m === this.o.self || (this.heartbeats.get(m)?.atMs ?? -Infinity) >= since);
  }

  private reevaluate(): ClusterAction[] {
    const stall = this.noticeStall();
    const nowMs = this.clock.nowMs();
    const changes: ClusterAction[] = this.detector.evaluate(nowMs).map((change) => ({ kind: 'peerChanged', change }));
    const view = this.updateView();
    return [...stall, ...this.checkDeposition(), ...changes, ...view, ...this.armEvaluation(nowMs)];
  }

  private armEvaluation(nowMs: number): ClusterAction[] {
    const ends = [...this.deposition.values()].map((d) => d.untilMs ?? Infinity).filter((t) => t > nowMs);
    this.evaluateAtMs = Math.max(nowMs + 1, Math.min(this.detector.nextDeadlineMs(nowMs), ...ends));
    return [{ kind: 'setTimer', timer: 'evaluate', atMs: this.evaluateAtMs }];
  }

  private updateView(): ClusterAction[] {
    const ids = new Map([...this.exchanges].map(([peer, e]) => [peer, e.viewId]));
    const alive = this.detector.alive().filter((p) => !this.leaves.has(p));
    const change = this.membership.update(alive, this.detector.settled(this.clock.nowMs()), ids);
    invariant(this.membership.view.members.every((m) => !this.leaves.has(m)), 'a peer that left is in no view');
    return change === undefined ? [] : [{ kind: 'viewChanged', change }];
  }
}
