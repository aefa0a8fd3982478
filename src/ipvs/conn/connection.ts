// One IPVS connection entry, or a persistence template (a client's binding to a real
// server that outlives its connections). Entries are keyed as the kernel keys them:
// protocol, client address and port, virtual address and port. A template uses client
// port 0, the masked client address, and virtual port 0 for fwmark, port-zero and FTP
// services; a fwmark template's protocol is IP and its "virtual address" is the mark.
//
// A director holds millions of these, so an entry is kept small: an IPv4 client is one
// number (its IpAddr is made only when asked for), flags share one field, and the links
// of the expiry wheel live in the entry itself.
import { ipv4FromWord, ipv4Text, type IpAddr } from '../address';
import type { Destination } from '../destination';
import type { ServiceProtocol, VirtualService } from '../service';
import type { ConnState } from './protocol-states';

export type ConnProtocol = ServiceProtocol | 'ip';

const INACTIVE = 1;
const NO_OUTPUT = 2;
const TEMPLATE = 4;
const ONE_PACKET = 8;
const INVALIDATED = 16;

export class Connection {
  /** An IPv4 client as its 32-bit word; -1 when the client is IPv6 (see caddr6). */
  private readonly caddrWord: number;
  private readonly caddr6: IpAddr | null;
  private flags: number;
  state: ConnState;
  timeoutMs: number;
  expiresAtMs = 0;
  /** The expiry replication last carried. */
  syncedExpiresAtMs = Number.NEGATIVE_INFINITY;
  /** Connections controlled by this template (or control connection). */
  controlled = 0;
  /** The template this connection was made under. */
  control: Connection | null = null;
  inPkts = 0;
  /** The service it belongs to, for its counters. */
  service: VirtualService | null = null;
  /** Expiry-wheel slot and neighbours, kept by the table. */
  wheelSlot = -1;
  wheelPrev: Connection | null = null;
  wheelNext: Connection | null = null;

  constructor(
    readonly protocol: ConnProtocol,
    caddr: IpAddr,
    readonly cport: number,
    readonly vaddr: string,
    readonly vport: number,
    readonly dest: Destination,
    readonly dport: number,
    options: { template: boolean; onePacket: boolean },
    state: ConnState,
    timeoutMs: number,
  ) {
    this.caddrWord = caddr.family === 4 ? (caddr.words[0] as number) : -1;
    this.caddr6 = caddr.family === 6 ? caddr : null;
    this.state = state;
    this.timeoutMs = timeoutMs;
    // Every entry starts inactive; replies never pass the director under DR and TUN.
    this.flags = INACTIVE | (dest.forward !== 'masq' ? NO_OUTPUT : 0) | (options.template ? TEMPLATE : 0) | (options.onePacket ? ONE_PACKET : 0);
  }

  get caddr(): IpAddr {
    return this.caddr6 ?? ipv4FromWord(this.caddrWord);
  }

  /** The client address as text, without making an IpAddr (replication reads it for every change). */
  get caddrText(): string {
    return this.caddr6 !== null ? this.caddr6.text : ipv4Text(this.caddrWord >>> 0);
  }

  get daddr(): IpAddr {
    return this.dest.address;
  }

  /** The client part of the key: a number for IPv4, text for IPv6. */
  get clientKey(): number | string {
    return clientKey(this.caddr6 ?? this.caddrWord, this.cport);
  }

  get virtualKey(): string {
    return virtualKey(this.protocol, this.vaddr, this.vport);
  }

  get template(): boolean {
    return (this.flags & TEMPLATE) !== 0;
  }

  get onePacket(): boolean {
    return (this.flags & ONE_PACKET) !== 0;
  }

  /** Counted as inactive at its destination (until ESTABLISHED). */
  get inactive(): boolean {
    return (this.flags & INACTIVE) !== 0;
  }

  set inactive(on: boolean) {
    this.flags = on ? this.flags | INACTIVE : this.flags & ~INACTIVE;
  }

  /** Moves on input alone until a reply is seen. */
  get noOutput(): boolean {
    return (this.flags & NO_OUTPUT) !== 0;
  }

  set noOutput(on: boolean) {
    this.flags = on ? this.flags | NO_OUTPUT : this.flags & ~NO_OUTPUT;
  }

  /** A template whose destination became unusable: no longer found, still timing out. */
  get invalidated(): boolean {
    return (this.flags & INVALIDATED) !== 0;
  }

  set invalidated(on: boolean) {
    this.flags = on ? this.flags | INVALIDATED : this.flags & ~INVALIDATED;
  }

  /** How the entry counts at its destination. */
  countKind(): 'active' | 'inactive' | 'template' {
    return this.template ? 'template' : this.inactive ? 'inactive' : 'active';
  }
}

export function virtualKey(protocol: ConnProtocol, vaddr: string, vport: number): string {
  return `${protocol}|${vaddr}|${vport}`;
}

/** IPv4: word × 65536 + port, exact in a double; IPv6: text. */
export function clientKey(caddr: IpAddr | number, cport: number): number | string {
  if (typeof caddr === 'number') return caddr * 65536 + cport;
  return caddr.family === 4 ? (caddr.words[0] as number) * 65536 + cport : `${caddr.text}|${cport}`;
}
