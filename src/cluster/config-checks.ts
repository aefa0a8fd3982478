// Cross-block checks of `cluster { ... }`: the nodes, their addresses and votes, the
// failure-detector timing, authentication, quorum, fencing references and time limits.
import crypto from 'node:crypto';
import { describeFsError } from '../config/config-fs';
import type { ParseContext } from '../config/keywords';
import type { HadConfig } from '../config/model';
import { reportDuplicates } from '../config/uniqueness';
import { detectorTiming, onLoopbackOnly, type ClusterConfig } from './config';

/** An HMAC-SHA256 key shorter than this is too easy to guess. */
export const authKeyBytesMin = 16;
export const authKeyBytesMax = 4096;

export function checkClusterConfig(config: HadConfig, cx: ParseContext): void {
  const cluster = config.cluster;
  if (cluster === undefined) return;
  const { diags } = cx;
  const nodes = reportDuplicates(diags, cluster.nodes, (n) => n.name, (n) => n.where, (n) => `node '${n.name}'`);
  reportDuplicates(diags, cluster.links, (l) => l.name, (l) => l.where, (l) => `link '${l.name}'`);
  const addresses = cluster.nodes.flatMap((n) => n.addresses.map((a) => ({ a, n })));
  reportDuplicates(diags, addresses, ({ a }) => `${a.address}:${a.port}`, ({ a }) => a.where, ({ a, n }) => `address ${a.address}:${a.port} of node '${n.name}'`);

  if (cluster.nodes.length === 0) diags.error('HAD_CFG_MISSING_KEYWORD', `cluster needs its nodes: node d1 { address 127.0.0.11 }`, cluster.where);
  for (const node of cluster.nodes) {
    if (node.addresses.length === 0) diags.error('HAD_CFG_MISSING_KEYWORD', `node '${node.name}' needs an address`, node.where);
    for (const link of cluster.links) {
      if (node.addresses.length > 0 && !node.addresses.some((a) => a.link === link.name)) {
        diags.warn('HAD_CFG_MISSING_KEYWORD', `node '${node.name}' has no address on link '${link.name}'`, node.where);
      }
    }
  }
  if (!nodes.has(config.node)) {
    const known = cluster.nodes.map((n) => n.name).join(', ');
    diags.error('HAD_CFG_UNKNOWN_NODE', `this node, '${config.node}', is not a node of the cluster (${known}): pass --node NAME`, cluster.where);
  }

  checkTiming(cluster, cx);
  checkAuth(cluster, cx);
  checkQuorum(cluster, cx);
  checkFencing(cluster, nodes, cx);
  const syncLink = cluster.sync.link;
  if (syncLink !== undefined && !cluster.links.some((l) => l.name === syncLink)) {
    diags.error('HAD_CFG_UNKNOWN_REFERENCE', `sync: link '${syncLink}' is not a link of the cluster (${cluster.links.map((l) => l.name).join(', ')})`, cluster.sync.linkWhere ?? cluster.where);
  }
  if (cluster.time.skewWarnMs >= cluster.time.skewCriticalMs) {
    diags.error('HAD_CFG_CONFLICT', `time: skew_warn (${cluster.time.skewWarnMs}ms) must be below skew_critical (${cluster.time.skewCriticalMs}ms)`, cluster.where);
  }
}

function checkTiming(cluster: ClusterConfig, cx: ParseContext): void {
  const t = detectorTiming(cluster);
  const at = cluster.deadtimeWhere ?? cluster.where;
  if (t.deadtimeMs <= 2 * t.intervalMs) {
    cx.diags.error('HAD_CFG_CONFLICT', `deadtime (${t.deadtimeMs}ms) must exceed twice heartbeat_interval (${t.intervalMs}ms), or one lost heartbeat declares a peer dead`, at);
  }
  if (t.warntimeMs >= t.deadtimeMs || t.warntimeMs < t.intervalMs) {
    cx.diags.error('HAD_CFG_CONFLICT', `warntime (${t.warntimeMs}ms) must lie between heartbeat_interval (${t.intervalMs}ms) and deadtime (${t.deadtimeMs}ms)`, at);
  }
  if (t.initdeadMs < t.deadtimeMs) {
    cx.diags.error('HAD_CFG_CONFLICT', `initdead (${t.initdeadMs}ms) must be at least deadtime (${t.deadtimeMs}ms)`, at);
  }
}

function checkAuth(cluster: ClusterConfig, cx: ParseContext): void {
  const auth = cluster.auth;
  if (auth === undefined) {
    cx.diags.error('HAD_CFG_NO_AUTH', `cluster traffic must be authenticated: set 'auth_key_file FILE' (or 'auth none' to run without, knowingly)`, cluster.where);
    return;
  }
  if (auth.kind === 'none') {
    cx.diags.warn('HAD_CFG_RISKY', `auth none: any host that can reach the cluster port can forge heartbeats and adverts`, auth.where);
    return;
  }
  let key: string;
  try {
    key = cx.fs.readFile(auth.file);
  } catch (err) {
    cx.diags.error('HAD_CFG_KEY_FILE', `auth_key_file ${auth.file}: ${describeFsError(err)}`, auth.where);
    return;
  }
  const bytes = Buffer.byteLength(key.trim());
  if (bytes < authKeyBytesMin || bytes > authKeyBytesMax) {
    cx.diags.error('HAD_CFG_KEY_FILE', `auth_key_file ${auth.file}: the key must hold ${authKeyBytesMin}..${authKeyBytesMax} bytes, it holds ${bytes}`, auth.where);
  }
  // The loopback lab runs on the sample key, readable by all, and no other host can reach it.
  if (onLoopbackOnly(cluster)) return;
  if (crypto.createHash('sha256').update(key.trim()).digest('hex') === sampleKeySha256) {
    cx.diags.warn('HAD_CFG_RISKY', `auth_key_file ${auth.file}: this is the sample key that ships with hadirector, which anyone can read: make this cluster's own with 'hadirector genkey -o FILE' and copy it to every node`, auth.where);
  }
  const mode = cx.fs.mode?.(auth.file);
  if (mode !== undefined && (mode & 0o077) !== 0) {
    cx.diags.warn('HAD_CFG_RISKY', `auth_key_file ${auth.file}: readable by other users (mode ${mode.toString(8).padStart(4, '0')}), who could forge heartbeats and adverts: chmod 600 ${auth.written}`, auth.where);
  }
}

/** SHA-256 of config/cluster.key, the sample key: a cluster off loopback must not run on it. */
const sampleKeySha256 = 'a2139f20322f3c0e102aa2844b0dab5bdf2e3860bc4095313d3a16df7038b266';

function checkQuorum(cluster: ClusterConfig, cx: ParseContext): void {
  const { quorum } = cluster;
  const voters = cluster.nodes.filter((n) => n.votes > 0);
  const totalVotes = cluster.nodes.reduce((sum, n) => sum + n.votes, 0);
  if (quorum.twoNode && voters.length !== 2) {
    cx.diags.error('HAD_CFG_CONFLICT', `two_node needs exactly two voting nodes, the cluster has ${voters.length}`, quorum.twoNodeWhere ?? cluster.where);
  }
  if (quorum.twoNode && quorum.waitForAll === false) {
    cx.diags.warn('HAD_CFG_RISKY', `two_node without wait_for_all: a node booting alone may take every VIP`, quorum.twoNodeWhere ?? cluster.where);
  }
  if (quorum.expectedVotes !== undefined && quorum.expectedVotes < totalVotes) {
    cx.diags.warn('HAD_CFG_CONFLICT', `expected_votes ${quorum.expectedVotes} is below the ${totalVotes} votes configured: quorum uses ${totalVotes}`, quorum.expectedVotesWhere ?? cluster.where);
  }
  if (!quorum.twoNode && totalVotes > 1 && totalVotes % 2 === 0) {
    cx.diags.warn('HAD_CFG_RISKY', `${totalVotes} votes in all: an even split leaves no side with quorum; add a witness node (or set two_node for a pair)`, cluster.where);
  }
}

function checkFencing(cluster: ClusterConfig, nodes: ReadonlyMap<string, unknown>, cx: ParseContext): void {
  const { fencing } = cluster;
  const at = fencing.where ?? cluster.where;
  const devices = reportDuplicates(cx.diags, fencing.devices, (d) => d.name, (d) => d.where, (d) => `fence device '${d.name}'`);
  for (const device of fencing.devices) {
    for (const host of device.hosts) {
      if (!nodes.has(host)) cx.diags.error('HAD_CFG_UNKNOWN_REFERENCE', `fence device '${device.name}' names unknown node '${host}'`, device.where);
    }
  }
  reportDuplicates(cx.diags, fencing.levels, (l) => `${l.target}/${l.index}`, (l) => l.where, (l) => `fencing level ${l.index} of node '${l.target}'`);
  for (const level of fencing.levels) {
    if (!nodes.has(level.target)) cx.diags.error('HAD_CFG_UNKNOWN_REFERENCE', `fencing level names unknown node '${level.target}'`, level.where);
    for (const device of level.devices) {
      if (!devices.has(device.name)) cx.diags.error('HAD_CFG_UNKNOWN_REFERENCE', `fencing level names unknown device '${device.name}'`, device.where);
    }
  }
  if (fencing.delayMaxMs > 0 && fencing.delayMaxMs < fencing.delayBaseMs) {
    cx.diags.error('HAD_CFG_CONFLICT', `fencing: delay_max must not be below delay_base`, at);
  }
  if (cluster.quorum.twoNode && fencing.mode === 'self_release') {
    cx.diags.warn('HAD_CFG_RISKY', `two_node with fencing mode self_release: a cut link leaves each director quorate, and each takes the VIPs (as keepalived would); with mode power the side that loses the fence race gives way`, at);
  }
  if (cluster.quorum.twoNode && fencing.devices.length > 0 && fencing.delayMaxMs < 2 * cluster.heartbeatIntervalMs) {
    cx.diags.warn('HAD_CFG_RISKY', `two_node: fencing delay_max ${fencing.delayMaxMs} ms is below twice heartbeat_interval: after a cut link both sides may fence each other; set delay_max above the time your agent takes plus twice heartbeat_interval`, at);
  }
  const vipHolders = cluster.nodes.filter((n) => !n.witness);
  if (fencing.mode === 'power' && vipHolders.length > 1) {
    for (const node of vipHolders) {
      // Without a level, every device whose hosts include the node (or that names none) may fence it.
      const covered = fencing.levels.some((l) => l.target === node.name) || fencing.devices.some((d) => d.hosts.length === 0 || d.hosts.includes(node.name));
      if (!covered) {
        cx.diags.warn('HAD_CFG_RISKY', `node '${node.name}' has no fencing level nor device: with mode power its VIPs can never be taken over while it is unreachable (add a level or a device, or set 'mode self_release')`, node.where);
      }
    }
  }
}
