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

export interface SimOptions {
  readonly printer: IpvsadmPrinter;
  readonly ports: PortNames;
  readonly seed?: number;
}

export interface SimResult {
  readonly output: string;
  /** 0 when every line ran; the first bad event line (not ipvsadm's own errors) makes it 1. */
  readonly code: number;
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

/** `2.5s`, `300ms`, `2m`, or bare seconds. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  if (m === null) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] as number;
  return Math.round(Number(m[1]) * unit);
}

export class IpvsSimulator {
  readonly clock = new VirtualClock();
  readonly engine: IpvsEngine;

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
      const r = this.line(line);
      output += r.text;
      if (r.error !== undefined) return { output: `${output}line ${index + 1}: ${r.error}\n`, code: 1 };
    }
    return { output, code: 0 };
  }

  private line(line: string): { text: string; error?: string } {
    const words = line.split(/\s+/);
    const verb = words[0] as string;
    switch (verb) {
      case 'ipvsadm': {
        const r = runIpvsadm(words.slice(1), { engine: this.engine, ports: this.options.ports, printer: this.options.printer });
        return { text: r.stdout + r.stderr };
      }
      case 'connect':
        return this.connect(words);
      case 'state':
        return this.state(words);
      case 'packets':
        return this.packets(words);
      case 'advance': {
        const ms = parseDurationMs(words[1] ?? '');
        if (ms === undefined) return { text: '', error: `advance needs a duration (like 2.5s): '${words[1] ?? ''}'` };
        this.clock.advance(ms);
        this.engine.tick();
        return { text: '' };
      }
      default:
        return { text: '', error: `unknown line '${verb}': expected ipvsadm, connect, state, packets or advance` };
    }
  }

  /** `connect tcp|udp CIP:PORT VIP:PORT [fwmark N] [repeat N]`: each new port per repeat. */
  private connect(words: string[]): { text: string; error?: string } {
    const protocol = words[1] as ServiceProtocol;
    const client = endpoint(words[2]);
    const vip = endpoint(words[3]);
    if (!['tcp', 'udp', 'sctp'].includes(protocol) || client === undefined || vip === undefined) {
      return { text: '', error: 'usage: connect tcp|udp CLIENT:PORT VIP:PORT [fwmark N] [repeat N]' };
    }
    const opts = this.options_(words.slice(4));
    if (typeof opts === 'string') return { text: '', error: opts };
    let text = '';
    for (let i = 0; i < opts.repeat; i++) {
      const cport = (client.port + i) % 65536;
      const r = this.engine.connect({ protocol, caddr: client.addr, cport, vaddr: vip.addr, vport: vip.port, ...(opts.fwmark !== undefined ? { fwmark: opts.fwmark } : {}) });
      const from = formatEndpoint(client.addr, cport);
      if (!r.ok) text += `${from} -> ${r.reason === 'no-service' ? 'no virtual service' : r.reason === 'table-full' ? 'connection table full' : 'no destination available'}\n`;
      else text += `${from} -> ${formatEndpoint(r.conn.daddr, r.conn.dport)}${r.created ? '' : ' (existing)'}\n`;
    }
    return { text };
  }

  private options_(words: string[]): { fwmark?: number; repeat: number } | string {
    const out: { fwmark?: number; repeat: number } = { repeat: 1 };
    for (let i = 0; i < words.length; i += 2) {
      const value = Number(words[i + 1]);
      if (words[i] === 'fwmark' && value > 0) out.fwmark = value;
      else if (words[i] === 'repeat' && Number.isInteger(value) && value >= 1 && value <= simRepeatMax) out.repeat = value;
      else return `unknown option '${words[i]} ${words[i + 1] ?? ''}' (fwmark N, repeat 1..${simRepeatMax})`;
    }
    return out;
  }

  private find(words: string[]): Connection | string {
    const protocol = words[1] as ServiceProtocol;
    const client = endpoint(words[2]);
    const vip = endpoint(words[3]);
    if (client === undefined || vip === undefined) return `usage: ${words[0]} tcp|udp CLIENT:PORT VIP:PORT ...`;
    const conn = this.engine.conns.lookup(protocol, client.addr, client.port, vip.addr.text, vip.port);
    return conn ?? `no connection ${protocol} ${words[2]} ${words[3]}`;
  }

  /** `state tcp CIP:PORT VIP:PORT STATE`: as if packets had brought it there. */
  private state(words: string[]): { text: string; error?: string } {
    const conn = this.find(words);
    if (typeof conn === 'string') return { text: '', error: conn };
    if (conn.state === 'UDP') return { text: '', error: 'a UDP flow has no TCP state' };
    const state = words[4] as TcpState;
    if (!(tcpStates as readonly string[]).includes(state)) return { text: '', error: `state must be one of ${tcpStates.join('|')}` };
    this.engine.setState(conn, state);
    return { text: '' };
  }

  /** `packets tcp CIP:PORT VIP:PORT in|out COUNT [BYTES]`: counted, states unchanged. */
  private packets(words: string[]): { text: string; error?: string } {
    const conn = this.find(words);
    if (typeof conn === 'string') return { text: '', error: conn };
    const dir = words[4];
    const count = Number(words[5]);
    const bytes = Number(words[6] ?? 0);
    if ((dir !== 'in' && dir !== 'out') || !Number.isInteger(count) || count < 1 || count > simRepeatMax || !(bytes >= 0)) {
      return { text: '', error: 'usage: packets tcp|udp CLIENT:PORT VIP:PORT in|out COUNT [BYTES]' };
    }
    this.engine.countPackets(conn, dir === 'in' ? 'input' : 'output', count, bytes);
    return { text: '' };
  }
}
