// A director's copy of one peer's connection table: batches are applied in order to the
// shadow table. A batch ahead of the next expected one means some were lost: it is held
// (a bounded number of them) and the missing ones are asked for; one already applied is
// dropped. A new epoch (the peer restarted) or a peer that can no longer resend means a
// snapshot, pulled page by page a window at a time (so a burst never overruns a socket
// buffer) into a staging copy that follows the stream meanwhile: the batches after the
// one the snapshot was taken at are applied to it as they come, so a snapshot of any
// size finishes however busy the stream, and a page never undoes a newer batch (an
// entry a batch carried after the page was read keeps the batch's word). The staging
// copy then replaces the shadow, which until then stays as it was for a takeover. A
// request that goes unanswered is asked again. Pure on the clock: the caller carries
// requests to the peer.
import type { Clock } from '../common/clock';
import { entryKey, type SyncEntry } from './entry';
import { resendWindow, type SyncBatch } from './sender';
import { ShadowTable } from './shadow';

export type SyncRequest =
  | { readonly kind: 'resend'; readonly afterSeq: number }
  | { readonly kind: 'snapshot' }
  | { readonly kind: 'pages'; readonly atSeq: number; readonly pages: readonly number[] };

export interface SyncPage {
  readonly atSeq: number;
  readonly index: number;
  readonly pages: number;
  readonly entries: readonly SyncEntry[];
  /** The last batch the peer had sealed when it read the page from its table. */
  readonly servedSeq: number;
}

/** How many batches ahead of a gap are held while the missing ones are asked for. */
export const heldBatchesMax = 256;
/**
 * Pages in flight at once: a window's worth must fit a socket's receive buffer. The next
 * are asked for when half of them are in, so the peer always has some to send.
 */
export const pageWindow = 8;
export const retryDefaultMs = 250;

interface SnapshotInProgress {
  /** Unknown when the copy was never begun and the peer has not answered yet. */
  epoch: number | undefined;
  /** Unknown until the first page comes. */
  atSeq: number | undefined;
  pages: number;
  readonly received: Set<number>;
  /** The copy being made: the pages, and the batches after `atSeq` as they come. */
  readonly staging: ShadowTable;
  /** Entry key → the last batch applied to the staging copy that carried it. */
  readonly touched: Map<string, number>;
  /** Pages asked for and not yet in. */
  readonly outstanding: Set<number>;
  /** The first page never asked for: pages are asked in order, and a lost one again by the tick. */
  nextPage: number;
}

export class SyncReceiver {
  private epoch: number | undefined;
  /** Where the stream is applied up to: in the shadow, or in a snapshot's staging copy once it has begun. */
  private appliedSeq = 0;
  /** Where the shadow itself is whole up to (behind `appliedSeq` while a snapshot is made). */
  private shadowSeq = 0;
  private readonly held = new Map<number, SyncBatch>();
  private snapshot: SnapshotInProgress | undefined;
  /** The highest sequence the peer is known to have sent. */
  private peerSeq = 0;
  private lastProgressMs: number;
  /** The sequence the resend asked for last ends at: once it is applied, the next window is asked. */
  private resendUpTo = 0;
  gaps = 0;
  duplicates = 0;
  snapshots = 0;

  constructor(
    private readonly shadow: ShadowTable,
    private readonly clock: Clock,
    private readonly retryMs = retryDefaultMs,
  ) {
    this.lastProgressMs = clock.nowMs();
  }

  /** Batches the peer sent that this copy has not applied. */
  get lagBatches(): number {
    return Math.max(0, this.peerSeq - this.appliedSeq);
  }

  /** The last batch applied, to the shadow or to the staging copy of a snapshot in progress (what acks say). */
  get applied(): number {
    return this.appliedSeq;
  }

  /** The last batch the shadow holds: every batch up to it is in what a takeover would load. */
  get shadowApplied(): number {
    return this.shadowSeq;
  }

  get currentEpoch(): number | undefined {
    return this.epoch;
  }

  /** The epoch this copy is of, or is being taken of. */
  get copyEpoch(): number | undefined {
    return this.epoch ?? this.snapshot?.epoch;
  }

  /** The copy is whole: a snapshot taken, and every batch since applied. */
  get inSync(): boolean {
    return this.epoch !== undefined && this.snapshot === undefined && this.lagBatches === 0;
  }

  /** Pages of the snapshot in progress: received, of how many (undefined when none is). */
  get snapshotProgress(): { readonly received: number; readonly pages: number } | undefined {
    const s = this.snapshot;
    return s === undefined ? undefined : { received: s.received.size, pages: s.atSeq === undefined ? 0 : s.pages };
  }

  /** Any message of the peer's shows its epoch: a new one means its table starts over. */
  seen(epoch: number): SyncRequest | undefined {
    if (epoch === this.epoch || (this.snapshot !== undefined && (this.snapshot.epoch === epoch || this.snapshot.epoch === undefined))) return undefined;
    return this.startSnapshot(epoch);
  }

  /** A batch from the peer; what to ask it for, if anything. */
  batch(b: SyncBatch): SyncRequest | undefined {
    const restart = this.seen(b.epoch);
    if (restart !== undefined) {
      this.peerSeq = b.seq;
      this.hold(b);
      return restart;
    }
    this.peerSeq = Math.max(this.peerSeq, b.seq);
    // Where a snapshot stands in the stream is known from its first page: until then, held.
    if (this.snapshot !== undefined && this.snapshot.atSeq === undefined) return this.hold(b);
    if (b.seq <= this.appliedSeq) {
      this.duplicates++;
      return undefined;
    }
    if (b.seq > this.appliedSeq + 1) {
      const first = !this.held.has(b.seq) && [...this.held.keys()].every((s) => s > b.seq);
      this.hold(b);
      if (first) {
        this.gaps++;
        return this.askResend();
      }
      return this.held.size > heldBatchesMax ? this.startSnapshot(b.epoch) : undefined;
    }
    this.applyBatch(b);
    this.drainHeld();
    // The window asked for is in, and a gap remains: the next window.
    return this.appliedSeq >= this.resendUpTo && this.resendUpTo > 0 && this.lagBatches > 0 && !this.held.has(this.appliedSeq + 1) ? this.askResend() : undefined;
  }

  private askResend(): SyncRequest {
    this.lastProgressMs = this.clock.nowMs();
    this.resendUpTo = this.appliedSeq + resendWindow;
    return { kind: 'resend', afterSeq: this.appliedSeq };
  }

  /** A page of a snapshot: one asked for, or one the peer sent because it could not resend. */
  page(epoch: number, p: SyncPage): SyncRequest | undefined {
    let s = this.snapshot;
    if (s !== undefined && s.epoch === undefined) s.epoch = epoch;
    if (s === undefined || s.epoch !== epoch || (s.atSeq !== undefined && s.atSeq !== p.atSeq)) {
      // A late page of a snapshot already taken, or of one given up for a newer: nothing new in it.
      if (s === undefined && epoch === this.epoch && p.atSeq <= this.appliedSeq) return undefined;
      if (s !== undefined && s.epoch === epoch && s.atSeq !== undefined && p.atSeq < s.atSeq) return undefined;
      s = this.newSnapshot(epoch);
      this.snapshot = s;
    }
    if (s.atSeq === undefined) {
      s.atSeq = p.atSeq;
      s.pages = p.pages;
      // The peer sends the first window unasked.
      s.nextPage = Math.min(pageWindow, p.pages);
      for (let i = 0; i < s.nextPage; i++) s.outstanding.add(i);
      // The stream goes on into the staging copy from where the snapshot was taken.
      this.appliedSeq = p.atSeq;
      for (const seq of [...this.held.keys()]) if (seq <= p.atSeq) this.held.delete(seq);
      this.drainHeld();
    }
    if (p.index >= s.pages || s.received.has(p.index)) return undefined;
    s.received.add(p.index);
    s.outstanding.delete(p.index);
    // The staging copy is bounded as the shadow is: a snapshot's page count is the peer's word.
    for (const e of p.entries) if ((s.touched.get(entryKey(e)) ?? 0) <= p.servedSeq) s.staging.apply({ kind: 'upsert', entry: e });
    this.lastProgressMs = this.clock.nowMs();
    if (s.received.size === s.pages) {
      this.finishSnapshot(s, epoch);
      return undefined;
    }
    return s.outstanding.size <= pageWindow / 2 ? this.askNextPages(s) : undefined;
  }

  /** Called now and then: what went unanswered is asked again; a copy never begun is asked for. */
  tick(): SyncRequest | undefined {
    if (this.clock.nowMs() - this.lastProgressMs < this.retryMs) return undefined;
    const s = this.snapshot;
    if (s !== undefined || this.epoch === undefined) {
      this.lastProgressMs = this.clock.nowMs();
      return s?.atSeq === undefined ? { kind: 'snapshot' } : this.askPagesAgain(s);
    }
    if (this.held.size > 0 || this.lagBatches > 0) return this.askResend();
    return undefined;
  }

  private startSnapshot(epoch: number | undefined, holding?: SyncBatch): SyncRequest {
    if (epoch !== this.epoch) {
      // A new run numbers its stream from 1: nothing of the old run's numbers holds.
      this.epoch = undefined;
      this.appliedSeq = 0;
      this.shadowSeq = 0;
      this.peerSeq = 0;
    }
    this.held.clear();
    if (holding !== undefined) this.held.set(holding.seq, holding);
    this.snapshot = this.newSnapshot(epoch);
    this.lastProgressMs = this.clock.nowMs();
    return { kind: 'snapshot' };
  }

  private newSnapshot(epoch: number | undefined): SnapshotInProgress {
    return { epoch, atSeq: undefined, pages: 0, received: new Set(), staging: new ShadowTable(this.clock, this.shadow.entriesMax), touched: new Map(), outstanding: new Set(), nextPage: 0 };
  }

  /** After a silence: what was asked is taken for lost, and the first pages still missing are asked, a window of them. */
  private askPagesAgain(s: SnapshotInProgress): SyncRequest | undefined {
    s.outstanding.clear();
    s.nextPage = 0;
    return this.askNextPages(s);
  }

  /** The next pages in order, as many as the window has room for. */
  private askNextPages(s: SnapshotInProgress): SyncRequest | undefined {
    const next: number[] = [];
    for (; s.nextPage < s.pages && s.outstanding.size < pageWindow; s.nextPage++) {
      if (s.received.has(s.nextPage)) continue;
      next.push(s.nextPage);
      s.outstanding.add(s.nextPage);
    }
    return next.length === 0 ? undefined : { kind: 'pages', atSeq: s.atSeq ?? 0, pages: next };
  }

  private finishSnapshot(s: SnapshotInProgress, epoch: number): void {
    this.shadow.replaceWith(s.staging);
    this.epoch = epoch;
    this.shadowSeq = this.appliedSeq;
    this.peerSeq = Math.max(this.peerSeq, this.appliedSeq);
    this.snapshot = undefined;
    this.snapshots++;
    this.drainHeld();
  }

  private hold(b: SyncBatch): undefined {
    this.held.set(b.seq, b);
    // Past the bound the newest goes: the oldest are the next to apply.
    if (this.held.size > heldBatchesMax + 1) this.held.delete(Math.max(...this.held.keys()));
    return undefined;
  }

  private drainHeld(): void {
    for (let next = this.held.get(this.appliedSeq + 1); next !== undefined; next = this.held.get(this.appliedSeq + 1)) {
      this.held.delete(next.seq);
      this.applyBatch(next);
    }
  }

  private applyBatch(b: SyncBatch): void {
    const s = this.snapshot;
    if (s === undefined) {
      for (const change of b.changes) this.shadow.apply(change);
      this.shadowSeq = b.seq;
    } else {
      for (const change of b.changes) {
        s.staging.apply(change);
        s.touched.set(entryKey(change.kind === 'upsert' ? change.entry : change.key), b.seq);
      }
    }
    this.appliedSeq = b.seq;
    this.lastProgressMs = this.clock.nowMs();
  }
}
