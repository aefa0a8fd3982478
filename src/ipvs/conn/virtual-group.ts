// The entries of one virtual service key (protocol, virtual address, virtual port), found
// by client. IPv4 clients, nearly all of them, sit in an open-addressed array of the
// entries themselves: linear probing from a home slot hashed from the client's word and
// port, deletion by shifting the probe run back (no tombstones). An entry then costs one
// array slot and no key object of its own, where a Map costs an entry record and a boxed
// 48-bit number. IPv6 clients, rare, go in a Map by text.
import type { IpAddr } from '../address';
import type { Connection, ConnProtocol } from './connection';

const minSlots = 8;

export class VirtualGroup {
  private slots: Array<Connection | undefined> = new Array<Connection | undefined>(minSlots).fill(undefined);
  private ipv4Count = 0;
  private ipv6: Map<string, Connection> | undefined;

  constructor(
    readonly protocol: ConnProtocol,
    readonly vaddr: string,
    readonly vport: number,
    /** The table's origin of time, from which its entries count their expiry (ConnTable). */
    public originMs: number,
  ) {}

  get size(): number {
    return this.ipv4Count + (this.ipv6?.size ?? 0);
  }

  get(caddr: IpAddr, cport: number): Connection | undefined {
    if (caddr.family === 6) return this.ipv6?.get(ipv6Key(caddr.text, cport));
    const word = (caddr.words[0] as number) | 0;
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let i = home(word, cport, mask); ; i = (i + 1) & mask) {
      const c = slots[i];
      if (c === undefined) return undefined;
      if (c.client === word && c.cport === cport) return c;
    }
  }

  /** Replaces the entry of the same client, if any. */
  set(conn: Connection): void {
    const client = conn.client;
    if (typeof client !== 'number') {
      this.ipv6 ??= new Map();
      this.ipv6.set(ipv6Key(client.text, conn.cport), conn);
      return;
    }
    if ((this.ipv4Count + 1) * 4 > this.slots.length * 3) this.resize(this.slots.length * 2);
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let i = home(client, conn.cport, mask); ; i = (i + 1) & mask) {
      const c = slots[i];
      if (c === undefined) {
        slots[i] = conn;
        this.ipv4Count++;
        return;
      }
      if (c.client === client && c.cport === conn.cport) {
        slots[i] = conn;
        return;
      }
    }
  }

  /** False when `conn` is not the entry found by its client. */
  delete(conn: Connection): boolean {
    const client = conn.client;
    if (typeof client !== 'number') {
      const key = ipv6Key(client.text, conn.cport);
      return this.ipv6?.get(key) === conn && this.ipv6.delete(key);
    }
    const slots = this.slots;
    const mask = slots.length - 1;
    let hole = home(client, conn.cport, mask);
    for (; slots[hole] !== conn; hole = (hole + 1) & mask) {
      if (slots[hole] === undefined) return false;
    }
    // Shift back every later entry of the run whose home is not between the hole and it.
    for (let i = (hole + 1) & mask; ; i = (i + 1) & mask) {
      const c = slots[i];
      if (c === undefined) break;
      const h = home(c.client as number, c.cport, mask);
      if (((i - h) & mask) >= ((i - hole) & mask)) {
        slots[hole] = c;
        hole = i;
      }
    }
    slots[hole] = undefined;
    this.ipv4Count--;
    if (this.slots.length > minSlots && this.ipv4Count * 8 < this.slots.length) this.resize(this.slots.length / 2);
    return true;
  }

  private resize(length: number): void {
    const old = this.slots;
    const slots = new Array<Connection | undefined>(length).fill(undefined);
    const mask = length - 1;
    for (const c of old) {
      if (c === undefined) continue;
      let i = home(c.client as number, c.cport, mask);
      while (slots[i] !== undefined) i = (i + 1) & mask;
      slots[i] = c;
    }
    this.slots = slots;
  }
}

/** A murmur3-style mix of the client's word and port, so that neighbouring clients spread. */
function home(word: number, port: number, mask: number): number {
  let h = Math.imul(word ^ Math.imul(port, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & mask;
}

function ipv6Key(text: string, cport: number): string {
  return `${text}|${cport}`;
}
