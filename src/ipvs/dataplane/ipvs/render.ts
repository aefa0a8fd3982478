// The ipvsadm lines that take the kernel from one table to another, for `ipvsadm -R`:
// services gone are deleted (-D takes their real servers with them), new ones added with
// their servers (-A, -a), and the others edited where they differ (-E for the service,
// -d, -e, -a for its servers). Addresses are numbers, IPv6 in brackets. An -E or -e line
// states every setting: ipvsadm fills what a line leaves out with its defaults (wlc, no
// persistence, weight 1, DR), it does not keep what the kernel had.
import { formatEndpoint } from '../../address';
import type { ForwardMethod, TunnelEncap } from '../../destination';
import type { ServiceKey, ServiceProtocol } from '../../service';
import { sameDestination, sameServiceSettings, type IpvsTable, type TableDestination, type TableService } from './table';

const protocolOptions: Record<ServiceProtocol, string> = { tcp: '-t', udp: '-u', sctp: '--sctp-service' };
const forwardOptions: Record<ForwardMethod, string> = { masq: '-m', route: '-g', tunnel: '-i' };

/** `-t 10.0.0.1:80`, `-u [2001:db8::1]:53`, `--sctp-service …`, `-f 7`, `-f 7 -6`. */
export function serviceOption(key: ServiceKey): string {
  if (key.kind === 'fwmark') return key.family === 6 ? `-f ${key.mark} -6` : `-f ${key.mark}`;
  return `${protocolOptions[key.protocol]} ${formatEndpoint(key.address, key.port)}`;
}

/** -s first: ipvsadm checks -b's names against the scheduler. */
function serviceSettingsText(s: TableService): string {
  let text = `-s ${s.scheduler}`;
  if (s.persistenceS !== undefined) text += ` -p ${s.persistenceS}`;
  if (s.persistenceS !== undefined && s.netmask !== undefined) text += ` -M ${s.netmask}`;
  if (s.onePacket) text += ' -o';
  const flags = schedulerFlagNames(s);
  if (flags.length > 0) text += ` -b ${flags.join(',')}`;
  return text;
}

/** sh and mh name their first two flags (ipvsadm -S writes them so); the rest are flag-N. */
function schedulerFlagNames(s: TableService): string[] {
  const named = s.scheduler === 'sh' || s.scheduler === 'mh';
  const names: string[] = [];
  if (s.flags.flag1) names.push(named ? `${s.scheduler}-fallback` : 'flag-1');
  if (s.flags.flag2) names.push(named ? `${s.scheduler}-port` : 'flag-2');
  if (s.flags.flag3) names.push('flag-3');
  return names;
}

function destinationText(d: TableDestination): string {
  let text = `-r ${formatEndpoint(d.address, d.port)} ${forwardOptions[d.forward]} -w ${d.weight}`;
  if (d.upperThreshold !== 0) text += ` -x ${d.upperThreshold}`;
  if (d.lowerThreshold !== 0) text += ` -y ${d.lowerThreshold}`;
  if (d.forward === 'tunnel') text += tunnelText(d.tunnel);
  return text;
}

/** ipip is the default, left unsaid so that an ipvsadm older than 1.30 (no --tun-type) reads the line. */
function tunnelText(t: TunnelEncap): string {
  if (t.type === 'ipip') return '';
  const port = t.type === 'gue' ? ` --tun-port ${t.port}` : '';
  return ` --tun-type ${t.type}${port} --tun-${t.checksum}`;
}

export function deleteServiceLine(key: ServiceKey): string {
  return `-D ${serviceOption(key)}`;
}

/**
 * The fewest lines that make a kernel holding `applied` hold `desired`: none when they
 * are equal. With `restate`, every service and server in both is edited even
 * when it looks the same: `applied` was read back with `ipvsadm -S`, which leaves some
 * settings out (ipvsadm 1.31 writes no thresholds).
 */
export function renderCommands(applied: IpvsTable, desired: IpvsTable, restate = false): string[] {
  const lines: string[] = [];
  for (const [key, old] of applied) if (!desired.has(key)) lines.push(deleteServiceLine(old.key));
  for (const [key, svc] of desired) {
    const name = serviceOption(svc.key);
    const old = applied.get(key);
    if (old === undefined) {
      lines.push(`-A ${name} ${serviceSettingsText(svc)}`);
      for (const d of svc.destinations.values()) lines.push(`-a ${name} ${destinationText(d)}`);
      continue;
    }
    if (restate || !sameServiceSettings(old, svc)) lines.push(`-E ${name} ${serviceSettingsText(svc)}`);
    for (const [dkey, d] of old.destinations) if (!svc.destinations.has(dkey)) lines.push(`-d ${name} -r ${formatEndpoint(d.address, d.port)}`);
    for (const [dkey, d] of svc.destinations) {
      const was = old.destinations.get(dkey);
      if (was === undefined) lines.push(`-a ${name} ${destinationText(d)}`);
      else if (restate || !sameDestination(was, d)) lines.push(`-e ${name} ${destinationText(d)}`);
    }
  }
  return lines;
}
