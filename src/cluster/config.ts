// `cluster { ... }`: what keepalived has no words for. The directors (and witness), the
// heartbeat links between them, failure-detector timing, authentication, quorum, the
// policy without quorum, fencing and time checks. docs/configuration.md is the reference.
import path from 'node:path';
import type { SourcePos } from '../common/where';
import { applyBlock, type BlockSpec, type ParseContext } from '../config/keywords';
import type { Token } from '../config/token';
import type { Statement } from '../config/tree';
import {
  choiceArg,
  durationArg,
  expectArgs,
  flagArg,
  intArg,
  listBlock,
  parseAddress,
  parseEndpoint,
  set,
  wordArg,
  type IpAddress,
} from '../config/values';
import { fencingSpec, newFencing, type FencingConfig } from '../fencing/config';
import { isLoopbackAddress } from '../vip/driver';
import { newSync, syncSpec, type SyncConfig } from '../sync/config';
import { newTimeCheck, timeCheckSpec, type TimeCheckConfig } from '../time/config';

export const clusterPortDefault = 6405;
export const defaultLinkName = 'ring0';
export const noQuorumPolicies = ['stop', 'freeze', 'ignore'] as const;
export type NoQuorumPolicy = (typeof noQuorumPolicies)[number];
/** How VIPs are held: `auto` is `linux` for a root director with a VIP off loopback. */
export const vipDrivers = ['auto', 'loopback', 'linux'] as const;
export type VipDriverChoice = (typeof vipDrivers)[number];
export const nodeNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export interface LinkConfig {
  readonly name: string;
  readonly where: SourcePos;
  port: number;
  mcastGroup?: string;
  ttl: number;
  interface?: string;
}

export interface NodeAddress extends IpAddress {
  readonly link: string;
  readonly port: number;
  readonly where: SourcePos;
}

export interface NodeConfig {
  readonly name: string;
  readonly where: SourcePos;
  addresses: NodeAddress[];
  /** DC preference: the highest wins, then the lowest name. */
  priority: number;
  votes: number;
  /** Votes, never holds a VIP. */
  witness: boolean;
}

export type ClusterAuth =
  | { readonly kind: 'key'; readonly file: string; readonly written: string; readonly where: SourcePos }
  | { readonly kind: 'none'; readonly where: SourcePos };

export interface QuorumConfig {
  expectedVotes?: number;
  expectedVotesWhere?: SourcePos;
  twoNode: boolean;
  twoNodeWhere?: SourcePos;
  /** Defaults to two_node, as in corosync votequorum. */
  waitForAll?: boolean;
}

export interface ClusterConfig {
  readonly where: SourcePos;
  clusterId: string;
  auth?: ClusterAuth;
  port: number;
  heartbeatIntervalMs: number;
  /** Defaults to deadtime / 2. */
  warntimeMs?: number;
  deadtimeMs: number;
  deadtimeWhere?: SourcePos;
  /** Defaults to max(2 × deadtime, 5 s). */
  initdeadMs?: number;
  links: LinkConfig[];
  nodes: NodeConfig[];
  quorum: QuorumConfig;
  noQuorumPolicy: NoQuorumPolicy;
  vipDriver: VipDriverChoice;
  fencing: FencingConfig;
  sync: SyncConfig;
  time: TimeCheckConfig;
}

export function newCluster(where: SourcePos): ClusterConfig {
  return {
    where,
    clusterId: 'hadirector',
    port: clusterPortDefault,
    heartbeatIntervalMs: 1000,
    deadtimeMs: 3000,
    links: [],
    nodes: [],
    quorum: { twoNode: false },
    noQuorumPolicy: 'stop',
    vipDriver: 'auto',
    fencing: newFencing(),
    sync: newSync(),
    time: newTimeCheck(),
  };
}

/** Every node on 127.0.0.0/8 (the lab): no other host can reach the cluster. */
export function onLoopbackOnly(c: ClusterConfig): boolean {
  return c.nodes.every((n) => n.addresses.every((a) => isLoopbackAddress(a.address)));
}

/** Effective failure-detector timing, with the documented defaults filled in. */
export function detectorTiming(c: ClusterConfig): { intervalMs: number; warntimeMs: number; deadtimeMs: number; initdeadMs: number } {
  return {
    intervalMs: c.heartbeatIntervalMs,
    warntimeMs: c.warntimeMs ?? c.deadtimeMs / 2,
    deadtimeMs: c.deadtimeMs,
    initdeadMs: c.initdeadMs ?? Math.max(2 * c.deadtimeMs, 5000),
  };
}

const timingRange = { min: 10, max: 3_600_000 } as const;

interface PendingAddress {
  readonly statement: Statement;
}

/** Node addresses name links that may be declared later, so they are read at the end. */
interface ClusterDraft {
  readonly cluster: ClusterConfig;
  readonly pending: Map<NodeConfig, PendingAddress[]>;
  /** Links with no port of their own: they take the cluster's, which may be set later. */
  readonly onClusterPort: LinkConfig[];
}

export const clusterSpec: BlockSpec<ClusterDraft> = {
  name: 'cluster',
  keywords: {
    cluster_id: (s, { cluster }, cx) => {
      const id = wordArg(cx, s);
      if (id === undefined) return;
      if (/^[A-Za-z0-9_.-]{1,64}$/.test(id)) cluster.clusterId = id;
      else cx.diags.error('HAD_CFG_BAD_VALUE', `cluster_id: '${id}' must be 1-64 letters, digits, '.', '_' or '-'`, s.args[0]?.where);
    },
    auth_key_file: (s, { cluster }, cx) => {
      const file = wordArg(cx, s);
      if (file !== undefined) cluster.auth = { kind: 'key', file: path.resolve(cx.baseDir, file), written: file, where: s.where };
    },
    auth: (s, { cluster }, cx) => {
      if (choiceArg(cx, s, ['none'] as const) === 'none') cluster.auth = { kind: 'none', where: s.where };
    },
    port: (s, { cluster }, cx) => set(cluster, 'port', intArg(cx, s, { min: 1, max: 65535 })),
    heartbeat_interval: (s, { cluster }, cx) => set(cluster, 'heartbeatIntervalMs', durationArg(cx, s, timingRange)),
    warntime: (s, { cluster }, cx) => set(cluster, 'warntimeMs', durationArg(cx, s, timingRange)),
    deadtime: (s, { cluster }, cx) => {
      set(cluster, 'deadtimeMs', durationArg(cx, s, timingRange));
      cluster.deadtimeWhere = s.where;
    },
    initdead: (s, { cluster }, cx) => set(cluster, 'initdeadMs', durationArg(cx, s, timingRange)),
    link: (s, { cluster, onClusterPort }, cx) => {
      const name = s.args[0];
      if (name === undefined) {
        cx.diags.error('HAD_CFG_MISSING_ARGUMENT', `'link' needs a name: link ring0 { port ... }`, s.where);
        return;
      }
      const link: LinkConfig = { name: name.text, where: s.where, port: cluster.port, ttl: 1 };
      const block = listBlock(cx, { ...s, args: s.args.slice(1) });
      applyBlock(linkSpec, block, link, cx);
      if (!block.some((x) => x.keyword.text === 'port')) onClusterPort.push(link);
      cluster.links.push(link);
    },
    node: (s, draft, cx) => {
      const name = s.args[0];
      if (name === undefined) {
        cx.diags.error('HAD_CFG_MISSING_ARGUMENT', `'node' needs a name: node d1 { address ... }`, s.where);
        return;
      }
      if (!nodeNamePattern.test(name.text)) {
        cx.diags.error('HAD_CFG_BAD_VALUE', `node name '${name.text}' must start with a letter or digit and hold only letters, digits, '.', '_' or '-' (63 at most)`, name.where);
      }
      const node: NodeConfig = { name: name.text, where: s.where, addresses: [], priority: 100, votes: 1, witness: false };
      const pending: PendingAddress[] = [];
      applyBlock(nodeSpec, listBlock(cx, { ...s, args: s.args.slice(1) }), { node, pending }, cx);
      draft.pending.set(node, pending);
      draft.cluster.nodes.push(node);
    },
    quorum: (s, { cluster }, cx) => applyBlock(quorumSpec, listBlock(cx, s), cluster.quorum, cx),
    no_quorum_policy: (s, { cluster }, cx) => set(cluster, 'noQuorumPolicy', choiceArg(cx, s, noQuorumPolicies)),
    vip_driver: (s, { cluster }, cx) => set(cluster, 'vipDriver', choiceArg(cx, s, vipDrivers)),
    fencing: (s, { cluster }, cx) => {
      const fencing = newFencing(s.where);
      applyBlock(fencingSpec, listBlock(cx, s), fencing, cx);
      cluster.fencing = fencing;
    },
    sync: (s, { cluster }, cx) => applyBlock(syncSpec, listBlock(cx, s), cluster.sync, cx),
    time: (s, { cluster }, cx) => applyBlock(timeCheckSpec, listBlock(cx, s), cluster.time, cx),
  },
};

export const linkSpec: BlockSpec<LinkConfig> = {
  name: 'link',
  keywords: {
    port: (s, t, cx) => set(t, 'port', intArg(cx, s, { min: 1, max: 65535 })),
    mcast_group: (s, t, cx) => {
      if (!expectArgs(cx, s, 1)) return;
      const ip = parseAddress(cx, s, s.args[0] as Token);
      if (ip === undefined) return;
      if (!isMulticast(ip)) cx.diags.error('HAD_CFG_BAD_ADDRESS', `mcast_group: ${ip.address} is not a multicast address`, s.args[0]?.where);
      else t.mcastGroup = ip.address;
    },
    ttl: (s, t, cx) => set(t, 'ttl', intArg(cx, s, { min: 1, max: 255 })),
    interface: (s, t, cx) => set(t, 'interface', wordArg(cx, s)),
  },
};

export const nodeSpec: BlockSpec<{ node: NodeConfig; pending: PendingAddress[] }> = {
  name: 'node',
  keywords: {
    address: (s, t, cx) => {
      if (expectArgs(cx, s, 1, 2)) t.pending.push({ statement: s });
    },
    priority: (s, t, cx) => set(t.node, 'priority', intArg(cx, s, { min: 0, max: 255 })),
    votes: (s, t, cx) => set(t.node, 'votes', intArg(cx, s, { min: 0, max: 255 })),
    witness: (s, t, cx) => {
      t.node.witness = flagArg(cx, s);
    },
  },
};

export const quorumSpec: BlockSpec<QuorumConfig> = {
  name: 'quorum',
  keywords: {
    expected_votes: (s, t, cx) => {
      set(t, 'expectedVotes', intArg(cx, s, { min: 1, max: 65535 }));
      t.expectedVotesWhere = s.where;
    },
    two_node: (s, t, cx) => {
      t.twoNode = flagArg(cx, s);
      t.twoNodeWhere = s.where;
    },
    wait_for_all: (s, t, cx) => {
      t.waitForAll = flagArg(cx, s);
    },
  },
};

export function readCluster(cx: ParseContext, s: Statement, block: readonly Statement[]): ClusterConfig {
  const draft: ClusterDraft = { cluster: newCluster(s.where), pending: new Map(), onClusterPort: [] };
  applyBlock(clusterSpec, block, draft, cx);
  const { cluster } = draft;
  for (const link of draft.onClusterPort) link.port = cluster.port;
  if (cluster.links.length === 0) cluster.links.push({ name: defaultLinkName, where: s.where, port: cluster.port, ttl: 1 });
  for (const [node, pending] of draft.pending) {
    for (const { statement } of pending) {
      const address = readNodeAddress(cx, statement, cluster);
      if (address !== undefined) node.addresses.push(address);
    }
  }
  return cluster;
}

/** `address IP[:PORT]` (first link) or `address LINK IP[:PORT]`. */
function readNodeAddress(cx: ParseContext, s: Statement, cluster: ClusterConfig): NodeAddress | undefined {
  const [a, b] = s.args as [Token, Token | undefined];
  const linkToken = b === undefined ? undefined : a;
  const endpointToken = b ?? a;
  const link = linkToken === undefined ? cluster.links[0] : cluster.links.find((l) => l.name === linkToken.text);
  if (link === undefined) {
    const known = cluster.links.map((l) => l.name).join(', ');
    cx.diags.error('HAD_CFG_UNKNOWN_REFERENCE', `address: no link named '${linkToken?.text}' (links: ${known})`, linkToken?.where ?? s.where);
    return undefined;
  }
  const endpoint = parseEndpoint(cx, s, endpointToken, link.port);
  return endpoint === undefined ? undefined : { ...endpoint, link: link.name, where: endpointToken.where };
}

function isMulticast(ip: IpAddress): boolean {
  if (ip.family === 6) return ip.address.toLowerCase().startsWith('ff');
  const first = Number(ip.address.split('.')[0]);
  return first >= 224 && first <= 239;
}
