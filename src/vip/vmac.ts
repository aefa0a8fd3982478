// keepalived's `use_vmac`: an instance's VIPs live on a macvlan of its interface whose
// MAC is the virtual router MAC of RFC 5798 §7.3 (00:00:5e:00:01:VRID for IPv4,
// 00:00:5e:00:02:VRID for IPv6), so the neighbours' entry for a VIP never changes when
// the VIP moves between directors. The adverts leave from the macvlan too (the switches
// learn where the MAC is), unless `vmac_xmit_base` keeps them on the base interface.
// Names as keepalived gives them: `use_vmac NAME`, else vrrp.VRID, then (IPv6) vrrp6.VRID,
// then vrrp1.VRID, vrrp2.VRID ... for the first free one among the instances.
import type { HadConfig } from '../config/model';
import { defaultVrrpInterface, type VirtualAddress, type VrrpInstanceConfig } from '../vrrp/config';
import { instanceFamily } from '../vrrp/config-checks';

export interface VmacDevice {
  readonly instance: string;
  /** The macvlan's name. */
  readonly name: string;
  /** The instance's interface, which the macvlan sits on. */
  readonly base: string;
  readonly mac: string;
  readonly family: 4 | 6;
  /** Whether the adverts leave from the base interface (`vmac_xmit_base`). */
  readonly xmitBase: boolean;
}

const hex = (n: number): string => n.toString(16).padStart(2, '0');

/** The MAC of `use_vmac`: the one given (five octets take the VRID as the sixth), else the virtual router MAC. */
export function vmacAddress(vi: VrrpInstanceConfig, family: 4 | 6): string {
  const vrid = hex(vi.virtualRouterId ?? 0);
  const given = vi.vmac?.mac?.replace(/:$/, '').split(':').map((o) => hex(parseInt(o, 16)));
  if (given === undefined) return `00:00:5e:00:0${family === 4 ? 1 : 2}:${vrid}`;
  return (given.length === 5 ? [...given, vrid] : given).join(':');
}

/** Every instance's VMAC, by instance name; none for an instance without `use_vmac`. */
export function planVmacs(config: HadConfig): Map<string, VmacDevice> {
  const devices = new Map<string, VmacDevice>();
  const taken = new Set(config.vrrpInstances.flatMap((vi) => (vi.vmac?.name !== undefined ? [vi.vmac.name] : [])));
  for (const vi of config.vrrpInstances) {
    if (vi.vmac === undefined) continue;
    const family = instanceFamily(vi);
    const name = vi.vmac.name ?? freeName(vi.virtualRouterId ?? 0, family, taken);
    taken.add(name);
    devices.set(vi.name, { instance: vi.name, name, base: vi.interface ?? defaultVrrpInterface, mac: vmacAddress(vi, family), family, xmitBase: vi.vmacXmitBase });
  }
  return devices;
}

function freeName(vrid: number, family: 4 | 6, taken: ReadonlySet<string>): string {
  const candidates = [`vrrp.${vrid}`, ...(family === 6 ? [`vrrp6.${vrid}`] : []), ...Array.from({ length: 98 }, (_, i) => `vrrp${i + 1}.${vrid}`).filter((n) => n !== `vrrp6.${vrid}` || family === 4)];
  return candidates.find((n) => !taken.has(n)) ?? `vrrp99.${vrid}`;
}

/**
 * Where an instance's addresses go with a VMAC, as keepalived places them: an address of
 * the VMAC's family with no `dev`, or `dev` the instance's interface, goes on the VMAC;
 * any other stays where it says (or on the instance's interface).
 */
export function placeOnVmac(addresses: readonly VirtualAddress[], d: VmacDevice): VirtualAddress[] {
  return addresses.map((a) => ((a.dev === undefined || a.dev === d.base) && a.family === d.family ? { ...a, dev: d.name } : { ...a, dev: a.dev ?? d.base }));
}

/** `ip link add link BASE name NAME address MAC type macvlan mode private`. */
export function vmacAddArgs(d: VmacDevice): string[] {
  return ['link', 'add', 'link', d.base, 'name', d.name, 'address', d.mac, 'type', 'macvlan', 'mode', 'private'];
}

/**
 * The kernel settings keepalived makes for a VMAC: the macvlan answers ARP only for its
 * own addresses and takes packets from its own MAC's addresses; the base interface stops
 * answering ARP for the VIPs (they are on the macvlan) with its own MAC.
 *
 * One more than keepalived on the base: arp_announce 2. A reply from a VIP leaves by the
 * subnet's route, which is the base's; the ARP request the kernel sends first for the
 * client would name the VIP as its sender, and the client would take the base's own MAC
 * for the VIP, which is what the VMAC is there to prevent. With 2 the request names the
 * base's own address.
 */
export const vmacSysctls: Readonly<Record<string, string>> = { arp_ignore: '1', accept_local: '1', rp_filter: '0', promote_secondaries: '1' };
export const baseSysctls: Readonly<Record<string, string>> = { arp_ignore: '1', arp_filter: '1', arp_announce: '2' };
