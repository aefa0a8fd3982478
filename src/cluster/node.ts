// One member of the cluster: sends heartbeats on every link to every peer, takes what
// the receive gate lets through, feeds the failure detector, the membership and the skew
// watches, and reports what changed. Sockets sit behind `ClusterTransport`, time behind
// the injected Clock, so a whole cluster runs in one process on virtual time.
import type { Clock, TimerHandle } from '../common/clock';
import { encodeEnvelope, protocolVersion, type AdvertBody, type ClusterKey, type Envelope, type Heard, type Want } from '../heartbeat/envelope';
import { FailureDetector, type DetectorTiming, type PeerChange, type PeerView } from '../heartbeat/failure-detector';
import { Receiver, type DropReason } from '../heartbeat/receiver';
import { offsetFromExchange, SkewWatch, type SkewLevel, type SkewThresholds } from '../time/skew';
import type { SyncBody } from '../sync/wire';
import { Membership, type MemberConfig, type View, type ViewChange } from './membership';
import type { QuorumRules } from './quorum';

export interface ClusterTransport {
  /** Sends one datagram to a peer on a link; losing it is the network's business. */
  send(peer: string, link: string, datagram: Buffer): void;
  /** The same datagram to several peers: once to a multicast link's group. `send` to each when absent. */
  sendToPeers?(peers: readonly string[], link: string, datagram: Buffer): void;
  /** The receive buffer of a link's socket, as the kernel granted it. */
  receiveBufferBytes?(link: string): number | undefined;
}

export interface ClusterEvents {
  peerChanged(change: PeerChange): void;
  viewChanged(change: ViewChange): void;
  skewChanged(peer: string, level: SkewLevel, offsetMs: number): void;
  /** A VRRP advert arrived through the receive gate. */
  advertReceived?(sender: string, advert: AdvertBody): void;
  /** A connection-table sync message for this node arrived through the receive gate. */
  syncReceived?(sender: string, body: SyncBody): void;
  /** Sync to a peer moved to another link: `link` is the sync link, or one the peer is heard on while it is not heard on the sync link. */
  syncLinkChanged?(peer: string, link: string, syncLink: string): void;
  /**
   * This node did not run for `gapMs` (no timer fired, no datagram was read): it was
   * frozen (SIGSTOP, a paused VM) long enough for peers to count it dead. Said before it
   * reads or sends anything, so what it holds can be let go first.
   */
  stalled?(gapMs: number): void;
}

export interface ClusterNodeOptions {
  readonly self: string;
  readonly clusterId: string;
  readonly key: ClusterKey;
  readonly nodes: readonly MemberConfig[];
  readonly links: readonly string[];
  readonly timing: DetectorTiming;
  readonly quorum: QuorumRules;
  readonly skew: SkewThresholds;
  readonly clock: Clock;
  readonly transport: ClusterTransport;
  readonly events: ClusterEvents;
  /** Distinguishes this run from earlier ones; the wall clock in ms at start by default. */
  readonly bootEpoch?: number;
  /** The VRRP instances this node is MASTER of, told to peers in every heartbeat. */
  readonly holds?: () => readonly string[];
  /** The instances this node, as a backup, would preempt. */
  readonly wants?: () => readonly Want[];
  /** The directors this node knows are fenced (as DC, or confirmed by an operator). */
  readonly fenced?: () => readonly string[];
  /** The link connection-table sync travels on: the first of `links` by default. */
  readonly syncLink?: string;
}

interface PeerExchange {
  /** The peer's send time and our receive time of its latest heartbeat, echoed back. */
  originUs: number;
  receiveUs: number;
  viewId: number;
}

export interface ClusterStatus {
  readonly self: string;
  readonly view: View;
  readonly settled: boolean;
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
  /** What each peer's latest heartbeat said is fenced. */
  private readonly peerFenced = new Map<string, readonly string[]>();
  /** What each peer's latest heartbeat said it holds, and when it came. */
  private readonly peerHolds = new Map<string, { readonly holds: readonly string[]; readonly wants: readonly Want[]; readonly atMs: number }>();
  private readonly peers: string[];
  /** The other directors (not witnesses): what sync goes to. */
  private readonly directorPeers: string[];
  /** The link each peer last got sync on. */
  private readonly syncRoutes = new Map<string, string>();
  private readonly bootEpoch: number;
  private readonly startMs: number;
  private sequence = 0;
  private heartbeatTimer: TimerHandle | undefined;
  private evaluateTimer: TimerHandle | undefined;
  private evaluateAtMs = Infinity;
  private running = false;

  constructor(private readonly o: ClusterNodeOptions) {
    this.startMs = o.clock.nowMs();
    this.bootEpoch = o.bootEpoch ?? Math.floor(o.clock.wallMs());
    this.peers = o.nodes.map((n) => n.name).filter((n) => n !== o.self);
    this.directorPeers = o.nodes.filter((n) => n.name !== o.self && !n.witness).map((n) => n.name);
    this.detector = new FailureDetector(o.timing, this.peers, o.links, this.startMs);
    this.membership = new Membership(o.self, o.nodes, o.quorum);
    this.receiver = new Receiver(o.clusterId, o.key, new Set(o.nodes.map((n) => n.name)), o.self, (e) => this.echoesRecentSend(e));
    for (const p of this.peers) this.skews.set(p, new SkewWatch(o.skew));
  }

  get view(): View {
    return this.membership.view;
  }

  start(): void {
    this.running = true;
    this.lastRanMs = undefined;
    this.sendHeartbeats();
    this.reevaluate();
  }

  stop(): void {
    this.running = false;
    if (this.heartbeatTimer !== undefined) this.o.clock.clearTimeout(this.heartbeatTimer);
    if (this.evaluateTimer !== undefined) this.o.clock.clearTimeout(this.evaluateTimer);
    this.heartbeatTimer = undefined;
    this.evaluateTimer = undefined;
  }

  /** A datagram from the network; whatever it holds, this returns normally. */
  receive(datagram: Uint8Array): Envelope | DropReason {
    if (this.running) this.noticeStall();
    const result = this.receiver.accept(datagram);
    if (typeof result === 'string' || !this.running) return result;
    if (result.advert !== undefined) {
      this.o.events.advertReceived?.(result.sender, result.advert);
      return result;
    }
    if (result.sync !== undefined) {
      if (result.sync.to === '' || result.sync.to === this.o.self) this.o.events.syncReceived?.(result.sender, result.sync);
      return result;
    }
    const hb = result.heartbeat;
    if (hb === undefined) return result;
    const nowMs = this.o.clock.nowMs();
    this.peerHolds.set(result.sender, { holds: hb.holds, wants: hb.wants, atMs: nowMs });
    this.peerFenced.set(result.sender, hb.fenced);
    for (const h of hb.heard) {
      // Late by the datagram's transit at most: the self-release guard covers that.
      const at = nowMs - h.agoMs;
      const byNode = this.heardVia.get(h.node) ?? new Map<string, number>();
      if (at > (byNode.get(result.sender) ?? -Infinity)) byNode.set(result.sender, at);
      this.heardVia.set(h.node, byNode);
    }
    const nowUs = Math.round(this.o.clock.wallMs() * 1000);
    const forUs = hb.to === this.o.self;
    if (forUs && hb.echoOriginWallUs > 0) {
      const sample = offsetFromExchange(hb.echoOriginWallUs, hb.echoReceiveWallUs, result.sentWallUs, nowUs);
      this.detector.rtt(result.sender, sample.delayMs);
      const watch = this.skews.get(result.sender);
      const level = watch?.sample(sample);
      if (level !== undefined) this.o.events.skewChanged(result.sender, level, watch?.offsetMs ?? sample.offsetMs);
    }
    if (forUs) this.exchanges.set(result.sender, { originUs: result.sentWallUs, receiveUs: nowUs, viewId: hb.viewId });
    for (const change of this.detector.heard(result.sender, hb.link, nowMs, result.bootEpoch)) this.o.events.peerChanged(change);
    this.updateView();
    // A peer heard for the first time has deadlines sooner than the start-up grace.
    if (this.detector.nextDeadlineMs(nowMs) < this.evaluateAtMs) this.armEvaluation(nowMs);
    return result;
  }

  /** Sends a VRRP advert to every peer (or those named) on every link, in the authenticated envelope. */
  sendAdvert(advert: AdvertBody, to?: readonly string[]): void {
    if (!this.running) return;
    for (const peer of this.peers) {
      if (to !== undefined && !to.includes(peer)) continue;
      for (const link of this.o.links) {
        const envelope: Envelope = { ...this.envelopeHead(), advert };
        this.o.transport.send(peer, link, encodeEnvelope(envelope, this.o.key));
      }
    }
  }

  /**
   * Sends a sync message to one director, or (`to` empty) to every other director, on
   * one link only: the table is too much to send on every link, and a lost datagram is
   * asked for again. That link is the sync link, unless the peer is not heard on it but
   * is on another (the sync link is down): then the first such link.
   */
  sendSync(body: SyncBody): void {
    if (!this.running) return;
    const peers = body.to === '' ? this.directorPeers : [body.to];
    const byLink = new Map<string, string[]>();
    for (const peer of peers) {
      const link = this.syncLinkFor(peer);
      if (link === undefined) continue;
      const group = byLink.get(link);
      if (group === undefined) byLink.set(link, [peer]);
      else group.push(peer);
    }
    // One datagram for all: unlike a heartbeat, nothing in it is for one peer alone (each
    // receiver keeps its own replay window, so the shared sequence number is fresh to each).
    const datagram = encodeEnvelope({ ...this.envelopeHead(), sync: body }, this.o.key);
    const transport = this.o.transport;
    for (const [link, group] of byLink) {
      if (transport.sendToPeers !== undefined) transport.sendToPeers(group, link, datagram);
      else for (const peer of group) transport.send(peer, link, datagram);
    }
  }

  /** The receive buffer of the socket sync arrives on. */
  syncReceiveBufferBytes(): number | undefined {
    const link = this.syncLink;
    return link === undefined ? undefined : this.o.transport.receiveBufferBytes?.(link);
  }

  private get syncLink(): string | undefined {
    return this.o.syncLink ?? this.o.links[0];
  }

  private syncLinkFor(peer: string): string | undefined {
    const syncLink = this.syncLink;
    if (syncLink === undefined) return undefined;
    const now = this.o.clock.nowMs();
    const link = this.detector.linkUp(peer, syncLink, now) ? syncLink : (this.o.links.find((l) => this.detector.linkUp(peer, l, now)) ?? syncLink);
    const before = this.syncRoutes.get(peer);
    if (before !== link) {
      this.syncRoutes.set(peer, link);
      if (before !== undefined) this.o.events.syncLinkChanged?.(peer, link, syncLink);
    }
    return link;
  }

  /**
   * Whether the node is known fenced: by this node, or by a peer in our view whose latest
   * heartbeat says so (the DC that fenced it, usually).
   */
  fencedByPartition(node: string): boolean {
    if (this.o.fenced?.().includes(node) === true) return true;
    return this.membership.view.members.some((peer) => peer !== this.o.self && this.peerFenced.get(peer)?.includes(node) === true);
  }

  /** The instances a peer's latest heartbeat said it holds, and when it arrived. */
  holdsOf(peer: string): { readonly holds: readonly string[]; readonly wants: readonly Want[]; readonly atMs: number } | undefined {
    return this.peerHolds.get(peer);
  }

  /** Whether the failure detector counts a peer as present (up or late). */
  alive(peer: string): boolean {
    return this.detector.isAlive(peer);
  }

  /** Initdead has passed or every peer has been heard. */
  settled(): boolean {
    return this.detector.settled(this.o.clock.nowMs());
  }

  /**
   * When this node's partition last heard a node: by ourselves, or by a peer we hear now
   * (its heartbeats say when it last heard it).
   */
  lastHeardByPartitionMs(node: string): number {
    let latest = this.detector.lastHeardMs(node);
    for (const [peer, at] of this.heardVia.get(node) ?? []) if (this.alive(peer) && at > latest) latest = at;
    return latest;
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

  /** When a peer was last heard, or -Infinity. */
  lastHeardMs(peer: string): number {
    return this.detector.lastHeardMs(peer);
  }

  /**
   * The last moment a quorum heard this node: enough peers (with our own votes), each by
   * when its heartbeats say it last heard us. A master whose quorum contact is older
   * than deadtime less a guard lets its VIPs go, before the others may take them.
   */
  quorumContactMs(nowMs: number): number {
    const votes = new Map(this.o.nodes.map((n) => [n.name, n.votes]));
    let need = this.membership.view.quorum - (votes.get(this.o.self) ?? 0);
    if (need <= 0) return nowMs;
    const contacts = [...(this.heardVia.get(this.o.self) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]);
    for (const [peer, atMs] of contacts) {
      need -= votes.get(peer) ?? 0;
      if (need <= 0) return atMs;
    }
    return -Infinity;
  }

  status(): ClusterStatus {
    const nowMs = this.o.clock.nowMs();
    return {
      self: this.o.self,
      view: this.membership.view,
      settled: this.detector.settled(nowMs),
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

  private sendHeartbeats(): void {
    if (!this.running) return;
    this.noticeStall();
    const nowMs = this.o.clock.nowMs();
    const hears = this.detector.alive();
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
            holds: this.o.holds?.() ?? [],
            wants: this.o.wants?.() ?? [],
            fenced: this.o.fenced?.() ?? [],
          },
        };
        this.o.transport.send(peer, link, encodeEnvelope(envelope, this.o.key));
        this.rememberSend(peer, envelope.sentWallUs);
      }
    }
    this.heartbeatTimer = this.o.clock.setTimeout(() => this.sendHeartbeats(), this.o.timing.intervalMs);
  }

  private heardList(nowMs: number): Heard[] {
    const out: Heard[] = [];
    for (const peer of this.peers) {
      const last = this.detector.lastHeardMs(peer);
      if (last !== -Infinity) out.push({ node: peer, agoMs: Math.min(0xffffffff, Math.max(0, Math.round(nowMs - last))) });
    }
    return out;
  }

  private envelopeHead(): Omit<Envelope, 'heartbeat' | 'advert' | 'sync'> {
    return {
      version: protocolVersion,
      clusterId: this.o.clusterId,
      sender: this.o.self,
      bootEpoch: this.bootEpoch,
      sequence: ++this.sequence,
      sentWallUs: Math.round(this.o.clock.wallMs() * 1000),
    };
  }

  private rememberSend(peer: string, sentWallUs: number): void {
    const list = this.recentSends.get(peer) ?? [];
    list.push(sentWallUs);
    // A few intervals' worth on every link: an echo older than that proves nothing.
    if (list.length > 4 * this.o.links.length) list.shift();
    this.recentSends.set(peer, list);
  }

  private echoesRecentSend(e: Envelope): boolean {
    const hb = e.heartbeat;
    return hb !== undefined && hb.to === this.o.self && hb.echoOriginWallUs > 0 && (this.recentSends.get(e.sender) ?? []).includes(hb.echoOriginWallUs);
  }

  /**
   * Runs first in every entry point: a gap longer than deadtime less one interval since the
   * node last ran means it was frozen. After a freeze the datagrams queued meanwhile come
   * first, and their reports of when peers last heard us are late by the freeze: they
   * must not make a master that peers counted dead believe it was heard all along.
   */
  private noticeStall(): void {
    const nowMs = this.o.clock.nowMs();
    const gapMs = this.lastRanMs === undefined ? 0 : nowMs - this.lastRanMs;
    this.lastRanMs = nowMs;
    if (gapMs > this.o.timing.deadtimeMs - this.o.timing.intervalMs) this.o.events.stalled?.(gapMs);
  }

  private reevaluate(): void {
    if (!this.running) return;
    this.noticeStall();
    const nowMs = this.o.clock.nowMs();
    for (const change of this.detector.evaluate(nowMs)) this.o.events.peerChanged(change);
    this.updateView();
    this.armEvaluation(nowMs);
  }

  private armEvaluation(nowMs: number): void {
    if (this.evaluateTimer !== undefined) this.o.clock.clearTimeout(this.evaluateTimer);
    this.evaluateAtMs = Math.max(nowMs + 1, this.detector.nextDeadlineMs(nowMs));
    this.evaluateTimer = this.o.clock.setTimeout(() => this.reevaluate(), this.evaluateAtMs - nowMs);
  }

  private updateView(): void {
    const ids = new Map([...this.exchanges].map(([peer, e]) => [peer, e.viewId]));
    const change = this.membership.update(this.detector.alive(), this.detector.settled(this.o.clock.nowMs()), ids);
    if (change !== undefined) this.o.events.viewChanged(change);
  }
}
