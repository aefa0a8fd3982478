// Cutting the link between two lab nodes on loopback: an nftables table of the drill's
// own drops every packet between their addresses, both ways, at the output hook (a
// loopback packet passes it once). Needs root; the table is the drill's alone and
// restore() deletes it whole.
import { spawn } from 'node:child_process';
import fs from 'node:fs';

const nftPaths = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'];

/** Runs an nft batch; undefined when it applied, else nft's complaint. */
export function nftBatch(batch: string, wrap: readonly string[] = []): Promise<string | undefined> {
  return new Promise((resolve) => {
    const argv = [...wrap, 'nft', '-f', '-'];
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve(err.message));
    child.on('close', (code) => resolve(code === 0 ? undefined : stderr.trim() || `nft exited ${code}`));
    child.stdin.end(batch);
  });
}

/** Why nftables cannot cut links here, or undefined when it can. */
export function nftUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (the cut is an nftables rule)';
  if (!nftPaths.some((p) => fs.existsSync(p))) return 'needs nft (apt-get install nftables)';
  return undefined;
}

export class LoopbackLinkCuts {
  private made = false;

  constructor(private readonly table: string) {}

  async cut(a: string, b: string): Promise<string | undefined> {
    const why = nftUnavailable();
    if (why !== undefined) return why;
    const family = a.includes(':') ? 'ip6' : 'ip';
    const table = this.made ? '' : `add table inet ${this.table}\nadd chain inet ${this.table} output { type filter hook output priority -10; policy accept; }\n`;
    const problem = await nftBatch(`${table}add rule inet ${this.table} output ${family} saddr ${a} ${family} daddr ${b} drop\nadd rule inet ${this.table} output ${family} saddr ${b} ${family} daddr ${a} drop\n`);
    if (problem === undefined) this.made = true;
    return problem;
  }

  async restore(): Promise<void> {
    if (!this.made) return;
    this.made = false;
    await nftBatch(`delete table inet ${this.table}\n`);
  }
}
