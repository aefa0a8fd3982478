// The drill's client in a namespace of its own, both halves. The agent is this file run
// as `node client-agent.js HOST PORT EVERY_MS TIMEOUT_MS` inside the client's namespace
// (a socket lives in the namespace of the process that opens it): a GET / to HOST:PORT
// every EVERY_MS on a new connection, each given up after TIMEOUT_MS, one JSON line
// (ClientAgentLine) per request on stdout. SIGTERM stops the sending, and it exits once
// the requests in flight are answered or given up; it also stops if the drill that
// started it goes away. ClientAgentTraffic is the drill's half: it reads those lines into
// ClientSamples on the drill's time.
import type { ChildProcess } from 'node:child_process';
import type { DrillTime, DrillTraffic } from './cluster';
import type { ClientSample } from './report';
import { requestOnce, requestTimeoutMs } from './traffic';

/** What the drill runs with `node`. */
export const clientAgentScript = __filename;
/** Past the last request's timeout, how long the agent may take to exit before it is killed. */
const exitGraceMs = 5000;
/** With answers given up after the timeout, more than this in flight means the agent is stuck. */
const inFlightMax = 1000;

/** One request, as the agent writes it: the wall clock (the drill's machine's) timed it. */
export interface ClientAgentLine {
  readonly sentWall: number;
  /** A 200 came back. */
  readonly ok: boolean;
  /** The real server that answered (the lab's servers say `real server ADDRESS:PORT`). */
  readonly server?: string;
  readonly latencyMs?: number;
  readonly error?: string;
}

/** The agent's requests, as ClientSamples on the drill's time; `spawnAgent` starts the agent. */
export class ClientAgentTraffic implements DrillTraffic {
  readonly samples: ClientSample[] = [];
  private agent: ChildProcess | undefined;
  private closed: Promise<void> = Promise.resolve();

  constructor(
    private readonly time: DrillTime,
    private readonly spawnAgent: () => ChildProcess,
  ) {}

  start(): void {
    if (this.agent !== undefined) return;
    const agent = this.spawnAgent();
    this.agent = agent;
    let pending = '';
    agent.stdout?.on('data', (d: Buffer) => {
      const lines = (pending + d.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const sample = sampleOfLine(line, this.time.t0Wall);
        if (sample !== undefined) this.samples.push(sample);
      }
    });
    this.closed = new Promise((resolve) => agent.once('close', () => resolve()));
  }

  /** SIGTERM: the agent stops sending and exits once its requests in flight are done; resolves when every line is read. */
  async stop(): Promise<void> {
    const agent = this.agent;
    if (agent === undefined) return;
    if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGTERM');
    const killer = setTimeout(() => agent.kill('SIGKILL'), requestTimeoutMs + exitGraceMs);
    await this.closed;
    clearTimeout(killer);
    this.samples.sort((x, y) => x.tMs - y.tMs);
  }
}

/** A ClientSample from one of the agent's lines; undefined for anything else. */
export function sampleOfLine(line: string, t0Wall: number): ClientSample | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const l = parsed as Partial<Record<keyof ClientAgentLine, unknown>>;
  if (typeof l.sentWall !== 'number' || typeof l.ok !== 'boolean') return undefined;
  return {
    tMs: l.sentWall - t0Wall,
    ok: l.ok,
    ...(typeof l.server === 'string' ? { server: l.server } : {}),
    ...(typeof l.latencyMs === 'number' ? { latencyMs: l.latencyMs } : {}),
    ...(typeof l.error === 'string' ? { error: l.error } : {}),
  };
}

function write(line: ClientAgentLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function main(argv: readonly string[]): void {
  const [host, port, everyMs, timeoutMs] = [argv[0] ?? '', Number(argv[1]), Number(argv[2]), Number(argv[3])];
  if (host === '' || !Number.isInteger(port) || !(everyMs > 0) || !(timeoutMs > 0)) {
    process.stderr.write('usage: client-agent HOST PORT EVERY_MS TIMEOUT_MS\n');
    process.exit(2);
  }
  const drill = process.ppid;
  let inFlight = 0;
  const timer = setInterval(() => {
    if (process.ppid !== drill) return clearInterval(timer);
    if (inFlight >= inFlightMax) return write({ sentWall: Date.now(), ok: false, error: 'too many requests in flight' });
    inFlight++;
    const sentWall = Date.now();
    void requestOnce(host, port, { timeoutMs }).then(({ connection: _connection, ...r }) => {
      inFlight--;
      write({ sentWall, ...r });
    });
  }, everyMs);
  process.once('SIGTERM', () => clearInterval(timer));
}

if (require.main === module) main(process.argv.slice(2));
