// Where a namespaced cluster's hosts live on its /24: the address of each node, real
// server and the client, each a namespace of its own (NetnsCluster).
import type { HadConfig } from '../config/model';
import type { Endpoint } from '../drill/cluster';
import type { NamespacedPlane } from './netns-config';

export const clientHost = 'client';
const clientHostFirst = 50;
/**
 * The client's addresses for NAT services on the kernel plane, asked from in turn: a
 * persistent service keeps each client address on one real server, so one address
 * would show one server only.
 */
const natSourcesMax = 16;

export interface LayoutOptions {
  readonly subnet: string;
  readonly plane: NamespacedPlane;
  /** Who runs it, in what it says: `drill` or `lab`. */
  readonly user: 'drill' | 'lab';
}

/** Where each part of the cluster lives: namespace (node, real server or the client) → SUBNET.N, and which namespace serves each real server. */
export interface Layout {
  readonly hosts: ReadonlyMap<string, number>;
  readonly realHosts: ReadonlyMap<string, string>;
  /** The client's further addresses, for NAT on the kernel plane. */
  readonly natSources: readonly number[];
}

/** N of SUBNET.N, or undefined for an address off the subnet. */
function hostNumber(address: string, subnet: string): number | undefined {
  if (!address.startsWith(`${subnet}.`)) return undefined;
  const n = Number(address.slice(subnet.length + 1));
  return Number.isInteger(n) && n >= 1 && n <= 254 ? n : undefined;
}

/**
 * Where each host of the cluster goes on the subnet: each node at its own address, each
 * real server's address a host of its own (or the node's at that address), the client
 * at the first free address from .50 and, on the kernel plane, its NAT addresses at the
 * next free ones; or why the configuration cannot be laid out so.
 */
export function layoutOf(config: HadConfig, nodes: readonly string[], reals: ReadonlyMap<string, Endpoint>, vips: readonly Endpoint[], o: LayoutOptions): Layout | string {
  const { subnet } = o;
  const hosts = new Map<string, number>();
  const byNumber = new Map<number, string>();
  for (const node of nodes) {
    const address = config.cluster?.nodes.find((n) => n.name === node)?.addresses.find((a) => a.family === 4)?.address ?? '';
    const n = hostNumber(address, subnet);
    if (n === undefined) return `node ${node}'s address ${address} is not in ${subnet}.0/24 after the rewrite`;
    if (byNumber.has(n) || node === 'hub' || node === clientHost) return `node ${node}: two hosts on ${address}, or a name the ${o.user} uses itself`;
    hosts.set(node, n);
    byNumber.set(n, node);
  }
  const realHosts = new Map<string, string>();
  for (const [name, at] of reals) {
    const n = hostNumber(at.host, subnet);
    if (n === undefined) return `real server ${name} is not in ${subnet}.0/24 after the rewrite`;
    const host = byNumber.get(n) ?? `rs${n}`;
    if (!byNumber.has(n) && hosts.has(host)) return `real server ${name}: a node is named ${host}`;
    // On the kernel plane a real server carries the VIP on its lo: no director could.
    if (o.plane === 'kernel' && nodes.includes(host)) return `real server ${name} is on node ${host}'s address: on the kernel plane a real server is a host of its own`;
    hosts.set(host, n);
    byNumber.set(n, host);
    realHosts.set(name, host);
  }
  for (const vip of vips) {
    if (hostNumber(vip.host, subnet) === undefined) return `the VIP ${vip.host} is not in ${subnet}.0/24 after the rewrite: the client could not reach it`;
  }
  const taken = new Set([...byNumber.keys(), ...config.vrrpInstances.flatMap((vi) => vi.virtualIpAddresses.map((v) => hostNumber(v.address, subnet)))]);
  const free = (from: number): number | undefined => {
    for (let n = from; n <= 254; n++) if (!taken.has(n)) return n;
    return undefined;
  };
  const client = free(clientHostFirst);
  if (client === undefined) return `no address left on ${subnet}.0/24 for the client`;
  hosts.set(clientHost, client);
  taken.add(client);
  const natSources: number[] = [];
  while (o.plane === 'kernel' && natSources.length < natSourcesMax) {
    const n = free(client + 1);
    if (n === undefined) break;
    natSources.push(n);
    taken.add(n);
  }
  if (o.plane === 'kernel' && natSources.length === 0) return `no address left on ${subnet}.0/24 for the client's NAT requests`;
  return { hosts, realHosts, natSources };
}
