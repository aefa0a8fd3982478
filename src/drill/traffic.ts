// The drill's client: an HTTP request through the VIP at a fixed rate, each on a new
// connection, each recorded with the time it was sent, the real server that answered
// (the lab's servers say their name), its latency or its error.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ClientSample } from './report';

export const requestTimeoutMs = 1000;

export interface RequestOptions {
  readonly timeoutMs?: number;
  /** The source address (a new connection from it). */
  readonly source?: string;
  /** A keep-alive agent whose connection the request reuses; a new connection when absent. */
  readonly agent?: http.Agent;
}

/** Each connection a request went on, numbered as first seen: a kept-alive connection keeps its number. */
const connectionIds = new WeakMap<object, number>();
let connectionsSeen = 0;

/** One GET /: answered (a 200) by which real server, on which connection, in how long, or the error. */
export function requestOnce(host: string, port: number, o: RequestOptions = {}): Promise<Omit<ClientSample, 'tMs'> & { connection?: number }> {
  const started = performance.now();
  const latencyMs = (): number => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/', agent: o.agent ?? false, timeout: o.timeoutMs ?? requestTimeoutMs, ...(o.source !== undefined && o.agent === undefined ? { localAddress: o.source } : {}) }, (res) => {
      let connection = connectionIds.get(res.socket);
      if (connection === undefined) connectionIds.set(res.socket, (connection = ++connectionsSeen));
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        const server = /real server (\S+)/.exec(body)?.[1];
        const ok = res.statusCode === 200;
        resolve({ ok, latencyMs: latencyMs(), connection, ...(server !== undefined ? { server } : {}), ...(ok ? {} : { error: `HTTP ${res.statusCode}` }) });
      });
      res.on('error', (err) => resolve({ ok: false, error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, error: err.code ?? err.message }));
  });
}

export class HttpTraffic {
  readonly samples: ClientSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly nowMs: () => number,
    private readonly everyMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.send(), this.everyMs);
  }

  /** Stops sending; resolves once every request sent has its answer or its error. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.inFlight]);
    this.samples.sort((a, b) => a.tMs - b.tMs);
  }

  private send(): void {
    const tMs = this.nowMs();
    const done = requestOnce(this.host, this.port).then(({ connection: _connection, ...r }) => {
      this.samples.push({ tMs, ...r });
    });
    this.inFlight.add(done);
    void done.then(() => this.inFlight.delete(done));
  }
}
