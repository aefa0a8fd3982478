// Who is alive, from when each peer was last heard, per link: heartbeat v1's timing. A
// peer is up while any of its links is; late past warntime (worth a log line); dead past
// deadtime. A peer never heard is `starting` until initdead has passed since we started,
// then dead: a node that has just started does not decide it is alone before then. A peer
// that said it is leaving is `left` until it is heard again.
// Pure: it is told what arrived and asked what changed; the caller owns the timers.

export interface DetectorTiming {
  readonly intervalMs: number;
  readonly warntimeMs: number;
  readonly deadtimeMs: number;
  readonly initdeadMs: number;
}

export type PeerState = 'starting' | 'up' | 'late' | 'dead' | 'left';

export interface PeerChange {
  readonly peer: string;
  readonly from: PeerState;
  readonly to: PeerState;
  /** How long since it was last heard, when that is known. */
  readonly silentMs?: number;
}

/** Heartbeats remembered per link for the loss estimate. */
const lossWindow = 32;

class LinkRecord {
  lastHeardMs = -Infinity;
  private readonly arrivals: number[] = [];

  heard(nowMs: number): void {
    this.lastHeardMs = nowMs;
    this.arrivals.push(nowMs);
    if (this.arrivals.length > lossWindow) this.arrivals.shift();
  }

  up(nowMs: number, deadtimeMs: number): boolean {
    return nowMs - this.lastHeardMs <= deadtimeMs;
  }

  /** The share of heartbeats missed over the last `lossWindow` intervals, 0..1. */
  lossRate(nowMs: number, intervalMs: number, sinceMs: number): number {
    const windowMs = Math.min(lossWindow * intervalMs, nowMs - sinceMs);
    const expected = Math.floor(windowMs / intervalMs);
    if (expected <= 0) return 0;
    const received = this.arrivals.filter((t) => nowMs - t < windowMs).length;
    return Math.max(0, Math.min(1, 1 - received / expected));
  }
}

class PeerRecord {
  state: PeerState = 'starting';
  lastHeardMs = -Infinity;
  bootEpoch = -1;
  rttMs: number | undefined;
  readonly links = new Map<string, LinkRecord>();
}

export interface LinkView {
  readonly link: string;
  readonly up: boolean;
  readonly lastHeardAgoMs?: number;
  readonly lossRate: number;
}

export interface PeerView {
  readonly peer: string;
  readonly state: PeerState;
  readonly lastHeardAgoMs?: number;
  readonly rttMs?: number;
  readonly links: LinkView[];
}

export class FailureDetector {
  private readonly peers = new Map<string, PeerRecord>();

  constructor(
    readonly timing: DetectorTiming,
    peers: readonly string[],
    links: readonly string[],
    private readonly startMs: number,
  ) {
    for (const p of peers) {
      const record = new PeerRecord();
      for (const l of links) record.links.set(l, new LinkRecord());
      this.peers.set(p, record);
    }
  }

  /** A heartbeat arrived. A new boot epoch is a restart: the peer is up again at once. */
  heard(peer: string, link: string, nowMs: number, bootEpoch: number): PeerChange[] {
    const p = this.peers.get(peer);
    if (p === undefined) return [];
    let l = p.links.get(link);
    if (l === undefined) {
      l = new LinkRecord();
      p.links.set(link, l);
    }
    l.heard(nowMs);
    p.lastHeardMs = nowMs;
    p.bootEpoch = bootEpoch;
    if (p.state === 'up') return [];
    const change = { peer, from: p.state, to: 'up' as const };
    p.state = 'up';
    return [change];
  }

  /** The peer said it is leaving: gone at once, not waited for. */
  left(peer: string, nowMs: number): PeerChange[] {
    const p = this.peers.get(peer);
    if (p === undefined || p.state === 'left') return [];
    const change = { peer, from: p.state, to: 'left' as const, ...(p.lastHeardMs !== -Infinity ? { silentMs: nowMs - p.lastHeardMs } : {}) };
    p.state = 'left';
    return [change];
  }

  /** An RTT sample from a heartbeat exchange; smoothed as TCP smooths it (1/8). */
  rtt(peer: string, sampleMs: number): void {
    const p = this.peers.get(peer);
    if (p === undefined || !(sampleMs >= 0)) return;
    p.rttMs = p.rttMs === undefined ? sampleMs : p.rttMs + (sampleMs - p.rttMs) / 8;
  }

  /** Moves peers to late or dead as time passes; returns the changes. */
  evaluate(nowMs: number): PeerChange[] {
    const changes: PeerChange[] = [];
    const { warntimeMs, deadtimeMs, initdeadMs } = this.timing;
    for (const [peer, p] of this.peers) {
      if (p.state === 'left') continue;
      let next: PeerState;
      if (p.lastHeardMs === -Infinity) next = nowMs - this.startMs >= initdeadMs ? 'dead' : 'starting';
      else {
        const silent = nowMs - p.lastHeardMs;
        next = silent > deadtimeMs ? 'dead' : silent > warntimeMs ? 'late' : 'up';
      }
      if (next === p.state) continue;
      changes.push({ peer, from: p.state, to: next, ...(p.lastHeardMs !== -Infinity ? { silentMs: nowMs - p.lastHeardMs } : {}) });
      p.state = next;
    }
    return changes;
  }

  /** When `evaluate` could next change something. */
  nextDeadlineMs(nowMs: number): number {
    let next = Infinity;
    const { warntimeMs, deadtimeMs, initdeadMs } = this.timing;
    for (const p of this.peers.values()) {
      if (p.state === 'left') continue;
      const candidates =
        p.lastHeardMs === -Infinity ? [this.startMs + initdeadMs] : [p.lastHeardMs + warntimeMs + 1, p.lastHeardMs + deadtimeMs + 1];
      for (const c of candidates) if (c > nowMs && c < next) next = c;
    }
    return next === Infinity ? nowMs + this.timing.intervalMs : next;
  }

  /** Whether the peer has been heard on the link within deadtime. */
  linkUp(peer: string, link: string, nowMs: number): boolean {
    return this.peers.get(peer)?.links.get(link)?.up(nowMs, this.timing.deadtimeMs) ?? false;
  }

  lastHeardMs(peer: string): number {
    return this.peers.get(peer)?.lastHeardMs ?? -Infinity;
  }

  /** The boot epoch of the peer's latest heartbeat, if it was ever heard. */
  epochOf(peer: string): number | undefined {
    const p = this.peers.get(peer);
    return p === undefined || p.bootEpoch < 0 ? undefined : p.bootEpoch;
  }

  state(peer: string): PeerState | undefined {
    return this.peers.get(peer)?.state;
  }

  /** Peers counted as present: up or late (late is not yet dead). */
  alive(): string[] {
    return [...this.peers.keys()].filter((peer) => this.isAlive(peer));
  }

  /** Up or late: late is not yet dead. */
  isAlive(peer: string): boolean {
    const state = this.peers.get(peer)?.state;
    return state === 'up' || state === 'late';
  }

  /** Initdead has passed, or every peer has been heard. */
  settled(nowMs: number): boolean {
    return nowMs - this.startMs >= this.timing.initdeadMs || [...this.peers.values()].every((p) => p.lastHeardMs !== -Infinity);
  }

  view(nowMs: number): PeerView[] {
    return [...this.peers].map(([peer, p]) => ({
      peer,
      state: p.state,
      ...(p.lastHeardMs !== -Infinity ? { lastHeardAgoMs: nowMs - p.lastHeardMs } : {}),
      ...(p.rttMs !== undefined ? { rttMs: p.rttMs } : {}),
      links: [...p.links].map(([link, l]) => ({
        link,
        up: l.up(nowMs, this.timing.deadtimeMs),
        ...(l.lastHeardMs !== -Infinity ? { lastHeardAgoMs: nowMs - l.lastHeardMs } : {}),
        lossRate: l.lossRate(nowMs, this.timing.intervalMs, this.startMs),
      })),
    }));
  }
}
