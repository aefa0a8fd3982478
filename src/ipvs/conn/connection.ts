// One IPVS connection entry, or a persistence template (a client's binding to a real
// server that outlives its connections). Entries are keyed as the kernel keys them:
// protocol, client address and port, virtual address and port. A template uses client
// port 0, the masked client address, and virtual port 0 for fwmark, port-zero and FTP
// services; a fwmark template's protocol is IP and its "virtual address" is the mark.
import type { IpAddr } from '../address';
import type { Destination } from '../destination';
import type { ServiceProtocol, VirtualService } from '../service';
import type { ConnState } from './protocol-states';

export type ConnProtocol = ServiceProtocol | 'ip';

export interface ConnKey {
  readonly protocol: ConnProtocol;
  readonly caddr: IpAddr;
  readonly cport: number;
  /** The virtual address, or for a fwmark template the mark as text. */
  readonly vaddr: string;
  readonly vport: number;
}

export function connKeyText(k: ConnKey): string {
  return `${k.protocol}|${k.caddr.text}|${k.cport}|${k.vaddr}|${k.vport}`;
}

export class Connection implements ConnKey {
  state: ConnState;
  timeoutMs: number;
  expiresAtMs = 0;
  /** Counted as inactive at its destination (every entry starts so, until ESTABLISHED). */
  inactive = true;
  /** Replies never pass the director (DR, TUN): state moves on input alone. */
  noOutput: boolean;
  /** Connections controlled by this template (or control connection). */
  controlled = 0;
  /** The template this connection was made under. */
  control: Connection | null = null;
  /** A template whose destination became unusable: no longer found, still timing out. */
  invalidated = false;
  inPkts = 0;
  /** The service it belongs to, for its counters. */
  service: VirtualService | null = null;
  /** The expiry-wheel slot it sits in, kept by the table. */
  wheelSlot = -1;

  constructor(
    readonly protocol: ConnProtocol,
    readonly caddr: IpAddr,
    readonly cport: number,
    readonly vaddr: string,
    readonly vport: number,
    readonly daddr: IpAddr,
    readonly dport: number,
    readonly dest: Destination | null,
    readonly template: boolean,
    readonly onePacket: boolean,
    state: ConnState,
    timeoutMs: number,
  ) {
    this.state = state;
    this.timeoutMs = timeoutMs;
    this.noOutput = dest !== null && dest.forward !== 'masq';
  }

  get key(): string {
    return connKeyText(this);
  }

  /** How the entry counts at its destination. */
  countKind(): 'active' | 'inactive' | 'template' {
    return this.template ? 'template' : this.inactive ? 'inactive' : 'active';
  }
}
