// What each vrrp_instance sends and expects on the wire when no cluster runs it, read
// from the file as keepalived reads it: the family of its first VIP, the interface's
// own address as the advert's source (its first IPv4 address, or its IPv6 link-local
// address) unless unicast_src_ip names one, the group of global_defs, version 3 for
// IPv6 whatever vrrp_version says; with use_vmac, the adverts come and go on the VMAC.
import type { HadConfig } from '../config/model';
import { parseIpAddr, type IpAddr } from '../ipvs/address';
import { defaultVrrpInterface, type VrrpInstanceConfig } from '../vrrp/config';
import { instanceFamily } from '../vrrp/config-checks';
import { passwordBytes, v2Auth } from '../vrrp/wire/packet';
import type { VmacDevice } from '../vip/vmac';
import type { WireInstanceSettings } from './wire-carrier';

/** An interface's addresses, as os.networkInterfaces() lists them; undefined when there is no such interface. */
export type InterfaceAddresses = (name: string) => ReadonlyArray<{ readonly family: 4 | 6; readonly address: string }> | undefined;

export interface WirePlan {
  readonly settings: WireInstanceSettings[];
  /** What stops an instance from running: `run` refuses to start. */
  readonly problems: string[];
  /** What keepalived also does differently from the file's words (a warning). */
  readonly notes: string[];
}

/** Where an instance's adverts come from: unicast_src_ip, else its interface's first IPv4 address or its IPv6 link-local one. */
export function advertSource(vi: VrrpInstanceConfig, listed: ReturnType<InterfaceAddresses>): IpAddr | undefined {
  if (vi.unicastSrcIp !== undefined) return parseIpAddr(vi.unicastSrcIp.address);
  const own = instanceFamily(vi) === 4 ? listed?.find((a) => a.family === 4) : listed?.find((a) => a.family === 6 && a.address.toLowerCase().startsWith('fe80:'));
  return own === undefined ? undefined : parseIpAddr(own.address.split('%')[0] as string);
}

/** `vmacs`: the VMACs that run (use_vmac). */
export function wireSettings(config: HadConfig, interfaces: InterfaceAddresses, vmacs: ReadonlyMap<string, VmacDevice> = new Map()): WirePlan {
  const settings: WireInstanceSettings[] = [];
  const problems: string[] = [];
  const notes: string[] = [];
  for (const vi of config.vrrpInstances) {
    const family = instanceFamily(vi);
    const iface = vi.interface ?? defaultVrrpInterface;
    let version = vi.version;
    if (family === 6 && version === 2) {
      notes.push(`${vi.name}: IPv6 needs VRRP version 3: it runs version 3, as keepalived does`);
      version = 3;
    }
    if (vi.authentication?.type === 'AH') {
      problems.push(`${vi.name}: auth_type AH is not supported (RFC 3768 dropped it; use PASS, or no authentication)`);
      continue;
    }
    const pass = version === 2 && vi.authentication?.type === 'PASS';
    if (vi.authentication !== undefined && version === 3) notes.push(`${vi.name}: VRRP version 3 has no authentication: the authentication block is ignored, as keepalived ignores it`);
    const listed = interfaces(iface);
    if (listed === undefined) {
      problems.push(`${vi.name}: interface ${iface} does not exist on this host`);
      continue;
    }
    const source = advertSource(vi, listed);
    if (source === undefined) {
      problems.push(`${vi.name}: interface ${iface} has no ${family === 4 ? 'IPv4 address' : 'IPv6 link-local address'} to send adverts from (give unicast_src_ip)`);
      continue;
    }
    const vmac = vmacs.get(vi.name);
    const group = parseIpAddr(family === 4 ? config.global.vrrpMcastGroup4 : config.global.vrrpMcastGroup6) as IpAddr;
    settings.push({
      name: vi.name,
      version,
      priority: vi.priority,
      advertIntervalMs: vi.advertIntMs,
      preempt: vi.preempt,
      preemptDelayMs: vi.preemptDelayMs,
      startAsMaster: vi.initialState === 'MASTER',
      primaryAddress: source.text,
      vrid: vi.virtualRouterId ?? 0,
      // As keepalived: the instance's socket sends and receives on its VMAC (a peer's adverts from
      // the same MAC reach the macvlan, not the base), unless vmac_xmit_base keeps it on the base.
      interface: vmac !== undefined && !vmac.xmitBase ? vmac.name : iface,
      family,
      source,
      group,
      addresses: vi.virtualIpAddresses.filter((v) => v.family === family).map((v) => parseIpAddr(v.address) as IpAddr),
      unicastPeers: vi.unicastPeers.filter((p) => p.family === family).map((p) => parseIpAddr(p.address) as IpAddr),
      authType: pass ? v2Auth.pass : v2Auth.none,
      ...(pass ? { authData: passwordBytes(vi.authentication?.pass ?? '') } : {}),
      checksum: vi.v3ChecksumAsV2 ? 'as-v2' : 'pseudo-header',
      oldUnicastChecksum: vi.oldUnicastChecksum,
    });
  }
  return { settings, problems, notes };
}
