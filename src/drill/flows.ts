// The drill's UDP flows: a few clients, each a socket of its own source address and
// port, each sending a datagram through a UDP virtual service every so often. A real
// server answers each with its name and the datagram's number. A flow is the
// director's connection entry for that address and port: it survives a takeover on its
// real server only if the new master was sent the entry (connection sync).
import dgram from 'node:dgram';
import type { DrillTime, SessionTraffic } from './cluster';
import type { SessionSample } from './report';
import { shuffled } from './sessions';
import { requestTimeoutMs } from './traffic';

/** The flows' source addresses: 127.0.3.1, 127.0.3.2, ... (every 127/8 address is this host's). */
export const flowSources = (count: number): string[] => Array.from({ length: count }, (_, i) => `127.0.3.${i + 1}`);

/** What a lab real server answers a datagram: `real server NAME #SEQ`. */
export function flowAnswer(server: string, datagram: string): string {
  return `real server ${server} ${datagram}`;
}

interface Flow {
  readonly socket: dgram.Socket;
  /** SOURCE:PORT once bound and connected. */
  client?: string;
  readonly pending: Map<number, { readonly tMs: number; readonly timer: NodeJS.Timeout }>;
}

export class UdpFlows implements SessionTraffic {
  readonly samples: SessionSample[] = [];
  private readonly flows: Flow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly sources: readonly string[],
    private readonly time: DrillTime,
    private readonly everyMs: number,
  ) {}

  start(): void {
    for (const source of this.sources) {
      const socket = dgram.createSocket('udp4');
      const flow: Flow = { socket, pending: new Map() };
      socket.on('message', (msg) => this.answered(flow, msg.toString('utf8')));
      socket.on('error', () => undefined);
      socket.bind(0, source, () => {
        const { port } = socket.address();
        socket.connect(this.port, this.host, () => (flow.client = `${source}:${port}`));
      });
      this.flows.push(flow);
    }
    // In a new order every round, as the sessions are: a fresh round-robin after a takeover would not put them back where they were.
    this.timer = setInterval(() => {
      for (const flow of shuffled(this.flows)) this.send(flow);
    }, this.everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    // Every datagram sent is answered or given up within the timeout.
    await new Promise((resolve) => setTimeout(resolve, this.flows.some((f) => f.pending.size > 0) ? requestTimeoutMs : 0));
    for (const flow of this.flows) {
      for (const [, p] of flow.pending) clearTimeout(p.timer);
      for (const [, p] of flow.pending) this.samples.push({ tMs: p.tMs, client: flow.client as string, ok: false, error: 'no answer' });
      flow.pending.clear();
      flow.socket.close();
    }
    this.samples.sort((a, b) => a.tMs - b.tMs);
  }

  private send(flow: Flow): void {
    const client = flow.client;
    if (client === undefined) return;
    const seq = ++this.seq;
    const tMs = this.time.nowMs();
    const timer = setTimeout(() => {
      flow.pending.delete(seq);
      this.samples.push({ tMs, client, ok: false, error: 'no answer' });
    }, requestTimeoutMs);
    flow.pending.set(seq, { tMs, timer });
    flow.socket.send(`#${seq}`, (err) => {
      if (err === null || err === undefined || !flow.pending.has(seq)) return;
      clearTimeout(timer);
      flow.pending.delete(seq);
      this.samples.push({ tMs, client, ok: false, error: (err as NodeJS.ErrnoException).code ?? err.message });
    });
  }

  private answered(flow: Flow, text: string): void {
    const m = /^real server (\S+) #(\d+)$/.exec(text);
    const p = m === null ? undefined : flow.pending.get(Number(m[2]));
    if (m === null || p === undefined || flow.client === undefined) return;
    clearTimeout(p.timer);
    flow.pending.delete(Number(m[2]));
    this.samples.push({ tMs: p.tMs, client: flow.client, ok: true, server: m[1] as string, latencyMs: this.time.nowMs() - p.tMs });
  }
}
