// The worst level a value has had over the last `holdMs`: a worse level counts at once, a
// better one only once it has lasted `holdMs`. This is the hold time of host health — a
// host that was red is fit again only after it has stayed acceptable that long — and it
// serves a FAULT flag (0/1) and a priority penalty alike.
//
// Kept as a monotonic deque (the sliding-window maximum): entries from oldest to newest
// with strictly falling levels; an older entry no worse than a newer one can never be the
// worst again, since the newer one lasts at least as long. The front is the answer.
// Levels come from a finite set, so the deque is bounded by how many distinct levels
// there are (`levelsMax`).
import { invariant } from '../common/invariant';

interface Entry {
  readonly level: number;
  /** When the value stopped being at this level; undefined for the current one. */
  endMs?: number;
}

export class WorstWindow {
  private readonly entries: Entry[];

  constructor(
    private holdMs: number,
    initial: number,
    private readonly levelsMax: number,
  ) {
    invariant(holdMs >= 0, 'hold time is not negative');
    this.entries = [{ level: initial }];
  }

  /** A new hold time (a reload): what is held now is measured against it. */
  setHold(holdMs: number): void {
    invariant(holdMs >= 0, 'hold time is not negative');
    this.holdMs = holdMs;
  }

  /** Forgets everything held: the value is `level`, and nothing worse is remembered. */
  reset(level: number): void {
    this.entries.length = 0;
    this.entries.push({ level });
  }

  /** The value is now `level` (from `nowMs` on). */
  set(level: number, nowMs: number): void {
    const current = this.entries[this.entries.length - 1] as Entry;
    if (current.level === level) return;
    current.endMs = nowMs;
    while (this.entries.length > 0 && (this.entries[this.entries.length - 1] as Entry).level <= level) this.entries.pop();
    this.entries.push({ level });
    invariant(this.entries.length <= this.levelsMax, `at most ${this.levelsMax} levels held`);
    this.expire(nowMs);
  }

  /** The worst level within the last `holdMs` at `nowMs`. */
  worst(nowMs: number): number {
    this.expire(nowMs);
    return (this.entries[0] as Entry).level;
  }

  /** When `worst` next improves if the value stays as it is; undefined when it cannot. */
  nextChangeMs(): number | undefined {
    const front = this.entries[0] as Entry;
    return front.endMs === undefined ? undefined : front.endMs + this.holdMs;
  }

  private expire(nowMs: number): void {
    // An entry that ended exactly holdMs ago has been beaten for the whole hold time.
    while (this.entries.length > 1 && ((this.entries[0] as Entry).endMs ?? Number.POSITIVE_INFINITY) + this.holdMs <= nowMs) this.entries.shift();
  }
}
