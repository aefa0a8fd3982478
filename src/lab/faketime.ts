// libfaketime, which shifts a process's wall clock from outside: preloaded into a node,
// it reads the offset from a file that can be rewritten while the node runs.
import fs from 'node:fs';
import path from 'node:path';

const libraryDirs = ['/usr/lib/x86_64-linux-gnu/faketime', '/usr/lib/aarch64-linux-gnu/faketime', '/usr/lib/faketime', '/usr/local/lib/faketime'];

/** Where libfaketime is, if installed. */
export function faketimeLibrary(): string | undefined {
  return libraryDirs.map((d) => path.join(d, 'libfaketime.so.1')).find((f) => fs.existsSync(f));
}

/**
 * Nodes' wall clocks that can be shifted while they run: each node gets libfaketime
 * preloaded and a file of its own holding its offset, read again at most once a second;
 * the monotonic clock, which every timer runs on, is left alone.
 */
export class ShiftableClocks {
  constructor(
    private readonly dir: string,
    private readonly library: string,
  ) {}

  private file(node: string): string {
    return path.join(this.dir, `${node}.faketime`);
  }

  /** What the node's environment gets. */
  env(node: string): Record<string, string> {
    if (!fs.existsSync(this.file(node))) fs.writeFileSync(this.file(node), '+0s\n');
    return { LD_PRELOAD: this.library, FAKETIME_TIMESTAMP_FILE: this.file(node), FAKETIME_CACHE_DURATION: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
  }

  async shift(node: string, offsetMs: number): Promise<void> {
    await fs.promises.writeFile(this.file(node), `${offsetMs >= 0 ? '+' : '-'}${Math.abs(offsetMs) / 1000}s\n`);
  }
}

/** Clocks for the nodes of a cluster in `dir`, or why they cannot be had. */
export function shiftableClocks(dir: string): ShiftableClocks | string {
  const library = faketimeLibrary();
  return library === undefined ? "shifting a node's clock needs libfaketime (apt-get install faketime)" : new ShiftableClocks(dir, library);
}

/** Shifts a node's clock, or says why it cannot be: its cluster was started without shiftable clocks. */
export async function shiftClockOf(clocks: ShiftableClocks | undefined, node: string, offsetMs: number): Promise<string | undefined> {
  if (clocks === undefined) return 'the nodes were not started with clocks that can be shifted';
  await clocks.shift(node, offsetMs);
  return undefined;
}
