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

/** Told of what replication must carry: entries made, changed or refreshed, and gone. */
export interface ConnObserver {
  changed(conn: Connection): void;
  removed(conn: Connection): void;
}

export class ConnTable {
  private readonly byVirtual = new Map<string, Map<number | string, Connection>>();
  /** Slot number → first entry of that slot's list. */
  private readonly wheel = new Map<number, Connection>();
  private lastSlot: number;
  private count = 0;
  private lastVirtual: { readonly protocol: ConnProtocol; readonly vaddr: string; readonly vport: number; readonly clients: Map<number | string, Connection> } | undefined;
  observer: ConnObserver | undefined;

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
    return this.virtualClients(protocol, vaddr, vport)?.get(clientKey(caddr, cport));
  }

  /** A virtual service's entries. Lookups come in runs for one service: the last one's are kept at hand. */
  private virtualClients(protocol: ConnProtocol, vaddr: string, vport: number): Map<number | string, Connection> | undefined {
    const last = this.lastVirtual;
    if (last !== undefined && last.vport === vport && last.vaddr === vaddr && last.protocol === protocol) return last.clients;
    const clients = this.byVirtual.get(virtualKey(protocol, vaddr, vport));
    if (clients !== undefined) this.lastVirtual = { protocol, vaddr, vport, clients };
    return clients;
  }

  /**
   * False at the table's bound: the caller drops the packet, as the kernel does without
   * memory. `lifeMs` is how long until it expires: its timeout, unless it arrives from
   * another director with less left.
   */
  add(conn: Connection, nowMs: number, lifeMs = conn.timeoutMs): boolean {
    if (this.count >= this.entriesMax) return false;
    let clients = this.virtualClients(conn.protocol, conn.vaddr, conn.vport);
    if (clients === undefined) {
      clients = new Map();
      this.byVirtual.set(conn.virtualKey, clients);
    }
    clients.set(conn.clientKey, conn);
    this.count++;
    conn.dest.bindConnection(conn.countKind());
    this.rearm(conn, nowMs, lifeMs);
    return true;
  }

  /**
   * Restarts the entry's timer with its current timeout. Replication hears of it when
   * its state `changed`, or when the timer moved by a quarter of the timeout since it
   * last heard (a new entry at once), so a copy never runs out more than that much
   * before the entry itself.
   */
  rearm(conn: Connection, nowMs: number, lifeMs = conn.timeoutMs, changed = false): void {
    conn.expiresAtMs = nowMs + lifeMs;
    if (this.observer !== undefined && (changed || conn.expiresAtMs - conn.syncedExpiresAtMs >= conn.timeoutMs / 4)) {
      conn.syncedExpiresAtMs = conn.expiresAtMs;
      this.observer.changed(conn);
    }
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
    if (this.unindex(conn)) this.observer?.removed(conn);
    conn.invalidated = true;
  }

  /** Still in the table (not expired or removed, nor a hidden template). */
  holds(conn: Connection): boolean {
    return conn.wheelSlot !== -1 && !conn.invalidated;
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

  /** False when it was not found by its key (a hidden template). */
  private unindex(conn: Connection): boolean {
    const clients = this.byVirtual.get(conn.virtualKey);
    if (clients?.get(conn.clientKey) !== conn) return false;
    clients.delete(conn.clientKey);
    if (clients.size === 0) {
      this.byVirtual.delete(conn.virtualKey);
      if (this.lastVirtual?.clients === clients) this.lastVirtual = undefined;
    }
    return true;
  }

  private unlink(conn: Connection): void {
    if (this.unindex(conn)) this.observer?.removed(conn);
    this.count--;
    if (conn.control !== null) {
      conn.control.controlled--;
      conn.control = null;
    }
    conn.dest.unbindConnection(conn.countKind());
  }
}
