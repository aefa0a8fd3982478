// How the kernel plane picks a real server for a new connection, derived from the engine's
// scheduler: an nftables map from a number to a destination's mark, the number drawn per
// new connection by `numgen inc` (rr, wrr: the engine's own order, so exact), by `jhash`
// of the flow (sh, dh, mh: the engine's bucket or Maglev table, so every director with the
// same seed maps a flow alike, though not to the kernel IPVS bucket, which hashes with
// hash_32), or by `numgen random` (weighted shares). The connection-counting schedulers
// cannot be followed packet by packet in nftables; given the real servers' counts as the
// kernel last reported them, a counting scheduler's map is the engine's own choices for the
// next round of new connections, in order: its scheduler is run for that many picks over
// the counts, each pick counted as a new active connection. Without counts, the shares
// follow the weights.
import type { Destination } from '../../destination';
import { DestinationHashScheduler, hashTableSize, SourceHashScheduler } from '../../schedulers/hashing';
import { MaglevScheduler, maglevTableSize } from '../../schedulers/maglev';
import { RoundRobinScheduler } from '../../schedulers/rr';
import { LeastConnectionScheduler, NeverQueueScheduler, ShortestExpectedDelayScheduler, WeightedLeastConnectionScheduler } from '../../schedulers/least-connection';
import { isSchedulable, type PacketFacts, type Scheduler, type SchedulerName } from '../../schedulers/scheduler';
import { WeightedFailoverScheduler, WeightedOverflowScheduler } from '../../schedulers/weighted-choice';
import { WeightedRoundRobinScheduler } from '../../schedulers/wrr';
import { parseIpAddr, type IpAddr } from '../../address';
import type { VirtualService } from '../../service';
import { addressBytes, nftJhash } from './jhash';

/** What is hashed, for the hashing schedulers. */
export type HashInput = 'source' | 'source-port' | 'destination';

export type ScheduleDraw =
  | { readonly kind: 'sequence' }
  | { readonly kind: 'random' }
  | { readonly kind: 'hash'; readonly input: HashInput };

/** A run of consecutive numbers [from, to] that map to one destination. */
export interface Slot {
  readonly from: number;
  readonly to: number;
  readonly dest: Destination;
}

export interface ScheduleMap {
  readonly draw: ScheduleDraw;
  /** The numbers drawn are 0 .. modulus − 1. */
  readonly modulus: number;
  /** Numbers not in any slot pick no one (a quiescent bucket): no new connection there. */
  readonly slots: readonly Slot[];
  /** True when the map makes the kernel IPVS scheduler's choices exactly, in order. */
  readonly exact: boolean;
}

/** A sequence longer than this is drawn as weighted intervals instead (same shares, not the same order). */
export const sequenceMax = 4096;

const anyAddress = parseIpAddr('0.0.0.0') as IpAddr;
/** rr and wrr do not read the packet. */
const anyPacket: PacketFacts = { saddr: anyAddress, sport: 0, daddr: anyAddress, dport: 0 };

/** The schedulers whose choice follows the real servers' connection counts. */
const countingSchedulers: Partial<Record<SchedulerName, () => Scheduler>> = {
  lc: () => new LeastConnectionScheduler(),
  wlc: () => new WeightedLeastConnectionScheduler(),
  sed: () => new ShortestExpectedDelayScheduler(),
  nq: () => new NeverQueueScheduler(),
  fo: () => new WeightedFailoverScheduler(),
  ovf: () => new WeightedOverflowScheduler(),
  // Locality aside (the map has no destination address to keep), both are wlc.
  lblc: () => new WeightedLeastConnectionScheduler(),
  lblcr: () => new WeightedLeastConnectionScheduler(),
};

/** Whether a service's map follows its real servers' counts, so it is drawn again as they change. */
export function followsLoad(svc: VirtualService): boolean {
  return countingSchedulers[svc.settings.scheduler] !== undefined;
}

/**
 * The schedule of a service's new connections as an nftables map; undefined when no one can
 * take one. `picks`: for a counting scheduler, how many new connections the map is drawn
 * for, over the counts the destinations hold now.
 */
export function scheduleMap(svc: VirtualService, picks?: number): ScheduleMap | undefined {
  const schedulable = svc.destinations.filter(isSchedulable);
  const name = svc.settings.scheduler;
  if (name === 'sh' || name === 'mh') {
    const input: HashInput = svc.flags.flag2 ? 'source-port' : 'source';
    return hashedMap(svc, input);
  }
  if (name === 'dh') return hashedMap(svc, 'destination');
  if (schedulable.length === 0) return undefined;
  if (name === 'rr' || name === 'wrr') {
    const g = schedulable.reduce((a, d) => gcd(a, d.weight), 0);
    const period = name === 'rr' ? schedulable.length : schedulable.reduce((n, d) => n + d.weight / g, 0);
    if (period <= sequenceMax) return sequenceMap(svc, name, period);
  }
  const counting = countingSchedulers[name];
  if (counting !== undefined && picks !== undefined) return loadMap(svc, counting(), Math.max(1, Math.min(sequenceMax, Math.round(picks))));
  if (name === 'fo' || name === 'ovf') {
    // Both send every new connection to the highest weight while it has room.
    const top = schedulable.reduce((best, d) => (d.weight > best.weight ? d : best));
    return { draw: { kind: 'random' }, modulus: 1, slots: [{ from: 0, to: 0, dest: top }], exact: false };
  }
  return weightedMap(schedulable);
}

/**
 * The scheduler's next `picks` choices over the counts now, in order: drawn by sequence, the
 * kernel makes the engine's own choices connection by connection until the counts are read
 * again and the map is drawn anew (a new rule's sequence starts at its first number).
 */
function loadMap(svc: VirtualService, scheduler: Scheduler, picks: number): ScheduleMap | undefined {
  const chosen: Destination[] = [];
  try {
    for (let i = 0; i < picks; i++) {
      const dest = scheduler.schedule(svc, anyPacket);
      if (dest === null) break;
      dest.activeConns++;
      chosen.push(dest);
    }
  } finally {
    for (const dest of chosen) dest.activeConns--;
  }
  return chosen.length === 0 ? undefined : { draw: { kind: 'sequence' }, modulus: chosen.length, slots: runs(chosen), exact: false };
}

/** A fresh scheduler's picks over one period, as the engine would make them after a rebuild. */
function sequenceMap(svc: VirtualService, name: 'rr' | 'wrr', period: number): ScheduleMap | undefined {
  const fresh: Scheduler = name === 'rr' ? new RoundRobinScheduler() : new WeightedRoundRobinScheduler(svc);
  const picks: Destination[] = [];
  for (let i = 0; i < period; i++) {
    const dest = fresh.schedule(svc, anyPacket);
    if (dest === null) return undefined;
    picks.push(dest);
  }
  return { draw: { kind: 'sequence' }, modulus: period, slots: runs(picks), exact: true };
}

function hashedMap(svc: VirtualService, input: HashInput): ScheduleMap | undefined {
  const table = svc.scheduler;
  if (!(table instanceof MaglevScheduler || table instanceof SourceHashScheduler || table instanceof DestinationHashScheduler)) return undefined;
  const size = table instanceof MaglevScheduler ? maglevTableSize : hashTableSize;
  const at = (i: number): Destination | null => (table instanceof MaglevScheduler ? table.slot(i) : table.bucket(i));
  const buckets: Array<Destination | null> = [];
  for (let i = 0; i < size; i++) {
    const dest = at(i);
    buckets.push(dest !== null && isSchedulable(dest) ? dest : null);
  }
  if (svc.flags.flag1) fillFallback(buckets);
  const slots = runs(buckets);
  return slots.length === 0 ? undefined : { draw: { kind: 'hash', input }, modulus: size, slots, exact: false };
}

/** sh-fallback and mh-fallback: an unusable bucket takes the next usable one in the table, wrapping. */
function fillFallback(buckets: Array<Destination | null>): void {
  const n = buckets.length;
  const usable = [...buckets];
  let next: Destination | null = null;
  for (let k = 2 * n - 1; k >= 0; k--) {
    const i = k % n;
    const own = usable[i] ?? null;
    if (own !== null) next = own;
    else if (k < n) buckets[i] = next;
  }
}

function weightedMap(schedulable: readonly Destination[]): ScheduleMap {
  const g = schedulable.reduce((a, d) => gcd(a, d.weight), 0);
  const slots: Slot[] = [];
  let from = 0;
  for (const dest of schedulable) {
    const share = dest.weight / g;
    slots.push({ from, to: from + share - 1, dest });
    from += share;
  }
  return { draw: { kind: 'random' }, modulus: from, slots, exact: false };
}

/** Consecutive equal entries as runs; null entries are left out. */
function runs(entries: ReadonlyArray<Destination | null>): Slot[] {
  const slots: Slot[] = [];
  let start = 0;
  for (let i = 1; i <= entries.length; i++) {
    if (i < entries.length && entries[i] === entries[start]) continue;
    const dest = entries[start];
    if (dest !== null && dest !== undefined) slots.push({ from: start, to: i - 1, dest });
    start = i;
  }
  return slots;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * The destination a hashed map gives a client, as the kernel computes it: jhash of the
 * register bytes (the address in network order; with the port, the port's two bytes
 * and two of padding), scaled into the modulus. For tests and `-L` of the kernel plane.
 */
export function hashedPick(map: ScheduleMap, seed: number, addr: IpAddr, port = 0): Destination | undefined {
  if (map.draw.kind !== 'hash') return undefined;
  const address = addressBytes(addr.words);
  const bytes = map.draw.input === 'source-port' ? Uint8Array.from([...address, (port >>> 8) & 0xff, port & 0xff, 0, 0]) : address;
  const n = nftJhash(bytes, map.modulus, seed);
  return map.slots.find((s) => s.from <= n && n <= s.to)?.dest;
}
