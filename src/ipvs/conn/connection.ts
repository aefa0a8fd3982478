// One IPVS connection entry, or a persistence template (a client's binding to a real
// server that outlives its connections). Entries are keyed as the kernel keys them:
// protocol, client address and port, virtual address and port. A template uses client
// port 0, the masked client address, and virtual port 0 for fwmark, port-zero and FTP
// services; a fwmark template's protocol is IP and its "virtual address" is the mark.
//
// A director holds millions of these, so an entry is kept small (about 150 bytes): every
// field holds a pointer or a small integer, never a boxed number. The virtual service key
// is shared with the other entries of the service (its VirtualGroup), an IPv4 client is
// its word, state and flags share one field, times are whole milliseconds from the
// table's origin, and the links of the expiry wheel live in the entry itself.
import { ipv4FromWord, ipv4Text, type IpAddr } from '../address';
import type { Destination } from '../destination';
import type { ServiceProtocol, VirtualService } from '../service';
import { connStates, type ConnState } from './protocol-states';
import type { VirtualGroup } from './virtual-group';

export type ConnProtocol = ServiceProtocol | 'ip';

const INACTIVE = 1;
const NO_OUTPUT = 2;
const TEMPLATE = 4;
const ONE_PACKET = 8;
const INVALIDATED = 16;
const STATE_SHIFT = 5;
const STATE_BITS = 15 << STATE_SHIFT;
const stateIndex = new Map<ConnState, number>(connStates.map((s, i) => [s, i]));

/** The replication mark of an entry never carried: any expiry is past it by more than a timeout. */
export const neverSynced = -0x7fffffff;

export class Connection {
  /**
   * An IPv4 client as its 32-bit word read as a signed integer (a small integer to V8,
   * never boxed); an IPv6 client as its address.
   */
  readonly client: number | IpAddr;
  private flags: number;
  timeoutMs: number;
  /** When it expires, in whole ms from the table's origin (`expiresAtMs` is the clock's time). */
  expiry = 0;
  /** The `expiry` replication last carried. */
  syncedExpiry = neverSynced;
  /** Connections controlled by this template (or control connection). */
  controlled = 0;
  /** The template this connection was made under. */
  control: Connection | null = null;
  /** The service it belongs to, for its counters. */
  service: VirtualService | null = null;
  /** Expiry-wheel slot and neighbours, kept by the table. */
  wheelSlot = -1;
  wheelPrev: Connection | null = null;
  wheelNext: Connection | null = null;

  constructor(
    /** Its virtual service key, shared by the service's entries (ConnTable.group). */
    readonly group: VirtualGroup,
    caddr: IpAddr,
    readonly cport: number,
    readonly dest: Destination,
    readonly dport: number,
    options: { template: boolean; onePacket: boolean },
    state: ConnState,
    timeoutMs: number,
  ) {
    this.client = caddr.family === 4 ? (caddr.words[0] as number) | 0 : caddr;
    this.timeoutMs = timeoutMs;
    // Every entry starts inactive; replies never pass the director under DR and TUN.
    this.flags =
      INACTIVE |
      (dest.forward !== 'masq' ? NO_OUTPUT : 0) |
      (options.template ? TEMPLATE : 0) |
      (options.onePacket ? ONE_PACKET : 0) |
      ((stateIndex.get(state) as number) << STATE_SHIFT);
  }

  get protocol(): ConnProtocol {
    return this.group.protocol;
  }

  get vaddr(): string {
    return this.group.vaddr;
  }

  get vport(): number {
    return this.group.vport;
  }

  get caddr(): IpAddr {
    return typeof this.client === 'number' ? ipv4FromWord(this.client) : this.client;
  }

  /** The client address as text, without making an IpAddr (replication reads it for every change). */
  get caddrText(): string {
    return typeof this.client === 'number' ? ipv4Text(this.client >>> 0) : this.client.text;
  }

  get daddr(): IpAddr {
    return this.dest.address;
  }

  get expiresAtMs(): number {
    return this.group.originMs + this.expiry;
  }

  get state(): ConnState {
    return connStates[(this.flags & STATE_BITS) >> STATE_SHIFT] as ConnState;
  }

  set state(state: ConnState) {
    this.flags = (this.flags & ~STATE_BITS) | ((stateIndex.get(state) as number) << STATE_SHIFT);
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
