// ipvsadm's command line, read as ipvsadm 1.31 reads it (popt): the first option is the
// command; options may be clustered (-Ln) or long (--weight=3); values follow. Values are
// checked in the order given, and the first bad one ends the run with ipvsadm's own
// message and exit code, so that scripts written for ipvsadm behave the same here.
import net from 'node:net';
import { parseIpAddr, prefixMask, type IpAddr } from '../address';
import { ipipTunnel, type ForwardMethod, type TunnelEncap } from '../destination';
import type { ServiceProtocol } from '../service';
import {
  commandOptions,
  commandRules,
  maxTimeoutS,
  optionNames,
  optionSpecs,
  persistentTimeoutDefaultS,
  type CommandName,
  type OptionName,
  type OptionSpec,
} from './options';
import { tryHelpText, usageText } from './usage';
import { ipvsadmVersionLine } from './options';

export interface PortNames {
  /** The port of a service name (getservbyname), or undefined. */
  portOf(name: string, protocol: ServiceProtocol): number | undefined;
}

export interface ServiceSpec {
  kind: 'address' | 'fwmark';
  protocol: ServiceProtocol;
  family: 4 | 6;
  address?: IpAddr;
  port: number;
  mark: number;
}

export interface DestSpec {
  address?: IpAddr;
  family: 4 | 6;
  port: number;
  forward: ForwardMethod;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  tunnel: { type: TunnelEncap['type']; port: number; checksum: TunnelEncap['checksum'] };
}

export interface ListFormat {
  numeric: boolean;
  stats: boolean;
  rate: boolean;
  thresholds: boolean;
  persistentConn: boolean;
  nosort: boolean;
  exact: boolean;
  tunInfo: boolean;
}

export interface DaemonSpec {
  state?: 'master' | 'backup';
  mcastInterface?: string;
  syncId?: number;
  syncMaxlen?: number;
  mcastGroup?: IpAddr;
  mcastPort?: number;
  mcastTtl?: number;
}

export interface IpvsadmCommand {
  readonly name: CommandName;
  readonly options: ReadonlySet<OptionName>;
  readonly service: ServiceSpec;
  readonly scheduler: string;
  readonly persistentS?: number;
  /** An IPv4 mask address, or an IPv6 prefix length. */
  readonly netmask?: IpAddr;
  readonly onePacket: boolean;
  readonly schedFlags: { flag1: boolean; flag2: boolean; flag3: boolean };
  readonly dest: DestSpec;
  readonly format: ListFormat;
  readonly timeouts?: readonly [number, number, number];
  readonly daemon: DaemonSpec;
}

/** A run that ends before any command is carried out: help, version, or an error. */
export interface ParseExit {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

export type ParseResult = { readonly ok: true; readonly command: IpvsadmCommand } | { readonly ok: false; readonly exit: ParseExit };

const maxInt = 2_147_483_647;

class Fail {
  constructor(
    readonly exit: ParseExit,
  ) {}
}

function fail(message: string, code = 2): never {
  throw new Fail({ stdout: '', stderr: `${message}\n`, code });
}

/** strtol with nothing left over, within [min, max]; -1 otherwise, as ipvsadm's string_to_number. */
function toNumber(text: string, min: number, max: number): number {
  if (!/^[ \t]*[+-]?\d+$/.test(text)) return -1;
  const n = Number(text.trim());
  return n >= min && n <= max ? n : -1;
}

interface Token {
  readonly spec: OptionSpec;
  readonly value?: string;
  readonly written: string;
}

/** popt's walk over argv: options in order, loose arguments kept aside. */
class OptionReader {
  private i = 0;
  private cluster = '';
  readonly loose: string[] = [];

  constructor(private readonly args: readonly string[]) {}

  next(): Token | null {
    if (this.cluster !== '') return this.fromCluster();
    while (this.i < this.args.length) {
      const arg = this.args[this.i++] as string;
      if (arg === '--') {
        this.loose.push(...this.args.slice(this.i));
        this.i = this.args.length;
        return null;
      }
      if (arg.startsWith('--')) return this.long(arg);
      if (arg.startsWith('-') && arg.length > 1) {
        this.cluster = arg.slice(1);
        return this.fromCluster();
      }
      this.loose.push(arg);
    }
    return null;
  }

  private long(arg: string): Token {
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const spec = optionSpecs.find((s) => s.long === name);
    if (spec === undefined) fail(`${arg}: unknown option`, 255);
    if (eq !== -1) {
      if (spec.value === 'none') fail(`${arg}: option does not take an argument`, 255);
      return { spec, value: arg.slice(eq + 1), written: arg };
    }
    return { spec, ...this.valueFor(spec, arg), written: arg };
  }

  private fromCluster(): Token {
    const letter = this.cluster[0] as string;
    this.cluster = this.cluster.slice(1);
    const spec = optionSpecs.find((s) => s.short === letter);
    if (spec === undefined) {
      this.cluster = '';
      fail(`-${letter}: unknown option`, 255);
    }
    if (spec.value !== 'none' && this.cluster !== '') {
      const value = this.cluster;
      this.cluster = '';
      return { spec, value, written: `-${letter}` };
    }
    return { spec, ...(spec.value === 'none' ? {} : this.valueFor(spec, `-${letter}`)), written: `-${letter}` };
  }

  private valueFor(spec: OptionSpec, written: string): { value?: string } {
    if (spec.value === 'none') return {};
    const next = this.args[this.i];
    if (spec.value === 'optional') {
      if (next === undefined || next.startsWith('-')) return {};
      this.i++;
      return { value: next };
    }
    if (next === undefined) fail(`${written}: missing argument`, 255);
    this.i++;
    return { value: next };
  }
}

interface Draft {
  name?: CommandName;
  options: Set<OptionName>;
  service: ServiceSpec;
  scheduler: string;
  persistentS?: number;
  netmask?: IpAddr;
  onePacket: boolean;
  schedFlagsArg?: string;
  dest: DestSpec;
  format: ListFormat;
  timeouts?: [number, number, number];
  daemon: DaemonSpec;
}

function newDraft(): Draft {
  return {
    options: new Set(),
    service: { kind: 'address', protocol: 'tcp', family: 4, port: 0, mark: 0 },
    scheduler: '',
    onePacket: false,
    // ipvsadm's defaults before options: weight 1, direct routing.
    dest: { family: 4, port: 0, forward: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...ipipTunnel } },
    format: { numeric: false, stats: false, rate: false, thresholds: false, persistentConn: false, nosort: false, exact: false, tunInfo: false },
    daemon: {},
  };
}

function setOption(d: Draft, option: OptionName): void {
  if (d.options.has(option)) fail(`multiple '${option}' options specified`);
  d.options.add(option);
}

export function parseIpvsadm(args: readonly string[], ports: PortNames, program = 'ipvsadm'): ParseResult {
  try {
    return { ok: true, command: parseOrFail(args, ports, program) };
  } catch (err) {
    if (err instanceof Fail) return { ok: false, exit: err.exit };
    throw err;
  }
}

function parseOrFail(args: readonly string[], ports: PortNames, program: string): IpvsadmCommand {
  const reader = new OptionReader(args);
  const d = newDraft();
  const first = reader.next();
  const command = first === null ? undefined : commandOptions[first.spec.long];
  if (first === null || command === undefined) throw new Fail({ stdout: '', stderr: tryHelpText(program), code: 255 });
  if (command === 'help') throw new Fail({ stdout: usageText(program), stderr: '', code: 0 });
  if (command === 'version') throw new Fail({ stdout: `${ipvsadmVersionLine}\n`, stderr: '', code: 0 });
  d.name = command;
  if (command === 'start-daemon' || command === 'stop-daemon') {
    if (first.value === 'master' || first.value === 'backup') d.daemon.state = first.value;
    else fail(command === 'start-daemon' ? 'illegal start-daemon parameter specified' : 'illegal start_daemon specified');
  }
  for (let t = reader.next(); t !== null; t = reader.next()) applyOption(d, t, ports);
  const loose = reader.loose;
  if (d.name === 'set') {
    if (loose.length < 3) fail('--set option requires 3 timeout values');
    d.timeouts = [timeoutValue(loose[0] as string, 0), timeoutValue(loose[1] as string, 0), timeoutValue(loose[2] as string, 0)];
    loose.splice(0, 3);
  }
  if (loose.length > 0) fail(`unexpected argument ${loose[0]}`);
  const flags = { flag1: false, flag2: false, flag3: false };
  if (d.schedFlagsArg !== undefined) Object.assign(flags, parseSchedFlags(d.scheduler, d.schedFlagsArg));
  checkOptions(d.name, d.options);
  checkCommand(d);
  return {
    name: d.name,
    options: d.options,
    service: d.service,
    scheduler: d.scheduler,
    ...(d.persistentS !== undefined ? { persistentS: d.persistentS } : {}),
    ...(d.netmask !== undefined ? { netmask: d.netmask } : {}),
    onePacket: d.onePacket,
    schedFlags: flags,
    dest: d.dest,
    format: d.format,
    ...(d.timeouts !== undefined ? { timeouts: d.timeouts } : {}),
    daemon: d.daemon,
  };
}

function timeoutValue(text: string, min: number): number {
  const n = toNumber(text, min, maxTimeoutS);
  if (n === -1) fail(`invalid timeout value \`${text}' specified`);
  return n;
}

const formatOptions: Partial<Record<string, [OptionName, keyof ListFormat]>> = {
  numeric: ['numeric', 'numeric'],
  stats: ['stats', 'stats'],
  rate: ['rate', 'rate'],
  thresholds: ['thresholds', 'thresholds'],
  'persistent-conn': ['persistent-conn', 'persistentConn'],
  nosort: ['nosort', 'nosort'],
  exact: ['exact', 'exact'],
  'tun-info': ['tun-info', 'tunInfo'],
};

function applyOption(d: Draft, t: Token, ports: PortNames): void {
  const v = t.value ?? '';
  const format = formatOptions[t.spec.long];
  if (format !== undefined) {
    setOption(d, format[0]);
    d.format[format[1]] = true;
    return;
  }
  switch (t.spec.long) {
    case 'tcp-service':
    case 'udp-service':
    case 'sctp-service': {
      setOption(d, 'service-address');
      d.service.protocol = t.spec.long === 'tcp-service' ? 'tcp' : t.spec.long === 'udp-service' ? 'udp' : 'sctp';
      d.service.kind = 'address';
      const parsed = parseServiceAddress(v, d.service.protocol, ports);
      if (parsed === undefined) fail('illegal virtual server address[:port] specified');
      d.service.address = parsed.address;
      d.service.family = parsed.address.family;
      if (parsed.port !== undefined) d.service.port = parsed.port;
      return;
    }
    case 'fwmark-service': {
      setOption(d, 'service-address');
      d.service.kind = 'fwmark';
      d.service.family = 4;
      d.service.protocol = 'tcp';
      const mark = /^\d+$/.test(v) ? Number(v) : NaN;
      if (!(mark > 0 && mark <= 4294967295)) fail(`invalid fwmark value \`${v}' specified`);
      d.service.mark = mark;
      return;
    }
    case 'scheduler':
      setOption(d, 'scheduler');
      d.scheduler = v.slice(0, 15);
      return;
    case 'persistent':
      setOption(d, 'persistent');
      d.persistentS = t.value === undefined ? persistentTimeoutDefaultS : timeoutValue(v, 1);
      return;
    case 'netmask': {
      setOption(d, 'netmask');
      if (d.service.family !== 6) {
        const mask = net.isIPv4(v) ? parseIpAddr(v) : undefined;
        if (mask === undefined) fail('illegal virtual server persistent mask specified');
        d.netmask = mask;
      } else {
        const bits = /^\d+/.exec(v) === null ? 0 : parseInt(v, 10);
        if (bits < 1 || bits > 128) fail('illegal ipv6 netmask specified');
        d.netmask = prefixMask(6, bits);
      }
      return;
    }
    case 'real-server': {
      setOption(d, 'real-server');
      const parsed = parseServiceAddress(v, d.service.protocol, ports);
      if (parsed === undefined) fail('illegal real server address[:port] specified');
      d.dest.address = parsed.address;
      d.dest.family = parsed.address.family;
      // Without a port, the real server takes the service's port as known so far.
      d.dest.port = parsed.port ?? d.service.port;
      return;
    }
    case 'masquerading':
    case 'ipip':
    case 'gatewaying':
      setOption(d, 'forwarding-method');
      d.dest.forward = t.spec.long === 'masquerading' ? 'masq' : t.spec.long === 'ipip' ? 'tunnel' : 'route';
      return;
    case 'weight':
      setOption(d, 'weight');
      d.dest.weight = toNumber(v, 0, 65535);
      if (d.dest.weight === -1) fail('illegal weight specified');
      return;
    case 'u-threshold':
      setOption(d, 'u-threshold');
      d.dest.upperThreshold = toNumber(v, 0, maxInt);
      if (d.dest.upperThreshold === -1) fail('illegal u_threshold specified');
      return;
    case 'l-threshold':
      setOption(d, 'l-threshold');
      d.dest.lowerThreshold = toNumber(v, 0, maxInt);
      if (d.dest.lowerThreshold === -1) fail('illegal l_threshold specified');
      return;
    case 'connection':
      setOption(d, 'connection');
      return;
    case 'mcast-interface':
      setOption(d, 'mcast-interface');
      d.daemon.mcastInterface = v.slice(0, 15);
      return;
    case 'syncid': {
      setOption(d, 'syncid');
      const id = toNumber(v, 0, 255);
      if (id === -1) fail('illegal syncid specified');
      d.daemon.syncId = id;
      return;
    }
    case 'timeout':
      setOption(d, 'timeout');
      return;
    case 'daemon':
      setOption(d, 'daemon');
      return;
    case 'sort':
      return; // the default; accepted for compatibility
    case 'ipv6':
      if (d.service.kind !== 'fwmark' || d.service.mark === 0) fail('-6 used before -f\n');
      d.service.family = 6;
      return;
    case 'ops':
      setOption(d, 'ops');
      d.onePacket = true;
      return;
    case 'pe':
      setOption(d, 'pe');
      return;
    case 'sched-flags':
      setOption(d, 'sched-flags');
      d.schedFlagsArg = v;
      return;
    case 'mcast-group':
      setOption(d, 'mcast-group');
      if (v.includes(':') ? !(net.isIPv6(v) && v.toLowerCase().startsWith('ff')) : !isIpv4Multicast(v)) {
        fail(`invalid ${v.includes(':') ? 'IPv6' : 'IPv4'} mcast-group \`${v}'`);
      }
      d.daemon.mcastGroup = parseIpAddr(v);
      return;
    case 'mcast-port':
      setOption(d, 'mcast-port');
      d.daemon.mcastPort = toNumber(v, 1, 65535);
      if (d.daemon.mcastPort === -1) fail('illegal mcast-port specified');
      return;
    case 'mcast-ttl':
      setOption(d, 'mcast-ttl');
      d.daemon.mcastTtl = toNumber(v, 1, 255);
      if (d.daemon.mcastTtl === -1) fail('illegal mcast-ttl specified');
      return;
    case 'sync-maxlen':
      setOption(d, 'sync-maxlen');
      d.daemon.syncMaxlen = toNumber(v, 1, 65535 - 20 - 8);
      if (d.daemon.syncMaxlen === -1) fail('illegal sync-maxlen specified');
      return;
    case 'tun-type':
      setOption(d, 'tun-type');
      if (v !== 'ipip' && v !== 'gue' && v !== 'gre') fail('illegal tunnel type specified');
      d.dest.tunnel.type = v as TunnelEncap['type'];
      return;
    case 'tun-port':
      setOption(d, 'tun-port');
      d.dest.tunnel.port = toNumber(v, 1, 65535);
      if (d.dest.tunnel.port === -1) fail('illegal tunnel port specified');
      return;
    case 'tun-nocsum':
    case 'tun-csum':
    case 'tun-remcsum':
      setOption(d, t.spec.long);
      if (t.spec.long !== 'tun-nocsum') d.dest.tunnel.checksum = t.spec.long === 'tun-csum' ? 'csum' : 'remcsum';
      return;
    default:
      // A second command (e.g. -A after -a).
      fail('multiple commands specified');
  }
}

/** Which tunnel options each type takes: required, at most one of a group, or none. */
const tunnelTypeOptions: Record<TunnelEncap['type'], Partial<Record<OptionName, 'required' | 'one'>>> = {
  ipip: {},
  gue: { 'tun-port': 'required', 'tun-nocsum': 'one', 'tun-csum': 'one', 'tun-remcsum': 'one' },
  gre: { 'tun-nocsum': 'one', 'tun-csum': 'one' },
};

function checkTunnelOptions(type: TunnelEncap['type'], options: ReadonlySet<OptionName>): void {
  let one: OptionName | undefined;
  for (const option of ['tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'] as const) {
    const rule = tunnelTypeOptions[type][option];
    if (!options.has(option)) {
      if (rule === 'required') fail(`You need to supply the '${option}' option for the '${type}' tunnel type`);
      continue;
    }
    if (rule === undefined) fail(`Illegal '${option}' option with the '${type}' tunnel type`);
    if (rule === 'one') {
      if (one !== undefined) fail(`The option '${option}' conflicts with the '${one}' option in the '${type}' tunnel type`);
      one = option;
    }
  }
}

function isIpv4Multicast(v: string): boolean {
  if (!net.isIPv4(v)) return false;
  const first = Number(v.split('.')[0]);
  return first >= 224 && first <= 239;
}

/** `host[:port]` or `[v6]:port`, with a service name allowed for the port. */
export function parseServiceAddress(text: string, protocol: ServiceProtocol, ports: PortNames): { address: IpAddr; port?: number } | undefined {
  if (text === '' || /^\d+$/.test(text)) return undefined;
  let host = text;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1 || text[close + 1] !== ':') return undefined;
    host = text.slice(1, close);
    portText = text.slice(close + 2);
  }
  let address = net.isIPv6(host) ? parseIpAddr(host) : undefined;
  if (address === undefined) {
    if (portText === undefined) {
      const colon = host.lastIndexOf(':');
      if (colon !== -1) {
        portText = host.slice(colon + 1);
        host = host.slice(0, colon);
      }
    }
    address = net.isIPv4(host) ? parseIpAddr(host) : undefined;
    if (address === undefined) return undefined;
  }
  if (portText === undefined) return { address };
  const n = toNumber(portText, 0, 65535);
  const port = n !== -1 ? n : ports.portOf(portText, protocol);
  return port === undefined ? undefined : { address, port };
}

function parseSchedFlags(scheduler: string, arg: string): { flag1: boolean; flag2: boolean; flag3: boolean } {
  const sched = scheduler === '' ? 'wlc' : scheduler;
  const flags = { flag1: false, flag2: false, flag3: false };
  for (const flag of arg.split(',').filter((f) => f !== '')) {
    const needs = (name: string): void => {
      if (sched !== name) fail(`incompatible scheduler flag \`${flag}'`);
    };
    switch (flag) {
      case 'flag-1':
        flags.flag1 = true;
        break;
      case 'flag-2':
        flags.flag2 = true;
        break;
      case 'flag-3':
        flags.flag3 = true;
        break;
      case 'sh-fallback':
      case 'mh-fallback':
        flags.flag1 = true;
        needs(flag.slice(0, 2));
        break;
      case 'sh-port':
      case 'mh-port':
        flags.flag2 = true;
        needs(flag.slice(0, 2));
        break;
      default:
        fail(`invalid scheduler flag \`${flag}'`);
    }
  }
  return flags;
}

/** Required, refused and mutually exclusive options, checked in ipvsadm's option order. */
function checkOptions(command: CommandName, options: ReadonlySet<OptionName>): void {
  const rule = commandRules[command];
  let exclusive: OptionName | undefined;
  for (const option of optionNames) {
    const given = options.has(option);
    if (!given) {
      if (rule.required?.includes(option) === true) fail(`You need to supply the '${option}' option for the '${command}' command`);
      continue;
    }
    if (rule.exclusive?.includes(option) === true) {
      if (exclusive !== undefined) fail(`The option '${option}' conflicts with the '${exclusive}' option in the '${command}' command`);
      exclusive = option;
      continue;
    }
    if (rule.required?.includes(option) !== true && rule.optional?.includes(option) !== true) {
      fail(`Illegal '${option}' option with the '${command}' command`);
    }
  }
}

function checkCommand(d: Draft): void {
  const { options } = d;
  if (d.name === 'add-service' || d.name === 'edit-service') {
    if (d.service.kind === 'address' && d.service.port === 0 && d.persistentS === undefined) fail('Zero port specified for non-persistent service');
    if (d.onePacket && d.service.kind === 'address' && d.service.protocol !== 'udp') fail('One-Packet Scheduling is only for UDP virtual services');
    if (d.scheduler === '') d.scheduler = 'wlc';
  }
  if (d.name === 'add-server' || d.name === 'edit-server') {
    // DR and TUN cannot change the port: the real server listens on the service's.
    if (d.service.kind === 'address' && (d.dest.forward === 'tunnel' || d.dest.forward === 'route')) d.dest.port = d.service.port;
    if (d.dest.family !== d.service.family && d.dest.forward !== 'tunnel') fail('Different address family is allowed only for tunneling servers');
    const tunnelOptions: OptionName[] = ['tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'];
    if (tunnelOptions.some((o) => options.has(o)) && d.dest.forward !== 'tunnel') fail('Tunnel options conflict with forward method');
    checkTunnelOptions(d.dest.tunnel.type, options);
  }
  if (d.name === 'list') {
    const outputs = options.has('connection') || options.has('timeout') || options.has('daemon');
    const columns = options.has('stats') || options.has('rate') || options.has('thresholds');
    if ((outputs && columns) || ((options.has('timeout') || options.has('daemon')) && options.has('persistent-conn'))) {
      fail('options conflicts in the list command');
    }
  }
}
