// What one host-health sample costs on this machine (SiHostFactSource): wall time until
// the facts are in, the longest the event loop was blocked meanwhile (si runs some of its
// commands synchronously, and a VRRP advert waits behind them), and heap: allocated per
// sample, and retained after warm-up (with --expose-gc). The first sample is reported
// apart: it primes si's CPU counters (a 500 ms wait) and reads link speeds.
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { SiHostFactSource } from '../src/host/si-source';
import type { Benchmark, BenchOptions } from './registry';

/** si re-reads CPU counters at most every 200 ms and link counters every 500 ms: sample slower. */
const gapMs = 600;

interface Cost {
  readonly wallMs: number;
  readonly blockedMs: number;
  readonly heapBytes: number;
}

/**
 * The longest stretch the event loop went without a turn while `work` ran: a setImmediate
 * chain notes the gap between turns. (perf_hooks' delay monitor misses a block that starts
 * before its first tick, which si's are.)
 */
async function longestBlockMs(work: () => Promise<void>): Promise<number> {
  let running = true;
  let longest = 0;
  let last = process.hrtime.bigint();
  const turn = (): void => {
    const now = process.hrtime.bigint();
    longest = Math.max(longest, Number(now - last) / 1e6);
    last = now;
    if (running) setImmediate(turn);
  };
  await new Promise<void>((resolve) =>
    setImmediate(() => {
      last = process.hrtime.bigint();
      setImmediate(turn);
      resolve();
    }),
  );
  await work();
  // A block that ends the work shows only at the next turn.
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
  running = false;
  return longest;
}

async function measure(source: SiHostFactSource, paths: readonly string[], interfaces: readonly string[]): Promise<Cost> {
  let wallMs = 0;
  let heapBytes = 0;
  const blockedMs = await longestBlockMs(async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const start = process.hrtime.bigint();
    await source.sample(paths, interfaces);
    wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    heapBytes = process.memoryUsage().heapUsed - heapBefore;
  });
  return { wallMs, blockedMs, heapBytes };
}

function gc(): boolean {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) return false;
  collect();
  return true;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const f1 = (n: number): string => n.toFixed(1);
const kib = (n: number): string => `${(n / 1024).toFixed(1)}KiB`;

export const hostSampleBench: Benchmark = {
  name: 'host-sample',
  async run(options: BenchOptions): Promise<string[]> {
    const samples = options.smoke ? 3 : 60;
    const paths = [process.cwd(), os.tmpdir(), '/var/log'];
    const interfaces = Object.keys(os.networkInterfaces()).slice(0, 4);
    const source = new SiHostFactSource();
    const first = await measure(source, paths, interfaces);
    const costs: Cost[] = [];
    // Retained heap is counted after a third of the run: the first samples still fill
    // si's caches and compile code.
    const warmUp = Math.floor(samples / 3);
    let collected = false;
    let heapStart = 0;
    for (let i = 0; i < samples; i++) {
      if (i === warmUp) {
        collected = gc();
        heapStart = process.memoryUsage().heapUsed;
      }
      await sleep(gapMs);
      costs.push(await measure(source, paths, interfaces));
    }
    gc();
    const retained = collected ? kib((process.memoryUsage().heapUsed - heapStart) / (samples - warmUp)) : 'n/a (run with --expose-gc)';
    const wall = costs.map((c) => c.wallMs);
    const blocked = costs.map((c) => c.blockedMs);
    return [
      `host-sample paths=${paths.length} interfaces=${interfaces.length} (${interfaces.join(',')}) samples=${samples}`,
      `host-sample first wall=${f1(first.wallMs)}ms blocked=${f1(first.blockedMs)}ms heap=${kib(first.heapBytes)}`,
      `host-sample steady wall median=${f1(median(wall))}ms max=${f1(Math.max(...wall))}ms blocked median=${f1(median(blocked))}ms max=${f1(Math.max(...blocked))}ms heap allocated median=${kib(median(costs.map((c) => c.heapBytes)))} retained/sample=${retained}`,
    ];
  },
};
