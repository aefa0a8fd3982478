// Locality-based least-connection (ip_vs_lblc.c) and its replicating variant
// (ip_vs_lblcr.c): the packet's destination address (the cache object's server) maps to
// the real server chosen for it before, or to a set of them, so a cache cluster keeps its
// hit rate. A mapping is redone by weighted least-connection when its server is gone,
// quiescent, or busier than its weight while another is under half of its own.
// Stale mappings are collected as the kernel does: a check every minute, a full sweep of
// entries unused for `expirationMs` every 30 checks, and when the table outgrows 16
// entries per bucket, mappings unused for six minutes go first.
import type { Clock } from '../../common/clock';
import type { Destination } from '../destination';
import { WeightedLeastConnectionScheduler } from './least-connection';
import type { PacketFacts, ScheduledService, Scheduler } from './scheduler';

export const localityCheckIntervalMs = 60_000;
export const localityEntryTimeoutMs = 6 * 60_000;
export const localityExpirationDefaultMs = 24 * 3_600_000;
const fullCheckEvery = 30;
const tableSize = 1024;
export const localityEntriesMax = tableSize * 16;
const checksPerCallMax = 10_000;

const wlc = new WeightedLeastConnectionScheduler();

/** Busier than its weight while some destination is under half of its own. */
function isOverloaded(dest: Destination, svc: ScheduledService): boolean {
  if (dest.activeConns <= dest.weight) return false;
  return svc.destinations.some((d) => d.activeConns * 2 < d.weight);
}

interface Entry {
  lastUseMs: number;
}

/** The table and its garbage collection, shared by lblc and lblcr. */
abstract class LocalityScheduler<E extends Entry> implements Scheduler {
  abstract readonly name: 'lblc' | 'lblcr';
  protected readonly entries = new Map<string, E>();
  private counter = 1;
  private nextCheckMs: number;

  constructor(
    protected readonly clock: Clock,
    protected readonly expirationMs = localityExpirationDefaultMs,
  ) {
    this.nextCheckMs = clock.nowMs() + localityCheckIntervalMs;
  }

  abstract schedule(svc: ScheduledService, packet: PacketFacts): Destination | null;

  destAdded(): void {}
  destRemoved(): void {}
  destUpdated(): void {}

  get size(): number {
    return this.entries.size;
  }

  /** Runs the periodic checks that fell due (the kernel's timer, on our clock). */
  protected collect(now: number): void {
    for (let n = 0; this.nextCheckMs <= now && n < checksPerCallMax; n++) {
      this.check(this.nextCheckMs);
      this.nextCheckMs += localityCheckIntervalMs;
    }
    if (this.nextCheckMs <= now) this.nextCheckMs = now + localityCheckIntervalMs;
  }

  private check(now: number): void {
    if (this.counter % fullCheckEvery === 0) {
      for (const [key, e] of this.entries) if (now >= e.lastUseMs + this.expirationMs) this.entries.delete(key);
      this.counter = 1;
      return;
    }
    if (this.entries.size <= localityEntriesMax) {
      this.counter++;
      return;
    }
    let goal = Math.min(Math.floor(((this.entries.size - localityEntriesMax) * 4) / 3), localityEntriesMax / 2);
    for (const [key, e] of this.entries) {
      if (goal <= 0) break;
      if (now < e.lastUseMs + localityEntryTimeoutMs) continue;
      this.entries.delete(key);
      goal--;
    }
  }
}

export class LocalityLeastConnectionScheduler extends LocalityScheduler<Entry & { dest: Destination }> {
  readonly name = 'lblc';

  schedule(svc: ScheduledService, packet: PacketFacts): Destination | null {
    const now = this.clock.nowMs();
    this.collect(now);
    const key = packet.daddr.text;
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.lastUseMs = now;
      const d = entry.dest;
      if (d.available && d.weight > 0 && !isOverloaded(d, svc)) return d;
    }
    const dest = wlc.schedule(svc);
    if (dest === null) return null;
    if (entry !== undefined && entry.dest === dest) return dest;
    this.entries.delete(key);
    this.entries.set(key, { dest, lastUseMs: now });
    return dest;
  }
}

interface DestinationSet extends Entry {
  /** Newest first, as the kernel inserts. */
  members: Destination[];
  lastModMs: number;
}

export class LocalityReplicationScheduler extends LocalityScheduler<DestinationSet> {
  readonly name = 'lblcr';

  schedule(svc: ScheduledService, packet: PacketFacts): Destination | null {
    const now = this.clock.nowMs();
    this.collect(now);
    const key = packet.daddr.text;
    const set = this.entries.get(key);
    if (set === undefined) {
      const dest = wlc.schedule(svc);
      if (dest === null) return null;
      this.entries.set(key, { members: [dest], lastModMs: now, lastUseMs: now });
      return dest;
    }
    set.lastUseMs = now;
    const least = setMin(set.members);
    // A set that has not changed for the expiration time sheds its busiest member.
    if (set.members.length > 1 && now > set.lastModMs + this.expirationMs) {
      const most = setMax(set.members);
      if (most !== null) {
        set.members.splice(set.members.indexOf(most), 1);
        set.lastModMs = now;
      }
    }
    if (least !== null && !isOverloaded(least, svc)) return least;
    const dest = wlc.schedule(svc);
    if (dest === null) return null;
    if (!set.members.includes(dest)) {
      set.members.unshift(dest);
      set.lastModMs = now;
    }
    return dest;
  }
}

/** Weighted least-connection within a set; deleted destinations never win. */
function setMin(members: readonly Destination[]): Destination | null {
  let i = 0;
  while (i < members.length) {
    const d = members[i] as Destination;
    if (!d.overloaded && d.weight > 0 && d.available) break;
    i++;
  }
  if (i === members.length) return null;
  let least = members[i] as Destination;
  let loh = least.connOverhead();
  for (i++; i < members.length; i++) {
    const d = members[i] as Destination;
    if (d.overloaded) continue;
    const doh = d.connOverhead();
    if (loh * d.weight > doh * least.weight && d.available) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/** Weighted most-connection within a set: the member to shed. */
function setMax(members: readonly Destination[]): Destination | null {
  let i = members.findIndex((d) => d.weight > 0);
  if (i === -1) return null;
  let most = members[i] as Destination;
  let moh = most.connOverhead();
  for (i++; i < members.length; i++) {
    const d = members[i] as Destination;
    const doh = d.connOverhead();
    if (moh * d.weight < doh * most.weight && d.weight > 0) {
      most = d;
      moh = doh;
    }
  }
  return most;
}
