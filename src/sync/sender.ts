// A director's side of replicating its own table: changes are coalesced by entry (the
// latest wins: a new entry then its state change travel as one), cut into batches of
// bounded size, and numbered. The last batches are kept so a peer that missed some can
// have them again; one that fell further behind gets a snapshot instead. A snapshot is
// the table's entries as they are when it is asked for, served a page at a time as the
// peer pulls them; batches after it re-apply changes the pages may already hold, which
// is harmless (an upsert of what is there, an expiry of what is gone). Each peer's acks
// give its lag. Pure on the clock: the caller says when to flush and carries messages.
import type { Clock } from '../common/clock';
import { changeKey, type SyncChange, type SyncEntry, type SyncKey } from './entry';

export interface SyncBatch {
  /** The sender's run: a peer that sees a new one starts over with a snapshot. */
  readonly epoch: number;
  readonly seq: number;
  readonly changes: readonly SyncChange[];
}

export interface SyncSenderOptions {
  readonly epoch: number;
  readonly clock: Clock;
  /** Changes per batch (a datagram's worth). */
  readonly batchMax: number;
  /** Batches kept for resending. */
  readonly keepBatches: number;
  /** Entries per snapshot page. */
  readonly pageMax: number;
  /** An unacknowledged batch older than this is sent again to the peer that lacks it. */
  readonly retryMs: number;
  /** A snapshot no page was asked of for this long is let go. */
  readonly snapshotIdleMs: number;
}

export type ResendAnswer = { readonly kind: 'batches'; readonly batches: readonly SyncBatch[] } | { readonly kind: 'snapshot' };

export interface PeerLag {
  readonly ackedSeq: number;
  /** Batches sent that the peer has not acknowledged. */
  readonly batches: number;
  /** Changes in them (a lower bound once they are no longer kept). */
  readonly changes: number;
  /** How long the oldest of them has waited. */
  readonly ms: number;
}

interface Kept extends SyncBatch {
  readonly sealedAtMs: number;
}

/** A table at one moment, paged: items are read into entries as the pages are asked for. */
class Snapshot<T> {
  usedAtMs: number;

  constructor(
    readonly atSeq: number,
    private readonly items: readonly T[],
    private readonly pageMax: number,
    nowMs: number,
  ) {
    this.usedAtMs = nowMs;
  }

  get pages(): number {
    return Math.max(1, Math.ceil(this.items.length / this.pageMax));
  }

  page(index: number, toEntry: (item: T) => SyncEntry | undefined): SyncEntry[] {
    const out: SyncEntry[] = [];
    const end = Math.min(this.items.length, (index + 1) * this.pageMax);
    for (let i = index * this.pageMax; i < end; i++) {
      const e = toEntry(this.items[i] as T);
      if (e !== undefined) out.push(e);
    }
    return out;
  }
}

export interface ServedPage {
  readonly atSeq: number;
  readonly index: number;
  readonly pages: number;
  readonly entries: SyncEntry[];
}

export class SyncSender<T = SyncEntry> {
  private readonly pending = new Map<string, SyncChange>();
  private readonly kept: Kept[] = [];
  private readonly acks = new Map<string, number>();
  private readonly snapshots = new Map<string, Snapshot<T>>();
  private nextSeq = 1;
  coalesced = 0;
  resentBatches = 0;
  snapshotsServed = 0;

  constructor(
    private readonly o: SyncSenderOptions,
    /** An item of the table as an entry now, or undefined when it is gone. */
    private readonly toEntry: (item: T) => SyncEntry | undefined,
  ) {}

  get epoch(): number {
    return this.o.epoch;
  }

  /** The sequence number of the last batch sent (0 before the first). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get pendingChanges(): number {
    return this.pending.size;
  }

  upsert(entry: SyncEntry): void {
    this.record({ kind: 'upsert', entry });
  }

  expire(key: SyncKey): void {
    this.record({ kind: 'expire', key });
  }

  /** Every pending change, in batches numbered in order. */
  flush(): SyncBatch[] {
    const out: SyncBatch[] = [];
    let changes: SyncChange[] = [];
    for (const change of this.pending.values()) {
      changes.push(change);
      if (changes.length === this.o.batchMax) {
        out.push(this.seal(changes));
        changes = [];
      }
    }
    if (changes.length > 0) out.push(this.seal(changes));
    this.pending.clear();
    return out;
  }

  /** What a peer asks for when it has everything up to `afterSeq`. */
  resend(afterSeq: number): ResendAnswer {
    if (afterSeq >= this.lastSeq) return { kind: 'batches', batches: [] };
    const first = this.kept[0];
    if (first === undefined || first.seq > afterSeq + 1) return { kind: 'snapshot' };
    const batches = this.kept.filter((b) => b.seq > afterSeq);
    this.resentBatches += batches.length;
    return { kind: 'batches', batches };
  }

  /**
   * A peer's ack. When it still lacks batches sent longer than a retry ago (the last
   * ones of a burst were lost, and nothing came after to show it the gap), the answer
   * is what to send it again.
   */
  ack(peer: string, appliedSeq: number): ResendAnswer | undefined {
    const acked = Math.min(appliedSeq, this.lastSeq);
    this.acks.set(peer, acked);
    const snapshot = this.snapshots.get(peer);
    if (snapshot !== undefined && acked >= snapshot.atSeq) this.snapshots.delete(peer);
    if (acked >= this.lastSeq) return undefined;
    const oldest = this.kept.find((b) => b.seq === acked + 1);
    if (oldest !== undefined && this.o.clock.nowMs() - oldest.sealedAtMs < this.o.retryMs) return undefined;
    return this.resend(acked);
  }

  /** How far behind a peer is, by its last ack. */
  lag(peer: string): PeerLag {
    const ackedSeq = this.acks.get(peer) ?? 0;
    const behind = this.kept.filter((b) => b.seq > ackedSeq);
    const oldest = behind[0];
    return {
      ackedSeq,
      batches: this.lastSeq - ackedSeq,
      changes: behind.reduce((n, b) => n + b.changes.length, 0),
      ms: oldest === undefined ? 0 : Math.max(0, this.o.clock.nowMs() - oldest.sealedAtMs),
    };
  }

  /** A new snapshot for a peer, of the table's items as they are now; its first pages. */
  beginSnapshot(peer: string, items: readonly T[], firstPages: number): ServedPage[] {
    const snapshot = new Snapshot(this.lastSeq, items, this.o.pageMax, this.o.clock.nowMs());
    this.snapshots.set(peer, snapshot);
    this.snapshotsServed++;
    const indices = Array.from({ length: Math.min(firstPages, snapshot.pages) }, (_, i) => i);
    return this.pages(peer, snapshot.atSeq, indices) ?? [];
  }

  /** Pages of the peer's snapshot, or undefined when it has none taken at `atSeq` (it asks anew). */
  pages(peer: string, atSeq: number, indices: readonly number[]): ServedPage[] | undefined {
    const snapshot = this.snapshots.get(peer);
    if (snapshot === undefined || snapshot.atSeq !== atSeq) return undefined;
    snapshot.usedAtMs = this.o.clock.nowMs();
    return indices
      .filter((i) => i < snapshot.pages)
      .map((index) => ({ atSeq, index, pages: snapshot.pages, entries: snapshot.page(index, this.toEntry) }));
  }

  /** Lets go of snapshots no peer is pulling. */
  sweep(): void {
    const now = this.o.clock.nowMs();
    for (const [peer, s] of this.snapshots) if (now - s.usedAtMs >= this.o.snapshotIdleMs) this.snapshots.delete(peer);
  }

  private record(change: SyncChange): void {
    const key = changeKey(change);
    if (this.pending.delete(key)) this.coalesced++;
    this.pending.set(key, change);
  }

  private seal(changes: SyncChange[]): SyncBatch {
    const batch: Kept = { epoch: this.o.epoch, seq: this.nextSeq++, changes, sealedAtMs: this.o.clock.nowMs() };
    this.kept.push(batch);
    if (this.kept.length > this.o.keepBatches) this.kept.shift();
    return batch;
  }
}
