// What ipvsadm 1.31 prints: the -L listing in its five column sets, the -S rules that -R
// reads back, the --timeout line, the sync daemons, and the -L -c connection list. Widths,
// trailing blanks, the K/M/G scaling of large numbers and the sort order are ipvsadm's.
import { ipv4FromWord, parseIpAddr, type IpAddr } from '../address';
import type { Connection } from '../conn/connection';
import type { Destination, ForwardMethod, TunnelEncap } from '../destination';
import type { IpvsEngine } from '../engine';
import type { ServiceKey, ServiceProtocol, VirtualService } from '../service';
import type { IpvsadmPrinter } from './execute';
import type { ListFormat } from './parse';
import type { ServiceNames } from './service-names';

export const ipvsVersionHeader = 'IP Virtual Server version 1.2.1 (size=4096)';

const forwardNames: Record<ForwardMethod, string> = { masq: 'Masq', route: 'Route', tunnel: 'Tunnel' };
const forwardSwitches: Record<ForwardMethod, string> = { masq: '-m', route: '-g', tunnel: '-i' };
const protocolNames: Record<ServiceProtocol, string> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' };
const protocolOptions: Record<ServiceProtocol, string> = { tcp: '-t', udp: '-u', sctp: '--sctp-service' };
const protocolNumbers: Record<ServiceProtocol, number> = { tcp: 6, udp: 17, sctp: 132 };

const padEnd = (text: string, width: number): string => text.padEnd(width);
const padStart = (text: string, width: number): string => text.padStart(width);

/** `ADDR:PORT`, or `[v6]:PORT`; without -n the port may be a service name. */
export function addrPort(addr: IpAddr, port: number, protocol: ServiceProtocol, format: ListFormat, names: ServiceNames): string {
  const host = addr.family === 6 ? `[${addr.text}]` : addr.text;
  const p = format.numeric ? String(port) : (names.nameOf(port, protocol) ?? String(port));
  return `${host}:${p}`;
}

/** print_largenum: 9 wide; large values scaled to K, M, G, T unless --exact. */
export function largeNumber(n: number, exact: boolean): string {
  if (exact) {
    const text = String(n);
    return padStart(text, text.length <= 8 ? 9 : text.length + 1);
  }
  if (n < 100_000_000) return padStart(String(n), 9);
  if (n < 1_000_000_000) return `${padStart(String(Math.floor(n / 1000)), 8)}K`;
  if (n < 100_000_000_000) return `${padStart(String(Math.floor(n / 1_000_000)), 8)}M`;
  if (n < 100_000_000_000_000) return `${padStart(String(Math.floor(n / 1_000_000_000)), 8)}G`;
  return `${padStart(String(Math.floor(n / 1_000_000_000_000)), 8)}T`;
}

function schedFlagsText(svc: VirtualService): string {
  const { scheduler, flags } = svc.settings;
  const out: string[] = [];
  if (scheduler === 'sh' || scheduler === 'mh') {
    if (flags.flag1) out.push(`${scheduler}-fallback`);
    if (flags.flag2) out.push(`${scheduler}-port`);
  } else {
    if (flags.flag1) out.push('flag-1');
    if (flags.flag2) out.push('flag-2');
    if (flags.flag3) out.push('flag-3');
  }
  return out.join(',');
}

/** A netmask other than all ones, as ipvsadm prints it (dotted for IPv4, a length for IPv6). */
function maskText(svc: VirtualService): string | undefined {
  const mask = svc.settings.netmask;
  if (mask === undefined) return undefined;
  if (mask.family === 4) return (mask.words[0] as number) === 0xffffffff ? undefined : mask.text;
  const bits = mask.words.reduce((sum, w) => sum + popcount(w), 0);
  return bits === 128 ? undefined : String(bits);
}

function popcount(w: number): number {
  let n = w >>> 0;
  let count = 0;
  while (n !== 0) {
    n &= n - 1;
    count++;
  }
  return count;
}

function family(key: ServiceKey): 4 | 6 {
  return key.kind === 'fwmark' ? key.family : key.address.family;
}

/** ipvs_cmp_services: fwmark, family, protocol, address, port, with the C int wrap-around. */
function compareServices(a: VirtualService, b: VirtualService): number {
  const ka = a.key;
  const kb = b.key;
  const fa = ka.kind === 'fwmark' ? ka.mark : 0;
  const fb = kb.kind === 'fwmark' ? kb.mark : 0;
  const afa = family(ka) === 6 ? 10 : 2;
  const afb = family(kb) === 6 ? 10 : 2;
  if (fa !== fb) return fa - fb;
  if (afa !== afb) return afa - afb;
  if (ka.kind === 'fwmark' || kb.kind === 'fwmark') return 0;
  const pa = protocolNumbers[ka.protocol];
  const pb = protocolNumbers[kb.protocol];
  if (pa !== pb) return pa - pb;
  const r = compareWords(ka.address, kb.address);
  return r !== 0 ? r : ka.port - kb.port;
}

/** libipvs compares in the first address's family; an IPv4 address is one word then zeros. */
function compareWords(a: IpAddr, b: IpAddr): number {
  for (let i = 0; i < a.words.length; i++) {
    const r = ((a.words[i] ?? 0) - (b.words[i] ?? 0)) | 0;
    if (r !== 0) return r;
  }
  return 0;
}

function compareDests(a: Destination, b: Destination): number {
  const r = compareWords(a.address, b.address);
  return r !== 0 ? r : a.port - b.port;
}

function serviceName(svc: VirtualService, format: ListFormat, rule: boolean, names: ServiceNames): string {
  const key = svc.key;
  if (key.kind === 'fwmark') {
    if (rule) return key.family === 6 ? `-f ${key.mark} -6` : `-f ${key.mark}`;
    return key.family === 6 ? `FWM  ${key.mark} IPv6` : `FWM  ${key.mark}`;
  }
  const vname = addrPort(key.address, key.port, key.protocol, format, names);
  if (rule) return `${protocolOptions[key.protocol]} ${vname}`;
  const name = `${padEnd(protocolNames[key.protocol], 4)} ${vname}`;
  return key.address.family === 6 ? name : name.slice(0, 33);
}

function titleLines(format: ListFormat): string {
  const head = padEnd('Prot LocalAddress:Port', 33);
  if (format.stats) return `${head} ${['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'].map((h) => padStart(h, 8)).join(' ')}\n  -> RemoteAddress:Port\n`;
  if (format.rate) return `${head} ${['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'].map((h) => padStart(h, 8)).join(' ')}\n  -> RemoteAddress:Port\n`;
  if (format.thresholds) return `${head} ${['Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn'].map((h) => padEnd(h, 10)).join(' ')}\n  -> RemoteAddress:Port\n`;
  if (format.persistentConn) return `${head} ${padEnd('Weight', 9)} ${padEnd('PersistConn', 11)} ${padEnd('ActiveConn', 10)} ${padEnd('InActConn', 10)}\n  -> RemoteAddress:Port\n`;
  if (format.tunInfo) return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n';
  return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
}

function serviceLine(svc: VirtualService, format: ListFormat, names: ServiceNames): string {
  const name = serviceName(svc, format, false, names);
  const s = svc.stats;
  if (format.stats) return `${padEnd(name, 33)}${[s.conns, s.inPkts, s.outPkts, s.inBytes, s.outBytes].map((n) => largeNumber(n, format.exact)).join('')}\n`;
  if (format.rate) {
    const r = s.rate;
    return `${padEnd(name, 33)}${[r.cps, r.inPps, r.outPps, r.inBps, r.outBps].map((n) => largeNumber(n, format.exact)).join('')}\n`;
  }
  let line = `${name} ${svc.settings.scheduler}`;
  const flags = schedFlagsText(svc);
  if (flags !== '') line += ` (${flags})`;
  if (svc.settings.persistenceS !== undefined) {
    line += ` persistent ${svc.settings.persistenceS}`;
    const mask = maskText(svc);
    if (mask !== undefined) line += ` mask ${mask}`;
  }
  if (svc.settings.onePacket) line += ' ops';
  return `${line}\n`;
}

function destLine(svc: VirtualService, d: Destination, format: ListFormat, names: ServiceNames): string {
  const protocol = svc.key.kind === 'address' ? svc.key.protocol : 'tcp';
  let dname = addrPort(d.address, d.port, protocol, format, names);
  if (d.address.family !== 6) dname = dname.slice(0, 28);
  const s = d.stats;
  if (format.stats) return `  -> ${padEnd(dname, 28)}${[s.conns, s.inPkts, s.outPkts, s.inBytes, s.outBytes].map((n) => largeNumber(n, format.exact)).join('')}\n`;
  if (format.rate) {
    const r = s.rate;
    return `  -> ${padEnd(dname, 28)} ${[r.cps, r.inPps, r.outPps].map((n) => padStart(String(n), 8)).join(' ')}${largeNumber(r.inBps, format.exact)}${largeNumber(r.outBps, format.exact)}\n`;
  }
  if (format.thresholds) return `  -> ${padEnd(dname, 28)} ${[d.upperThreshold, d.lowerThreshold, d.activeConns, d.inactConns].map((n) => padEnd(String(n), 10)).join(' ')}\n`;
  if (format.persistentConn) return `  -> ${padEnd(dname, 28)} ${padEnd(String(d.weight), 9)} ${padEnd(String(d.persistConns), 11)} ${padEnd(String(d.activeConns), 10)} ${padEnd(String(d.inactConns), 10)}\n`;
  if (format.tunInfo) {
    const info = d.forward === 'tunnel' ? tunnelInfo(d.tunnel) : 'n/a';
    return `  -> ${padEnd(dname, 28)} ${padEnd(forwardNames[d.forward], 7)} ${padEnd(info, 13)} ${padEnd(String(d.weight), 6)} ${padEnd(String(d.activeConns), 10)} ${padEnd(String(d.inactConns), 10)}\n`;
  }
  return `  -> ${padEnd(dname, 28)} ${padEnd(forwardNames[d.forward], 7)} ${padEnd(String(d.weight), 6)} ${padEnd(String(d.activeConns), 10)} ${padEnd(String(d.inactConns), 10)}\n`;
}

const checksumSigns: Record<TunnelEncap['checksum'], string> = { nocsum: '-c', csum: '+c', remcsum: 'r+c' };

/** The TunnelInfo column: `ipip`, `gue:PORT:SIGN`, `gre:SIGN`, cut at 15 characters. */
function tunnelInfo(t: TunnelEncap): string {
  const text = t.type === 'ipip' ? 'ipip' : t.type === 'gue' ? `gue:${t.port}:${checksumSigns[t.checksum]}` : `gre:${checksumSigns[t.checksum]}`;
  return text.slice(0, 15);
}

function tunnelRule(t: TunnelEncap): string {
  if (t.type === 'ipip') return ' --tun-type ipip';
  const port = t.type === 'gue' ? ` --tun-port ${t.port}` : '';
  return ` --tun-type ${t.type}${port} --tun-${t.checksum}`;
}

/**
 * ipvsadm 1.31 leaves thresholds out of -S, so -R would lose them; they are written when
 * set, in the -x/-y options ipvsadm -R reads.
 */
function thresholdRule(d: Destination): string {
  return (d.upperThreshold !== 0 ? ` -x ${d.upperThreshold}` : '') + (d.lowerThreshold !== 0 ? ` -y ${d.lowerThreshold}` : '');
}

function sortedServices(engine: IpvsEngine, format: ListFormat): VirtualService[] {
  const list = engine.listServices();
  return format.nosort ? list : [...list].sort(compareServices);
}

function sortedDests(svc: VirtualService, format: ListFormat): Destination[] {
  return format.nosort ? [...svc.destinations] : [...svc.destinations].sort(compareDests);
}

/** `ipvsadm -L` (all services, or one with a service address). */
export function formatList(engine: IpvsEngine, format: ListFormat, names: ServiceNames, only?: VirtualService): string {
  let out = only === undefined ? `${ipvsVersionHeader}\n` : '';
  out += titleLines(format);
  for (const svc of only === undefined ? sortedServices(engine, format) : [only]) {
    out += serviceLine(svc, format, names);
    for (const d of sortedDests(svc, format)) out += destLine(svc, d, format, names);
  }
  return out;
}

/** `ipvsadm -S`: rules that `ipvsadm -R` reads back. */
export function formatSave(engine: IpvsEngine, format: ListFormat, names: ServiceNames): string {
  let out = '';
  for (const svc of sortedServices(engine, format)) {
    const name = serviceName(svc, format, true, names);
    let line = `-A ${name} -s ${svc.settings.scheduler}`;
    if (svc.settings.persistenceS !== undefined) {
      line += ` -p ${svc.settings.persistenceS}`;
      const mask = maskText(svc);
      if (mask !== undefined) line += ` -M ${mask}`;
    }
    if (svc.settings.onePacket) line += ' -o';
    const flags = schedFlagsText(svc);
    if (flags !== '') line += ` -b ${flags}`;
    out += `${line}\n`;
    const protocol = svc.key.kind === 'address' ? svc.key.protocol : 'tcp';
    for (const d of sortedDests(svc, format)) {
      const dname = addrPort(d.address, d.port, protocol, format, names);
      const tunnel = d.forward === 'tunnel' ? tunnelRule(d.tunnel) : '';
      out += `-a ${name} -r ${dname} ${forwardSwitches[d.forward]} -w ${d.weight}${thresholdRule(d)}${tunnel}\n`;
    }
  }
  return out;
}

export function formatTimeouts(engine: IpvsEngine): string {
  const t = engine.timeouts;
  return `Timeout (tcp tcpfin udp): ${Math.floor(t.tcpMs.ESTABLISHED / 1000)} ${Math.floor(t.tcpMs.FIN_WAIT / 1000)} ${Math.floor(t.udpMs / 1000)}\n`;
}

export function formatDaemons(engine: IpvsEngine): string {
  let out = '';
  for (const state of ['master', 'backup'] as const) {
    const d = engine.syncDaemons.get(state);
    if (d === undefined) continue;
    out += `${state} sync daemon (mcast=${d.mcastInterface}, syncid=${d.syncId}, maxlen=${d.syncMaxlen}, group=${d.mcastGroup.text}, port=${d.mcastPort}, ttl=${d.mcastTtl})\n`;
  }
  return out;
}

/** `ipvsadm -L -c`: one line per entry, expiry as MM:SS. */
export function formatConnections(engine: IpvsEngine, format: ListFormat, names: ServiceNames, nowMs: number): string {
  let out = 'IPVS connection entries\n';
  out += format.persistentConn
    ? `pro expire ${padEnd('state', 11)} ${padEnd('source', 18)} ${padEnd('virtual', 18)} ${padEnd('destination', 18)} ${padEnd('pe name', 16)} pe_data\n`
    : `pro expire ${padEnd('state', 11)} ${padEnd('source', 18)} ${padEnd('virtual', 18)} destination\n`;
  for (const conn of engine.conns.entries()) out += connectionLine(conn, format, names, nowMs);
  return out;
}

function connectionLine(conn: Connection, format: ListFormat, names: ServiceNames, nowMs: number): string {
  const protocol: ServiceProtocol = conn.protocol === 'ip' ? 'tcp' : conn.protocol;
  const proto = conn.protocol === 'ip' ? 'IP' : protocolNames[conn.protocol];
  const seconds = Math.max(0, Math.floor((conn.expiresAtMs - nowMs) / 1000));
  const expire = `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
  const state = conn.template ? 'NONE' : conn.state;
  // A fwmark template's "virtual address" is the mark, shown as an IPv4 address.
  const vaddr = conn.vaddr.startsWith('fwmark:') ? ipv4FromWord(Number(conn.vaddr.slice(7))) : (parseIpAddr(conn.vaddr) ?? ipv4FromWord(0));
  const source = addrPort(conn.caddr, conn.cport, protocol, format, names);
  const virtual = addrPort(vaddr, conn.vport, protocol, format, names);
  const destination = addrPort(conn.daddr, conn.dport, protocol, format, names);
  return `${padEnd(proto, 3)} ${padEnd(expire, 6)} ${padEnd(state, 11)} ${padEnd(source, 18)} ${padEnd(virtual, 18)} ${destination}\n`;
}

/** The printer that `runIpvsadm` uses, bound to a name table and a clock reading. */
export function ipvsadmPrinter(names: ServiceNames, nowMs: () => number): IpvsadmPrinter {
  return {
    list: (engine, format, only) => formatList(engine, format, names, only),
    save: (engine, format) => formatSave(engine, format, names),
    timeouts: (engine) => formatTimeouts(engine),
    daemons: (engine) => formatDaemons(engine),
    connections: (engine, format) => formatConnections(engine, format, names, nowMs()),
  };
}
