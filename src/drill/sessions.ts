// The drill's persistent clients: a few clients, each from its own source address on the
// loopback network, each sending a request through the VIP every so often on a new
// connection. Persistence keeps each on one real server; a takeover keeps it there only
// if the new master has the persistence templates (connection sync). A session is kept
// when every answer after the fault came from the server it had before.
import type { DrillTime, DrillTraffic } from './cluster';
import type { SessionSample } from './report';
import { requestOnce } from './traffic';

/** The clients' source addresses: 127.0.1.1, 127.0.1.2, ... (every 127/8 address is this host's). */
export const sessionSources = (count: number): string[] => Array.from({ length: count }, (_, i) => `127.0.1.${i + 1}`);

export class PersistentClients implements DrillTraffic {
  readonly samples: SessionSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly sources: readonly string[],
    private readonly time: DrillTime,
    private readonly everyMs: number,
  ) {}

  start(): void {
    // Each round in a new order: after a takeover the clients do not come back in the order
    // they first came, so a fresh schedule would not put them back where they were; only
    // the persistence templates the new master was sent do.
    this.timer = setInterval(() => {
      for (const client of shuffled(this.sources)) this.send(client);
    }, this.everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.inFlight]);
    this.samples.sort((a, b) => a.tMs - b.tMs);
  }

  private send(client: string): void {
    const tMs = this.time.nowMs();
    const done = requestOnce(this.host, this.port, undefined, client).then((r) => {
      this.samples.push({ tMs, client, ...r });
    });
    this.inFlight.add(done);
    void done.then(() => this.inFlight.delete(done));
  }
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export interface SessionFigures {
  readonly kept: number;
  readonly lost: number;
  /** The sessions that moved, each with its server before and after. */
  readonly moved: ReadonlyArray<{ readonly client: string; readonly from: string; readonly to: string }>;
}

/** Sessions kept and lost across the fault: each client's server before it against every answer after it. */
export function sessionFigures(samples: readonly SessionSample[], faultMs: number): SessionFigures {
  const before = new Map<string, string>();
  for (const s of samples) if (s.ok && s.server !== undefined && s.tMs < faultMs) before.set(s.client, s.server);
  const moved = new Map<string, string>();
  const answeredAfter = new Set<string>();
  for (const s of samples) {
    const had = before.get(s.client);
    if (!s.ok || s.server === undefined || s.tMs < faultMs || had === undefined) continue;
    answeredAfter.add(s.client);
    if (s.server !== had && !moved.has(s.client)) moved.set(s.client, s.server);
  }
  const counted = [...before.keys()].filter((c) => answeredAfter.has(c));
  return {
    kept: counted.filter((c) => !moved.has(c)).length,
    lost: moved.size,
    moved: [...moved].map(([client, to]) => ({ client, from: before.get(client) as string, to })),
  };
}
