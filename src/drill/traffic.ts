// The drill's client: an HTTP request through the VIP at a fixed rate, each on a new
// connection, each recorded with the time it was sent, the real server that answered
// (the lab's servers say their name), its latency or its error.
import http from 'node:http';
import type { ClientSample } from './report';

const requestTimeoutMs = 1000;

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
    const done = new Promise<void>((resolve) => {
      let finished = false;
      const finish = (sample: ClientSample): void => {
        if (finished) return;
        finished = true;
        this.samples.push(sample);
        resolve();
      };
      const req = http.get({ host: this.host, port: this.port, path: '/', agent: false, timeout: requestTimeoutMs }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          const server = /real server (\S+)/.exec(body)?.[1];
          const ok = res.statusCode === 200;
          finish({ tMs, ok, latencyMs: this.nowMs() - tMs, ...(server !== undefined ? { server } : {}), ...(ok ? {} : { error: `HTTP ${res.statusCode}` }) });
        });
        res.on('error', (err) => finish({ tMs, ok: false, error: err.message }));
      });
      req.on('timeout', () => req.destroy(new Error('no answer')));
      req.on('error', (err) => finish({ tMs, ok: false, error: (err as NodeJS.ErrnoException).code ?? err.message }));
    });
    this.inFlight.add(done);
    void done.then(() => this.inFlight.delete(done));
  }
}
