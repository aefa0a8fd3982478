// The copying director of the sync benchmark, run in a process of its own (so it has a
// CPU of its own, as a second director would): it answers the parent's questions about
// its copy over the IPC channel.
import { syncSide, vip } from './sync-link';

export interface CopyReport {
  readonly entries: number;
  readonly inSync: boolean;
  readonly heapUsed: number;
  /** After a `takeover` question: how long loading the copy into the engine took, and what it holds. */
  readonly takeoverMs?: number;
  readonly engineEntries?: number;
}

async function main(): Promise<void> {
  const [port, peerPort] = process.argv.slice(2).map(Number);
  const side = await syncSide('copy', port as number, 'master', peerPort as number);
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', (question: string) => {
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
      takeover = { takeoverMs: performance.now() - started, engineEntries: side.engine.conns.size };
    }
    const copy = side.sync.status().copies[0];
    const report: CopyReport = { entries: copy?.entries ?? 0, inSync: copy?.inSync ?? false, heapUsed: process.memoryUsage().heapUsed, ...takeover };
    process.send?.(report);
  });
  process.send?.('ready');
}

void main();
