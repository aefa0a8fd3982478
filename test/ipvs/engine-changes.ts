// Random changes to an engine's services, as a director's configuration reloads and health
// checks make them: services of every protocol, family and scheduler come and go and are
// edited; real servers are added, removed, re-weighted, quiesced, re-thresholded and moved
// between NAT, DR and TUN. Every state reached is one ipvsadm can state (a DR or TUN
// server of an address service listens on the service's port), so the kernel can equal it.
import type { Rng } from '../../src/common/rng';
import { ipv4FromWord, ipv6FromWords, parseIpAddr, prefixMask, type IpAddr } from '../../src/ipvs/address';
import { ipipTunnel, type Destination, type DestinationSettings, type ForwardMethod, type TunnelEncap } from '../../src/ipvs/destination';
import type { IpvsEngine } from '../../src/ipvs/engine';
import { schedulerNames, type SchedulerFlags } from '../../src/ipvs/schedulers/scheduler';
import { serviceDisplayName, type ServiceKey, type ServiceSettings, type VirtualService } from '../../src/ipvs/service';

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.below(items.length)] as T;
const chance = (rng: Rng, oneIn: number): boolean => rng.below(oneIn) === 0;

const weights = [0, 1, 2, 3, 5, 10, 100, 65535];
const v4Masks = ['255.255.255.255', '255.255.255.0', '255.255.0.0', '255.255.255.128', '255.0.0.0'];
const v6Prefixes = [32, 48, 64, 96, 128];

const familyOf = (key: ServiceKey): 4 | 6 => (key.kind === 'fwmark' ? key.family : key.address.family);

function address(rng: Rng, family: 4 | 6, net: number): IpAddr {
  return family === 4 ? ipv4FromWord(((10 << 24) | ((net & 0xff) << 16) | (rng.below(4) << 8) | (1 + rng.below(6))) >>> 0) : ipv6FromWords([0x20010db8, net, 0, 1 + rng.below(6)]);
}

function randomKey(rng: Rng): ServiceKey {
  const family: 4 | 6 = chance(rng, 3) ? 6 : 4;
  const kind = pick(rng, ['tcp', 'udp', 'sctp', 'fwmark'] as const);
  if (kind === 'fwmark') return { kind: 'fwmark', mark: 1 + rng.below(8), family };
  const vip = family === 4 ? (parseIpAddr(`192.0.2.${1 + rng.below(8)}`) as IpAddr) : (parseIpAddr(`2001:db8:ffff::${(1 + rng.below(8)).toString(16)}`) as IpAddr);
  return { kind: 'address', protocol: kind, address: vip, port: pick(rng, [0, 53, 80, 443, 8080]) };
}

function randomSettings(rng: Rng, key: ServiceKey): ServiceSettings {
  const flags: SchedulerFlags = { flag1: chance(rng, 4), flag2: chance(rng, 4), flag3: chance(rng, 6) };
  const persistent = (key.kind === 'address' && key.port === 0) || chance(rng, 3);
  const family = familyOf(key);
  const netmask = persistent && chance(rng, 2) ? (family === 4 ? parseIpAddr(pick(rng, v4Masks)) : prefixMask(6, pick(rng, v6Prefixes))) : undefined;
  return {
    scheduler: pick(rng, schedulerNames),
    flags,
    onePacket: (key.kind === 'fwmark' || key.protocol === 'udp') && chance(rng, 4),
    ...(persistent ? { persistenceS: pick(rng, [1, 60, 300, 360, 3600, 86400]) } : {}),
    ...(netmask !== undefined ? { netmask } : {}),
  };
}

function randomTunnel(rng: Rng): TunnelEncap {
  switch (rng.below(3)) {
    case 0:
      return ipipTunnel;
    case 1:
      return { type: 'gue', port: 1 + rng.below(65535), checksum: pick(rng, ['nocsum', 'csum', 'remcsum'] as const) };
    default:
      return { type: 'gre', port: 0, checksum: pick(rng, ['nocsum', 'csum'] as const) };
  }
}

function randomDestSettings(rng: Rng, forward: ForwardMethod): DestinationSettings {
  const upper = chance(rng, 3) ? 1 + rng.below(10_000) : 0;
  const lower = upper !== 0 && chance(rng, 2) ? rng.below(upper + 1) : 0;
  return { forward, weight: chance(rng, 2) ? pick(rng, weights) : rng.below(65536), upperThreshold: upper, lowerThreshold: lower, ...(forward === 'tunnel' ? { tunnel: randomTunnel(rng) } : {}) };
}

/** A port that keeps the server where ipvsadm would put it. */
function portFor(rng: Rng, key: ServiceKey, forward: ForwardMethod): number {
  if (key.kind === 'address' && forward !== 'masq') return key.port;
  return pick(rng, [0, 80, 8080, 1 + rng.below(65535)]);
}

function addDestination(rng: Rng, engine: IpvsEngine, svc: VirtualService): string {
  const forward = pick(rng, ['masq', 'route', 'tunnel'] as const);
  // A tunnel may cross families (ipvsadm allows it only there).
  const family = forward === 'tunnel' && chance(rng, 8) ? (familyOf(svc.key) === 4 ? 6 : 4) : familyOf(svc.key);
  const addr = address(rng, family, 1 + rng.below(3));
  const port = portFor(rng, svc.key, forward);
  if (svc.findDestination(addr, port) !== undefined) return 'no change';
  engine.addDestination(svc, addr, port, randomDestSettings(rng, forward));
  return `add ${forward} ${addr.text}:${port} to ${serviceDisplayName(svc.key)}`;
}

function editDestination(rng: Rng, svc: VirtualService, d: Destination): string {
  const was: DestinationSettings = { forward: d.forward, weight: d.weight, upperThreshold: d.upperThreshold, lowerThreshold: d.lowerThreshold, tunnel: d.tunnel };
  let next: DestinationSettings;
  switch (rng.below(5)) {
    case 0:
      next = { ...was, weight: pick(rng, weights) };
      break;
    case 1:
      next = { ...was, weight: 0 };
      break;
    case 2: {
      const upper = chance(rng, 3) ? 0 : 1 + rng.below(1000);
      next = { ...was, upperThreshold: upper, lowerThreshold: upper === 0 ? 0 : rng.below(upper + 1) };
      break;
    }
    case 3: {
      // Only where the server's key stays: DR and TUN of an address service listen on its port.
      const crossFamily = d.address.family !== familyOf(svc.key);
      const keyed = svc.key.kind === 'address' && d.port !== svc.key.port;
      const methods: ForwardMethod[] = crossFamily ? ['tunnel'] : keyed ? ['masq'] : ['masq', 'route', 'tunnel'];
      const forward = pick(rng, methods);
      next = { ...was, forward, tunnel: forward === 'tunnel' ? randomTunnel(rng) : ipipTunnel };
      break;
    }
    default:
      next = { ...randomDestSettings(rng, d.forward), forward: d.forward };
  }
  svc.editDestination(d, next);
  return `edit ${d.key} of ${serviceDisplayName(svc.key)}: ${JSON.stringify(next)}`;
}

/** One random change; returns what it did, for the failure message. */
export function randomChange(rng: Rng, engine: IpvsEngine): string {
  const services = engine.listServices();
  const svc = services.length === 0 ? undefined : pick(rng, services);
  const roll = rng.below(100);
  if (svc === undefined || roll < 15) {
    const key = randomKey(rng);
    if (engine.findService(key) !== undefined) return 'no change';
    const added = engine.addService(key, randomSettings(rng, key));
    const dests = rng.below(4);
    for (let i = 0; i < dests; i++) addDestination(rng, engine, added);
    return `add ${serviceDisplayName(key)} with ${added.destinations.length} servers`;
  }
  if (roll < 22) {
    engine.deleteService(svc);
    return `delete ${serviceDisplayName(svc.key)}`;
  }
  if (roll < 35) {
    const settings = randomSettings(rng, svc.key);
    svc.edit(settings);
    return `edit ${serviceDisplayName(svc.key)}: ${JSON.stringify(settings)}`;
  }
  if (roll < 55 || svc.destinations.length === 0) return addDestination(rng, engine, svc);
  const d = pick(rng, svc.destinations);
  if (roll < 67) {
    engine.removeDestination(svc, d);
    return `remove ${d.key} from ${serviceDisplayName(svc.key)}`;
  }
  return editDestination(rng, svc, d);
}
