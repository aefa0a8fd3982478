// The kernel's IPVS table as ipvsadm sets it: services by key, each with its real servers
// by the key the kernel gives them. Built from the engine's services (what the kernel
// should hold) here, or from `ipvsadm -S -n` (what it holds, saved-table.ts); render.ts
// turns the difference of two into ipvsadm lines. Values are kept as ipvsadm stores them
// (a DR or TUN server of an address service takes the service's port; a netmask counts
// only for a persistent service), so two tables are equal when the kernel's would be.
import { formatEndpoint, ipv4FromWord, type IpAddr } from '../../address';
import { destinationKey, ipipTunnel, type ForwardMethod, type TunnelEncap } from '../../destination';
import type { SchedulerFlags } from '../../schedulers/scheduler';
import { serviceDisplayName, serviceKeyText, type ServiceKey, type VirtualService } from '../../service';

export interface TableDestination {
  readonly address: IpAddr;
  readonly port: number;
  readonly forward: ForwardMethod;
  readonly weight: number;
  readonly upperThreshold: number;
  readonly lowerThreshold: number;
  /** A tunnelling server's encapsulation; ipip for the others, which have none. */
  readonly tunnel: TunnelEncap;
}

export interface TableService {
  readonly key: ServiceKey;
  readonly scheduler: string;
  readonly flags: SchedulerFlags;
  /** Absent when the service is not persistent. */
  readonly persistenceS?: number;
  /** ipvsadm's -M (a dotted IPv4 mask, an IPv6 prefix length); absent when all ones or not persistent. */
  readonly netmask?: string;
  readonly onePacket: boolean;
  /** By destinationKey, oldest first: added in this order, the kernel lists them as the engine does. */
  readonly destinations: ReadonlyMap<string, TableDestination>;
}

/** By serviceKeyText, oldest first. */
export type IpvsTable = ReadonlyMap<string, TableService>;

export function familyOf(key: ServiceKey): 4 | 6 {
  return key.kind === 'fwmark' ? key.family : key.address.family;
}

/** ipvsadm's -M value for a mask, or undefined when it is all ones (ipvsadm's default). */
export function netmaskOption(family: 4 | 6, mask: IpAddr | undefined): string | undefined {
  if (mask === undefined) return undefined;
  if (family === 4) {
    const word = (mask.words[0] ?? 0xffffffff) >>> 0;
    return word === 0xffffffff ? undefined : ipv4FromWord(word).text;
  }
  const bits = mask.words.reduce((sum, w) => sum + popcount(w), 0);
  return bits === 128 ? undefined : String(bits);
}

function popcount(word: number): number {
  let w = word >>> 0;
  let count = 0;
  for (; w !== 0; count++) w &= w - 1;
  return count;
}

/**
 * The port the kernel keys a real server by: ipvsadm gives a DR or TUN server of an
 * address service the service's own port, whatever was asked.
 */
export function kernelPort(key: ServiceKey, forward: ForwardMethod, port: number): number {
  return key.kind === 'address' && forward !== 'masq' ? key.port : port;
}

export function sameServiceSettings(a: TableService, b: TableService): boolean {
  return (
    a.scheduler === b.scheduler &&
    a.flags.flag1 === b.flags.flag1 &&
    a.flags.flag2 === b.flags.flag2 &&
    a.flags.flag3 === b.flags.flag3 &&
    a.persistenceS === b.persistenceS &&
    a.netmask === b.netmask &&
    a.onePacket === b.onePacket
  );
}

export function sameDestination(a: TableDestination, b: TableDestination): boolean {
  return (
    a.forward === b.forward &&
    a.weight === b.weight &&
    a.upperThreshold === b.upperThreshold &&
    a.lowerThreshold === b.lowerThreshold &&
    a.tunnel.type === b.tunnel.type &&
    a.tunnel.port === b.tunnel.port &&
    a.tunnel.checksum === b.tunnel.checksum
  );
}

/** A table entry for a service, as ipvsadm would store its settings. */
export function tableService(key: ServiceKey, s: { scheduler: string; flags: SchedulerFlags; persistenceS?: number | undefined; netmask?: IpAddr | undefined; onePacket: boolean }): Omit<TableService, 'destinations'> {
  const netmask = s.persistenceS === undefined ? undefined : netmaskOption(familyOf(key), s.netmask);
  return {
    key,
    scheduler: s.scheduler,
    flags: { flag1: s.flags.flag1, flag2: s.flags.flag2, flag3: s.flags.flag3 },
    ...(s.persistenceS !== undefined ? { persistenceS: s.persistenceS } : {}),
    ...(netmask !== undefined ? { netmask } : {}),
    // The engine ignores one-packet scheduling but for UDP (and fwmark) services; ipvsadm refuses it elsewhere.
    onePacket: s.onePacket && (key.kind === 'fwmark' || key.protocol === 'udp'),
  };
}

/** A table entry for a real server, as ipvsadm would store it. */
export function tableDestination(key: ServiceKey, d: Omit<TableDestination, 'tunnel'> & { readonly tunnel?: TunnelEncap | undefined }): TableDestination {
  return {
    address: d.address,
    port: kernelPort(key, d.forward, d.port),
    forward: d.forward,
    weight: d.weight,
    upperThreshold: d.upperThreshold,
    lowerThreshold: d.lowerThreshold,
    tunnel: d.forward === 'tunnel' ? (d.tunnel ?? ipipTunnel) : ipipTunnel,
  };
}

/**
 * The table the kernel should hold for the engine's services, and what of them ipvsadm
 * cannot state (left out, named in `problems`).
 */
export function tableOfServices(services: readonly VirtualService[]): { table: IpvsTable; problems: string[] } {
  const table = new Map<string, TableService>();
  const problems: string[] = [];
  // The engine lists the newest first; the table keeps the order things are added in.
  for (const svc of [...services].reverse()) {
    const key = svc.key;
    const name = serviceDisplayName(key);
    if (key.kind === 'address' && key.port === 0 && svc.settings.persistenceS === undefined) {
      problems.push(`${name}: ipvsadm takes port 0 only for a persistent service (HAD_IPVS_PLANE)`);
      continue;
    }
    const destinations = new Map<string, TableDestination>();
    for (const d of [...svc.destinations].reverse()) {
      const refused = destinationRefusal(key, d);
      if (refused !== undefined) {
        problems.push(`${name}: real server ${formatEndpoint(d.address, d.port)}: ${refused} (HAD_IPVS_PLANE)`);
        continue;
      }
      const td = tableDestination(key, d);
      const dkey = destinationKey(td.address, td.port);
      if (destinations.has(dkey)) {
        problems.push(`${name}: real server ${formatEndpoint(d.address, d.port)}: the kernel would key it as ${formatEndpoint(td.address, td.port)}, as another of the service's (a DR or TUN server takes the service's port) (HAD_IPVS_PLANE)`);
        continue;
      }
      destinations.set(dkey, td);
    }
    table.set(serviceKeyText(key), { ...tableService(key, svc.settings), destinations });
  }
  return { table, problems };
}

function destinationRefusal(key: ServiceKey, d: { address: IpAddr; forward: ForwardMethod; upperThreshold: number; lowerThreshold: number }): string | undefined {
  if (d.address.family !== familyOf(key) && d.forward !== 'tunnel') return 'only a tunnelling server may be of another address family than its service';
  if (d.lowerThreshold > d.upperThreshold) return `its lower threshold ${d.lowerThreshold} is above its upper one ${d.upperThreshold}, which the kernel refuses`;
  return undefined;
}
