// The copying director of the sync benchmark, run in a process of its own (so it has a
// CPU of its own, as a second director would): it answers the parent's questions about
// its copy over the IPC channel.
import { syncSide, vip } from './sync-link';

export interface CopyReport {
  readonly entries: number;
  readonly inSync: boolean;
  readonly heapUsed: number;
  /** After a `takeover` question: how long until the addresses could come up, until the whole copy was loaded, and what the engine holds. */
  readonly takeoverMs?: number;
  readonly loadedMs?: number;
  readonly engineEntries?: number;
}

async function main(): Promise<void> {
  const [port, peerPort] = process.argv.slice(2).map(Number);
  const side = await syncSide('copy', port as number, 'master', peerPort as number);
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', async (question: string) => {
    if (question === 'close') {
      side.close();
      process.disconnect();
      return;
    }
    if (question === 'gc') gc?.();
    let takeover = {};
    if (question === 'takeover') {
      const started = performance.now();
      side.sync.takeOver('VI_BENCH', [vip.text]);
      const takeoverMs = performance.now() - started;
      for (let turns = 0; side.engine.pendingAdoption !== undefined && turns < 1_000_000; turns++) await new Promise((resolve) => setImmediate(resolve));
      takeover = { takeoverMs, loadedMs: performance.now() - started, engineEntries: side.engine.conns.size };
    }
    const copy = side.sync.status().copies[0];
    const report: CopyReport = { entries: copy?.entries ?? 0, inSync: copy?.inSync ?? false, heapUsed: process.memoryUsage().heapUsed, ...takeover };
    process.send?.(report);
  });
  process.send?.('ready');
}

void main();
