// Cross-block checks of the LVS keywords.
import type { ParseContext } from '../config/keywords';
import type { HadConfig } from '../config/model';
import { reportDuplicates } from '../config/uniqueness';
import type { RealServerConfig, VirtualServerConfig, VirtualServerKey } from './config';

export function describeServiceKey(key: VirtualServerKey): string {
  switch (key.kind) {
    case 'address':
      return key.family === 6 ? `[${key.address}]:${key.port}` : `${key.address}:${key.port}`;
    case 'fwmark':
      return `fwmark ${key.mark}`;
    case 'group':
      return `group ${key.name}`;
  }
}

const hashSchedulerFlags: Record<string, string> = { 'sh-port': 'sh', 'sh-fallback': 'sh', 'mh-port': 'mh', 'mh-fallback': 'mh' };

export function checkIpvsConfig(config: HadConfig, cx: ParseContext): void {
  const { diags } = cx;
  const groups = reportDuplicates(diags, config.virtualServerGroups, (g) => g.name, (g) => g.where, (g) => `virtual_server_group '${g.name}'`);
  for (const group of config.virtualServerGroups) {
    if (group.entries.length === 0) diags.warn('HAD_CFG_MISSING_KEYWORD', `virtual_server_group '${group.name}' is empty`, group.where);
    reportDuplicates(diags, group.entries, (e) => (e.kind === 'fwmark' ? `fwmark ${e.mark}` : `${e.first}-${e.last}:${e.port}`), (e) => e.where, (e) => (e.kind === 'fwmark' ? `fwmark ${e.mark}` : `${e.first}:${e.port}`));
  }
  reportDuplicates(
    diags,
    config.virtualServers,
    (vs) => `${vs.key.kind === 'fwmark' ? '' : vs.protocol} ${describeServiceKey(vs.key)}`,
    (vs) => vs.where,
    (vs) => `virtual_server ${describeServiceKey(vs.key)}${vs.key.kind === 'fwmark' ? '' : ` (${vs.protocol})`}`,
  );
  for (const vs of config.virtualServers) {
    if (vs.key.kind === 'group' && !groups.has(vs.key.name)) {
      diags.error('HAD_CFG_UNKNOWN_REFERENCE', `virtual_server group '${vs.key.name}': no virtual_server_group of that name`, vs.where);
    }
    checkService(vs, cx);
  }
}

function checkService(vs: VirtualServerConfig, cx: ParseContext): void {
  const { diags } = cx;
  const name = `virtual_server ${describeServiceKey(vs.key)}`;
  if (vs.realServers.length === 0 && vs.sorryServer === undefined) {
    diags.warn('HAD_CFG_MISSING_KEYWORD', `${name} has no real_server and no sorry_server: it can serve nobody`, vs.where);
  }
  if (vs.hysteresis > 0 && vs.hysteresis >= vs.quorum) {
    diags.warn('HAD_CFG_CONFLICT', `hysteresis ${vs.hysteresis} must be below quorum ${vs.quorum}: using ${vs.quorum - 1}`, vs.hysteresisWhere ?? vs.where);
  }
  for (const flag of vs.schedulerFlags) {
    const scheduler = hashSchedulerFlags[flag];
    if (scheduler !== undefined && scheduler !== vs.scheduler) {
      diags.warn('HAD_CFG_CONFLICT', `${flag} applies to the ${scheduler} scheduler, not ${vs.scheduler}: ignored`, vs.where);
    }
  }
  if (vs.persistenceGranularity !== undefined && vs.persistenceTimeoutS === undefined) {
    diags.warn('HAD_CFG_CONFLICT', `${name}: persistence_granularity without persistence_timeout has no effect`, vs.where);
  }
  if (vs.key.kind === 'address' && vs.persistenceGranularity !== undefined) {
    const isPrefix = /^\d+$/.test(vs.persistenceGranularity);
    if (vs.key.family === 4 && isPrefix) diags.error('HAD_CFG_BAD_ADDRESS', `${name}: an IPv4 service takes a netmask (like 255.255.255.0) as persistence_granularity`, vs.where);
    if (vs.key.family === 6 && !isPrefix) diags.error('HAD_CFG_BAD_ADDRESS', `${name}: an IPv6 service takes a prefix length (like 64) as persistence_granularity`, vs.where);
  }
  reportDuplicates(diags, vs.realServers, (rs) => `${rs.address}:${rs.port ?? ''}`, (rs) => rs.where, (rs) => `real_server ${rs.address}${rs.port === undefined ? '' : ` ${rs.port}`} in ${name}`);
  for (const rs of vs.realServers) checkRealServer(vs, rs, name, cx);
}

function checkRealServer(vs: VirtualServerConfig, rs: RealServerConfig, service: string, cx: ParseContext): void {
  const { diags } = cx;
  const method = rs.method ?? vs.method;
  const rsName = `real_server ${rs.address}`;
  if (vs.key.kind === 'address') {
    if (vs.key.port !== 0 && rs.port === undefined) {
      diags.error('HAD_CFG_MISSING_ARGUMENT', `${rsName} needs a port: ${service} has port ${vs.key.port}`, rs.where);
    }
    if (rs.family !== vs.key.family && method !== 'TUN') {
      diags.error('HAD_CFG_CONFLICT', `${rsName} is IPv${rs.family} but ${service} is IPv${vs.key.family} (only TUN may mix families)`, rs.where);
    }
    if ((method === 'DR' || method === 'TUN') && rs.port !== undefined && vs.key.port !== 0 && rs.port !== vs.key.port) {
      diags.error('HAD_CFG_CONFLICT', `${rsName} port ${rs.port}: with ${method} the director cannot remap ports (the service has ${vs.key.port}); use NAT or the same port`, rs.where);
    }
  }
  if (rs.upperThreshold > 0 && rs.lowerThreshold > rs.upperThreshold) {
    diags.error('HAD_CFG_CONFLICT', `${rsName}: lthreshold ${rs.lowerThreshold} is above uthreshold ${rs.upperThreshold}`, rs.where);
  }
  for (const checker of rs.checkers) {
    if (checker.kind === 'MISC_CHECK') continue;
    if (rs.port === undefined && checker.connectPort === undefined) {
      diags.error('HAD_CFG_MISSING_KEYWORD', `${checker.kind} of ${rsName} needs connect_port: the real server has no port`, checker.where);
    }
  }
}
