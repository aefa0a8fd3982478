// VRRP adverts as they travel: RFC 3768 (version 2, IPv4, with its authentication
// field) and RFC 5798 (version 3, IPv4 and IPv6), in IP protocol 112, as keepalived
// sends them. Version 3's checksum covers a pseudo-header (RFC 5798 §5.2.8); keepalived's
// `v3_checksum_as_v2` (and some vendors) leave the IPv4 pseudo-header out.
import { ipv4FromWord, ipv6FromWords, type IpAddr } from '../../ipvs/address';

export const vrrpProtocol = 112;
export const vrrpTtl = 255;
export const vrrpMulticast4 = '224.0.0.18';
export const vrrpMulticast6 = 'ff02::12';
export const vrrpHeaderBytes = 8;
/** Version 2 carries 8 bytes of authentication data after the addresses. */
export const v2AuthBytes = 8;
export const ipv4HeaderBytes = 20;
/** IPv4 header, version 2 header, 255 addresses and the auth data: no advert is longer. */
export const vrrpPacketMaxBytes = ipv4HeaderBytes + vrrpHeaderBytes + 255 * 16 + v2AuthBytes;

export type V2AuthType = 0 | 1 | 2;
export const v2Auth = { none: 0, pass: 1, ah: 2 } as const;

export type ChecksumForm = 'pseudo-header' | 'as-v2';

export interface VrrpAdvert {
  readonly version: 2 | 3;
  readonly vrid: number;
  readonly priority: number;
  /** Version 2 carries whole seconds, version 3 centiseconds (12 bits). */
  readonly advertIntervalMs: number;
  readonly addresses: readonly IpAddr[];
  /** Version 2: the authentication type and its 8 bytes (the password, zero-padded). */
  readonly authType?: V2AuthType;
  readonly authData?: Buffer;
}

/** The IPv4 or IPv6 source and destination, for the version 3 pseudo-header. */
export interface PacketEnds {
  readonly family: 4 | 6;
  readonly src: IpAddr;
  readonly dst: IpAddr;
}

/** The advert's bytes, checksum included; `ends` decides the pseudo-header. */
export function encodeAdvert(advert: VrrpAdvert, ends: PacketEnds, form: ChecksumForm = 'pseudo-header'): Buffer {
  const addrBytes = ends.family === 4 ? 4 : 16;
  const auth = advert.version === 2 ? v2AuthBytes : 0;
  const out = Buffer.alloc(vrrpHeaderBytes + advert.addresses.length * addrBytes + auth);
  out[0] = (advert.version << 4) | 1;
  out[1] = advert.vrid;
  out[2] = advert.priority;
  out[3] = advert.addresses.length;
  if (advert.version === 2) {
    out[4] = advert.authType ?? v2Auth.none;
    out[5] = Math.max(1, Math.round(advert.advertIntervalMs / 1000));
  } else {
    out.writeUInt16BE(Math.min(0xfff, Math.round(advert.advertIntervalMs / 10)), 4);
  }
  let at = vrrpHeaderBytes;
  for (const address of advert.addresses) {
    for (const word of address.words) {
      out.writeUInt32BE(word, at);
      at += 4;
    }
  }
  if (advert.version === 2 && advert.authData !== undefined) advert.authData.copy(out, at, 0, v2AuthBytes);
  out.writeUInt16BE(advertChecksum(out, advert.version, ends, form), 6);
  return out;
}

/** The checksum the advert should carry (its own checksum field read as zero). */
export function advertChecksum(vrrp: Buffer, version: 2 | 3, ends: PacketEnds, form: ChecksumForm): number {
  const saved = vrrp.readUInt16BE(6);
  vrrp.writeUInt16BE(0, 6);
  const pseudo = version === 3 && (ends.family === 6 || form === 'pseudo-header') ? pseudoHeader(ends, vrrp.length) : undefined;
  const sum = internetChecksum(pseudo === undefined ? [vrrp] : [pseudo, vrrp]);
  vrrp.writeUInt16BE(saved, 6);
  return sum;
}

function pseudoHeader(ends: PacketEnds, length: number): Buffer {
  if (ends.family === 4) {
    const p = Buffer.alloc(12);
    p.writeUInt32BE(ends.src.words[0] ?? 0, 0);
    p.writeUInt32BE(ends.dst.words[0] ?? 0, 4);
    p[9] = vrrpProtocol;
    p.writeUInt16BE(length, 10);
    return p;
  }
  const p = Buffer.alloc(40);
  ends.src.words.forEach((w, i) => p.writeUInt32BE(w, i * 4));
  ends.dst.words.forEach((w, i) => p.writeUInt32BE(w, 16 + i * 4));
  p.writeUInt32BE(length, 32);
  p[39] = vrrpProtocol;
  return p;
}

/** RFC 1071: the ones' complement of the ones' complement sum of 16-bit words. */
function internetChecksum(parts: readonly Buffer[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      const byte = part[i] as number;
      if (odd === undefined) odd = byte;
      else {
        sum += (odd << 8) | byte;
        odd = undefined;
      }
    }
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An IPv4 header as keepalived writes it for an advert: TOS internetwork control, TTL 255. */
export function encodeIpv4Header(src: IpAddr, dst: IpAddr, payloadBytes: number, ttl = vrrpTtl): Buffer {
  const h = Buffer.alloc(ipv4HeaderBytes);
  h[0] = 0x45;
  h[1] = 0xc0;
  h.writeUInt16BE(ipv4HeaderBytes + payloadBytes, 2);
  h[8] = ttl;
  h[9] = vrrpProtocol;
  h.writeUInt32BE(src.words[0] ?? 0, 12);
  h.writeUInt32BE(dst.words[0] ?? 0, 16);
  h.writeUInt16BE(internetChecksum([h]), 10);
  return h;
}

/** What an IPv4 header says, or why it cannot be read. */
export type Ipv4Header =
  | { readonly ok: true; readonly src: IpAddr; readonly dst: IpAddr; readonly ttl: number; readonly protocol: number; readonly totalLength: number; readonly headerBytes: number }
  | { readonly ok: false };

export function readIpv4Header(datagram: Buffer): Ipv4Header {
  if (datagram.length < ipv4HeaderBytes || datagram[0] === undefined || datagram[0] >> 4 !== 4) return { ok: false };
  const headerBytes = (datagram[0] & 0x0f) * 4;
  if (headerBytes < ipv4HeaderBytes || datagram.length < headerBytes) return { ok: false };
  return {
    ok: true,
    src: ipv4FromWord(datagram.readUInt32BE(12)),
    dst: ipv4FromWord(datagram.readUInt32BE(16)),
    ttl: datagram[8] as number,
    protocol: datagram[9] as number,
    totalLength: datagram.readUInt16BE(2),
    headerBytes,
  };
}

/** The advert's own fields, read without judging them (receive.ts judges). */
export function readAdvertFields(vrrp: Buffer, family: 4 | 6): VrrpAdvert & { readonly type: number; readonly checksum: number } {
  const version = ((vrrp[0] ?? 0) >> 4) as 2 | 3;
  const count = vrrp[3] ?? 0;
  const addrBytes = family === 4 ? 4 : 16;
  const addresses: IpAddr[] = [];
  for (let i = 0; i < count && vrrpHeaderBytes + (i + 1) * addrBytes <= vrrp.length; i++) {
    const at = vrrpHeaderBytes + i * addrBytes;
    addresses.push(family === 4 ? ipv4FromWord(vrrp.readUInt32BE(at)) : ipv6FromWords([0, 4, 8, 12].map((o) => vrrp.readUInt32BE(at + o))));
  }
  const authAt = vrrpHeaderBytes + count * addrBytes;
  return {
    version,
    type: (vrrp[0] ?? 0) & 0x0f,
    vrid: vrrp[1] ?? 0,
    priority: vrrp[2] ?? 0,
    advertIntervalMs: version === 2 ? (vrrp[5] ?? 0) * 1000 : (vrrp.readUInt16BE(4) & 0xfff) * 10,
    addresses,
    checksum: vrrp.readUInt16BE(6),
    ...(version === 2 ? { authType: (vrrp[4] ?? 0) as V2AuthType, authData: Buffer.from(vrrp.subarray(authAt, authAt + v2AuthBytes)) } : {}),
  };
}

/** keepalived's `auth_pass`: at most 8 bytes, zero-padded. */
export function passwordBytes(pass: string): Buffer {
  const out = Buffer.alloc(v2AuthBytes);
  Buffer.from(pass, 'utf8').copy(out, 0, 0, v2AuthBytes);
  return out;
}
