// Cutting the link between two lab nodes on loopback: an nftables table of the drill's
// own drops every packet between their addresses, both ways, at the output hook (a
// loopback packet passes it once). Needs root; the table is the drill's alone and
// restore() deletes it whole.
import { nftBatch, nftUnavailable } from './nft';

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
