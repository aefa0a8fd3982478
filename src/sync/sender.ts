// A director's side of replicating its own table: changes are coalesced by entry (the
// latest wins: a new entry then its state change travel as one) and read from the table
// only when they go out, cut into batches of bounded size, and numbered. The last batches are kept so a peer that missed some can
// have them again, as references to the table's items, read anew when sent again (an
// entry's newest state, or its expiry if it has left the table since: later batches
// carry what came after, so a copy applying them in order ends where the table is); one
// that fell further behind gets a snapshot instead. A snapshot is
// the table's entries as they are when it is asked for, served a page at a time as the
// peer pulls them; batches after it re-apply changes the pages may already hold, which
// is harmless (an upsert of what is there, an expiry of what is gone). Each peer's acks
// give its lag. Pure on the clock: the caller says when to flush and carries messages.
import type { Clock } from '../common/clock';
import type { SyncChange, SyncEntry, SyncKey } from './entry';

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
  /**
   * Batches sent and not yet acknowledged by every peer that acks, at most: what a
   * copy's socket buffer holds. A peer silent for `activeMs` no longer holds the stream
   * back; it catches up by resends or a snapshot.
   */
  readonly windowBatches: number;
  readonly activeMs: number;
  readonly pendingMax: number;
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

/** Batches sent again at once: a window's worth must fit a socket's receive buffer. */
export const resendWindow = 8;

/** A batch as kept for resending: its items, not its changes (a few bytes a change, not an entry's worth). */
interface Kept<T> {
  readonly seq: number;
  readonly items: readonly T[];
  /** 1 where the change was an upsert. */
  readonly upserts: Uint8Array;
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

  page(index: number, toEntry: (item: T, nowMs: number) => SyncEntry | undefined, nowMs: number): SyncEntry[] {
    const out: SyncEntry[] = [];
    const end = Math.min(this.items.length, (index + 1) * this.pageMax);
    for (let i = index * this.pageMax; i < end; i++) {
      const e = toEntry(this.items[i] as T, nowMs);
      if (e !== undefined) out.push(e);
    }
    return out;
  }
}

/** How the sender reads the items of a table (connections in the daemon). */
export interface TableItems<T> {
  /** The item as an entry at `nowMs`, or undefined when it is gone from the table. */
  entry(item: T, nowMs: number): SyncEntry | undefined;
  key(item: T): SyncKey;
  /** What changes are coalesced by: the item itself when items are objects that live in the table. */
  identity(item: T): unknown;
}

interface PendingChange<T> {
  readonly id: unknown;
  item: T;
  upsert: boolean;
}

export interface ServedPage {
  readonly atSeq: number;
  readonly index: number;
  readonly pages: number;
  readonly entries: SyncEntry[];
  /** The last batch sealed when the page was read from the table. */
  readonly servedSeq: number;
}

export class SyncSender<T> {
  /** Changes not yet sent, by identity; `queue` holds them in the order they first came. */
  private readonly pending = new Map<unknown, PendingChange<T>>();
  private queue: Array<PendingChange<T>> = [];
  private head = 0;
  private readonly kept: Array<Kept<T>> = [];
  /** Each peer's last ack: what it had applied, when, and how many batches its socket holds (0: not said). */
  private readonly acks = new Map<string, { seq: number; atMs: number; windowBatches: number }>();
  private readonly snapshots = new Map<string, Snapshot<T>>();
  private nextSeq = 1;
  coalesced = 0;
  resentBatches = 0;
  snapshotsServed = 0;

  constructor(
    private readonly o: SyncSenderOptions,
    private readonly items: TableItems<T>,
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

  /** The item is new, changed, or due for a refresh. */
  upsert(item: T): void {
    this.record(item, true);
  }

  /** The item left the table. */
  expire(item: T): void {
    this.record(item, false);
  }

  /**
   * Pending changes, in batches numbered in order: at most `maxBatches`, and no more
   * than the window has room for (`ignoreWindow` at a stop). What is left stays pending,
   * coalescing further changes, for the next flush.
   */
  flush(maxBatches = Number.POSITIVE_INFINITY, ignoreWindow = false): SyncBatch[] {
    const out: SyncBatch[] = [];
    const limit = Math.min(maxBatches, ignoreWindow ? Number.POSITIVE_INFINITY : this.room());
    const now = this.o.clock.nowMs();
    let changes: SyncChange[] = [];
    let items: T[] = [];
    while (this.head < this.queue.length && out.length < limit) {
      const { id, item, upsert } = this.queue[this.head++] as PendingChange<T>;
      this.pending.delete(id);
      const entry = upsert ? this.items.entry(item, now) : undefined;
      if (upsert && entry === undefined) continue;
      changes.push(entry !== undefined ? { kind: 'upsert', entry } : { kind: 'expire', key: this.items.key(item) });
      items.push(item);
      if (changes.length === this.o.batchMax) {
        out.push(this.seal(changes, items));
        changes = [];
        items = [];
      }
    }
    if (changes.length > 0) out.push(this.seal(changes, items));
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > this.queue.length / 2) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /**
   * How many more batches the window lets out now: the least any active peer has room
   * for, its own window (what its socket holds) or `windowBatches`, whichever is less,
   * less what it has not acknowledged. Past `pendingMax` changes waiting, the window no
   * longer holds: a copy too slow for the stream catches up by a snapshot rather than
   * this director's memory growing with its backlog.
   */
  room(): number {
    if (this.pending.size > this.o.pendingMax) return Number.POSITIVE_INFINITY;
    const now = this.o.clock.nowMs();
    let room = Number.POSITIVE_INFINITY;
    for (const a of this.acks.values()) {
      if (now - a.atMs >= this.o.activeMs) continue;
      const window = a.windowBatches > 0 ? Math.min(a.windowBatches, this.o.windowBatches) : this.o.windowBatches;
      room = Math.min(room, Math.max(0, window - (this.lastSeq - a.seq)));
    }
    return room;
  }

  /**
   * What a peer asks for when it has everything up to `afterSeq`: the next batches, a
   * window of them (it asks for more once they are in), or a snapshot when they are no
   * longer kept.
   */
  resend(afterSeq: number): ResendAnswer {
    if (afterSeq >= this.lastSeq) return { kind: 'batches', batches: [] };
    const first = this.kept[0];
    if (first === undefined || first.seq > afterSeq + 1) return { kind: 'snapshot' };
    const from = afterSeq + 1 - first.seq;
    const now = this.o.clock.nowMs();
    const batches = this.kept.slice(from, from + resendWindow).map((k) => this.reread(k, now));
    this.resentBatches += batches.length;
    return { kind: 'batches', batches };
  }

  /**
   * A peer's ack. When it still lacks batches sent longer than a retry ago (the last
   * ones of a burst were lost, and nothing came after to show it the gap), the answer
   * is what to send it again.
   */
  ack(peer: string, appliedSeq: number, windowBatches = 0): ResendAnswer | undefined {
    const acked = Math.min(appliedSeq, this.lastSeq);
    this.acks.set(peer, { seq: acked, atMs: this.o.clock.nowMs(), windowBatches });
    const snapshot = this.snapshots.get(peer);
    if (snapshot !== undefined && acked >= snapshot.atSeq) this.snapshots.delete(peer);
    if (acked >= this.lastSeq) return undefined;
    const oldest = this.kept.find((b) => b.seq === acked + 1);
    if (oldest !== undefined && this.o.clock.nowMs() - oldest.sealedAtMs < this.o.retryMs) return undefined;
    return this.resend(acked);
  }

  /** How far behind a peer is, by its last ack. */
  lag(peer: string): PeerLag {
    const ackedSeq = this.acks.get(peer)?.seq ?? 0;
    const behind = this.kept.filter((b) => b.seq > ackedSeq);
    const oldest = behind[0];
    return {
      ackedSeq,
      batches: this.lastSeq - ackedSeq,
      changes: behind.reduce((n, b) => n + b.items.length, 0),
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
      .map((index) => ({ atSeq, index, pages: snapshot.pages, entries: snapshot.page(index, (item, now) => this.items.entry(item, now), this.o.clock.nowMs()), servedSeq: this.lastSeq }));
  }

  /** Lets go of snapshots no peer is pulling. */
  sweep(): void {
    const now = this.o.clock.nowMs();
    for (const [peer, s] of this.snapshots) if (now - s.usedAtMs >= this.o.snapshotIdleMs) this.snapshots.delete(peer);
  }

  private record(item: T, upsert: boolean): void {
    const id = this.items.identity(item);
    const seen = this.pending.get(id);
    if (seen !== undefined) {
      // The latest word, in the place of the first: a new entry of the same key (another
      // identity) can only come after this one left the table, so after it in the queue.
      this.coalesced++;
      seen.item = item;
      seen.upsert = upsert;
      return;
    }
    const change = { id, item, upsert };
    this.pending.set(id, change);
    this.queue.push(change);
  }

  private seal(changes: SyncChange[], items: T[]): SyncBatch {
    const seq = this.nextSeq++;
    const upserts = Uint8Array.from(changes, (c) => (c.kind === 'upsert' ? 1 : 0));
    this.kept.push({ seq, items, upserts, sealedAtMs: this.o.clock.nowMs() });
    if (this.kept.length > this.o.keepBatches) this.kept.shift();
    return { epoch: this.o.epoch, seq, changes };
  }

  /** A kept batch's changes as the table has its items now. */
  private reread(k: Kept<T>, nowMs: number): SyncBatch {
    const changes = k.items.map((item, i): SyncChange => {
      const entry = k.upserts[i] === 1 ? this.items.entry(item, nowMs) : undefined;
      return entry !== undefined ? { kind: 'upsert', entry } : { kind: 'expire', key: this.items.key(item) };
    });
    return { epoch: this.o.epoch, seq: k.seq, changes };
  }
}
