// The drill's cluster in network namespaces (root): the cluster of the configuration in
// namespaces of its own (NetnsCluster, src/lab/netns-cluster.ts, which the namespaced lab
// runs too), each node a `hadirector run` process, each real server's address a host
// with a small HTTP responder, and the client in one more, on one bridge. The master
// holds a real VIP on its eth0 and announces it by gratuitous ARP, so a takeover shows in
// the client's neighbour entry; a cut link is an nftables table of the drill's own in
// the two nodes' namespaces.
//
// The nodes run the drill's copy of the configuration's folder rewritten for the
// namespaces (src/lab/netns-config.ts) with `data_plane userspace`: the real servers
// share the client's subnet, so only the relay, which answers the client itself, serves
// them (LVS-NAT in the kernel would need their route back through the director, which
// `hadirector lab --netns` sets up).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { nftBatch, nftUnavailable } from '../common/nft';
import type { HadConfig } from '../config/model';
import { shiftableClocks, shiftClockOf, type ShiftableClocks } from '../lab/faketime';
import { NetnsCluster, type Problem } from '../lab/netns-cluster';
import { clientHost } from '../lab/netns-layout';
import { ClientAgentTraffic, clientAgentScript } from './client-agent';
import type { DrillClients, DrillCluster, DrillTime, DrillTraffic, Endpoint } from './cluster';
import { requestTimeoutMs } from './traffic';

export { namespacedConfig } from '../lab/netns-config';

/** The namespaces' /24: no other test's (they use 10.213 to 10.216). */
export const drillSubnet = '10.217.0';

const commandTimeoutMs = 2000;
const drillTable = 'hadirector_drill';

/** What `ip` printed; nothing when it failed (no such namespace yet, or no longer). */
function ipOutput(args: readonly string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile('ip', [...args], { timeout: commandTimeoutMs, encoding: 'utf8' }, (err, stdout) => resolve(err === null ? stdout : ''));
  });
}

export class NetnsDrillCluster implements DrillCluster {
  /** eth0's MAC → node, read once the namespaces exist. */
  private readonly macs = new Map<string, string>();
  /** The nodes whose namespace holds the drill's nftables table. */
  private readonly cut = new Set<string>();
  /** When the nodes' clocks can be shifted (clock-jump). */
  private clocks: ShiftableClocks | undefined;
  /** The client in its namespace speaks HTTP only: sessions and flows are drilled on loopback. */
  readonly clients: DrillClients = {
    traffic: (time: DrillTime, everyMs: number): DrillTraffic =>
      new ClientAgentTraffic(time, () => this.cluster.spawnInClient(process.execPath, [clientAgentScript, this.vip.host, String(this.vip.port), String(everyMs), String(requestTimeoutMs)])),
  };

  private constructor(private readonly cluster: NetnsCluster) {}

  /**
   * The cluster of `file` in namespaces, not started, running a rewritten copy of the
   * file's folder; or why it cannot be (exit 2: nothing to drill or not for namespaces;
   * 1: errors in the rewritten file).
   */
  static of(file: string, clocks = false): NetnsDrillCluster | Problem {
    const made = NetnsCluster.of(file, { subnet: drillSubnet, plane: 'userspace', user: 'drill', udp: false });
    if (!(made instanceof NetnsCluster)) return made;
    const drill = new NetnsDrillCluster(made);
    if (clocks) {
      const shiftable = shiftableClocks(made.dir);
      if (typeof shiftable === 'string') {
        fs.rmSync(made.dir, { recursive: true, force: true });
        return { problem: shiftable, exitCode: 2 };
      }
      drill.clocks = shiftable;
      made.nodeEnv = (node) => shiftable.env(node);
    }
    return drill;
  }

  get dir(): string {
    return this.cluster.dir;
  }

  get configFile(): string {
    return this.cluster.configFile;
  }

  get config(): HadConfig {
    return this.cluster.config;
  }

  get nodes(): readonly string[] {
    return this.cluster.nodes;
  }

  get vip(): Endpoint {
    const { host, port } = this.cluster.vip;
    return { host, port };
  }

  get reals(): ReadonlyMap<string, Endpoint> {
    return this.cluster.reals;
  }

  /** What every namespace of this cluster's name begins with. */
  get namespacePrefix(): string {
    return this.cluster.namespacePrefix;
  }

  socket(node: string): string {
    return this.cluster.socket(node);
  }

  log(node: string): string {
    return this.cluster.log(node);
  }

  /** The namespaces, then every real server, then every node. */
  async start(): Promise<void> {
    await this.cluster.start();
    for (const node of this.nodes) this.macs.set(this.cluster.lab.mac(node), node);
  }

  startNode(node: string): void {
    this.cluster.startNode(node);
  }

  shiftClock(node: string, offsetMs: number): Promise<string | undefined> {
    return shiftClockOf(this.clocks, node, offsetMs);
  }

  /**
   * A fence took the node's links down: its host is off. Switched on, it comes up as a
   * host does: whatever ran on it gone, no address but its own, its links up.
   */
  async powerOn(node: string): Promise<void> {
    const ns = this.cluster.lab.ns(node);
    const link = await ipOutput(['-n', ns, '-o', 'link', 'show', 'eth0']);
    if (/<[^>]*\bUP\b[^>]*>/.test(link)) return;
    await this.signal(node, 'SIGKILL');
    const own = this.cluster.lab.address(node);
    const shown = await ipOutput(['-n', ns, '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    for (const [, address] of shown.matchAll(/inet (\S+)/g)) {
      if (address !== undefined && !address.startsWith(`${own}/`)) await ipOutput(['-n', ns, 'addr', 'del', address, 'dev', 'eth0']);
    }
    await ipOutput(['-n', ns, 'link', 'set', 'eth0', 'up']);
  }

  running(node: string): boolean {
    return this.cluster.running(node);
  }

  signal(node: string, signal: NodeJS.Signals): Promise<void> {
    return this.cluster.signal(node, signal);
  }

  /** Starts a real server's responder in its address's namespace; resolves once it listens. */
  startReal(name: string): Promise<void> {
    return this.cluster.startReal(name);
  }

  /** Kills the responder: the kernel closes its connections, as a crash would. */
  stopReal(name: string): Promise<void> {
    return this.cluster.stopReal(name);
  }

  async cutLink(a: string, b: string): Promise<string | undefined> {
    const why = nftUnavailable();
    if (why !== undefined) return why;
    if (a === b || !this.nodes.includes(a) || !this.nodes.includes(b)) return `no link between ${a} and ${b}`;
    for (const [self, other] of [[a, b], [b, a]] as const) {
      const rules = this.addressesOf(other).flatMap((address) => {
        const family = address.includes(':') ? 'ip6' : 'ip';
        return [`add rule inet ${drillTable} input ${family} saddr ${address} counter drop`, `add rule inet ${drillTable} output ${family} daddr ${address} counter drop`];
      });
      const batch = [
        `add table inet ${drillTable}`,
        `add chain inet ${drillTable} input { type filter hook input priority -10; policy accept; }`,
        `add chain inet ${drillTable} output { type filter hook output priority -10; policy accept; }`,
        ...rules,
      ];
      this.cut.add(self);
      const problem = await nftBatch(`${batch.join('\n')}\n`, ['ip', 'netns', 'exec', this.cluster.lab.ns(self)]);
      if (problem !== undefined) return `${self}: ${problem}`;
    }
    return undefined;
  }

  async restoreLinks(): Promise<void> {
    const cut = [...this.cut];
    this.cut.clear();
    await Promise.all(cut.map((node) => nftBatch(`delete table inet ${drillTable}\n`, ['ip', 'netns', 'exec', this.cluster.lab.ns(node)])));
  }

  /** Every address a node is known by, so a cut drops its heartbeats on every link and its VRRP adverts. */
  private addressesOf(node: string): string[] {
    return this.config.cluster?.nodes.find((n) => n.name === node)?.addresses.map((a) => a.address) ?? [];
  }

  async vipHolders(): Promise<ReadonlySet<string>> {
    const held = await Promise.all(
      this.nodes.map(async (node) => {
        // `up`: nothing is shown of a link a fence took down, whose address no one reaches.
        const shown = await ipOutput(['-n', this.cluster.lab.ns(node), '-o', '-4', 'addr', 'show', 'dev', 'eth0', 'up']);
        return [...shown.matchAll(/inet ([0-9.]+)\//g)].some((m) => m[1] === this.vip.host) ? node : undefined;
      }),
    );
    return new Set(held.filter((n): n is string => n !== undefined));
  }

  async clientNeighbour(): Promise<string | undefined> {
    const shown = await ipOutput(['-n', this.cluster.lab.ns(clientHost), 'neigh', 'show', this.vip.host]);
    const mac = /lladdr ([0-9a-f:]{17})/.exec(shown)?.[1];
    return mac === undefined ? undefined : this.macs.get(mac);
  }

  /** Every node asked to stop (killed after a grace period), every other process killed, every namespace removed. */
  async stop(): Promise<void> {
    this.cut.clear();
    await this.cluster.stop();
  }
}
