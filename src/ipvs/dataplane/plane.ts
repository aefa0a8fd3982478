// What every data plane offers the director: it is told to follow the engine's services
// (reconcile), which addresses this node holds, which connections expired, and to stop.
// The userspace plane relays connections itself; the kernel plane programs nftables; the
// ipvs plane programs the kernel's own IPVS with ipvsadm.
import type { Connection } from '../conn/connection';

/** What a plane counts beyond the engine's own counters. */
export interface PlaneCounters {
  accepted: number;
  noDestination: number;
  upstreamRefused: number;
  upstreamTimeout: number;
  upstreamError: number;
  udpDropped: number;
}

export const zeroPlaneCounters = (): PlaneCounters => ({ accepted: 0, noDestination: 0, upstreamRefused: 0, upstreamTimeout: 0, upstreamError: 0, udpDropped: 0 });

export interface PlaneEvents {
  /** Something an operator should hear about: a listener that failed, a server that refused. */
  warn(message: string, fields: Record<string, unknown>): void;
  /** A listener that failed before is up now. */
  info(message: string, fields: Record<string, unknown>): void;
}

export interface DataPlane {
  readonly kind: 'userspace' | 'kernel' | 'ipvs';
  readonly counters: PlaneCounters;
  /** Makes the plane carry the engine's services as they are now; resolves with what it could not do. */
  reconcile(): Promise<string[]>;
  /** From now on, serve only the addresses `holds` says this node holds. */
  setHeldAddresses(holds: (address: string) => boolean): void;
  /** Connections the engine expired. */
  expired(conns: readonly Connection[]): void;
  /** Stops forwarding, letting live connections finish for up to `drainMs`. */
  close(drainMs: number): Promise<void>;
}
