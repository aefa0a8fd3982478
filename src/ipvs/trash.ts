// The destination trash, as the kernel keeps it (ip_vs_ctl.c, dest_trash): a real server
// deleted from its service (by `ipvsadm -d`, or with the whole service) waits here with its
// connections and counters. Added again to the same virtual service (same protocol,
// address and port, or the same fwmark), it is taken back as it was, so lc, wlc and the
// ActiveConn column still count the connections it kept. A timer runs every 60 s while the
// trash holds anything; a destination no connection refers to is marked idle at one run
// and dropped at the first run 120 s after that.
import { destinationKey, type Destination } from './destination';
import type { IpAddr } from './address';

/** IP_VS_DEST_TRASH_PERIOD. */
export const trashPeriodMs = 120_000;

interface Trashed {
  readonly dest: Destination;
  /** When a run first found it unreferenced (the kernel's idle_start). */
  idleSinceMs: number | undefined;
}

export class DestinationTrash {
  private readonly entries = new Map<string, Trashed>();
  private nextRunMs: number | undefined;

  get size(): number {
    return this.entries.size;
  }

  /** A destination just unlinked from the service named `serviceKey`. */
  put(serviceKey: string, dest: Destination, nowMs: number): void {
    if (this.entries.size === 0) this.nextRunMs = nowMs + trashPeriodMs / 2;
    this.entries.set(trashKey(serviceKey, dest.address, dest.port), { dest, idleSinceMs: undefined });
  }

  /** ip_vs_trash_get_dest(): the destination this service had at that address and port, out of the trash. */
  take(serviceKey: string, address: IpAddr, port: number): Destination | undefined {
    const key = trashKey(serviceKey, address, port);
    const found = this.entries.get(key);
    if (found === undefined) return undefined;
    this.entries.delete(key);
    if (this.entries.size === 0) this.nextRunMs = undefined;
    return found.dest;
  }

  /** Runs the trash timer up to now: whatever has been idle for a whole period goes. */
  sweep(nowMs: number): void {
    for (let n = 0; this.nextRunMs !== undefined && this.nextRunMs <= nowMs && n < 1000; n++) {
      const at = this.nextRunMs;
      for (const [key, t] of this.entries) {
        if (t.dest.totalConns() + t.dest.persistConns > 0) continue;
        if (t.idleSinceMs === undefined) t.idleSinceMs = at;
        else if (at >= t.idleSinceMs + trashPeriodMs) this.entries.delete(key);
      }
      this.nextRunMs = this.entries.size > 0 ? at + trashPeriodMs / 2 : undefined;
    }
    if (this.nextRunMs !== undefined && this.nextRunMs <= nowMs) this.nextRunMs = nowMs + trashPeriodMs / 2;
  }
}

function trashKey(serviceKey: string, address: IpAddr, port: number): string {
  return `${serviceKey}>${destinationKey(address, port)}`;
}
