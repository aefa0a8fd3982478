// Raw sockets for IP protocol 112 on Linux, through libc by koffi (no addon to build):
// one socket per interface and family, bound to the interface, joined to the VRRP group,
// read when libuv says it is readable. IPv4 adverts go out whole (our own header, as
// keepalived writes it: TTL 255, TOS 0xc0) on an IPPROTO_RAW socket; IPv4 datagrams come
// in with their header, which carries the TTL. IPv6 adverts go out with the hop limit 255
// and the source in IPV6_PKTINFO; the hop limit and destination come in as ancillary data.
import type * as Koffi from 'koffi' with { 'resolution-mode': 'import' };
import { ipv6FromWords, type IpAddr } from '../../ipvs/address';
import { encodeIpv4Header, vrrpPacketMaxBytes, vrrpProtocol, vrrpTtl } from './packet';
import type { ReceivedDatagram } from './receive';

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_IP = 0;
const IPPROTO_IPV6 = 41;
const IPPROTO_RAW = 255;
const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;
const IPV6_ADD_MEMBERSHIP = 20;
const IPV6_RECVPKTINFO = 49;
const IPV6_PKTINFO = 50;
const IPV6_RECVHOPLIMIT = 51;
const IPV6_HOPLIMIT = 52;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const EPERM = 1;
const EACCES = 13;
const ENODEV = 19;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, length: number): number;
  sendto(fd: number, data: Buffer, length: number, flags: number, to: Buffer, toLength: number): number;
  sendmsg(fd: number, message: MessageHeader, flags: number): number;
  recvmsg(fd: number, message: MessageHeader, flags: number): number;
  close(fd: number): number;
  ifNameToIndex(name: string): number;
  strerror(errno: number): string;
}

interface MessageHeader {
  name: Buffer | null;
  namelen: number;
  iov: Array<{ base: Buffer; len: number }>;
  iovlen: number;
  control: Buffer | null;
  controllen: number;
  flags: number;
}

// koffi ships as an ES module with a CommonJS twin; this project compiles to CommonJS.
const koffi = require('koffi') as typeof Koffi;

let loaded: Libc | undefined;

function libc(): Libc {
  if (loaded !== undefined) return loaded;
  const lib = koffi.load('libc.so.6');
  koffi.struct('hadirector_iovec', { base: 'void *', len: 'size_t' });
  koffi.struct('hadirector_msghdr', {
    name: 'void *',
    namelen: 'uint32_t',
    iov: 'hadirector_iovec *',
    iovlen: 'size_t',
    control: 'void *',
    controllen: 'size_t',
    flags: 'int',
  });
  const fns = {
    socket: lib.func('int socket(int, int, int)'),
    setsockopt: lib.func('int setsockopt(int, int, int, const void *, uint32_t)'),
    sendto: lib.func('long sendto(int, const void *, size_t, int, const void *, uint32_t)'),
    sendmsg: lib.func('long sendmsg(int, const hadirector_msghdr *, int)'),
    recvmsg: lib.func('long recvmsg(int, _Inout_ hadirector_msghdr *, int)'),
    close: lib.func('int close(int)'),
    if_nametoindex: lib.func('unsigned int if_nametoindex(const char *)'),
    strerror: lib.func('const char *strerror(int)'),
  };
  loaded = {
    socket: (d, t, p) => fns.socket(d, t, p) as number,
    setsockopt: (fd, level, name, value, length) => fns.setsockopt(fd, level, name, value, length) as number,
    sendto: (fd, data, length, flags, to, toLength) => Number(fns.sendto(fd, data, length, flags, to, toLength)),
    sendmsg: (fd, message, flags) => Number(fns.sendmsg(fd, message, flags)),
    recvmsg: (fd, message, flags) => Number(fns.recvmsg(fd, message, flags)),
    close: (fd) => fns.close(fd) as number,
    ifNameToIndex: (name) => fns.if_nametoindex(name) as number,
    strerror: (errno) => String(fns.strerror(errno)),
  };
  return loaded;
}

export class RawSocketError extends Error {
  constructor(
    message: string,
    readonly errno: number,
  ) {
    super(message);
  }
}

function fail(what: string): never {
  const errno = koffi.errno();
  const text = libc().strerror(errno);
  if (errno === EPERM || errno === EACCES) throw new RawSocketError(`${what}: ${text}: VRRP's raw sockets (IP protocol 112) need CAP_NET_RAW (run as root, or give hadirector CAP_NET_RAW and CAP_NET_ADMIN)`, errno);
  throw new RawSocketError(`${what}: ${text}`, errno);
}

function check(result: number, what: string): number {
  if (result < 0) fail(what);
  return result;
}

function intOption(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(value);
  return b;
}

function addressBytes(address: IpAddr): Buffer {
  const b = Buffer.alloc(address.family === 4 ? 4 : 16);
  address.words.forEach((w, i) => b.writeUInt32BE(w, i * 4));
  return b;
}

function sockaddrIn(address: IpAddr): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AF_INET, 0);
  addressBytes(address).copy(b, 4);
  return b;
}

function sockaddrIn6(address: IpAddr, scope: number): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  addressBytes(address).copy(b, 8);
  b.writeUInt32LE(scope, 24);
  return b;
}

export interface VrrpSocketOptions {
  readonly family: 4 | 6;
  readonly interface: string;
  /** The multicast group to join (224.0.0.18 / ff02::12 unless global_defs says otherwise). */
  readonly group: IpAddr;
  readonly received: (datagram: ReceivedDatagram) => void;
}

/** One interface's VRRP socket of one family. */
export interface VrrpSocket {
  readonly family: 4 | 6;
  readonly interface: string;
  /** Sends a VRRP message from `src` to `dst` (the group, or a unicast peer); the error, if any. */
  send(vrrp: Buffer, src: IpAddr, dst: IpAddr): string | undefined;
  close(): void;
}

/** Opens the socket, or throws a RawSocketError that says what is missing. */
export function openVrrpSocket(o: VrrpSocketOptions): VrrpSocket {
  const c = libc();
  const ifindex = c.ifNameToIndex(o.interface);
  if (ifindex === 0) throw new RawSocketError(`interface ${o.interface}: no such interface`, ENODEV);
  return o.family === 4 ? new Ipv4Socket(c, o, ifindex) : new Ipv6Socket(c, o, ifindex);
}

abstract class RawVrrpSocket implements VrrpSocket {
  private readonly poller: Koffi.node.PollHandle;
  protected readonly data = Buffer.alloc(vrrpPacketMaxBytes + 64);
  protected readonly name = Buffer.alloc(28);
  protected readonly control = Buffer.alloc(128);
  private closed = false;

  constructor(
    protected readonly c: Libc,
    protected readonly o: VrrpSocketOptions,
    protected readonly fd: number,
  ) {
    this.poller = koffi.node.poll(fd, { readable: true }, () => this.drain());
    this.poller.unref();
  }

  get family(): 4 | 6 {
    return this.o.family;
  }

  get interface(): string {
    return this.o.interface;
  }

  abstract send(vrrp: Buffer, src: IpAddr, dst: IpAddr): string | undefined;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller.close();
    this.c.close(this.fd);
    this.closeOthers();
  }

  /** What a family's socket closes besides the receiving one (closed once). */
  protected closeOthers(): void {}

  /** Everything queued, one datagram per call, bounded so one busy socket cannot starve the loop. */
  private drain(): void {
    for (let i = 0; i < 256 && !this.closed; i++) {
      const message: MessageHeader = { name: this.name, namelen: this.name.length, iov: [{ base: this.data, len: this.data.length }], iovlen: 1, control: this.control, controllen: this.control.length, flags: 0 };
      const n = this.c.recvmsg(this.fd, message, MSG_DONTWAIT);
      if (n < 0) return void koffi.errno(); // EAGAIN: drained; anything else: try at the next wake-up
      const datagram = this.datagram(Buffer.from(this.data.subarray(0, n)), message.controllen);
      if (datagram !== undefined) this.o.received(datagram);
    }
  }

  protected abstract datagram(bytes: Buffer, controlBytes: number): ReceivedDatagram | undefined;
}

/** Why the last send failed. */
function sendErrorText(c: Libc): string {
  const errno = koffi.errno();
  return errno === EAGAIN ? 'the socket buffer is full' : c.strerror(errno);
}

function bindToDevice(c: Libc, fd: number, name: string): void {
  const value = Buffer.from(`${name}\0`);
  check(c.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, value, value.length), `binding to interface ${name}`);
}

/** Whole IPv4 packets (their header included, as written) out of one interface. */
export interface RawIpv4Sender {
  /** Sends `packet` towards `dst`; the error, if any. The kernel fills in the total length and header checksum. */
  send(packet: Buffer, dst: IpAddr): string | undefined;
  close(): void;
}

/** An IPPROTO_RAW socket bound to `iface`, multicast leaving by it with VRRP's TTL and not looped back. */
export function openRawIpv4Sender(iface: string): RawIpv4Sender {
  const c = libc();
  const ifindex = c.ifNameToIndex(iface);
  if (ifindex === 0) throw new RawSocketError(`interface ${iface}: no such interface`, ENODEV);
  const fd = check(c.socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW), 'opening a raw IPv4 socket to send VRRP');
  try {
    bindToDevice(c, fd, iface);
    const outgoing = Buffer.alloc(12);
    outgoing.writeInt32LE(ifindex, 8);
    check(c.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, outgoing, outgoing.length), `sending multicast on ${iface}`);
    check(c.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, intOption(vrrpTtl), 4), 'setting the multicast TTL');
    check(c.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, intOption(0), 4), 'turning multicast loop off');
  } catch (err) {
    c.close(fd);
    throw err;
  }
  let closed = false;
  return {
    send: (packet, dst) => {
      const to = sockaddrIn(dst);
      return c.sendto(fd, packet, packet.length, 0, to, to.length) >= 0 ? undefined : sendErrorText(c);
    },
    close: () => {
      if (!closed) c.close(fd);
      closed = true;
    },
  };
}

class Ipv4Socket extends RawVrrpSocket {
  private readonly sender: RawIpv4Sender;

  constructor(c: Libc, o: VrrpSocketOptions, ifindex: number) {
    const fd = check(c.socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, vrrpProtocol), 'opening a raw IPv4 socket for VRRP');
    let sender: RawIpv4Sender | undefined;
    try {
      bindToDevice(c, fd, o.interface);
      const membership = Buffer.alloc(12);
      addressBytes(o.group).copy(membership, 0);
      membership.writeInt32LE(ifindex, 8);
      check(c.setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, membership, membership.length), `joining ${o.group.text} on ${o.interface}`);
      sender = openRawIpv4Sender(o.interface);
    } catch (err) {
      c.close(fd);
      throw err;
    }
    super(c, o, fd);
    this.sender = sender;
  }

  send(vrrp: Buffer, src: IpAddr, dst: IpAddr): string | undefined {
    return this.sender.send(Buffer.concat([encodeIpv4Header(src, dst, vrrp.length), vrrp]), dst);
  }

  protected override closeOthers(): void {
    this.sender.close();
  }

  protected datagram(bytes: Buffer): ReceivedDatagram {
    return { family: 4, bytes };
  }
}

class Ipv6Socket extends RawVrrpSocket {
  constructor(
    c: Libc,
    o: VrrpSocketOptions,
    private readonly ifindex: number,
  ) {
    const fd = check(c.socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, vrrpProtocol), 'opening a raw IPv6 socket for VRRP');
    try {
      bindToDevice(c, fd, o.interface);
      const membership = Buffer.alloc(20);
      addressBytes(o.group).copy(membership, 0);
      membership.writeInt32LE(ifindex, 16);
      check(c.setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, membership, membership.length), `joining ${o.group.text} on ${o.interface}`);
      check(c.setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, intOption(ifindex), 4), `sending multicast on ${o.interface}`);
      check(c.setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, intOption(vrrpTtl), 4), 'setting the multicast hop limit');
      check(c.setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, intOption(vrrpTtl), 4), 'setting the unicast hop limit');
      check(c.setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, intOption(0), 4), 'turning multicast loop off');
      check(c.setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, intOption(1), 4), 'asking for the hop limit');
      check(c.setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, intOption(1), 4), 'asking for the destination');
    } catch (err) {
      c.close(fd);
      throw err;
    }
    super(c, o, fd);
  }

  send(vrrp: Buffer, src: IpAddr, dst: IpAddr): string | undefined {
    // The source rides in IPV6_PKTINFO: struct in6_pktinfo { in6_addr; int ifindex }.
    const control = Buffer.alloc(cmsgSpace(20));
    control.writeBigUInt64LE(BigInt(cmsgHeaderBytes + 20), 0);
    control.writeInt32LE(IPPROTO_IPV6, 8);
    control.writeInt32LE(IPV6_PKTINFO, 12);
    addressBytes(src).copy(control, cmsgHeaderBytes);
    control.writeInt32LE(this.ifindex, cmsgHeaderBytes + 16);
    const to = sockaddrIn6(dst, this.ifindex);
    const message: MessageHeader = { name: to, namelen: to.length, iov: [{ base: vrrp, len: vrrp.length }], iovlen: 1, control, controllen: control.length, flags: 0 };
    return this.c.sendmsg(this.fd, message, 0) < 0 ? sendErrorText(this.c) : undefined;
  }

  protected datagram(bytes: Buffer, controlBytes: number): ReceivedDatagram | undefined {
    const src = ipv6FromWords([8, 12, 16, 20].map((o) => this.name.readUInt32BE(o)));
    let dst: IpAddr | undefined;
    let hopLimit: number | undefined;
    for (let at = 0; at + cmsgHeaderBytes <= controlBytes; ) {
      const length = Number(this.control.readBigUInt64LE(at));
      if (length < cmsgHeaderBytes || at + length > controlBytes) break;
      const level = this.control.readInt32LE(at + 8);
      const type = this.control.readInt32LE(at + 12);
      const data = at + cmsgHeaderBytes;
      if (level === IPPROTO_IPV6 && type === IPV6_HOPLIMIT && length >= cmsgHeaderBytes + 4) hopLimit = this.control.readInt32LE(data);
      if (level === IPPROTO_IPV6 && type === IPV6_PKTINFO && length >= cmsgHeaderBytes + 20) dst = ipv6FromWords([0, 4, 8, 12].map((o) => this.control.readUInt32BE(data + o)));
      at += cmsgSpace(length - cmsgHeaderBytes);
    }
    return { family: 6, bytes, src, ...(dst !== undefined ? { dst } : {}), ...(hopLimit !== undefined ? { hopLimit } : {}) };
  }
}

/** struct cmsghdr on 64-bit Linux: size_t length, int level, int type; data aligned to 8. */
const cmsgHeaderBytes = 16;

function cmsgSpace(dataBytes: number): number {
  return cmsgHeaderBytes + Math.ceil(dataBytes / 8) * 8;
}
