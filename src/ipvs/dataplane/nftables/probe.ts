// What this kernel offers the nftables kernel plane, asked before any rule is written: each
// nftables construct the rules use, checked with `nft -c` (parsed and validated by the
// kernel, not applied); ipip for tunnelling; the conntrack tool. A missing construct is one
// line naming what it stops. (Whether the kernel has IPVS is common/ipvsadm.ts's question.)
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tableName } from './ruleset';

export type KernelFeature = 'nat' | 'dr' | 'tunnel' | 'conntrack';

export interface KernelOffer {
  /** What each feature lacks here; absent when the feature is there. */
  readonly missing: ReadonlyMap<KernelFeature, string>;
}

/** Runs `nft -c -f -` on a batch: undefined when the kernel would take it, else its complaint. */
export type NftCheck = (batch: string) => string | undefined;

const probeTable = `${tableName}_probe`;

/** LVS-NAT: a nat chain, ct mark, numgen and jhash maps, dynamic maps with timeouts, dnat to an address and port. */
const natProbe = `table ip ${probeTable} {
  map p { type ipv4_addr : mark; flags dynamic,timeout; timeout 60s; }
  chain c {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr 192.0.2.1 tcp dport 80 ct mark set ip saddr map @p
    ct mark 0 ct mark set numgen inc mod 2 map { 0 : 1, 1 : 2 }
    ct mark 0 ct mark set jhash ip saddr mod 2 seed 0x1 map { 0 : 1, 1 : 2 }
    ct mark != 0 update @p { ip saddr : ct mark }
    ct mark 1 meta l4proto tcp dnat ip to 192.0.2.2:8080
  }
}
`;

/** LVS-DR: an ingress chain on a device, a flow map, and fwd to a neighbour. */
const drProbe = `table netdev ${probeTable} {
  map f { type ipv4_addr . inet_service : mark; flags dynamic,timeout; timeout 60s; }
  chain c {
    type filter hook ingress device "lo" priority 0; policy accept;
    ip daddr 192.0.2.1 tcp dport 80 meta mark set ip saddr . tcp sport map @f
    meta mark != 0 update @f { ip saddr . tcp sport : meta mark }
    meta mark 1 fwd ip to 192.0.2.2 device "lo"
  }
}
`;

export function nftCheck(batch: string): string | undefined {
  const r = spawnSync('nft', ['-c', '-f', '-'], { input: batch, encoding: 'utf8', timeout: 10_000 });
  if (r.error !== undefined) return r.error.message;
  return r.status === 0 ? undefined : r.stderr.trim().split('\n')[0] || `nft -c exited ${r.status}`;
}

export function probeKernel(check: NftCheck = nftCheck, exists: (path: string) => boolean = fs.existsSync): KernelOffer {
  const missing = new Map<KernelFeature, string>();
  const nat = check(natProbe);
  if (nat !== undefined) missing.set('nat', `nftables NAT (nat chain, ct mark, numgen, jhash, dynamic maps) refused: ${nat}`);
  const dr = check(drProbe);
  if (dr !== undefined) missing.set('dr', `nftables DR (netdev ingress, fwd to a neighbour) refused: ${dr}`);
  if (!exists('/sys/module/ipip') && !moduleAvailable('ipip')) missing.set('tunnel', 'no ipip in this kernel (no /sys/module/ipip, and modprobe finds no ipip module)');
  if (!toolRuns('conntrack')) missing.set('conntrack', 'no conntrack tool (apt-get install conntrack): NAT connections are not replicated');
  return { missing };
}

function toolRuns(name: string): boolean {
  return spawnSync(name, ['--version'], { timeout: 5000 }).status === 0;
}

function moduleAvailable(name: string): boolean {
  const r = spawnSync('modprobe', ['-n', '-q', name], { timeout: 5000 });
  return r.status === 0;
}
