// Cutting the link between two cluster nodes on this host: an nftables table of the
// drill's own drops every packet between their addresses, both ways, at the output hook
// (a loopback packet passes it once). Needs root; the table is this process's alone and
// restore() deletes it whole.
import type { HadConfig } from '../config/model';
import { nftBatch, nftUnavailable } from '../common/nft';

export class LoopbackLinkCuts {
  private readonly table = `hadirector_drill_${process.pid}`;
  private made = false;

  constructor(private readonly config: HadConfig) {}

  /** Undefined once the nodes `x` and `y` cannot hear each other, else why not. */
  async cut(x: string, y: string): Promise<string | undefined> {
    const address = (node: string): string | undefined => this.config.cluster?.nodes.find((n) => n.name === node)?.addresses[0]?.address;
    const [a, b] = [address(x), address(y)];
    if (a === undefined || b === undefined) return `no address for ${a === undefined ? x : y}`;
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
