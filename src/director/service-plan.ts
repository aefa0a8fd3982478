// From the virtual_server blocks to what the IPVS table should hold: each service's key
// and settings, and its real servers as health-checked pool members. A virtual_server
// group becomes one service per address (or mark) of the group, all with the same pool.
import { ipv4FromWord, parseIpAddr, prefixMask, type IpAddr } from '../ipvs/address';
import type { DestinationSettings, ForwardMethod } from '../ipvs/destination';
import type { ForwardingMethod, RealServerConfig, VirtualServerConfig, VirtualServerGroupConfig } from '../ipvs/config';
import { noSchedulerFlags, type SchedulerFlags } from '../ipvs/schedulers/scheduler';
import { serviceDisplayName, type ServiceKey, type ServiceProtocol, type ServiceSettings } from '../ipvs/service';
import type { CheckerConfig } from '../health/config';
import type { PoolMember, PoolOptions } from '../health/pool';
import type { Command } from '../config/values';
import { planeRefusal, type PlaneDecision } from './plane-choice';

/** A group range wider than this is refused: it would be a typo, not a farm. */
export const groupRangeMax = 256;

export interface RealServerPlan extends PoolMember {
  readonly checkers: readonly CheckerConfig[];
  readonly notifyUp?: Command;
  readonly notifyDown?: Command;
}

export interface ServicePlan {
  /** `TCP 10.0.0.1:80`, as ipvsadm names it. */
  readonly id: string;
  readonly key: ServiceKey;
  readonly settings: ServiceSettings;
  readonly members: readonly RealServerPlan[];
  readonly pool: PoolOptions;
  readonly alpha: boolean;
  readonly quorumUp?: Command;
  readonly quorumDown?: Command;
  /** The block it came from, for messages. */
  readonly source: VirtualServerConfig;
}

/**
 * What `run` serves of a planned service on the plane it runs: the plan without the real
 * servers the plane refuses, or none when it refuses the service (or every real server of
 * it); and each refusal at its FILE:LINE:COL. The kernel plane forwards a whole service
 * one way, so its refusal is the service's; the userspace relay refuses real server by
 * real server. The director runs what is left and says what it left out.
 */
export function carriedPlan(plan: ServicePlan, decision: PlaneDecision): { readonly plan?: ServicePlan; readonly refusals: string[] } {
  const at = (w: { file: string; line: number; col: number }): string => `${w.file}:${w.line}:${w.col}`;
  if (decision.plane !== 'userspace') {
    const members = orLbKind(plan.members.map((m) => ({ forward: m.settings.forward, key: `${m.address}:${m.port}` })), plan.source.method);
    const refusal = planeRefusal(decision, { key: plan.key, destinations: members });
    return refusal === undefined ? { plan, refusals: [] } : { refusals: [`${at(plan.source.where)}: ${refusal}`] };
  }
  const service = planeRefusal(decision, { key: plan.key, destinations: [] });
  if (service !== undefined) return { refusals: [`${at(plan.source.where)}: ${service}`] };
  const refusals: string[] = [];
  const members = plan.members.filter((m, i) => {
    const refusal = planeRefusal(decision, { key: plan.key, destinations: [{ forward: m.settings.forward, key: `${m.address}:${m.port}` }] });
    if (refusal !== undefined) refusals.push(`${at(plan.source.realServers[i]?.where ?? plan.source.where)}: ${refusal}`);
    return refusal === undefined;
  });
  if (members.length === 0 && plan.members.length > 0) return { refusals };
  return { plan: members.length === plan.members.length ? plan : { ...plan, members }, refusals };
}

const forwardOf: Record<ForwardingMethod, ForwardMethod> = { NAT: 'masq', DR: 'route', TUN: 'tunnel' };

/** A service's real servers, or while it has none, its lb_kind standing for them: a kernel plane forwards the service one way. */
export function orLbKind<T extends { readonly forward: ForwardMethod; readonly key: string }>(destinations: readonly T[], method: ForwardingMethod): ReadonlyArray<{ readonly forward: ForwardMethod; readonly key: string }> {
  return destinations.length > 0 ? destinations : [{ forward: forwardOf[method], key: '' }];
}

function schedulerFlags(flags: readonly string[]): SchedulerFlags {
  const has = (...names: string[]): boolean => names.some((n) => flags.includes(n));
  // sh-fallback and mh-fallback are IPVS's flag-1, sh-port and mh-port its flag-2.
  return { flag1: has('flag-1', 'sh-fallback', 'mh-fallback'), flag2: has('flag-2', 'sh-port', 'mh-port'), flag3: has('flag-3') };
}

function granularity(text: string | undefined, family: 4 | 6): IpAddr | undefined {
  if (text === undefined) return undefined;
  if (/^\d+$/.test(text)) return prefixMask(family, Number(text));
  return parseIpAddr(text);
}

function serviceSettings(vs: VirtualServerConfig, family: 4 | 6): ServiceSettings {
  const flags = vs.schedulerFlags.length === 0 ? noSchedulerFlags : schedulerFlags(vs.schedulerFlags);
  const netmask = vs.persistenceTimeoutS !== undefined ? granularity(vs.persistenceGranularity, family) : undefined;
  return {
    scheduler: vs.scheduler,
    flags,
    onePacket: vs.onePacket,
    ...(vs.persistenceTimeoutS !== undefined ? { persistenceS: vs.persistenceTimeoutS } : {}),
    ...(netmask !== undefined ? { netmask } : {}),
  };
}

function memberId(serviceId: string, address: string, port: number): string {
  return `${serviceId} -> ${address.includes(':') ? `[${address}]` : address}:${port}`;
}

function realServerPlan(serviceId: string, vs: VirtualServerConfig, rs: RealServerConfig, servicePort: number): RealServerPlan {
  const port = rs.port ?? servicePort;
  const settings: DestinationSettings = {
    forward: forwardOf[rs.method ?? vs.method],
    weight: rs.weight,
    upperThreshold: rs.upperThreshold,
    lowerThreshold: rs.lowerThreshold,
  };
  return {
    id: memberId(serviceId, rs.address, port),
    address: rs.address,
    port,
    settings,
    inhibitOnFailure: rs.inhibitOnFailure || vs.inhibitOnFailure,
    checkers: rs.checkers,
    ...(rs.notifyUp !== undefined ? { notifyUp: rs.notifyUp } : {}),
    ...(rs.notifyDown !== undefined ? { notifyDown: rs.notifyDown } : {}),
  };
}

const protocolOf = (vs: VirtualServerConfig): ServiceProtocol => (vs.protocol === 'UDP' ? 'udp' : vs.protocol === 'SCTP' ? 'sctp' : 'tcp');

/** Every service key a virtual_server stands for. */
function serviceKeys(vs: VirtualServerConfig, groups: readonly VirtualServerGroupConfig[]): { keys: ServiceKey[]; errors: string[] } {
  const protocol = protocolOf(vs);
  const key = vs.key;
  if (key.kind === 'address') {
    const address = parseIpAddr(key.address);
    return address === undefined ? { keys: [], errors: [`bad address ${key.address}`] } : { keys: [{ kind: 'address', protocol, address, port: key.port }], errors: [] };
  }
  if (key.kind === 'fwmark') return { keys: [{ kind: 'fwmark', mark: key.mark, family: 4 }], errors: [] };
  const group = groups.find((g) => g.name === key.name);
  if (group === undefined) return { keys: [], errors: [`no virtual_server_group '${key.name}'`] };
  const keys: ServiceKey[] = [];
  const errors: string[] = [];
  for (const e of group.entries) {
    if (e.kind === 'fwmark') {
      keys.push({ kind: 'fwmark', mark: e.mark ?? 0, family: e.family ?? 4 });
      continue;
    }
    const first = parseIpAddr(e.first ?? '');
    const last = parseIpAddr(e.last ?? e.first ?? '');
    if (first === undefined || last === undefined) {
      errors.push(`group '${group.name}': bad address ${e.first ?? ''}`);
      continue;
    }
    if (first.family === 6) {
      keys.push({ kind: 'address', protocol, address: first, port: e.port ?? 0 });
      continue;
    }
    const from = first.words[0] as number;
    const to = last.words[0] as number;
    if (to < from || to - from >= groupRangeMax) {
      errors.push(`group '${group.name}': range ${e.first ?? ''}-${e.last ?? ''} is backwards or wider than ${groupRangeMax} addresses`);
      continue;
    }
    for (let w = from; w <= to; w++) keys.push({ kind: 'address', protocol, address: ipv4FromWord(w), port: e.port ?? 0 });
  }
  return { keys, errors };
}

export function planServices(virtualServers: readonly VirtualServerConfig[], groups: readonly VirtualServerGroupConfig[]): { plans: ServicePlan[]; errors: string[] } {
  const plans: ServicePlan[] = [];
  const errors: string[] = [];
  for (const vs of virtualServers) {
    const { keys, errors: keyErrors } = serviceKeys(vs, groups);
    errors.push(...keyErrors);
    for (const key of keys) {
      const id = serviceDisplayName(key);
      const family = key.kind === 'fwmark' ? key.family : key.address.family;
      const servicePort = key.kind === 'address' ? key.port : 0;
      const members = vs.realServers.map((rs) => realServerPlan(id, vs, rs, servicePort));
      const sorry = vs.sorryServer;
      const sorryPort = sorry?.port ?? servicePort;
      const pool: PoolOptions = {
        quorum: vs.quorum,
        hysteresis: vs.hysteresis,
        sorryInhibit: vs.sorryServerInhibit,
        ...(sorry !== undefined
          ? {
              sorry: {
                id: memberId(id, sorry.address, sorryPort),
                address: sorry.address,
                port: sorryPort,
                settings: { forward: forwardOf[vs.method], weight: 1, upperThreshold: 0, lowerThreshold: 0 },
                inhibitOnFailure: false,
              },
            }
          : {}),
      };
      plans.push({
        id,
        key,
        settings: serviceSettings(vs, family),
        members,
        pool,
        alpha: vs.alpha,
        ...(vs.quorumUp !== undefined ? { quorumUp: vs.quorumUp } : {}),
        ...(vs.quorumDown !== undefined ? { quorumDown: vs.quorumDown } : {}),
        source: vs,
      });
    }
  }
  return { plans, errors };
}
