// The master's side of replication: changes to the connection table are coalesced by
// entry (the latest wins: a new entry then its state change travel as one), cut into
// batches of bounded size, and numbered. The last batches are kept so a backup that
// missed some can have them again; one that fell further behind is told to take a
// snapshot instead. Pure: the caller says when to flush and carries the batches.
import { changeKey, type SyncChange, type SyncEntry } from './entry';

export interface SyncBatch {
  /** The master's run: a backup that sees a new one starts over with a snapshot. */
  readonly epoch: number;
  readonly seq: number;
  readonly changes: readonly SyncChange[];
}

export interface SyncSenderOptions {
  readonly epoch: number;
  /** Changes per batch (a datagram's worth). */
  readonly batchMax: number;
  /** Batches kept for resending. */
  readonly keepBatches: number;
}

export type ResendAnswer = { readonly kind: 'batches'; readonly batches: readonly SyncBatch[] } | { readonly kind: 'snapshot' };

export class SyncSender {
  private readonly pending = new Map<string, SyncChange>();
  private readonly kept: SyncBatch[] = [];
  private nextSeq = 1;
  coalesced = 0;

  constructor(private readonly o: SyncSenderOptions) {}

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

  expire(key: string): void {
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

  /** What a backup asks for when it has everything up to `afterSeq`. */
  resend(afterSeq: number): ResendAnswer {
    if (afterSeq >= this.lastSeq) return { kind: 'batches', batches: [] };
    const first = this.kept[0];
    if (first === undefined || first.seq > afterSeq + 1) return { kind: 'snapshot' };
    return { kind: 'batches', batches: this.kept.filter((b) => b.seq > afterSeq) };
  }

  private record(change: SyncChange): void {
    const key = changeKey(change);
    if (this.pending.delete(key)) this.coalesced++;
    this.pending.set(key, change);
  }

  private seal(changes: SyncChange[]): SyncBatch {
    const batch: SyncBatch = { epoch: this.o.epoch, seq: this.nextSeq++, changes };
    this.kept.push(batch);
    if (this.kept.length > this.o.keepBatches) this.kept.shift();
    return batch;
  }
}

/** A full copy in pages, for a backup that joins or fell too far behind: taken at `atSeq`. */
export function snapshotPages(entries: Iterable<SyncEntry>, pageSize: number): SyncEntry[][] {
  const pages: SyncEntry[][] = [];
  let page: SyncEntry[] = [];
  for (const e of entries) {
    page.push(e);
    if (page.length === pageSize) {
      pages.push(page);
      page = [];
    }
  }
  if (page.length > 0 || pages.length === 0) pages.push(page);
  return pages;
}
