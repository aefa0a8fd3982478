// One director's replication: it streams changes to its own table to every other
// director, and keeps a copy of each of theirs (a receiver and a shadow table per peer).
// Messages in, messages out, on the clock; the daemon carries them in the cluster
// envelope, the simulation and the tests over channels of their own.
import type { Clock } from '../common/clock';
import type { SyncEntry, SyncKey } from './entry';
import { everyPeer, type Outgoing, type SyncMessage } from './messages';
import { pageWindow, SyncReceiver, type SyncRequest } from './receiver';
import { SyncSender, type PeerLag, type ResendAnswer, type ServedPage, type TableItems } from './sender';
import { ShadowTable } from './shadow';

export interface SyncSettings {
  /** Changes per batch and entries per page: a datagram's worth. */
  readonly batchMax: number;
  readonly pageMax: number;
  /** Batches kept for peers that missed some. */
  readonly keepBatches: number;
  /** Entries held in each copy of a peer's table. */
  readonly copyEntriesMax: number;
  readonly retryMs: number;
  /** Batches in flight to a copy that acks, at most (a 4 MiB socket buffer holds ~200); less if the copy says its socket holds less. */
  readonly windowBatches: number;
}

export const syncDefaults: SyncSettings = { batchMax: 256, pageMax: 256, keepBatches: 256, copyEntriesMax: 2_000_000, retryMs: 250, windowBatches: 128 };

/**
 * A copy acks at once every this many batches applied (a quarter of its window when that
 * is less), besides every tick: the sender's window moves on.
 */
export const ackEveryBatches = 32;

export interface SyncEndpointOptions<T> {
  readonly self: string;
  readonly peers: readonly string[];
  readonly clock: Clock;
  /** This run's epoch: chosen anew at each start. */
  readonly epoch: number;
  readonly settings?: Partial<SyncSettings>;
  /** The table's items as they are now, for a snapshot. */
  readonly snapshot: () => readonly T[];
  readonly items: TableItems<T>;
}

export interface CopyStatus {
  readonly peer: string;
  readonly epoch: number | undefined;
  readonly entries: number;
  readonly appliedSeq: number;
  readonly lagBatches: number;
  readonly inSync: boolean;
  readonly snapshot?: { readonly received: number; readonly pages: number };
  readonly gaps: number;
  readonly snapshots: number;
  readonly refused: number;
}

/** A copy's progress in a few words, for logs, the lab and `hadirector status`. */
export function describeCopy(c: CopyStatus): string {
  if (c.snapshot !== undefined) return `snapshot ${c.snapshot.received} of ${c.snapshot.pages || '?'} pages`;
  if (c.epoch === undefined) return 'not begun';
  return c.inSync ? `${c.entries} entries, in sync` : `${c.entries} entries, ${c.lagBatches} batches behind`;
}

interface Copy {
  readonly receiver: SyncReceiver;
  readonly shadow: ShadowTable;
  ackedSeq: number;
}

export class SyncEndpoint<T> {
  readonly sender: SyncSender<T>;
  readonly settings: SyncSettings;
  private readonly copies = new Map<string, Copy>();
  /** Batches this director's socket holds, said in its acks; 0 when unknown. */
  private receiveWindow = 0;

  constructor(private readonly o: SyncEndpointOptions<T>) {
    this.settings = { ...syncDefaults, ...o.settings };
    const s = this.settings;
    this.sender = new SyncSender<T>(
      {
        epoch: o.epoch,
        clock: o.clock,
        batchMax: s.batchMax,
        keepBatches: s.keepBatches,
        pageMax: s.pageMax,
        retryMs: s.retryMs,
        snapshotIdleMs: 100 * s.retryMs,
        windowBatches: s.windowBatches,
        activeMs: 4 * s.retryMs,
        pendingMax: s.copyEntriesMax,
      },
      o.items,
    );
    for (const peer of o.peers) {
      const shadow = new ShadowTable(o.clock, s.copyEntriesMax);
      this.copies.set(peer, { shadow, receiver: new SyncReceiver(shadow, o.clock, s.retryMs), ackedSeq: 0 });
    }
  }

  get epoch(): number {
    return this.o.epoch;
  }

  /** A message from a peer; what to send in answer. Messages from strangers are ignored. */
  receive(from: string, m: SyncMessage): Outgoing[] {
    const copy = this.copies.get(from);
    if (copy === undefined) return [];
    const out: Outgoing[] = [];
    const restart = m.kind === 'batch' || m.kind === 'page' ? undefined : copy.receiver.seen(m.epoch);
    if (restart !== undefined) out.push(this.request(from, copy, restart));
    switch (m.kind) {
      case 'batch': {
        const ask = copy.receiver.batch(m);
        if (ask !== undefined) out.push(this.request(from, copy, ask));
        if (copy.receiver.applied - copy.ackedSeq >= this.ackEvery) out.push(...this.ack(from, copy));
        break;
      }
      case 'page': {
        const ask = copy.receiver.page(m.epoch, m.page);
        if (ask !== undefined) out.push(this.request(from, copy, ask));
        break;
      }
      case 'request':
        out.push(...this.answer(from, m.copyEpoch, m.request));
        break;
      case 'ack':
        if (m.copyEpoch === this.o.epoch) out.push(...this.resendAnswer(from, this.sender.ack(from, m.appliedSeq, m.windowBatches)));
        break;
    }
    return out;
  }

  /** How many batches this director's socket holds (from its receive buffer), for its peers to keep to. */
  set receiveWindowBatches(batches: number) {
    this.receiveWindow = Math.max(0, Math.floor(batches));
  }

  private get ackEvery(): number {
    return this.receiveWindow > 0 ? Math.max(1, Math.min(ackEveryBatches, Math.floor(this.receiveWindow / 4))) : ackEveryBatches;
  }

  /** Changes recorded since the last flush, as batches for every peer (see SyncSender.flush). */
  flush(maxBatches?: number, ignoreWindow = false): Outgoing[] {
    return this.sender.flush(maxBatches, ignoreWindow).map((b) => ({ to: everyPeer, message: { kind: 'batch', ...b } }));
  }

  /** Called every retry interval or so: acks, requests asked again, expired copies swept. */
  tick(): Outgoing[] {
    const out: Outgoing[] = [];
    for (const [peer, copy] of this.copies) {
      copy.shadow.sweep();
      const ask = copy.receiver.tick();
      if (ask !== undefined) out.push(this.request(peer, copy, ask));
      out.push(...this.ack(peer, copy));
    }
    this.sender.sweep();
    return out;
  }

  /** The copy of a peer's table. */
  copyOf(peer: string): ShadowTable | undefined {
    return this.copies.get(peer)?.shadow;
  }

  /** Whether the copy of a peer's table is whole and up to date. */
  inSyncWith(peer: string): boolean {
    return this.copies.get(peer)?.receiver.inSync ?? false;
  }

  /**
   * What a director taking over loads: the live entries of every copy that `wanted`
   * keeps, templates first (the connections made under them link to them), one at a time.
   * Where copies disagree on an entry, the engine keeps the template with the most time
   * left (the director that used it last refreshed it last) and the first connection.
   */
  *takeover(wanted: (e: SyncEntry) => boolean): Generator<SyncEntry> {
    for (const templates of [true, false]) {
      for (const { shadow } of this.copies.values()) for (const e of shadow.liveEntries(templates)) if (wanted(e)) yield e;
    }
  }

  /** An entry of the copies, for a packet that comes before the takeover has loaded it: the freshest. */
  lookup(key: SyncKey): SyncEntry | undefined {
    let best: SyncEntry | undefined;
    for (const { shadow } of this.copies.values()) {
      const e = shadow.get(key);
      if (e !== undefined && (best === undefined || e.remainingMs > best.remainingMs)) best = e;
    }
    return best;
  }

  /** Each copy of a peer's table: how whole and how current it is. */
  copyStatus(): CopyStatus[] {
    return [...this.copies].map(([peer, { receiver, shadow }]) => {
      const snapshot = receiver.snapshotProgress;
      return {
        peer,
        epoch: receiver.currentEpoch,
        entries: shadow.size,
        appliedSeq: receiver.shadowApplied,
        lagBatches: receiver.lagBatches,
        inSync: receiver.inSync,
        ...(snapshot !== undefined ? { snapshot } : {}),
        gaps: receiver.gaps,
        snapshots: receiver.snapshots,
        refused: shadow.refused,
      };
    });
  }

  /** Each peer's lag behind this director's stream, by its acks. */
  lags(): Array<PeerLag & { readonly peer: string }> {
    return this.o.peers.map((peer) => ({ peer, ...this.sender.lag(peer) }));
  }

  /**
   * How far the copy has got. Not while a snapshot is made: the sender would take an ack
   * past the snapshot's sequence for a snapshot done, and let it go.
   */
  private ack(peer: string, copy: Copy): Outgoing[] {
    const epoch = copy.receiver.currentEpoch;
    if (epoch === undefined || copy.receiver.snapshotProgress !== undefined) return [];
    copy.ackedSeq = copy.receiver.applied;
    return [{ to: peer, message: { kind: 'ack', epoch: this.o.epoch, copyEpoch: epoch, appliedSeq: copy.receiver.applied, windowBatches: this.receiveWindow } }];
  }

  private request(to: string, copy: Copy, request: SyncRequest): Outgoing {
    return { to, message: { kind: 'request', epoch: this.o.epoch, copyEpoch: copy.receiver.copyEpoch ?? 0, request } };
  }

  private answer(from: string, copyEpoch: number, request: SyncRequest): Outgoing[] {
    if (copyEpoch !== this.o.epoch || request.kind === 'snapshot') return this.snapshot(from);
    if (request.kind === 'resend') return this.resendAnswer(from, this.sender.resend(request.afterSeq));
    const pages = this.sender.pages(from, request.atSeq, request.pages);
    return pages === undefined ? this.snapshot(from) : pages.map((page) => this.pageTo(from, page));
  }

  private resendAnswer(to: string, answer: ResendAnswer | undefined): Outgoing[] {
    if (answer === undefined) return [];
    if (answer.kind === 'snapshot') return this.snapshot(to);
    return answer.batches.map((b) => ({ to, message: { kind: 'batch', ...b } }));
  }

  private snapshot(to: string): Outgoing[] {
    return this.sender.beginSnapshot(to, this.o.snapshot(), pageWindow).map((page) => this.pageTo(to, page));
  }

  private pageTo(to: string, page: ServedPage): Outgoing {
    return { to, message: { kind: 'page', epoch: this.o.epoch, page } };
  }
}
