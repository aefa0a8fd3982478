// The LVS keywords of keepalived.conf: virtual_server (by address, fwmark or group),
// real_server, virtual_server_group. Defaults follow keepalived: wlc, NAT, weight 1,
// delay_loop 60 s, persistence_timeout alone = 360 s; protocol defaults to TCP (see
// docs/configuration.md for why this differs from keepalived's UDP).
import type { SourcePos } from '../common/where';
import { applyBlock, type BlockSpec, type Handler, type ParseContext } from '../config/keywords';
import type { Token } from '../config/token';
import type { Statement } from '../config/tree';
import {
  choiceArg,
  commandArg,
  expectArgs,
  flagArg,
  intArg,
  listBlock,
  noBlock,
  parseAddress,
  parseChoice,
  parseInteger,
  parseIp,
  parsePort,
  set,
  wordArg,
  type Command,
  type IpAddress,
} from '../config/values';
import { isCheckerKeyword, readChecker, timingKeywords, type CheckerConfig, type CheckerTiming } from '../health/config';

export const schedulers = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq', 'mh', 'fo', 'ovf', 'twos'] as const;
export type Scheduler = (typeof schedulers)[number];
export const forwardingMethods = ['NAT', 'DR', 'TUN'] as const;
export type ForwardingMethod = (typeof forwardingMethods)[number];
export const protocols = ['TCP', 'UDP', 'SCTP'] as const;
export type Protocol = (typeof protocols)[number];

/** ipvsadm's scheduler flags, written as keywords in keepalived. */
export const schedulerFlagKeywords = ['flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port', 'mh-fallback'] as const;

export const persistenceTimeoutAloneS = 360;
export const weightRange = { min: 0, max: 65535 } as const;
export const thresholdRange = { min: 0, max: 2_147_483_647 } as const;
export const fwmarkRange = { min: 1, max: 4_294_967_295 } as const;

export type VirtualServerKey =
  | ({ readonly kind: 'address'; readonly port: number } & IpAddress)
  | { readonly kind: 'fwmark'; readonly mark: number }
  | { readonly kind: 'group'; readonly name: string };

export interface SorryServer extends IpAddress {
  readonly where: SourcePos;
  port?: number;
}

export interface RealServerConfig extends IpAddress {
  readonly where: SourcePos;
  port?: number;
  weight: number;
  method?: ForwardingMethod;
  inhibitOnFailure: boolean;
  notifyUp?: Command;
  notifyDown?: Command;
  upperThreshold: number;
  lowerThreshold: number;
  checkers: CheckerConfig[];
}

export interface VirtualServerConfig {
  readonly key: VirtualServerKey;
  readonly where: SourcePos;
  scheduler: Scheduler;
  schedulerFlags: string[];
  method: ForwardingMethod;
  /** Absent: no persistence. */
  persistenceTimeoutS?: number;
  persistenceGranularity?: string;
  protocol: Protocol;
  protocolWhere?: SourcePos;
  sorryServer?: SorryServer;
  sorryServerInhibit: boolean;
  quorum: number;
  hysteresis: number;
  hysteresisWhere?: SourcePos;
  quorumUp?: Command;
  quorumDown?: Command;
  alpha: boolean;
  omega: boolean;
  haSuspend: boolean;
  virtualhost?: string;
  onePacket: boolean;
  inhibitOnFailure: boolean;
  /** Timing set on the service itself, passed down to its checkers. */
  timing: Partial<CheckerTiming>;
  realServers: RealServerConfig[];
}

export interface VirtualServerGroupEntry {
  readonly where: SourcePos;
  readonly kind: 'address' | 'fwmark';
  /** kind address: first and last address of the range (equal for one address). */
  readonly first?: string;
  readonly last?: string;
  readonly family?: 4 | 6;
  readonly port?: number;
  readonly mark?: number;
}

export interface VirtualServerGroupConfig {
  readonly name: string;
  readonly where: SourcePos;
  entries: VirtualServerGroupEntry[];
}

/** `virtual_server IP PORT`, `virtual_server fwmark N` or `virtual_server group NAME`. */
export function readVirtualServerKey(cx: ParseContext, s: Statement): VirtualServerKey | undefined {
  const [first, second, extra] = s.args;
  if (first === undefined || second === undefined) {
    cx.diags.error('HAD_CFG_MISSING_ARGUMENT', `'virtual_server' needs 'IP PORT', 'fwmark N' or 'group NAME'`, s.where);
    return undefined;
  }
  if (extra !== undefined) cx.diags.warn('HAD_CFG_EXTRA_ARGUMENT', `virtual_server: '${extra.text}' ignored`, extra.where);
  if (first.text === 'fwmark') {
    const mark = parseInteger(cx, s, second, fwmarkRange);
    return mark === undefined ? undefined : { kind: 'fwmark', mark };
  }
  if (first.text === 'group') return { kind: 'group', name: second.text };
  const ip = parseAddress(cx, s, first);
  const port = parsePort(cx, s, second);
  return ip === undefined || port === undefined ? undefined : { kind: 'address', ...ip, port };
}

export function newVirtualServer(key: VirtualServerKey, where: SourcePos): VirtualServerConfig {
  return {
    key,
    where,
    scheduler: 'wlc',
    schedulerFlags: [],
    method: 'NAT',
    protocol: 'TCP',
    sorryServerInhibit: false,
    quorum: 1,
    hysteresis: 0,
    alpha: false,
    omega: false,
    haSuspend: false,
    onePacket: false,
    inhibitOnFailure: false,
    timing: {},
    realServers: [],
  };
}

const schedulerKeyword: Handler<VirtualServerConfig> = (s, t, cx) => set(t, 'scheduler', choiceArg(cx, s, schedulers));

const methodKeyword: Handler<{ method?: ForwardingMethod }> = (s, t, cx) => {
  if (!expectArgs(cx, s, 1, 5)) return;
  set(t, 'method', parseChoice(cx, s, s.args[0] as Token, forwardingMethods, true));
  const extra = s.args[1];
  if (extra !== undefined) cx.diags.warn('HAD_CFG_UNSUPPORTED', `${s.keyword.text}: tunnel options ('${extra.text}' ...) are not supported: ignored`, extra.where);
};

const virtualServerKeywords: Record<string, Handler<VirtualServerConfig>> = {
  ...timingKeywords,
  lb_algo: schedulerKeyword,
  lvs_sched: schedulerKeyword,
  lb_kind: methodKeyword,
  lvs_method: methodKeyword,
  persistence_timeout: (s, t, cx) => {
    if (!expectArgs(cx, s, 0, 1)) return;
    const token = s.args[0];
    if (token === undefined) t.persistenceTimeoutS = persistenceTimeoutAloneS;
    else set(t, 'persistenceTimeoutS', parseInteger(cx, s, token, { min: 1, max: 2_678_400 }));
  },
  persistence_granularity: (s, t, cx) => set(t, 'persistenceGranularity', readGranularity(cx, s)),
  protocol: (s, t, cx) => {
    set(t, 'protocol', choiceArg(cx, s, protocols, true));
    t.protocolWhere = s.where;
  },
  sorry_server: (s, t, cx) => {
    if (!expectArgs(cx, s, 1, 2)) return;
    const ip = parseAddress(cx, s, s.args[0] as Token);
    const port = s.args[1] === undefined ? undefined : parsePort(cx, s, s.args[1]);
    if (ip !== undefined) t.sorryServer = { ...ip, where: s.where, ...(port !== undefined ? { port } : {}) };
  },
  sorry_server_inhibit: (s, t, cx) => {
    t.sorryServerInhibit = flagArg(cx, s);
  },
  quorum: (s, t, cx) => set(t, 'quorum', intArg(cx, s, { min: 1, max: 2_147_483_647 })),
  hysteresis: (s, t, cx) => {
    set(t, 'hysteresis', intArg(cx, s, { min: 0, max: 2_147_483_647 }));
    t.hysteresisWhere = s.where;
  },
  quorum_up: (s, t, cx) => set(t, 'quorumUp', commandArg(cx, s)),
  quorum_down: (s, t, cx) => set(t, 'quorumDown', commandArg(cx, s)),
  alpha: (s, t, cx) => {
    t.alpha = flagArg(cx, s);
  },
  omega: (s, t, cx) => {
    t.omega = flagArg(cx, s);
  },
  ha_suspend: (s, t, cx) => {
    t.haSuspend = flagArg(cx, s);
  },
  virtualhost: (s, t, cx) => set(t, 'virtualhost', wordArg(cx, s)),
  ops: (s, t, cx) => {
    t.onePacket = flagArg(cx, s);
  },
  inhibit_on_failure: (s, t, cx) => {
    t.inhibitOnFailure = flagArg(cx, s);
  },
};
for (const flag of schedulerFlagKeywords) {
  virtualServerKeywords[flag] = (s, t, cx) => {
    expectArgs(cx, s, 0);
    if (!t.schedulerFlags.includes(flag)) t.schedulerFlags.push(flag);
  };
}

export const virtualServerSpec: BlockSpec<VirtualServerConfig> = { name: 'virtual_server', keywords: virtualServerKeywords };

export const realServerSpec: BlockSpec<RealServerConfig & { timing: Partial<CheckerTiming> }> = {
  name: 'real_server',
  keywords: {
    ...timingKeywords,
    weight: (s, t, cx) => set(t, 'weight', intArg(cx, s, weightRange)),
    lb_kind: methodKeyword,
    lvs_method: methodKeyword,
    inhibit_on_failure: (s, t, cx) => {
      t.inhibitOnFailure = flagArg(cx, s);
    },
    notify_up: (s, t, cx) => set(t, 'notifyUp', commandArg(cx, s)),
    notify_down: (s, t, cx) => set(t, 'notifyDown', commandArg(cx, s)),
    uthreshold: (s, t, cx) => set(t, 'upperThreshold', intArg(cx, s, thresholdRange)),
    lthreshold: (s, t, cx) => set(t, 'lowerThreshold', intArg(cx, s, thresholdRange)),
  },
};

/**
 * Reads a virtual_server block. Its own settings are read before its real servers, and a
 * real server's before its checkers, so a timing written after a real_server still
 * cascades into it, as in keepalived.
 */
export function readVirtualServer(cx: ParseContext, s: Statement, key: VirtualServerKey, block: readonly Statement[]): VirtualServerConfig {
  const vs = newVirtualServer(key, s.where);
  const isRealServer = (x: Statement): boolean => x.keyword.text === 'real_server';
  applyBlock(virtualServerSpec, block.filter((x) => !isRealServer(x)), vs, cx);
  if (key.kind === 'fwmark' && vs.protocolWhere !== undefined) {
    cx.diags.warn('HAD_CFG_CONFLICT', 'protocol is ignored for a fwmark service (the mark selects the packets)', vs.protocolWhere);
  }
  if (key.kind !== 'fwmark' && vs.protocolWhere === undefined) {
    cx.diags.warn('HAD_CFG_IMPLICIT_DEFAULT', 'no protocol given: using TCP (keepalived would use UDP)', s.where);
  }
  for (const rs of block.filter(isRealServer)) {
    const real = readRealServer(cx, rs, vs);
    if (real !== undefined) vs.realServers.push(real);
  }
  return vs;
}

function readRealServer(cx: ParseContext, s: Statement, vs: VirtualServerConfig): RealServerConfig | undefined {
  if (!expectArgs(cx, { ...s, block: undefined }, 1, 2)) return undefined;
  const ip = parseAddress(cx, s, s.args[0] as Token);
  const port = s.args[1] === undefined ? undefined : parsePort(cx, s, s.args[1]);
  if (ip === undefined || (s.args[1] !== undefined && port === undefined)) return undefined;
  const block = listBlock(cx, { ...s, args: [] });
  const rs = {
    ...ip,
    where: s.where,
    ...(port !== undefined ? { port } : {}),
    weight: 1,
    inhibitOnFailure: vs.inhibitOnFailure,
    upperThreshold: 0,
    lowerThreshold: 0,
    checkers: [] as CheckerConfig[],
    timing: { ...vs.timing } as Partial<CheckerTiming>,
  };
  const isChecker = (x: Statement): boolean => isCheckerKeyword(x.keyword.text);
  applyBlock(realServerSpec, block.filter((x) => !isChecker(x)), rs, cx);
  for (const c of block.filter(isChecker)) {
    rs.checkers.push(readChecker(cx, c, c.keyword.text as CheckerConfig['kind'], rs.timing));
  }
  const { timing: _timing, ...real } = rs;
  return real;
}

/** A netmask such as 255.255.255.0 (IPv4) or a prefix length (IPv6), as ipvsadm -M takes it. */
function readGranularity(cx: ParseContext, s: Statement): string | undefined {
  const text = wordArg(cx, s);
  if (text === undefined) return undefined;
  if (/^\d{1,3}$/.test(text) && Number(text) <= 128) return text;
  const ip = parseIp(text);
  if (ip?.family === 4) {
    const bits = ip.address.split('.').map(Number).reduce((acc, octet) => (acc << 8) | octet, 0) >>> 0;
    const inverted = ~bits >>> 0;
    if ((inverted & (inverted + 1)) === 0) return text;
  }
  cx.diags.error('HAD_CFG_BAD_ADDRESS', `persistence_granularity: '${text}' is not a netmask (like 255.255.255.0) or a prefix length`, s.args[0]?.where);
  return undefined;
}

export function newVirtualServerGroup(name: string, where: SourcePos): VirtualServerGroupConfig {
  return { name, where, entries: [] };
}

/** Entries of virtual_server_group: `IP PORT`, `IP-LAST PORT` (a range), `IP/PREFIX PORT`, `fwmark N`. */
export function readVirtualServerGroup(cx: ParseContext, s: Statement, group: VirtualServerGroupConfig): void {
  for (const entry of listBlock(cx, s)) {
    noBlock(cx, entry);
    const e = readGroupEntry(cx, entry);
    if (e !== undefined) group.entries.push(e);
  }
}

function readGroupEntry(cx: ParseContext, entry: Statement): VirtualServerGroupEntry | undefined {
  const head = entry.keyword;
  const value = entry.args[0];
  if (value === undefined) {
    cx.diags.error('HAD_CFG_MISSING_ARGUMENT', `virtual_server_group: '${head.text}' needs a port (or 'fwmark N')`, head.where);
    return undefined;
  }
  if (entry.args[1] !== undefined) cx.diags.warn('HAD_CFG_EXTRA_ARGUMENT', `virtual_server_group: '${entry.args[1].text}' ignored`, entry.args[1].where);
  if (head.text === 'fwmark') {
    const mark = parseInteger(cx, entry, value, fwmarkRange);
    return mark === undefined ? undefined : { where: entry.where, kind: 'fwmark', mark };
  }
  const port = parsePort(cx, { ...entry, keyword: { ...head, text: 'virtual_server_group' } }, value);
  const range = parseAddressRange(head.text);
  if (range === undefined) {
    cx.diags.error('HAD_CFG_BAD_ADDRESS', `virtual_server_group: '${head.text}' is not an address, a range (10.0.0.3-10) or a prefix (10.0.0.0/29)`, head.where);
    return undefined;
  }
  if (port === undefined) return undefined;
  return { where: entry.where, kind: 'address', ...range, port };
}

/** `a.b.c.d`, `a.b.c.d-e` (last part ranges up to e), `addr/prefix`. */
export function parseAddressRange(text: string): { first: string; last: string; family: 4 | 6 } | undefined {
  const single = parseIp(text);
  if (single !== undefined) return { first: text, last: text, family: single.family };
  const dash = /^(.+)-([0-9a-fA-F]{1,4})$/.exec(text);
  if (dash !== null) {
    const ip = parseIp(dash[1] as string);
    if (ip === undefined) return undefined;
    const sep = ip.family === 4 ? '.' : ':';
    const parts = ip.address.split(sep);
    const lastPart = parts[parts.length - 1] as string;
    const from = ip.family === 4 ? Number(lastPart) : parseInt(lastPart || '0', 16);
    const to = ip.family === 4 ? Number(dash[2]) : parseInt(dash[2] as string, 16);
    if (!(to >= from && to <= (ip.family === 4 ? 255 : 0xffff))) return undefined;
    parts[parts.length - 1] = ip.family === 4 ? String(to) : to.toString(16);
    return { first: ip.address, last: parts.join(sep), family: ip.family };
  }
  const slash = /^(.+)\/(\d{1,3})$/.exec(text);
  if (slash !== null) {
    const ip = parseIp(slash[1] as string);
    const prefix = Number(slash[2]);
    if (ip === undefined || ip.family !== 4 || prefix > 32) return undefined;
    const base = ip.address.split('.').map(Number).reduce((acc, o) => ((acc << 8) | o) >>> 0, 0);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const first = (base & mask) >>> 0;
    const last = (first | (~mask >>> 0)) >>> 0;
    return { first: ipv4FromInt(first), last: ipv4FromInt(last), family: 4 };
  }
  return undefined;
}

function ipv4FromInt(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 0xff).join('.');
}
