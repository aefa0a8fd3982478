// The iproute2, arping and ndptool command lines for a VIP, built from keepalived's
// virtual_ipaddress options: `IP[/PREFIX] [brd IP] [dev IF] [scope SCOPE] [label LABEL]`.
import type { VirtualAddress } from '../vrrp/config';

/** Where an address goes: its own `dev`, else the instance's `interface`, else `lo`. */
export function vipDevice(vip: VirtualAddress, instanceInterface: string | undefined): string {
  return vip.dev ?? instanceInterface ?? 'lo';
}

/** `ip [-6] addr add|del ADDRESS/PREFIX [brd B] dev DEV [scope S] [label L] [nodad]`. */
export function ipAddrArgs(op: 'add' | 'del', vip: VirtualAddress, dev: string): string[] {
  const args = vip.family === 6 ? ['-6', 'addr', op] : ['addr', op];
  args.push(`${vip.address}/${vip.prefix}`);
  if (vip.brd !== undefined && vip.family === 4) args.push('brd', vip.brd);
  args.push('dev', dev);
  if (vip.scope !== undefined) args.push('scope', vip.scope);
  if (vip.label !== undefined && vip.family === 4) args.push('label', vip.label);
  // A VIP moves between directors: duplicate address detection would only delay it.
  if (op === 'add' && vip.family === 6) args.push('nodad');
  return args;
}

/**
 * Gratuitous ARP: `count` unsolicited requests (sender and target both the VIP), which
 * neighbours use to update an existing entry for the address to this host's MAC. The
 * first goes at once; iputils arping spaces the rest a second apart.
 */
export function garpArgs(vip: VirtualAddress, dev: string, count: number): string[] {
  return ['-U', '-q', '-c', String(count), '-I', dev, '-s', vip.address, vip.address];
}

/**
 * An unsolicited neighbour advertisement (RFC 4861 §7.2.6) for an IPv6 VIP, by libndp's
 * ndptool: to all nodes, with the override flag and this host's link-layer address, so
 * neighbours that know the address move it to this host.
 */
export function unsolicitedNaArgs(vip: VirtualAddress, dev: string): string[] {
  return ['send', '-t', 'na', '-U', '-i', dev, '-T', vip.address];
}

/** How long arping may take for `count` requests a second apart. */
export function garpTimeoutMs(count: number): number {
  return (count + 2) * 1000;
}

/** What iproute2 says when the address is already there, or already gone. */
export function alreadyDone(op: 'add' | 'del', stderr: string): boolean {
  return op === 'add' ? /File exists/.test(stderr) : /Cannot assign requested address|No such process|Address not found/.test(stderr);
}
