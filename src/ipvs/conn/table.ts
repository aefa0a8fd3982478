// The connection table: entries found by virtual service key, then by client; an expiry
// wheel of one-second slots, each a list threaded through its entries, so that a tick
// touches only what falls due (O(expired), never a scan of the table). Expiry follows
// ip_vs_conn_expire: a template that still controls connections is not removed but
// re-armed for 60 s, and an expired entry releases its destination counters.
import type { IpAddr } from '../address';
import { clientKey, virtualKey, type Connection, type ConnProtocol } from './connection';

/** A template still in use is looked at again this much later (the kernel's expire_later). */
export const expireLaterMs = 60_000;
const slotMs = 1000;
export const connEntriesMaxDefault = 2_000_000;

export class ConnTable {
  private readonly byVirtual = new Map<string, Map<number | string, Connection>>();
  /** Slot number → first entry of that slot's list. */
  private readonly wheel = new Map<number, Connection>();
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

  lookup(protocol: ConnProtocol, caddr: IpAddr, cport: number, vaddr: string, vport: number): Connection | undefined {
    return this.byVirtual.get(virtualKey(protocol, vaddr, vport))?.get(clientKey(caddr, cport));
  }

  /** False at the table's bound: the caller drops the packet, as the kernel does without memory. */
  add(conn: Connection, nowMs: number): boolean {
    if (this.count >= this.entriesMax) return false;
    let clients = this.byVirtual.get(conn.virtualKey);
    if (clients === undefined) {
      clients = new Map();
      this.byVirtual.set(conn.virtualKey, clients);
    }
    clients.set(conn.clientKey, conn);
    this.count++;
    this.rearm(conn, nowMs);
    conn.dest.bindConnection(conn.countKind());
    return true;
  }

  /** Restarts the entry's timer with its current timeout. */
  rearm(conn: Connection, nowMs: number): void {
    conn.expiresAtMs = nowMs + conn.timeoutMs;
    const slot = Math.max(Math.floor(conn.expiresAtMs / slotMs), this.lastSlot);
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
    this.unindex(conn);
    conn.invalidated = true;
  }

  /** Expires every entry due by `nowMs`; returns them. */
  expire(nowMs: number): Connection[] {
    const expired: Connection[] = [];
    const target = Math.floor(nowMs / slotMs);
    for (let slot = this.lastSlot; slot <= target; slot++) {
      let conn = this.wheel.get(slot) ?? null;
      while (conn !== null) {
        const next = conn.wheelNext;
        if (conn.expiresAtMs <= nowMs) {
          this.unthread(conn);
          if (this.expireOne(conn)) expired.push(conn);
        }
        conn = next;
      }
    }
    this.lastSlot = target;
    return expired;
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
      this.rearm(conn, conn.expiresAtMs);
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

  private unindex(conn: Connection): void {
    const clients = this.byVirtual.get(conn.virtualKey);
    if (clients?.get(conn.clientKey) !== conn) return;
    clients.delete(conn.clientKey);
    if (clients.size === 0) this.byVirtual.delete(conn.virtualKey);
  }

  private unlink(conn: Connection): void {
    this.unindex(conn);
    this.count--;
    if (conn.control !== null) {
      conn.control.controlled--;
      conn.control = null;
    }
    conn.dest.unbindConnection(conn.countKind());
  }
}
