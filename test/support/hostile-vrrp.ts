// Hostile VRRP packets, whole IPv4 datagrams, each kind with the counter that must count
// it: the fuzz test injects them into a fake segment, the namespace test sends them on a
// real wire. Each claims priority 254 from a stranger, so one wrongly accepted would turn
// a master into a backup at once.
import type { SeededRng } from '../../src/common/rng';
import type { IpAddr } from '../../src/ipvs/address';
import { encodeAdvert, encodeIpv4Header } from '../../src/vrrp/wire/packet';
import type { DropReason } from '../../src/vrrp/wire/receive';

/** Where a kind is counted: an instance's drop reason, the socket's (before any instance is found), or whatever check it fails. */
export type Counted = DropReason | 'socket:packet_len_err' | 'socket:vrid_err' | 'some check';

export interface HostileKind {
  readonly name: string;
  readonly counted: Counted;
  /** Whether the packet can cross a real wire: the kernel refuses to send a header it cannot fix, and rewrites the total length. */
  readonly onTheWire: boolean;
  make(rng: SeededRng): Buffer;
}

export interface Targets {
  readonly stranger: IpAddr;
  readonly group: IpAddr;
  /** A director's own address: the unicast kind goes there. */
  readonly me: IpAddr;
  readonly vrid: number;
  /** The VIP the adverts carry. */
  readonly vip: IpAddr;
}

export function hostileKinds(t: Targets): HostileKind[] {
  const base = (dst = t.group, vrid = t.vrid): Buffer => {
    const vrrp = encodeAdvert({ version: 3, vrid, priority: 254, advertIntervalMs: 1000, addresses: [t.vip] }, { family: 4, src: t.stranger, dst });
    return Buffer.concat([encodeIpv4Header(t.stranger, dst, vrrp.length), vrrp]);
  };
  const otherVrid = (rng: SeededRng): number => {
    const v = 1 + rng.below(254);
    return v >= t.vrid ? v + 1 : v;
  };
  return [
    { name: 'truncated below an IPv4 header', counted: 'socket:packet_len_err', onTheWire: false, make: (rng) => base().subarray(0, rng.below(20)) },
    { name: 'truncated inside the VRRP header', counted: 'socket:packet_len_err', onTheWire: true, make: (rng) => withLength(base().subarray(0, 20 + rng.below(8))) },
    { name: 'oversized (trailing bytes the IP length covers)', counted: 'packet_len_err', onTheWire: true, make: (rng) => withLength(Buffer.concat([base(), Buffer.alloc(1 + rng.below(1000), 7)])) },
    { name: 'an IP length longer than the datagram', counted: 'socket:packet_len_err', onTheWire: false, make: () => lengthField(base(), 200) },
    { name: 'TTL not 255', counted: 'ip_ttl_err', onTheWire: true, make: (rng) => at(base(), 8, 1 + rng.below(254)) },
    { name: 'wrong version', counted: 'vers_err', onTheWire: true, make: (rng) => at(base(), 20, ((4 + rng.below(12)) << 4) | 1) },
    { name: 'wrong VRID', counted: 'socket:vrid_err', onTheWire: true, make: (rng) => base(t.group, otherVrid(rng)) },
    { name: 'bad checksum', counted: 'chk_err', onTheWire: true, make: (rng) => flip(base(), 26, 1 + rng.below(255)) },
    { name: 'not an advert (type)', counted: 'invalid_type_rcvd', onTheWire: true, make: (rng) => at(base(), 20, 0x30 | (2 + rng.below(14))) },
    { name: 'unicast to a multicast instance', counted: 'addr_list_err', onTheWire: true, make: () => base(t.me) },
    { name: 'random bytes behind a valid IPv4 header', counted: 'some check', onTheWire: true, make: (rng) => garbage(rng, t) },
  ];
}

function at(b: Buffer, offset: number, value: number): Buffer {
  b[offset] = value;
  return b;
}

function flip(b: Buffer, offset: number, mask: number): Buffer {
  return at(b, offset, (b[offset] as number) ^ mask);
}

function lengthField(b: Buffer, length: number): Buffer {
  b.writeUInt16BE(length, 2);
  return b;
}

function withLength(b: Buffer): Buffer {
  return b.length >= 4 ? lengthField(Buffer.from(b), b.length) : b;
}

function garbage(rng: SeededRng, t: Targets): Buffer {
  const body = Buffer.alloc(rng.below(600));
  for (let i = 0; i < body.length; i++) body[i] = rng.below(256);
  return Buffer.concat([encodeIpv4Header(t.stranger, t.group, body.length), body]);
}
