// Connection-table replication figures: two directors in two processes on loopback, the
// master making N connections in its engine as fast as it can (in slices, never holding
// its event loop longer than a data plane would), the copy receiving them over UDP in
// the authenticated envelope. Reports entries per second until the copy holds all N and
// is in sync, the largest lag the master saw in the copy's acks, heap bytes per entry on
// each side (what it grew by from an empty table in sync), and how long a fresh copy
// takes to pull a snapshot of N entries.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ipv4FromWord } from '../src/ipvs/address';
import type { Benchmark } from './registry';
import type { CopyReport } from './sync-copy';
import { syncSide, vip, type SyncSide } from './sync-link';

const sliceEntries = 5000;
const memoryMinEntries = 100_000;
const deadlineMs = 120_000;

class Copy {
  private constructor(
    private readonly child: ChildProcess,
    private readonly replies: Array<(r: CopyReport) => void>,
  ) {}

  static async start(port: number, masterPort: number): Promise<Copy> {
    const child = fork(path.join(__dirname, 'sync-copy.js'), [String(port), String(masterPort)], { execArgv: ['--expose-gc'], stdio: 'inherit' });
    const replies: Array<(r: CopyReport) => void> = [];
    await new Promise<void>((resolve) => {
      child.on('message', (m: unknown) => {
        if (m === 'ready') resolve();
        else replies.shift()?.(m as CopyReport);
      });
    });
    return new Copy(child, replies);
  }

  ask(question: 'report' | 'gc' | 'takeover' = 'report'): Promise<CopyReport> {
    return new Promise((resolve) => {
      this.replies.push(resolve);
      this.child.send(question);
    });
  }

  /** Polls until the copy holds `entries` and is in sync; the time it took, in ms. */
  async until(entries: number, sinceMs: number): Promise<number> {
    for (const until = Date.now() + deadlineMs; Date.now() < until; ) {
      const r = await this.ask();
      if (r.inSync && r.entries >= entries) return Date.now() - sinceMs;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`the copy did not reach ${entries} entries in ${deadlineMs} ms`);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async close(): Promise<void> {
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send('close');
    await gone;
  }
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/** Connection `j`: scheduled, then established (its handshake done), so it lives 15 minutes. */
function connect(master: SyncSide, j: number): void {
  const r = master.engine.connect({ protocol: 'tcp', caddr: ipv4FromWord(0x0b000000 + (j >>> 4)), cport: 1024 + (j & 15), vaddr: vip, vport: 80 });
  if (!r.ok) throw new Error(`connect: ${r.reason}`);
  master.engine.setState(r.conn, 'ESTABLISHED');
}

/** Makes `n` connections in slices, each slice its own turn of the event loop. */
async function makeConnections(master: SyncSide, n: number): Promise<void> {
  for (let i = 0; i < n; i += sliceEntries) {
    for (let j = i; j < Math.min(n, i + sliceEntries); j++) connect(master, j);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Makes `n` connections in one go: every change pending at once, a burst for replication to carry. */
function burst(master: SyncSide, from: number, n: number): void {
  for (let j = from; j < from + n; j++) connect(master, j);
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

/** Heap bytes per entry of the engine's own table of `n` connections, without sync. */
async function engineBytes(n: number, port: number): Promise<number> {
  const alone = await syncSide('alone', port, 'nobody', port);
  alone.sync.stop();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let j = 0; j < n; j++) connect(alone, j);
  gc();
  const bytes = (process.memoryUsage().heapUsed - before) / n;
  await closed(alone);
  return bytes;
}

async function measure(n: number, ports: readonly [number, number]): Promise<string[]> {
  const master = await syncSide('master', ports[0], 'copy', ports[1]);
  let copy = await Copy.start(ports[1], ports[0]);
  try {
    // Heap per entry is what each side grows by from its empty table, in sync.
    await copy.until(0, Date.now());
    const copyBefore = (await copy.ask('gc')).heapUsed;
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    // Live: connections made as a data plane would, a slice per turn.
    let lagMs = 0;
    let lagChanges = 0;
    const sampler = setInterval(() => {
      const lag = master.sync.status().peers[0];
      lagMs = Math.max(lagMs, lag?.ms ?? 0);
      lagChanges = Math.max(lagChanges, (lag?.changes ?? 0) + master.sync.status().pendingChanges);
    }, 10);
    const liveStart = Date.now();
    await makeConnections(master, n);
    const madeMs = Date.now() - liveStart;
    const liveMs = await copy.until(n, liveStart);
    clearInterval(sampler);
    gc();
    const masterBytes = (process.memoryUsage().heapUsed - heapBefore) / n;
    const copyBytes = ((await copy.ask('gc')).heapUsed - copyBefore) / n;
    // A fresh copy (a restarted director) pulls the table.
    await copy.close();
    copy = await Copy.start(ports[1], ports[0]);
    const snapshotMs = await copy.until(n, Date.now());
    // A burst: n more changes pending at once, carried as fast as the copy takes them.
    burst(master, n, n);
    const burstStart = Date.now();
    const burstMs = await copy.until(2 * n, burstStart);
    const sent = master.sync.status().sent;
    // The copy takes the VIP over: its 2n entries go into its engine before the VIP would come up.
    const takeover = await copy.ask('takeover');
    await copy.close();
    await closed(master);
    const engineOnly = n >= memoryMinEntries ? await engineBytes(n, ports[0]) : 0;
    return [
      `sync ${fmt(n)}: burst of ${fmt(n)} changes carried at ${fmt(n / (burstMs / 1000))} entries/s (${fmt(burstMs)} ms); ` +
        `live: ${fmt(n)} connections made at ${fmt(n / (madeMs / 1000))}/s, the copy whole ${fmt(liveMs - madeMs)} ms after the last, largest lag ${fmt(lagMs)} ms / ${fmt(lagChanges)} changes; ` +
        `snapshot of ${fmt(n)} to a fresh copy ${fmt(snapshotMs)} ms; ` +
        (n >= memoryMinEntries
          ? `heap per entry (grown from an empty table): master ${fmt(masterBytes)} B (the engine's table alone ${fmt(engineOnly)} B: sync ${fmt(masterBytes - engineOnly)} B), copy ${fmt(copyBytes)} B; `
          : `heap per entry: measured from ${fmt(memoryMinEntries)} entries (below, code compiled on first use and the collector's timing outweigh the entries); `) +
        `${fmt(sent.batches)} batches sent, ${fmt(sent.resent)} resent; a takeover: addresses up after ${fmt(takeover.takeoverMs ?? 0)} ms (a first slice loaded, the rest found in the copies), all ${fmt(takeover.engineEntries ?? 0)} entries loaded after ${fmt(takeover.loadedMs ?? 0)} ms`,
    ];
  } finally {
    if (copy.running) await copy.close();
    master.close();
  }
}

/** Closes a side and lets its socket go, so what it held can be collected. */
async function closed(side: SyncSide): Promise<void> {
  side.close();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

export const syncBench: Benchmark = {
  name: 'sync',
  async run({ smoke, args }) {
    const sizes = smoke ? [1000] : args !== undefined && args.length > 0 ? args.map(Number) : [1000, 100_000, 1_000_000];
    const base = 17_000 + (process.pid % 500) * 2;
    const lines: string[] = [];
    for (const n of sizes) lines.push(...(await measure(n, [base, base + 1])));
    return lines;
  },
};
