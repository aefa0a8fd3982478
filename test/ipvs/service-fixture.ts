import { VirtualClock } from '../../src/common/clock';
import { SeededRng, type Rng } from '../../src/common/rng';
import { parseIpAddr, type IpAddr } from '../../src/ipvs/address';
import type { Destination, DestinationSettings } from '../../src/ipvs/destination';
import { noSchedulerFlags, type PacketFacts, type SchedulerFlags, type SchedulerName } from '../../src/ipvs/schedulers/scheduler';
import { VirtualService } from '../../src/ipvs/service';

export function ip(text: string): IpAddr {
  const addr = parseIpAddr(text);
  if (addr === undefined) throw new Error(`bad address in test: ${text}`);
  return addr;
}

export interface DestSpec {
  readonly addr: string;
  readonly port?: number;
  readonly weight?: number;
  readonly upper?: number;
  readonly lower?: number;
}

export function settings(spec: Partial<DestSpec> = {}): DestinationSettings {
  return { forward: 'masq', weight: spec.weight ?? 1, upperThreshold: spec.upper ?? 0, lowerThreshold: spec.lower ?? 0 };
}

/** A TCP service on 172.16.100.1:80 with destinations added in the order given (so the last is first in the list). */
export function serviceWith(
  scheduler: SchedulerName,
  dests: ReadonlyArray<DestSpec | string>,
  options: { flags?: Partial<SchedulerFlags>; clock?: VirtualClock; rng?: Rng } = {},
): VirtualService {
  const svc = new VirtualService(
    { kind: 'address', protocol: 'tcp', address: ip('172.16.100.1'), port: 80 },
    { scheduler, flags: { ...noSchedulerFlags, ...options.flags }, onePacket: false },
    { clock: options.clock ?? new VirtualClock(), rng: options.rng ?? new SeededRng(1) },
  );
  for (const d of dests) {
    const spec = typeof d === 'string' ? { addr: d } : d;
    svc.addDestination(ip(spec.addr), spec.port ?? 80, settings(spec));
  }
  return svc;
}

export function dest(svc: VirtualService, addr: string, port = 80): Destination {
  const d = svc.findDestination(ip(addr), port);
  if (d === undefined) throw new Error(`no destination ${addr}:${port} in test service`);
  return d;
}

export function packet(saddr: string, sport = 40000, daddr = '172.16.100.1', dport = 80): PacketFacts {
  return { saddr: ip(saddr), sport, daddr: ip(daddr), dport };
}

/** The addresses chosen for `count` new connections from one client. */
export function picks(svc: VirtualService, count: number, from = packet('10.0.0.1')): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(svc.schedule(from)?.address.text ?? '-');
  return out;
}
