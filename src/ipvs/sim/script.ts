// The what-if simulator behind `hadirector ipvs-sim`: a script of ipvsadm commands and a
// few event lines, run on an in-memory engine and a virtual clock, printing what ipvsadm
// would print and where each connection goes. docs/ipvs-sim.md describes the language.
import { VirtualClock } from '../../common/clock';
import { SeededRng } from '../../common/rng';
import { formatEndpoint, parseIpAddr, type IpAddr } from '../address';
import type { Connection } from '../conn/connection';
import { tcpStates, type TcpState } from '../conn/protocol-states';
import { IpvsEngine } from '../engine';
import { runIpvsadm, type IpvsadmPrinter } from '../ipvsadm/execute';
import type { PortNames } from '../ipvsadm/parse';
import type { ServiceProtocol } from '../service';

export const simLinesMax = 100_000;
export const simRepeatMax = 1_000_000;
export const simFileBytesMax = 4 * 1024 * 1024;

export interface SimOptions {
  readonly printer: IpvsadmPrinter;
  readonly ports: PortNames;
  readonly seed?: number;
  /** Reads a file the script did not write itself (`ipvsadm -R < FILE`); undefined when absent. */
  readonly readFile?: (name: string) => string | undefined;
  /** Print each line, after `$ `, before its output. */
  readonly echo?: boolean;
}

export interface SimResult {
  readonly output: string;
  /** 0 when every line ran; the first bad event line (not ipvsadm's own errors) makes it 1. */
  readonly code: number;
}

interface LineResult {
  readonly text: string;
  readonly error?: string;
}

interface Endpoint {
  readonly addr: IpAddr;
  readonly port: number;
}

function endpoint(text: string | undefined): Endpoint | undefined {
  if (text === undefined) return undefined;
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const addr = m === null ? undefined : parseIpAddr(m[1] as string);
  const port = m === null ? NaN : Number(m[2]);
  return addr === undefined || !(port >= 0 && port <= 65535) ? undefined : { addr, port };
}

/** `2.5s`, `300ms`, `2m`, `1h`, or bare seconds. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  if (m === null) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] as number;
  return Math.round(Number(m[1]) * unit);
}

const protocols: readonly ServiceProtocol[] = ['tcp', 'udp', 'sctp'];
const connectUsage = 'usage: connect tcp|udp|sctp CLIENT:PORT VIP:PORT [fwmark N] [repeat N] [state STATE]';

interface ConnectOptions {
  fwmark?: number;
  repeat: number;
  state?: TcpState;
}

export class IpvsSimulator {
  readonly clock = new VirtualClock();
  readonly engine: IpvsEngine;
  /** What `>` wrote: the simulator never writes to the disk. */
  private readonly files = new Map<string, string>();

  constructor(private readonly options: SimOptions) {
    this.engine = new IpvsEngine({ clock: this.clock, rng: new SeededRng(options.seed ?? 1) });
  }

  run(script: string): SimResult {
    let output = '';
    const lines = script.split('\n');
    if (lines.length > simLinesMax) return { output: `script longer than ${simLinesMax} lines\n`, code: 1 };
    for (const [index, raw] of lines.entries()) {
      const line = raw.replace(/#.*/, '').trim();
      if (line === '') continue;
      if (this.options.echo === true) output += `$ ${line}\n`;
      const r = this.line(line);
      output += r.text;
      if (r.error !== undefined) return { output: `${output}line ${index + 1}: ${r.error}\n`, code: 1 };
    }
    return { output, code: 0 };
  }

  private line(line: string): LineResult {
    const words = line.split(/\s+/);
    switch (words[0]) {
      case 'ipvsadm':
        return this.ipvsadm(words.slice(1));
      case 'cat':
        return this.cat(words);
      case 'sysctl':
        return this.sysctl(words);
      case 'connect':
        return this.connect(words);
      case 'state':
        return this.state(words);
      case 'packets':
        return this.packets(words);
      case 'advance': {
        const ms = words.length === 2 ? parseDurationMs(words[1] as string) : undefined;
        if (ms === undefined) return { text: '', error: `advance needs one duration (like 2.5s): '${words.slice(1).join(' ')}'` };
        this.advance(ms);
        return { text: '' };
      }
      default:
        return { text: '', error: `unknown line '${words[0] ?? ''}': expected ipvsadm, cat, sysctl, connect, state, packets or advance` };
    }
  }

  /** Moves the clock in steps of at most a second, so expiry and rates see every tick. */
  private advance(ms: number): void {
    for (let left = ms; left > 0; left -= 1000) {
      this.clock.advance(Math.min(left, 1000));
      this.engine.tick();
    }
  }

  /** `ipvsadm ARGS [> FILE | >> FILE | < FILE]`. */
  private ipvsadm(words: string[]): LineResult {
    const redirect = words.findIndex((w) => w === '>' || w === '>>' || w === '<');
    const args = redirect === -1 ? words : words.slice(0, redirect);
    let stdin: string | undefined;
    if (redirect !== -1) {
      const target = words[redirect + 1];
      if (target === undefined || words.length !== redirect + 2) return { text: '', error: `'${words[redirect]}' needs exactly one file name after it` };
      if (words[redirect] === '<') {
        stdin = this.files.get(target) ?? this.options.readFile?.(target);
        if (stdin === undefined) return { text: '', error: `${target}: no such file` };
      }
    }
    const r = runIpvsadm(args, { engine: this.engine, ports: this.options.ports, printer: this.options.printer, ...(stdin !== undefined ? { stdin } : {}) });
    if (redirect === -1 || words[redirect] === '<') return { text: r.stdout + r.stderr };
    const target = words[redirect + 1] as string;
    const before = words[redirect] === '>>' ? (this.files.get(target) ?? '') : '';
    if (before.length + r.stdout.length > simFileBytesMax) return { text: '', error: `${target}: larger than ${simFileBytesMax} bytes` };
    this.files.set(target, before + r.stdout);
    return { text: r.stderr };
  }

  /** `sysctl [-w] net.ipv4.vs.expire_quiescent_template=0|1`, the one IPVS sysctl the engine reads. */
  private sysctl(words: string[]): LineResult {
    const setting = words[1] === '-w' ? words.slice(2) : words.slice(1);
    const m = setting.length === 1 ? /^net\.ipv4\.vs\.expire_quiescent_template=([01])$/.exec(setting[0] as string) : null;
    if (m === null) return { text: '', error: 'usage: sysctl [-w] net.ipv4.vs.expire_quiescent_template=0|1' };
    this.engine.expireQuiescentTemplate = m[1] === '1';
    return { text: `net.ipv4.vs.expire_quiescent_template = ${m[1] as string}\n` };
  }

  private cat(words: string[]): LineResult {
    const name = words[1];
    if (name === undefined || words.length !== 2) return { text: '', error: 'usage: cat FILE' };
    const text = this.files.get(name) ?? this.options.readFile?.(name);
    return text === undefined ? { text: '', error: `${name}: no such file` } : { text };
  }

  /**
   * `connect PROTO CIP:PORT VIP:PORT [fwmark N] [repeat N] [state STATE]`: one connection,
   * or N from consecutive client ports, summarised per real server.
   */
  private connect(words: string[]): LineResult {
    const protocol = words[1] as ServiceProtocol;
    const client = endpoint(words[2]);
    const vip = endpoint(words[3]);
    if (!protocols.includes(protocol) || client === undefined || vip === undefined) return { text: '', error: connectUsage };
    const opts = connectOptions(words.slice(4));
    if (typeof opts === 'string') return { text: '', error: opts };
    if (opts.state !== undefined && protocol !== 'tcp') return { text: '', error: 'state applies to tcp connections only' };
    const tally = new Map<string, number>();
    let text = '';
    for (let i = 0; i < opts.repeat; i++) {
      const cport = (client.port + i) % 65536;
      const r = this.engine.connect({ protocol, caddr: client.addr, cport, vaddr: vip.addr, vport: vip.port, ...(opts.fwmark !== undefined ? { fwmark: opts.fwmark } : {}) });
      let where: string;
      if (!r.ok) where = r.reason === 'no-service' ? 'no virtual service' : r.reason === 'table-full' ? 'connection table full' : 'no destination available';
      else {
        where = formatEndpoint(r.conn.daddr, r.conn.dport) + (r.created ? '' : ' (existing)');
        if (opts.state !== undefined) this.engine.setState(r.conn, opts.state);
      }
      if (opts.repeat === 1) text = `${formatEndpoint(client.addr, cport)} -> ${where}\n`;
      else tally.set(where, (tally.get(where) ?? 0) + 1);
    }
    if (opts.repeat === 1) return { text };
    const last = (client.port + opts.repeat - 1) % 65536;
    const spread = [...tally].map(([where, n]) => `${where} ${n}`).join(', ');
    return { text: `${formatEndpoint(client.addr, client.port)}..${last} -> ${spread}\n` };
  }

  private find(words: string[]): Connection | string {
    const protocol = words[1] as ServiceProtocol;
    const client = endpoint(words[2]);
    const vip = endpoint(words[3]);
    if (!protocols.includes(protocol) || client === undefined || vip === undefined) return `usage: ${words[0] ?? ''} tcp|udp|sctp CLIENT:PORT VIP:PORT ...`;
    const conn = this.engine.conns.lookup(protocol, client.addr, client.port, vip.addr.text, vip.port);
    return conn ?? `no connection ${protocol} ${words[2] ?? ''} ${words[3] ?? ''}`;
  }

  /** `state tcp CIP:PORT VIP:PORT STATE`: as if packets had brought it there. */
  private state(words: string[]): LineResult {
    const conn = this.find(words);
    if (typeof conn === 'string') return { text: '', error: conn };
    if (conn.state === 'UDP') return { text: '', error: 'a UDP flow has no TCP state' };
    const state = tcpState(words[4]);
    if (state === undefined) return { text: '', error: `state must be one of ${tcpStates.join('|')}` };
    this.engine.setState(conn, state);
    return { text: '' };
  }

  /** `packets PROTO CIP:PORT VIP:PORT in|out COUNT [BYTES]`: counted, states unchanged. */
  private packets(words: string[]): LineResult {
    const conn = this.find(words);
    if (typeof conn === 'string') return { text: '', error: conn };
    const dir = words[4];
    const count = Number(words[5]);
    const bytes = Number(words[6] ?? 0);
    if ((dir !== 'in' && dir !== 'out') || !Number.isInteger(count) || count < 1 || count > simRepeatMax || !Number.isInteger(bytes) || bytes < 0 || words.length > 7) {
      return { text: '', error: 'usage: packets tcp|udp|sctp CLIENT:PORT VIP:PORT in|out COUNT [BYTES]' };
    }
    this.engine.countPackets(conn, dir === 'in' ? 'input' : 'output', count, bytes);
    return { text: '' };
  }
}

function tcpState(text: string | undefined): TcpState | undefined {
  return (tcpStates as readonly string[]).includes(text ?? '') ? (text as TcpState) : undefined;
}

function connectOptions(words: string[]): ConnectOptions | string {
  const out: ConnectOptions = { repeat: 1 };
  for (let i = 0; i < words.length; i += 2) {
    const [name, text] = [words[i] as string, words[i + 1]];
    const value = Number(text);
    if (name === 'fwmark' && Number.isInteger(value) && value > 0 && value <= 0xffffffff) out.fwmark = value;
    else if (name === 'repeat' && Number.isInteger(value) && value >= 1 && value <= simRepeatMax) out.repeat = value;
    else if (name === 'state' && tcpState(text) !== undefined) out.state = tcpState(text);
    else return `bad option '${name} ${text ?? ''}': ${connectUsage}`;
  }
  return out;
}
