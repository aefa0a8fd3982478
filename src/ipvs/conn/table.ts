// The connection table: entries found by virtual service key, then by client; an expiry
// wheel of one-second slots, each a list threaded through its entries, so that a tick
// touches only what falls due (O(expired), never a scan of the table). Expiry follows
// ip_vs_conn_expire: a template that still controls connections is not removed but
// re-armed for 60 s, and an expired entry releases its destination counters.
import type { IpAddr } from '../address';
import { neverSynced, type Connection, type ConnProtocol } from './connection';
import { VirtualGroup } from './virtual-group';

/** A template still in use is looked at again this much later (the kernel's expire_later). */
export const expireLaterMs = 60_000;
const slotMs = 1000;
export const connEntriesMaxDefault = 2_000_000;
/**
 * Entries count time from the table's origin, which moves up this often (12 days), so that
 * their times stay small integers: one past 2^31 would make V8 box every entry's times.
 */
export const rebaseAfterMs = 2 ** 30;

/** Told of what replication must carry: entries made, changed or refreshed, and gone. */
export interface ConnObserver {
  changed(conn: Connection): void;
  removed(conn: Connection): void;
}

export class ConnTable {
  /**
   * Virtual service keys and their entries. A group outlives its last entry: there are
   * as many as the services' keys (and their templates' keys), and an entry made for a
   * group stays sure to be found through it.
   */
  private readonly groups = new Map<string, VirtualGroup>();
  private lastGroup: VirtualGroup | undefined;
  /** Slot number → first entry of that slot's list; slots and entries' expiry count from `originMs`. */
  private wheel = new Map<number, Connection>();
  private originMs: number;
  private lastSlot = 0;
  private count = 0;
  observer: ConnObserver | undefined;

  constructor(
    nowMs: number,
    readonly entriesMax = connEntriesMaxDefault,
  ) {
    this.originMs = Math.floor(nowMs);
  }

  get size(): number {
    return this.count;
  }

  lookup(protocol: ConnProtocol, caddr: IpAddr, cport: number, vaddr: string, vport: number): Connection | undefined {
    return this.findGroup(protocol, vaddr, vport)?.get(caddr, cport);
  }

  /** The group new entries of a virtual service key are made in. */
  group(protocol: ConnProtocol, vaddr: string, vport: number): VirtualGroup {
    let group = this.findGroup(protocol, vaddr, vport);
    if (group === undefined) {
      group = new VirtualGroup(protocol, vaddr, vport, this.originMs);
      this.groups.set(groupKey(protocol, vaddr, vport), group);
      this.lastGroup = group;
    }
    return group;
  }

  /** Lookups come in runs for one service: the last group is kept at hand. */
  private findGroup(protocol: ConnProtocol, vaddr: string, vport: number): VirtualGroup | undefined {
    const last = this.lastGroup;
    if (last !== undefined && last.vport === vport && last.vaddr === vaddr && last.protocol === protocol) return last;
    const group = this.groups.get(groupKey(protocol, vaddr, vport));
    if (group !== undefined) this.lastGroup = group;
    return group;
  }

  /**
   * False at the table's bound: the caller drops the packet, as the kernel does without
   * memory. `lifeMs` is how long until it expires: its timeout, unless it arrives from
   * another director with less left. The entry's group is one this table made.
   */
  add(conn: Connection, nowMs: number, lifeMs = conn.timeoutMs): boolean {
    if (this.count >= this.entriesMax) return false;
    conn.group.set(conn);
    this.count++;
    conn.dest.bindConnection(conn.countKind());
    this.rearm(conn, nowMs, lifeMs);
    return true;
  }

  /**
   * Restarts the entry's timer with its current timeout, rounded up to a whole ms.
   * Replication hears of it when its state `changed`, or when the timer moved by a
   * quarter of the timeout since it last heard (a new entry at once), so a copy never
   * runs out more than that much before the entry itself.
   */
  rearm(conn: Connection, nowMs: number, lifeMs = conn.timeoutMs, changed = false): void {
    conn.expiry = Math.ceil(nowMs - this.originMs + lifeMs);
    if (this.observer !== undefined && (changed || conn.expiry - conn.syncedExpiry >= conn.timeoutMs / 4)) {
      conn.syncedExpiry = conn.expiry;
      this.observer.changed(conn);
    }
    const slot = Math.max(Math.floor(conn.expiry / slotMs), this.lastSlot);
    if (slot === conn.wheelSlot) return;
    this.unthread(conn);
    const head = this.wheel.get(slot) ?? null;
    conn.wheelNext = head;
    if (head !== null) head.wheelPrev = conn;
    this.wheel.set(slot, conn);
    conn.wheelSlot = slot;
  }

  /** An invalidated template is no longer found, but keeps its timer and its place. */
  hide(conn: Connection): void {
    if (conn.group.delete(conn)) this.observer?.removed(conn);
    conn.invalidated = true;
  }

  /** Still in the table (not expired or removed, nor a hidden template). */
  holds(conn: Connection): boolean {
    return conn.wheelSlot !== -1 && !conn.invalidated;
  }

  /** Expires every entry due by `nowMs`; returns them. */
  expire(nowMs: number): Connection[] {
    const expired: Connection[] = [];
    const now = nowMs - this.originMs;
    const target = Math.floor(now / slotMs);
    for (let slot = this.lastSlot; slot <= target; slot++) {
      let conn = this.wheel.get(slot) ?? null;
      while (conn !== null) {
        const next = conn.wheelNext;
        if (conn.expiry <= now) {
          this.unthread(conn);
          if (this.expireOne(conn)) expired.push(conn);
        }
        conn = next;
      }
    }
    this.lastSlot = target;
    if (now >= rebaseAfterMs) this.rebase();
    return expired;
  }

  /** Moves the origin up to the current slot: every entry's times, every slot, shifted back. */
  private rebase(): void {
    const shiftSlots = this.lastSlot;
    const shiftMs = shiftSlots * slotMs;
    const wheel = new Map<number, Connection>();
    for (const [slot, head] of this.wheel) {
      wheel.set(slot - shiftSlots, head);
      for (let c: Connection | null = head; c !== null; c = c.wheelNext) {
        c.expiry -= shiftMs;
        c.syncedExpiry = Math.max(neverSynced, c.syncedExpiry - shiftMs);
        c.wheelSlot -= shiftSlots;
      }
    }
    this.wheel = wheel;
    this.lastSlot = 0;
    this.originMs += shiftMs;
    for (const group of this.groups.values()) group.originMs = this.originMs;
  }

  /** Removes at once (a flush, or a connection dropped with its real server). */
  remove(conn: Connection): void {
    this.unthread(conn);
    this.unlink(conn);
  }

  *entries(): IterableIterator<Connection> {
    for (const head of this.wheel.values()) {
      for (let c: Connection | null = head; c !== null; c = c.wheelNext) yield c;
    }
  }

  private expireOne(conn: Connection): boolean {
    if (conn.controlled > 0) {
      // From when its timer fell due, as the kernel's timer would have fired then.
      conn.timeoutMs = expireLaterMs;
      this.rearm(conn, this.originMs + conn.expiry);
      return false;
    }
    this.unlink(conn);
    return true;
  }

  private unthread(conn: Connection): void {
    if (conn.wheelSlot === -1) return;
    if (conn.wheelPrev !== null) conn.wheelPrev.wheelNext = conn.wheelNext;
    else if (conn.wheelNext !== null) this.wheel.set(conn.wheelSlot, conn.wheelNext);
    else this.wheel.delete(conn.wheelSlot);
    if (conn.wheelNext !== null) conn.wheelNext.wheelPrev = conn.wheelPrev;
    conn.wheelPrev = null;
    conn.wheelNext = null;
    conn.wheelSlot = -1;
  }

  private unlink(conn: Connection): void {
    if (conn.group.delete(conn)) this.observer?.removed(conn);
    this.count--;
    if (conn.control !== null) {
      conn.control.controlled--;
      conn.control = null;
    }
    conn.dest.unbindConnection(conn.countKind());
  }
}

function groupKey(protocol: ConnProtocol, vaddr: string, vport: number): string {
  return `${protocol}|${vaddr}|${vport}`;
}
