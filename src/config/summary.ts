// The answer to "what will you do with it?": a short, plain account of a checked
// configuration, per node, for check-config and `npm start`.
import { detectorTiming, type ClusterConfig } from '../cluster/config';
import { electDc, expectedVotes, quorumVotes } from '../cluster/quorum';
import { describeServiceKey } from '../ipvs/config-checks';
import type { VirtualServerConfig } from '../ipvs/config';
import { defaultVrrpInterface, type VrrpInstanceConfig } from '../vrrp/config';
import { instanceFamily } from '../vrrp/config-checks';
import { masterDownIntervalMs } from '../vrrp/timing';
import { planVmacs, type VmacDevice } from '../vip/vmac';
import { anyVipOffLoopback } from '../vip/select';
import type { HadConfig } from './model';
import { formatMs } from './values';

export function summarize(configs: readonly HadConfig[]): string[] {
  const first = configs[0];
  if (first === undefined) return [];
  const lines: string[] = [];
  if (first.cluster !== undefined) lines.push(...summarizeCluster(first.cluster));
  for (const config of configs) lines.push(...summarizeNode(config));
  return lines;
}

function summarizeCluster(c: ClusterConfig): string[] {
  const t = detectorTiming(c);
  const auth = c.auth === undefined ? 'none set' : c.auth.kind === 'none' ? 'none (unauthenticated)' : `HMAC-SHA256, key ${c.auth.written}`;
  const lines = [
    `cluster '${c.clusterId}': ${c.nodes.length} nodes, ${expectedVotes(c.nodes, c.quorum)} votes, quorum ${quorumVotes(c.nodes, c.quorum)}${c.quorum.twoNode ? ' (two_node)' : ''}, no_quorum_policy ${c.noQuorumPolicy}`,
    `  heartbeat every ${formatMs(t.intervalMs)}, warn after ${formatMs(t.warntimeMs)}, dead after ${formatMs(t.deadtimeMs)}, initdead ${formatMs(t.initdeadMs)}; auth ${auth}`,
  ];
  for (const n of c.nodes) {
    const where = n.addresses.map((a) => `${a.link} ${a.family === 6 ? `[${a.address}]` : a.address}:${a.port}`).join(', ');
    const role = n.witness ? 'witness (votes, holds no VIP)' : `director, DC preference ${n.priority}`;
    lines.push(`  node ${n.name}: ${where}; ${role}; ${n.votes} vote${n.votes === 1 ? '' : 's'}`);
  }
  lines.push(`  DC while every node is up: ${electDc(c.nodes)?.name ?? '(none)'}`);
  const f = c.fencing;
  const levels = f.levels.map((l) => `${l.target} level ${l.index}: ${l.devices.map((d) => d.name).join(' + ')}`);
  lines.push(`  fencing: mode ${f.mode}, action ${f.action}${levels.length > 0 ? `; ${levels.join('; ')}` : ''}`);
  const ntp = c.time.ntpServers.map((s) => `${s.host}:${s.port}`).join(', ');
  lines.push(`  clock skew: warn at ${formatMs(c.time.skewWarnMs)}, critical at ${formatMs(c.time.skewCriticalMs)}; SNTP ${ntp === '' ? 'off' : `${ntp} on "${c.time.schedule}"`}`);
  return lines;
}

function summarizeNode(config: HadConfig): string[] {
  const node = config.cluster?.nodes.find((n) => n.name === config.node);
  if (node?.witness === true) {
    return [`node ${config.node}: witness: votes and holds no VIP (its ${config.vrrpInstances.length} vrrp_instance and ${config.virtualServers.length} virtual_server blocks are not run)`];
  }
  const lines = [`node ${config.node}:`];
  if (config.cluster === undefined && config.vrrpInstances.length > 0) {
    lines.push('  no cluster block: VRRP as keepalived runs it, real adverts (IP protocol 112) on the wire, no quorum, no fencing; needs CAP_NET_RAW');
  }
  const vmacs = onLoopbackVips(config) ? new Map<string, VmacDevice>() : planVmacs(config);
  for (const i of config.vrrpInstances) lines.push(...summarizeInstance(i, config, vmacs.get(i.name)));
  for (const vs of config.virtualServers) lines.push(...summarizeService(vs));
  if (lines.length === 1) lines.push('  nothing to run: no vrrp_instance, no virtual_server');
  return lines;
}

/** Whether run puts the VIPs on loopback (src/vip/select.ts): then no VMAC is made. */
function onLoopbackVips(config: HadConfig): boolean {
  return config.cluster?.vipDriver === 'loopback' || !anyVipOffLoopback(config);
}

function summarizeInstance(i: VrrpInstanceConfig, config: HadConfig, vmac: VmacDevice | undefined): string[] {
  const vips = i.virtualIpAddresses.map((v) => `${v.address}/${v.prefix}${v.dev ? ` dev ${v.dev}` : ''}`).join(', ');
  const downMs = masterDownIntervalMs(i.version, i.advertIntMs, i.priority);
  const preempt = i.preempt ? (i.preemptDelayMs > 0 ? `preempt after ${formatMs(i.preemptDelayMs)}` : 'preempt') : 'nopreempt';
  const lines = [
    `  vrrp_instance ${i.name}: VRID ${i.virtualRouterId ?? '?'} on ${i.interface ?? (config.cluster === undefined ? defaultVrrpInterface : 'lo')}, VRRPv${i.version}, advert ${formatMs(i.advertIntMs)}, priority ${i.priority}, starts ${i.initialState}, ${preempt}`,
    `    VIPs ${vips === '' ? '(none)' : vips}; as a backup it takes over ${formatMs(Math.round(downMs))} after the master falls silent`,
  ];
  if (config.cluster === undefined) {
    const family = instanceFamily(i);
    const to = i.unicastPeers.length > 0 ? `unicast to ${i.unicastPeers.map((p) => p.address).join(', ')}` : `multicast to ${family === 4 ? config.global.vrrpMcastGroup4 : config.global.vrrpMcastGroup6}`;
    const auth = i.version === 2 && i.authentication?.type === 'PASS' ? ', auth PASS' : '';
    lines.push(`    adverts ${to}${i.unicastSrcIp !== undefined ? ` from ${i.unicastSrcIp.address}` : ''}${auth}`);
  }
  if (i.vmac !== undefined && vmac === undefined) lines.push('    use_vmac ignored: the VIPs are loopback addresses, on no interface a VMAC could stand beside');
  if (vmac !== undefined) {
    const adverts = vmac.xmitBase ? `the adverts leave from ${vmac.base}` : 'the adverts leave from it';
    lines.push(`    VMAC ${vmac.name} (macvlan over ${vmac.base}, MAC ${vmac.mac}): its VIPs go there and ${adverts}`);
  }
  return lines;
}

function summarizeService(vs: VirtualServerConfig): string[] {
  const persistence = vs.persistenceTimeoutS === undefined ? '' : `, persistent ${vs.persistenceTimeoutS}s`;
  const proto = vs.key.kind === 'fwmark' ? '' : ` ${vs.protocol}`;
  const lines = [`  virtual_server ${describeServiceKey(vs.key)}${proto}: ${vs.scheduler}, ${vs.method}${persistence}, quorum ${vs.quorum}`];
  for (const rs of vs.realServers) {
    const checks = rs.checkers.map((c) => `${c.kind} every ${formatMs(c.timing.delayLoopMs)}`).join(', ');
    const port = rs.port === undefined ? '' : `:${rs.port}`;
    lines.push(`    -> ${rs.family === 6 ? `[${rs.address}]` : rs.address}${port} weight ${rs.weight}${rs.method ? ` ${rs.method}` : ''}${checks === '' ? ', no health check' : `, ${checks}`}`);
  }
  if (vs.sorryServer !== undefined) lines.push(`    sorry server ${vs.sorryServer.address}${vs.sorryServer.port === undefined ? '' : `:${vs.sorryServer.port}`}`);
  return lines;
}
