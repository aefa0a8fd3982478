// Judging a received advert as keepalived does (vrrp_check_packet), before any field
// reaches an instance: the complete packet, TTL/hop limit 255 unless unicast, the
// version, version 2's authentication and interval, the type, the checksum, multicast
// against unicast, and the address list. What fails is counted under keepalived's own
// name for it, so operators read the same words as in keepalived's stats. A wrong
// address count, or addresses that are not the instance's, are counted but accepted,
// as keepalived accepts them.
import type { IpAddr } from '../../ipvs/address';
import {
  advertChecksum,
  readAdvertFields,
  readIpv4Header,
  v2Auth,
  v2AuthBytes,
  vrrpHeaderBytes,
  vrrpProtocol,
  vrrpTtl,
  type ChecksumForm,
  type V2AuthType,
  type VrrpAdvert,
} from './packet';

export const dropReasons = [
  'packet_len_err',
  'ip_ttl_err',
  'vers_err',
  'invalid_authtype',
  'authtype_mismatch',
  'auth_failure',
  'advert_interval_err',
  'invalid_type_rcvd',
  'chk_err',
  'addr_list_err',
  'vrid_err',
  'unicast_src_err',
] as const;
export type DropReason = (typeof dropReasons)[number];

/** A datagram off a raw socket. */
export interface ReceivedDatagram {
  readonly family: 4 | 6;
  /** IPv4: the whole datagram, header first (as raw IPv4 sockets give it); IPv6: the VRRP message. */
  readonly bytes: Buffer;
  /** IPv6 only, from the ancillary data: the ends and the hop limit. */
  readonly src?: IpAddr;
  readonly dst?: IpAddr;
  readonly hopLimit?: number;
}

/** A datagram's VRRP message with what the IP layer said of it. */
export interface Frame {
  readonly family: 4 | 6;
  readonly src: IpAddr;
  readonly dst: IpAddr;
  readonly ttl: number;
  readonly vrid: number;
  readonly vrrp: Buffer;
}

export type Framed = { readonly ok: true; readonly frame: Frame } | { readonly ok: false; readonly reason: DropReason | 'not-vrrp' };

/** Takes the VRRP message out of its datagram; too short to hold a header is packet_len_err. */
export function frameOf(d: ReceivedDatagram): Framed {
  if (d.family === 6) {
    if (d.src === undefined || d.dst === undefined || d.hopLimit === undefined) return { ok: false, reason: 'packet_len_err' };
    if (d.bytes.length < vrrpHeaderBytes) return { ok: false, reason: 'packet_len_err' };
    return { ok: true, frame: { family: 6, src: d.src, dst: d.dst, ttl: d.hopLimit, vrid: d.bytes[1] as number, vrrp: d.bytes } };
  }
  const ip = readIpv4Header(d.bytes);
  if (!ip.ok) return { ok: false, reason: 'packet_len_err' };
  if (ip.protocol !== vrrpProtocol) return { ok: false, reason: 'not-vrrp' };
  if (ip.totalLength > d.bytes.length || ip.totalLength < ip.headerBytes + vrrpHeaderBytes) return { ok: false, reason: 'packet_len_err' };
  const vrrp = d.bytes.subarray(ip.headerBytes, ip.totalLength);
  return { ok: true, frame: { family: 4, src: ip.src, dst: ip.dst, ttl: ip.ttl, vrid: vrrp[1] as number, vrrp } };
}

/** What an instance expects of the adverts for its VRID. */
export interface AdvertExpectations {
  readonly version: 2 | 3;
  readonly advertIntervalMs: number;
  /** The instance's addresses of the frame's family, to check the advert's list against. */
  readonly addresses: readonly IpAddr[];
  readonly authType: V2AuthType;
  /** `auth_pass`, zero-padded to 8 bytes. */
  readonly authData?: Buffer;
  /** Whether the instance has unicast peers: adverts then come unicast, with any TTL. */
  readonly unicast: boolean;
  /** When set (keepalived's check_unicast_src), only these sources are heard. */
  readonly unicastSources?: readonly IpAddr[];
  readonly checksum: ChecksumForm;
  /**
   * Version 3 unicast over IPv4: what the pseudo-header's destination must be, the
   * advert's own (`destination`), the multicast group as older keepalived wrote it
   * (`group`), or either (`either`, keepalived's default until it hears the old form).
   */
  readonly unicastPseudoDst: 'destination' | 'group' | 'either';
  /** The instance's multicast group (vrrp_mcast_group4), for the old unicast form. */
  readonly group: IpAddr;
}

export type Judged =
  | {
      readonly ok: true;
      readonly advert: VrrpAdvert;
      readonly from: IpAddr;
      readonly counted: readonly DropReason[];
      /** Its checksum holds only with the group in the pseudo-header (the old unicast form). */
      readonly oldUnicastChecksum: boolean;
    }
  | { readonly ok: false; readonly reason: DropReason };

export function judgeAdvert(frame: Frame, expect: AdvertExpectations): Judged {
  const fail = (reason: DropReason): Judged => ({ ok: false, reason });
  const vrrp = frame.vrrp;
  const fields = readAdvertFields(vrrp, frame.family);
  const addrBytes = frame.family === 4 ? 4 : 16;
  const declared = vrrp[3] as number;
  const expectedBytes = vrrpHeaderBytes + declared * addrBytes + (frame.family === 4 && fields.version === 2 ? v2AuthBytes : 0);
  if (vrrp.length !== expectedBytes) return fail('packet_len_err');
  if (!expect.unicast && frame.ttl !== vrrpTtl) return fail('ip_ttl_err');
  if (fields.version !== expect.version) return fail('vers_err');
  if (fields.version === 2) {
    const authType = fields.authType as number;
    if (authType !== v2Auth.none && authType !== v2Auth.pass && authType !== v2Auth.ah) return fail('invalid_authtype');
    if (authType !== expect.authType) return fail('authtype_mismatch');
    if (authType === v2Auth.pass && !(fields.authData ?? Buffer.alloc(0)).equals(expect.authData ?? Buffer.alloc(v2AuthBytes))) return fail('auth_failure');
    if (fields.advertIntervalMs !== Math.round(expect.advertIntervalMs / 1000) * 1000) return fail('advert_interval_err');
  }
  if (fields.type !== 1) return fail('invalid_type_rcvd');
  const checksum = checksumForm(frame, fields.version, fields.checksum, expect);
  if (checksum === undefined) return fail('chk_err');
  const multicast = frame.family === 4 ? (frame.dst.words[0] ?? 0) >>> 28 === 0xe : (frame.dst.words[0] ?? 0) >>> 24 === 0xff;
  if (multicast === expect.unicast) return fail('addr_list_err');
  const counted: DropReason[] = [];
  const listed = new Set(fields.addresses.map((a) => a.text));
  if (declared !== expect.addresses.length || expect.addresses.some((a) => !listed.has(a.text))) counted.push('addr_list_err');
  if (expect.unicastSources !== undefined && !expect.unicastSources.some((s) => s.text === frame.src.text)) return fail('unicast_src_err');
  return { ok: true, advert: fields, from: frame.src, counted, oldUnicastChecksum: checksum === 'group' };
}

/**
 * Which pseudo-header destination the carried checksum holds with, among those allowed;
 * undefined when none. Only version 3 unicast over IPv4 has a choice (older keepalived put
 * the multicast group there whatever the destination).
 */
function checksumForm(frame: Frame, version: 2 | 3, carried: number, expect: AdvertExpectations): 'destination' | 'group' | undefined {
  // keepalived does not check a version 3 checksum it was told to compute as version 2 does.
  if (version === 3 && frame.family === 4 && expect.checksum === 'as-v2') return 'destination';
  const ends = { family: frame.family, src: frame.src, dst: frame.dst };
  const oldFormAllowed = version === 3 && frame.family === 4 && expect.unicast;
  if ((!oldFormAllowed || expect.unicastPseudoDst !== 'group') && advertChecksum(frame.vrrp, version, ends, expect.checksum) === carried) return 'destination';
  if (oldFormAllowed && expect.unicastPseudoDst !== 'destination' && advertChecksum(frame.vrrp, version, { ...ends, dst: expect.group }, expect.checksum) === carried) return 'group';
  return undefined;
}
