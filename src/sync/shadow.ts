// A backup's copy of the master's connection table: entries by key, each with when it
// expires on this node's own clock (now + the remaining time it arrived with), bounded
// in size. On promotion its live entries, with what time they have left, are what the
// new master loads before its VIPs come up.
import type { Clock } from '../common/clock';
import { entryKey, type SyncChange, type SyncEntry } from './entry';

interface Shadowed {
  readonly entry: SyncEntry;
  readonly expiresAtMs: number;
}

export class ShadowTable {
  private readonly entries = new Map<string, Shadowed>();
  /** Entries refused at the bound. */
  refused = 0;

  constructor(
    private readonly clock: Clock,
    readonly entriesMax: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  apply(change: SyncChange): void {
    if (change.kind === 'expire') {
      this.entries.delete(entryKey(change.key));
      return;
    }
    const key = entryKey(change.entry);
    if (!this.entries.has(key) && this.entries.size >= this.entriesMax) {
      this.refused++;
      return;
    }
    this.entries.set(key, { entry: change.entry, expiresAtMs: this.clock.nowMs() + change.entry.remainingMs });
  }

  clear(): void {
    this.entries.clear();
  }

  /** Drops what has expired by now; returns how many. */
  sweep(): number {
    const now = this.clock.nowMs();
    let dropped = 0;
    for (const [key, s] of this.entries) {
      if (s.expiresAtMs <= now) {
        this.entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  /** The live entries with the time they have left now: what a promoted backup loads. */
  live(): SyncEntry[] {
    const now = this.clock.nowMs();
    const out: SyncEntry[] = [];
    for (const s of this.entries.values()) if (s.expiresAtMs > now) out.push({ ...s.entry, remainingMs: s.expiresAtMs - now });
    return out;
  }

  get(key: string): SyncEntry | undefined {
    const s = this.entries.get(key);
    return s === undefined || s.expiresAtMs <= this.clock.nowMs() ? undefined : { ...s.entry, remainingMs: s.expiresAtMs - this.clock.nowMs() };
  }
}
