// The copying director of the sync benchmark, run in a process of its own (so it has a
// CPU of its own, as a second director would): it answers the parent's questions about
// its copy over the IPC channel.
import { syncSide } from './sync-link';

export interface CopyReport {
  readonly entries: number;
  readonly inSync: boolean;
  readonly heapUsed: number;
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
    const copy = side.sync.status().copies[0];
    const report: CopyReport = { entries: copy?.entries ?? 0, inSync: copy?.inSync ?? false, heapUsed: process.memoryUsage().heapUsed };
    process.send?.(report);
  });
  process.send?.('ready');
}

void main();
