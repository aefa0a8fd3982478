// The drill's sessions: a few clients, each from its own source address on the loopback
// network, each sending a request through the VIP every so often. Persistent clients
// open a new connection each time: persistence keeps each on one real server, and a
// takeover keeps it there only if the new master has the persistence templates
// (connection sync). Long-lived clients keep one connection open (keep-alive): it
// survives a takeover only where the connection itself outlives its director (kernel
// forwarding with its connections synced); a userspace relay ends with its director. A
// session is kept when every answer after the fault came as the ones before it did: from
// the same server (and, for a long-lived one, on the same connection).
import http from 'node:http';
import type { DrillTime, DrillTraffic } from './cluster';
import type { SessionSample } from './report';
import { requestOnce } from './traffic';

/** The clients' source addresses: 127.0.1.N for persistent clients, 127.0.2.N for long-lived ones (every 127/8 address is this host's). */
export const sessionSources = (count: number, longLived = false): string[] => Array.from({ length: count }, (_, i) => `127.0.${longLived ? 2 : 1}.${i + 1}`);

export class PersistentClients implements DrillTraffic {
  readonly samples: SessionSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Long-lived clients: each one's agent, which keeps its one connection open. */
  private readonly agents = new Map<string, http.Agent>();

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly sources: readonly string[],
    private readonly time: DrillTime,
    private readonly everyMs: number,
    longLived = false,
  ) {
    if (longLived) for (const source of sources) this.agents.set(source, new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: source }));
  }

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
    for (const agent of this.agents.values()) agent.destroy();
    this.samples.sort((a, b) => a.tMs - b.tMs);
  }

  private send(client: string): void {
    const tMs = this.time.nowMs();
    const agent = this.agents.get(client);
    const done = requestOnce(this.host, this.port, agent !== undefined ? { agent } : { source: client }).then(({ connection, ...r }) => {
      // A persistent client's every request has a connection of its own: only a long-lived one's says anything.
      this.samples.push({ tMs, client, ...r, ...(agent !== undefined && connection !== undefined ? { connection } : {}) });
    });
    this.inFlight.add(done);
    void done.then(() => this.inFlight.delete(done));
  }
}

/** The items in a random order. */
export function shuffled<T>(items: readonly T[]): T[] {
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

/** Where an answer came from: its server, and for a long-lived client its connection too. */
export function sessionHome(s: SessionSample): string | undefined {
  if (!s.ok || s.server === undefined) return undefined;
  return s.connection === undefined ? s.server : `${s.server} on connection ${s.connection}`;
}

/** Where each client's last answer before the fault came from. */
export function homesBefore(samples: readonly SessionSample[], faultMs: number): Map<string, string> {
  const homes = new Map<string, string>();
  for (const s of samples) {
    const home = sessionHome(s);
    if (home !== undefined && s.tMs < faultMs) homes.set(s.client, home);
  }
  return homes;
}

/** Sessions kept and lost across the fault: where each client's answers came from before it, against every answer after it. */
export function sessionFigures(samples: readonly SessionSample[], faultMs: number): SessionFigures {
  const before = homesBefore(samples, faultMs);
  const moved = new Map<string, string>();
  const answeredAfter = new Set<string>();
  for (const s of samples) {
    const had = before.get(s.client);
    const home = sessionHome(s);
    if (home === undefined || s.tMs < faultMs || had === undefined) continue;
    answeredAfter.add(s.client);
    if (home !== had && !moved.has(s.client)) moved.set(s.client, home);
  }
  const counted = [...before.keys()].filter((c) => answeredAfter.has(c));
  return {
    kept: counted.filter((c) => !moved.has(c)).length,
    lost: moved.size,
    moved: [...moved].map(([client, to]) => ({ client, from: before.get(client) as string, to })),
  };
}
