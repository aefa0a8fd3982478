// The lab's client, both halves: one question to a virtual service (an HTTP GET for TCP,
// one datagram for UDP) and what it answered, asked in this process (the loopback lab)
// or by the agent, this file run as `node vip-probe.js` inside the client's namespace of
// the namespaced lab (a socket lives in the namespace of the process that opens it). The
// agent reads one ProbeRequest per line on stdin and writes one ProbeAnswer per line; it
// exits when stdin closes (the lab that started it went away).
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import http from 'node:http';
import readline from 'node:readline';

/** What the namespaced lab runs with `node`. */
export const vipProbeScript = __filename;

const answerTimeoutMs = 500;
/** Past the answer's own timeout, how long the lab waits for the agent's line. */
const agentSlackMs = 1500;
/** Questions the agent may have in flight; more are answered at once with a refusal. */
const inFlightMax = 64;

export interface ProbeRequest {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  readonly udp: boolean;
  /** The client address to ask from (the system's choice when absent). */
  readonly source?: string;
}

interface ProbeAnswer {
  readonly id: number;
  readonly text: string;
}

/** A GET / to HOST:PORT: `BODY (N ms)`, or `DOWN: why`. */
export function httpAsk(host: string, port: number, source?: string): Promise<string> {
  return new Promise((resolve) => {
    const started = Date.now();
    const req = http.get({ host, port, path: '/', agent: false, timeout: answerTimeoutMs, ...(source !== undefined ? { localAddress: source } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(`${body.trim()} (${Date.now() - started} ms)`));
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', (err) => resolve(`DOWN: ${err.message}`));
  });
}

/** One datagram to a UDP VIP: the real server's answer, or why none came. */
export function udpAsk(host: string, port: number, source?: string): Promise<string> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = dgram.createSocket('udp4');
    const done = (text: string): void => {
      clearTimeout(timer);
      socket.close();
      resolve(text);
    };
    const timer = setTimeout(() => done('DOWN: no answer'), answerTimeoutMs);
    socket.on('message', (msg) => done(`${msg.toString('utf8').replace(/ #\d+$/, '')} (${Date.now() - started} ms)`));
    socket.on('error', (err) => done(`DOWN: ${err.message}`));
    const send = (): void => socket.send('#1', port, host);
    if (source === undefined) send();
    else socket.bind(0, source, send);
  });
}

/** The lab's half: questions to the agent in the client's namespace, each answered or given up. */
export class ProbeAgent {
  private nextId = 0;
  private readonly waiting = new Map<number, (text: string) => void>();

  constructor(private readonly agent: ChildProcess) {
    let pending = '';
    agent.stdout?.on('data', (d: Buffer) => {
      const lines = (pending + d.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const answer = answerOf(line);
        if (answer !== undefined) this.waiting.get(answer.id)?.(answer.text);
      }
    });
  }

  ask(host: string, port: number, udp: boolean, source?: string): Promise<string> {
    const id = this.nextId++;
    const request: ProbeRequest = { id, host, port, udp, ...(source !== undefined ? { source } : {}) };
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle('DOWN: the client in its namespace did not answer'), answerTimeoutMs + agentSlackMs);
      const settle = (text: string): void => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(text);
      };
      this.waiting.set(id, settle);
      this.agent.stdin?.write(`${JSON.stringify(request)}\n`);
    });
  }
}

function answerOf(line: string): ProbeAnswer | undefined {
  try {
    const parsed = JSON.parse(line) as Partial<Record<keyof ProbeAnswer, unknown>>;
    return typeof parsed.id === 'number' && typeof parsed.text === 'string' ? { id: parsed.id, text: parsed.text } : undefined;
  } catch {
    return undefined;
  }
}

function requestOf(line: string): ProbeRequest | undefined {
  try {
    const r = JSON.parse(line) as Partial<Record<keyof ProbeRequest, unknown>>;
    if (typeof r.id !== 'number' || typeof r.host !== 'string' || typeof r.port !== 'number' || typeof r.udp !== 'boolean') return undefined;
    return { id: r.id, host: r.host, port: r.port, udp: r.udp, ...(typeof r.source === 'string' ? { source: r.source } : {}) };
  } catch {
    return undefined;
  }
}

function main(): void {
  let inFlight = 0;
  const write = (answer: ProbeAnswer): void => void process.stdout.write(`${JSON.stringify(answer)}\n`);
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    const r = requestOf(line);
    if (r === undefined) return;
    if (inFlight >= inFlightMax) return write({ id: r.id, text: 'DOWN: too many questions in flight' });
    inFlight++;
    void (r.udp ? udpAsk(r.host, r.port, r.source) : httpAsk(r.host, r.port, r.source)).then((text) => {
      inFlight--;
      write({ id: r.id, text });
    });
  });
}

if (require.main === module) main();
