// A backup's side of replication: batches are applied in order to the shadow table. A
// batch ahead of the next expected one means some were lost: it is held (a bounded
// number of them) and the missing ones are asked for; one already applied is dropped.
// A new epoch (the master restarted, or another took over) or a master that can no
// longer resend means a snapshot: pages replace the table, then the stream goes on
// from the sequence the snapshot was taken at. Lag is what the master says it sent
// against what was applied. Pure: the caller carries requests to the master.
import type { SyncEntry } from './entry';
import type { SyncBatch } from './sender';
import type { ShadowTable } from './shadow';

export type SyncRequest = { readonly kind: 'resend'; readonly afterSeq: number } | { readonly kind: 'snapshot' };

/** How many batches ahead of a gap are held while the missing ones are asked for. */
export const heldBatchesMax = 256;

export class SyncReceiver {
  private epoch: number | undefined;
  private appliedSeq = 0;
  private readonly held = new Map<number, SyncBatch>();
  private snapshot: { readonly epoch: number; readonly atSeq: number; readonly pages: number; received: Set<number>; entries: SyncEntry[] } | undefined;
  /** The highest sequence the master is known to have sent. */
  private masterSeq = 0;
  gaps = 0;
  duplicates = 0;

  constructor(private readonly shadow: ShadowTable) {}

  /** Batches the master sent that this backup has not applied. */
  get lagBatches(): number {
    return Math.max(0, this.masterSeq - this.appliedSeq);
  }

  get applied(): number {
    return this.appliedSeq;
  }

  get inSync(): boolean {
    return this.epoch !== undefined && this.snapshot === undefined && this.lagBatches === 0;
  }

  /** A batch from the master; what to ask it for, if anything. */
  batch(b: SyncBatch): SyncRequest | undefined {
    this.masterSeq = Math.max(b.epoch === this.epoch ? this.masterSeq : 0, b.seq);
    if (b.epoch !== this.epoch) {
      if (this.snapshot?.epoch === b.epoch) return this.hold(b);
      this.restart(b.epoch);
      this.hold(b);
      return { kind: 'snapshot' };
    }
    if (this.snapshot !== undefined) return this.hold(b);
    if (b.seq <= this.appliedSeq) {
      this.duplicates++;
      return undefined;
    }
    if (b.seq > this.appliedSeq + 1) {
      const first = !this.held.has(b.seq) && [...this.held.keys()].every((s) => s > b.seq);
      this.hold(b);
      if (first) this.gaps++;
      return this.held.size > heldBatchesMax ? this.giveUp() : { kind: 'resend', afterSeq: this.appliedSeq };
    }
    this.applyBatch(b);
    this.drainHeld();
    return undefined;
  }

  /** The master's answer to a resend it cannot serve. */
  snapshotNeeded(): SyncRequest {
    return this.giveUp();
  }

  /** A snapshot page (index 0..pages−1), taken at `atSeq` of `epoch`. */
  page(epoch: number, atSeq: number, index: number, pages: number, entries: readonly SyncEntry[]): void {
    if (this.snapshot === undefined || this.snapshot.epoch !== epoch || this.snapshot.atSeq !== atSeq) {
      this.snapshot = { epoch, atSeq, pages, received: new Set(), entries: [] };
    }
    const s = this.snapshot;
    if (s.received.has(index) || index >= s.pages) return;
    s.received.add(index);
    s.entries.push(...entries);
    if (s.received.size < s.pages) return;
    this.shadow.clear();
    for (const entry of s.entries) this.shadow.apply({ kind: 'upsert', entry });
    this.epoch = epoch;
    this.appliedSeq = atSeq;
    this.masterSeq = Math.max(this.masterSeq, atSeq);
    this.snapshot = undefined;
    for (const seq of [...this.held.keys()]) if (seq <= atSeq) this.held.delete(seq);
    this.drainHeld();
  }

  private restart(epoch: number): void {
    this.epoch = undefined;
    this.appliedSeq = 0;
    this.held.clear();
    this.snapshot = { epoch, atSeq: -1, pages: Number.POSITIVE_INFINITY, received: new Set(), entries: [] };
  }

  private giveUp(): SyncRequest {
    this.held.clear();
    if (this.epoch !== undefined) this.snapshot = { epoch: this.epoch, atSeq: -1, pages: Number.POSITIVE_INFINITY, received: new Set(), entries: [] };
    return { kind: 'snapshot' };
  }

  private hold(b: SyncBatch): undefined {
    this.held.set(b.seq, b);
    // Past the bound the oldest goes: a gap it leaves is asked for again later.
    if (this.held.size > heldBatchesMax + 1) this.held.delete(Math.min(...this.held.keys()));
    return undefined;
  }

  private drainHeld(): void {
    for (let next = this.held.get(this.appliedSeq + 1); next !== undefined; next = this.held.get(this.appliedSeq + 1)) {
      this.held.delete(next.seq);
      this.applyBatch(next);
    }
  }

  private applyBatch(b: SyncBatch): void {
    for (const change of b.changes) this.shadow.apply(change);
    this.appliedSeq = b.seq;
  }
}
