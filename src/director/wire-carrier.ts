// VRRP adverts on the wire for a set of instances, whoever decides for them (keepalived's
// semantics with no cluster, the cluster's agents with one): one raw socket per
// interface, family and group; adverts encoded as RFC 3768 / 5798 packets and sent to the
// group or to each unicast peer; what arrives judged as keepalived judges it, counted
// under keepalived's names, and what passes handed on. The sockets sit behind a small
// driver, so the same carrier runs on virtual time in tests.
import type { LogSink } from '../common/log';
import type { IpAddr } from '../ipvs/address';
import type { VrrpSettings, VrrpState } from '../vrrp/instance';
import { encodeAdvert, type ChecksumForm, type V2AuthType } from '../vrrp/wire/packet';
import type { OldUnicastChecksum } from '../vrrp/config';
import { dropReasons, frameOf, judgeAdvert, type AdvertExpectations, type DropReason, type ReceivedDatagram } from '../vrrp/wire/receive';
import type { VrrpSocket } from '../vrrp/wire/raw-socket';

/** One instance on the wire. */
export interface WireInstanceSettings extends VrrpSettings {
  readonly vrid: number;
  readonly interface: string;
  readonly family: 4 | 6;
  /** The source of its adverts (unicast_src_ip, else the interface's address). */
  readonly source: IpAddr;
  /** The multicast group (global_defs vrrp_mcast_group4/6). */
  readonly group: IpAddr;
  /** The addresses its adverts list: its virtual_ipaddress of its family. */
  readonly addresses: readonly IpAddr[];
  /** unicast_peer: adverts go to each of them rather than to the group. */
  readonly unicastPeers: readonly IpAddr[];
  readonly authType: V2AuthType;
  readonly authData?: Buffer;
  readonly checksum: ChecksumForm;
  readonly oldUnicastChecksum: OldUnicastChecksum;
}

/** Opens the raw socket of an interface and family; raw-socket.ts in the daemon, a fake in tests. */
export type WireSocketOpener = (family: 4 | 6, iface: string, group: IpAddr, received: (d: ReceivedDatagram) => void) => VrrpSocket;

/** keepalived's per-instance statistics, by its own names. */
export type WireStats = Record<'advert_rcvd' | 'advert_sent' | 'become_master' | 'release_master' | 'pri_zero_rcvd' | 'pri_zero_sent' | DropReason, number>;

export interface WireSocketStatus {
  readonly socket: string;
  readonly drops: Partial<Record<DropReason, number>>;
}

/** An advert that passed every check, for the instance's machine. */
export interface WireAdvert {
  readonly instance: string;
  readonly from: string;
  readonly priority: number;
  readonly advertIntervalMs: number;
}

export interface WireCarrierHost {
  /** Whether the instance reads adverts now (VrrpInstance.readsAdverts). */
  listening(instance: string): boolean;
  received(advert: WireAdvert): void;
}

function newStats(): WireStats {
  const stats = { advert_rcvd: 0, advert_sent: 0, become_master: 0, release_master: 0, pri_zero_rcvd: 0, pri_zero_sent: 0 } as WireStats;
  for (const reason of dropReasons) stats[reason] = 0;
  return stats;
}

interface Carried {
  readonly settings: WireInstanceSettings;
  /** What its adverts must be, from its settings (and the checksum form it switched to). */
  expect: AdvertExpectations;
  readonly socket: VrrpSocket;
  readonly stats: WireStats;
}

function expectations(s: WireInstanceSettings): AdvertExpectations {
  return {
    version: s.version,
    advertIntervalMs: s.advertIntervalMs,
    addresses: s.addresses,
    authType: s.authType,
    ...(s.authData !== undefined ? { authData: s.authData } : {}),
    unicast: s.unicastPeers.length > 0,
    checksum: s.checksum,
    unicastPseudoDst: s.oldUnicastChecksum === 'always' ? 'group' : s.oldUnicastChecksum === 'never' ? 'destination' : 'either',
    group: s.group,
  };
}

/** Its unicast adverts carry the old checksum (the group in the pseudo-header): what it expects, it sends. */
const oldForm = (c: Carried): boolean => c.expect.unicastPseudoDst === 'group';

/** One socket per interface, family and group. */
function socketKey(s: WireInstanceSettings): string {
  return `${s.interface}/IPv${s.family}/${s.group.text}`;
}

export class WireCarrier {
  private readonly instances = new Map<string, Carried>();
  /** The instance of each socket and VRID, for what arrives. */
  private readonly byVrid = new Map<string, Carried>();
  private readonly sockets = new Map<string, VrrpSocket>();
  /** Per interface socket: what arrived for no instance of ours, or too broken to say. */
  private readonly socketDrops = new Map<string, Partial<Record<DropReason, number>>>();

  constructor(
    settings: readonly WireInstanceSettings[],
    open: WireSocketOpener,
    private readonly host: WireCarrierHost,
    private readonly log: LogSink,
  ) {
    try {
      for (const s of settings) {
        const key = socketKey(s);
        let socket = this.sockets.get(key);
        if (socket === undefined) {
          socket = open(s.family, s.interface, s.group, (d) => this.received(key, d));
          this.sockets.set(key, socket);
        }
        const carried = { settings: s, expect: expectations(s), socket, stats: newStats() };
        this.instances.set(s.name, carried);
        this.byVrid.set(`${key}/${s.vrid}`, carried);
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  get settings(): WireInstanceSettings[] {
    return [...this.instances.values()].map((c) => c.settings);
  }

  /** Where the adverts go, for the start-up line: each interface, family and group (or unicast). */
  describe(): string {
    return [...new Set(this.settings.map((s) => `${s.interface} (IPv${s.family}${s.unicastPeers.length > 0 ? ' unicast' : ` ${s.group.text}`})`))].join(', ');
  }

  carries(instance: string): boolean {
    return this.instances.has(instance);
  }

  send(instance: string, priority: number, advertIntervalMs: number): void {
    const c = this.instances.get(instance);
    if (c === undefined) return;
    const s = c.settings;
    const advert = { version: s.version, vrid: s.vrid, priority, advertIntervalMs, addresses: s.addresses, authType: s.authType, ...(s.authData !== undefined ? { authData: s.authData } : {}) };
    for (const dst of s.unicastPeers.length > 0 ? s.unicastPeers : [s.group]) {
      const error = c.socket.send(encodeAdvert(advert, { family: s.family, src: s.source, dst: oldForm(c) ? s.group : dst }, s.checksum), s.source, dst);
      if (error !== undefined) {
        this.log.warn(`${s.name}: advert to ${dst.text} not sent: ${error}`, { component: 'vrrp' });
        continue;
      }
      c.stats.advert_sent++;
      if (priority === 0) c.stats.pri_zero_sent++;
    }
  }

  /** Counts keepalived's become_master and release_master. */
  stateChanged(instance: string, from: VrrpState, to: VrrpState): void {
    const c = this.instances.get(instance);
    if (c === undefined) return;
    if (to === 'master') c.stats.become_master++;
    if (from === 'master') c.stats.release_master++;
  }

  stats(instance: string): WireStats | undefined {
    const stats = this.instances.get(instance)?.stats;
    return stats === undefined ? undefined : { ...stats };
  }

  /** What each interface socket dropped before any instance saw it. */
  socketStatus(): WireSocketStatus[] {
    return [...this.socketDrops].map(([socket, drops]) => ({ socket, drops: { ...drops } }));
  }

  close(): void {
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
  }

  private received(key: string, d: ReceivedDatagram): void {
    const framed = frameOf(d);
    if (!framed.ok) {
      if (framed.reason !== 'not-vrrp') this.countSocketDrop(key, framed.reason);
      return;
    }
    const frame = framed.frame;
    const c = this.byVrid.get(`${key}/${frame.vrid}`);
    if (c === undefined) {
      this.countSocketDrop(key, 'vrid_err');
      return;
    }
    if (!this.host.listening(c.settings.name)) return;
    const judged = judgeAdvert(frame, c.expect);
    if (!judged.ok) {
      c.stats[judged.reason]++;
      return;
    }
    if (judged.oldUnicastChecksum && !oldForm(c)) this.switchToOldForm(c, judged.from);
    for (const reason of judged.counted) c.stats[reason]++;
    c.stats.advert_rcvd++;
    if (judged.advert.priority === 0) c.stats.pri_zero_rcvd++;
    this.host.received({ instance: c.settings.name, from: judged.from.text, priority: judged.advert.priority, advertIntervalMs: judged.advert.advertIntervalMs });
  }

  /** As keepalived: a peer heard with the old unicast checksum is answered in it, and only it is heard from then on. */
  private switchToOldForm(c: Carried, from: IpAddr): void {
    c.expect = { ...c.expect, unicastPseudoDst: 'group' };
    this.log.info(`${c.settings.name}: ${from.text} sends the old unicast VRRPv3 checksum (the group ${c.settings.group.text} in the pseudo-header): this instance now sends and hears that form, as keepalived does`, { component: 'vrrp' });
  }

  private countSocketDrop(key: string, reason: DropReason): void {
    const drops = this.socketDrops.get(key) ?? {};
    drops[reason] = (drops[reason] ?? 0) + 1;
    this.socketDrops.set(key, drops);
  }
}
