// The connection table: entries by key, and an expiry wheel of one-second slots so that
// each tick touches only what falls due (O(expired), never a scan of the table). Expiry
// follows ip_vs_conn_expire: a template that still controls connections is not removed
// but re-armed for 60 s, and an expired entry releases its destination counters.
import { Connection } from './connection';

/** A template still in use is looked at again this much later (the kernel's expire_later). */
export const expireLaterMs = 60_000;
const slotMs = 1000;
export const connEntriesMaxDefault = 2_000_000;

export class ConnTable {
  private readonly byKey = new Map<string, Connection>();
  private readonly wheel = new Map<number, Set<Connection>>();
  private lastSlot: number;
  private count = 0;

  constructor(
    nowMs: number,
    readonly entriesMax = connEntriesMaxDefault,
  ) {
    this.lastSlot = Math.floor(nowMs / slotMs);
  }

  get size(): number {
    return this.count;
  }

  get(key: string): Connection | undefined {
    return this.byKey.get(key);
  }

  /** False at the table's bound: the caller drops the packet, as the kernel does without memory. */
  add(conn: Connection, nowMs: number): boolean {
    if (this.count >= this.entriesMax) return false;
    this.byKey.set(conn.key, conn);
    this.count++;
    this.rearm(conn, nowMs);
    if (conn.dest !== null) conn.dest.bindConnection(conn.countKind());
    return true;
  }

  /** Restarts the entry's timer with its current timeout. */
  rearm(conn: Connection, nowMs: number): void {
    conn.expiresAtMs = nowMs + conn.timeoutMs;
    const slot = Math.max(Math.floor(conn.expiresAtMs / slotMs), this.lastSlot);
    if (slot === conn.wheelSlot) return;
    this.wheel.get(conn.wheelSlot)?.delete(conn);
    let set = this.wheel.get(slot);
    if (set === undefined) {
      set = new Set();
      this.wheel.set(slot, set);
    }
    set.add(conn);
    conn.wheelSlot = slot;
  }

  /** An invalidated template is no longer found, but keeps its timer and its place. */
  hide(conn: Connection): void {
    if (this.byKey.get(conn.key) === conn) this.byKey.delete(conn.key);
    conn.invalidated = true;
  }

  /** Expires every entry due by `nowMs`; returns them. */
  expire(nowMs: number): Connection[] {
    const expired: Connection[] = [];
    const target = Math.floor(nowMs / slotMs);
    for (let slot = this.lastSlot; slot <= target; slot++) {
      const set = this.wheel.get(slot);
      if (set === undefined) continue;
      for (const conn of set) {
        if (conn.expiresAtMs > nowMs) continue;
        set.delete(conn);
        conn.wheelSlot = -1;
        if (this.expireOne(conn, nowMs)) expired.push(conn);
      }
      if (set.size === 0) this.wheel.delete(slot);
    }
    this.lastSlot = target;
    return expired;
  }

  /** Removes at once (ipvsadm -d of a destination with expire_nodest_conn, or a flush). */
  remove(conn: Connection): void {
    this.wheel.get(conn.wheelSlot)?.delete(conn);
    conn.wheelSlot = -1;
    this.unlink(conn);
  }

  *entries(): IterableIterator<Connection> {
    for (const set of this.wheel.values()) yield* set;
  }

  private expireOne(conn: Connection, nowMs: number): boolean {
    if (conn.controlled > 0) {
      conn.timeoutMs = expireLaterMs;
      this.rearm(conn, nowMs);
      return false;
    }
    this.unlink(conn);
    return true;
  }

  private unlink(conn: Connection): void {
    if (this.byKey.get(conn.key) === conn) this.byKey.delete(conn.key);
    this.count--;
    if (conn.control !== null) {
      conn.control.controlled--;
      conn.control = null;
    }
    if (conn.dest !== null) conn.dest.unbindConnection(conn.countKind());
  }
}
