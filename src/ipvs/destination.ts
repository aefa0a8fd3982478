// A destination (real server) of a virtual service, as the kernel keeps it: weight and
// the last non-zero weight, thresholds, connection counters and the overload flag.
// Counters change only through bindConnection/unbindConnection, which apply the
// kernel's overload rule (ip_vs_bind_dest / ip_vs_unbind_dest).
import type { IpAddr } from './address';
import { Counters } from './stats';

/** ipvsadm's forwarding methods: -m masquerading (NAT), -g gatewaying (DR), -i tunnelling. */
export type ForwardMethod = 'masq' | 'route' | 'tunnel';

export const weightMax = 65535;

/** How a tunnelling destination encapsulates (ipvsadm --tun-type, --tun-port, --tun-*csum). */
export interface TunnelEncap {
  readonly type: 'ipip' | 'gue' | 'gre';
  /** gue's destination port; 0 for the others. */
  readonly port: number;
  readonly checksum: 'nocsum' | 'csum' | 'remcsum';
}

export const ipipTunnel: TunnelEncap = { type: 'ipip', port: 0, checksum: 'nocsum' };

export interface DestinationSettings {
  readonly forward: ForwardMethod;
  readonly weight: number;
  /** 0: no limit. */
  readonly upperThreshold: number;
  /** 0: clear the overload flag below 3/4 of the upper threshold. */
  readonly lowerThreshold: number;
  /** Kept for every destination, used only by tunnelling ones; ipip when absent. */
  readonly tunnel?: TunnelEncap;
}

export class Destination {
  forward: ForwardMethod;
  tunnel: TunnelEncap;
  weight: number;
  /** The latest non-zero weight (mh builds its table with it, so quiescing keeps the table). */
  lastWeight: number;
  upperThreshold: number;
  lowerThreshold: number;
  activeConns = 0;
  inactConns = 0;
  persistConns = 0;
  overloaded = false;
  /** False once deleted from its service; connections may still hold it. */
  available = true;
  /** Index in the service's list, kept by the service. */
  position = -1;
  readonly stats = new Counters();

  constructor(
    readonly address: IpAddr,
    readonly port: number,
    settings: DestinationSettings,
  ) {
    this.forward = settings.forward;
    this.tunnel = settings.tunnel ?? ipipTunnel;
    this.weight = settings.weight;
    this.lastWeight = settings.weight;
    this.upperThreshold = settings.upperThreshold;
    this.lowerThreshold = settings.lowerThreshold;
  }

  /** `ADDR:PORT`, the key of a destination within its service. */
  get key(): string {
    return destinationKey(this.address, this.port);
  }

  /** Edit as `ipvsadm -e` does (__ip_vs_update_dest). */
  update(settings: DestinationSettings): void {
    if (settings.weight !== 0) this.lastWeight = settings.weight;
    this.weight = settings.weight;
    this.forward = settings.forward;
    this.tunnel = settings.tunnel ?? ipipTunnel;
    // A raised or removed upper threshold lifts the overload at once.
    if (settings.upperThreshold === 0 || settings.upperThreshold > this.upperThreshold) this.overloaded = false;
    this.upperThreshold = settings.upperThreshold;
    this.lowerThreshold = settings.lowerThreshold;
  }

  totalConns(): number {
    return this.activeConns + this.inactConns;
  }

  /** The kernel's load estimate: active connections weigh 256 inactive ones. */
  connOverhead(): number {
    return this.activeConns * 256 + this.inactConns;
  }

  /** A new connection (or persistence template) now uses this destination. */
  bindConnection(kind: 'active' | 'inactive' | 'template'): void {
    if (kind === 'active') this.activeConns++;
    else if (kind === 'inactive') this.inactConns++;
    else this.persistConns++;
    if (this.upperThreshold !== 0 && this.totalConns() >= this.upperThreshold) this.overloaded = true;
  }

  /** A connection (or template) of this destination expired. */
  unbindConnection(kind: 'active' | 'inactive' | 'template'): void {
    if (kind === 'active') this.activeConns--;
    else if (kind === 'inactive') this.inactConns--;
    else this.persistConns--;
    if (this.lowerThreshold !== 0) {
      if (this.totalConns() < this.lowerThreshold) this.overloaded = false;
    } else if (this.upperThreshold !== 0) {
      if (this.totalConns() * 4 < this.upperThreshold * 3) this.overloaded = false;
    } else {
      this.overloaded = false;
    }
  }

  /** A connection moved between active and inactive (a TCP state change). */
  moveConnection(from: 'active' | 'inactive', to: 'active' | 'inactive'): void {
    if (from === to) return;
    if (from === 'active') {
      this.activeConns--;
      this.inactConns++;
    } else {
      this.inactConns--;
      this.activeConns++;
    }
  }
}

export function destinationKey(address: IpAddr, port: number): string {
  return `${address.text}|${port}`;
}
