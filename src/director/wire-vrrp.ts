// VRRP as keepalived runs it, with no cluster: each vrrp_instance is the machine of
// vrrp/instance.ts with its gate always open (no quorum, no fencing), its adverts real
// VRRP packets (IP protocol 112, multicast to the group or unicast to its peers), and
// what arrives judged as keepalived judges it and counted under keepalived's names. The
// sockets sit behind a small driver, so the same shell runs on virtual time in tests.
import type { Clock } from '../common/clock';
import type { LogSink } from '../common/log';
import type { IpAddr } from '../ipvs/address';
import { trackedEvents, VrrpInstance, type VrrpAction, type VrrpSettings, type VrrpState, type VrrpTimer } from '../vrrp/instance';
import { encodeAdvert, type ChecksumForm, type V2AuthType } from '../vrrp/wire/packet';
import { dropReasons, frameOf, judgeAdvert, type AdvertExpectations, type DropReason, type ReceivedDatagram } from '../vrrp/wire/receive';
import type { VrrpSocket } from '../vrrp/wire/raw-socket';
import { Timers } from './timers';

const noClusterGate = 'no cluster: keepalived semantics (no quorum, no fencing)';

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
}

/** Opens the raw socket of an interface and family; raw-socket.ts in the daemon, a fake in tests. */
export type WireSocketOpener = (family: 4 | 6, iface: string, group: IpAddr, received: (d: ReceivedDatagram) => void) => VrrpSocket;

export interface WireHost {
  instanceChanged(instance: string, from: VrrpState, to: VrrpState, reason: string, priority: number): void;
}

/** keepalived's per-instance statistics, by its own names. */
export type WireStats = Record<'advert_rcvd' | 'advert_sent' | 'become_master' | 'release_master' | 'pri_zero_rcvd' | 'pri_zero_sent' | DropReason, number>;

export interface WireInstanceStatus {
  readonly name: string;
  /** One line: state, priority, interval. */
  readonly instance: string;
  readonly state: VrrpState;
  readonly stats: WireStats;
}

export interface WireSocketStatus {
  readonly socket: string;
  readonly drops: Partial<Record<DropReason, number>>;
}

function newStats(): WireStats {
  const stats = { advert_rcvd: 0, advert_sent: 0, become_master: 0, release_master: 0, pri_zero_rcvd: 0, pri_zero_sent: 0 } as WireStats;
  for (const reason of dropReasons) stats[reason] = 0;
  return stats;
}

interface Running {
  readonly settings: WireInstanceSettings;
  /** What its adverts must be, from its settings. */
  readonly expect: AdvertExpectations;
  readonly machine: VrrpInstance;
  readonly timers: Timers<VrrpTimer>;
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
  };
}

/** One socket per interface, family and group. */
function socketKey(s: WireInstanceSettings): string {
  return `${s.interface}/IPv${s.family}/${s.group.text}`;
}

export class WireVrrp {
  private readonly instances = new Map<string, Running>();
  /** The instance of each socket and VRID, for what arrives. */
  private readonly byVrid = new Map<string, Running>();
  private readonly sockets = new Map<string, VrrpSocket>();
  /** Per interface socket: what arrived for no instance of ours, or too broken to say. */
  private readonly socketDrops = new Map<string, Partial<Record<DropReason, number>>>();

  constructor(
    settings: readonly WireInstanceSettings[],
    open: WireSocketOpener,
    clock: Clock,
    private readonly host: WireHost,
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
        const timers = new Timers<VrrpTimer>(clock, (timer) => this.step(s.name, { kind: 'timerFired', timer }));
        const running = { settings: s, expect: expectations(s), machine: new VrrpInstance(s, clock), timers, socket, stats: newStats() };
        this.instances.set(s.name, running);
        this.byVrid.set(`${key}/${s.vrid}`, running);
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Starts every instance: the gate is open from the first moment, as keepalived has none. */
  start(): void {
    for (const [name, r] of this.instances) {
      r.machine.step({ kind: 'gateChanged', open: true, reason: noClusterGate });
      this.perform(name, r.machine.step({ kind: 'startup' }));
    }
  }

  tracked(instance: string, priority: number, faults: readonly string[]): void {
    const r = this.instances.get(instance);
    if (r !== undefined) for (const event of trackedEvents(r.machine, priority, faults)) this.step(instance, event);
  }

  followGroup(instance: string, to: 'master' | 'backup', reason: string): void {
    this.step(instance, to === 'master' ? { kind: 'groupMaster', reason } : { kind: 'groupBackup', reason });
  }

  /** A clean stop: every master sends priority 0 and lets go. */
  release(): void {
    for (const name of this.instances.keys()) this.step(name, { kind: 'shutdown' });
  }

  close(): void {
    for (const r of this.instances.values()) r.timers.clear();
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
  }

  status(): WireInstanceStatus[] {
    return [...this.instances.values()].map((r) => ({ name: r.settings.name, instance: r.machine.describe(), state: r.machine.state, stats: { ...r.stats } }));
  }

  /** What each interface socket dropped before any instance saw it. */
  socketStatus(): WireSocketStatus[] {
    return [...this.socketDrops].map(([socket, drops]) => ({ socket, drops: { ...drops } }));
  }

  private step(name: string, event: Parameters<VrrpInstance['step']>[0]): void {
    const r = this.instances.get(name);
    if (r !== undefined) this.perform(name, r.machine.step(event));
  }

  private perform(name: string, actions: readonly VrrpAction[]): void {
    const r = this.instances.get(name);
    if (r === undefined) return;
    for (const a of actions) {
      switch (a.kind) {
        case 'sendAdvert':
          this.send(r, a.priority, a.advertIntervalMs);
          break;
        case 'setTimer':
          r.timers.set(a.timer, a.atMs);
          break;
        case 'cancelTimer':
          r.timers.cancel(a.timer);
          break;
        case 'stateChanged':
          if (a.to === 'master') r.stats.become_master++;
          if (a.from === 'master') r.stats.release_master++;
          this.log.info(`${name}: ${a.from.toUpperCase()} -> ${a.to.toUpperCase()}: ${a.reason}`, { component: 'vrrp' });
          this.host.instanceChanged(name, a.from, a.to, a.reason, r.machine.effectivePriority);
          break;
      }
    }
  }

  private send(r: Running, priority: number, advertIntervalMs: number): void {
    const s = r.settings;
    const advert = { version: s.version, vrid: s.vrid, priority, advertIntervalMs, addresses: s.addresses, authType: s.authType, ...(s.authData !== undefined ? { authData: s.authData } : {}) };
    for (const dst of s.unicastPeers.length > 0 ? s.unicastPeers : [s.group]) {
      const error = r.socket.send(encodeAdvert(advert, { family: s.family, src: s.source, dst }, s.checksum), s.source, dst);
      if (error !== undefined) {
        this.log.warn(`${s.name}: advert to ${dst.text} not sent: ${error}`, { component: 'vrrp' });
        continue;
      }
      r.stats.advert_sent++;
      if (priority === 0) r.stats.pri_zero_sent++;
    }
  }

  private received(key: string, d: ReceivedDatagram): void {
    const framed = frameOf(d);
    if (!framed.ok) {
      if (framed.reason !== 'not-vrrp') this.countSocketDrop(key, framed.reason);
      return;
    }
    const frame = framed.frame;
    const r = this.byVrid.get(`${key}/${frame.vrid}`);
    if (r === undefined) {
      this.countSocketDrop(key, 'vrid_err');
      return;
    }
    // keepalived reads nothing while an instance is in FAULT or not yet started.
    if (r.machine.state === 'fault' || r.machine.state === 'init') return;
    const judged = judgeAdvert(frame, r.expect);
    if (!judged.ok) {
      r.stats[judged.reason]++;
      return;
    }
    for (const reason of judged.counted) r.stats[reason]++;
    r.stats.advert_rcvd++;
    if (judged.advert.priority === 0) r.stats.pri_zero_rcvd++;
    this.step(r.settings.name, { kind: 'advertReceived', from: judged.from.text, priority: judged.advert.priority, advertIntervalMs: judged.advert.advertIntervalMs });
  }

  private countSocketDrop(key: string, reason: DropReason): void {
    const drops = this.socketDrops.get(key) ?? {};
    drops[reason] = (drops[reason] ?? 0) + 1;
    this.socketDrops.set(key, drops);
  }
}
