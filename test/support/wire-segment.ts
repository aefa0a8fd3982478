// A fake Ethernet segment for VRRP on the wire, on virtual time: what a node's socket
// sends reaches every other node's socket of that family a millisecond later, as the
// very bytes a raw socket would deliver (IPv4 datagrams with their header, TTL 255; IPv6
// messages with their ends and hop limit).
import { VirtualClock } from '../../src/common/clock';
import { parseIpAddr, type IpAddr } from '../../src/ipvs/address';
import { WireVrrp } from '../../src/director/wire-vrrp';
import type { WireInstanceSettings, WireSocketOpener } from '../../src/director/wire-carrier';
import { encodeIpv4Header, v2Auth, vrrpMulticast4, vrrpMulticast6 } from '../../src/vrrp/wire/packet';
import type { ReceivedDatagram } from '../../src/vrrp/wire/receive';
import type { VrrpState } from '../../src/vrrp/instance';

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined };
export const ip = (text: string): IpAddr => parseIpAddr(text) as IpAddr;

export class Segment {
  /** Each node's receive path, by NODE/FAMILY: where a test injects what it likes. */
  readonly receivers = new Map<string, (d: ReceivedDatagram) => void>();

  constructor(private readonly clock: VirtualClock) {}

  /** Rewrites or drops what goes by (a hostile or broken sender); identity by default. */
  tamper: (bytes: Buffer) => Buffer | undefined = (b) => b;
  cut = new Set<string>();

  opener(node: string): WireSocketOpener {
    return (family, _iface, _group, received) => {
      this.receivers.set(`${node}/${family}`, received);
      return {
        family,
        interface: 'eth0',
        send: (vrrp, src, dst) => {
          if (this.cut.has(node)) return undefined;
          for (const [key, deliver] of this.receivers) {
            const [to, fam] = key.split('/');
            if (to === node || Number(fam) !== family || this.cut.has(to as string)) continue;
            const bytes = this.tamper(family === 4 ? Buffer.concat([encodeIpv4Header(src, dst, vrrp.length), vrrp]) : Buffer.from(vrrp));
            if (bytes === undefined) continue;
            this.clock.setTimeout(() => deliver(family === 4 ? { family: 4, bytes } : { family: 6, bytes, src, dst, hopLimit: 255 }), 1);
          }
          return undefined;
        },
        close: () => this.receivers.delete(`${node}/${family}`),
      };
    };
  }
}

export interface Node {
  readonly wire: WireVrrp;
  readonly changes: Array<{ atMs: number; to: VrrpState }>;
}

export function settings(over: Partial<WireInstanceSettings> & { source: IpAddr }): WireInstanceSettings {
  return {
    name: 'VI_1',
    version: 3,
    priority: 100,
    advertIntervalMs: 1000,
    preempt: true,
    preemptDelayMs: 0,
    startAsMaster: false,
    primaryAddress: over.source.text,
    vrid: 51,
    interface: 'eth0',
    family: over.family ?? 4,
    group: ip((over.family ?? 4) === 4 ? vrrpMulticast4 : vrrpMulticast6),
    addresses: [ip('10.9.0.100')],
    unicastPeers: [],
    authType: v2Auth.none,
    checksum: 'pseudo-header',
    oldUnicastChecksum: 'on-hearing',
    ...over,
  };
}

export function node(clock: VirtualClock, segment: Segment, name: string, s: WireInstanceSettings): Node {
  const changes: Node['changes'] = [];
  const wire = new WireVrrp([s], segment.opener(name), clock, { instanceChanged: (_i, _f, to) => changes.push({ atMs: clock.nowMs(), to }) }, quiet);
  return { wire, changes };
}

export const state = (n: Node): VrrpState | undefined => n.wire.status()[0]?.state;

/** a (priority 150, 10.9.0.1) and b (100, 10.9.0.2) on one segment, started, settled: a master, b backup. */
export function settledPair(over: Partial<WireInstanceSettings> = {}): { clock: VirtualClock; segment: Segment; a: Node; b: Node } {
  const clock = new VirtualClock();
  const segment = new Segment(clock);
  const a = node(clock, segment, 'a', settings({ ...over, source: ip('10.9.0.1'), priority: 150 }));
  const b = node(clock, segment, 'b', settings({ ...over, source: ip('10.9.0.2'), priority: 100 }));
  a.wire.start();
  b.wire.start();
  clock.advance(10_000);
  return { clock, segment, a, b };
}
