// The drill's cluster in network namespaces (root): each node of the configuration a
// `hadirector run` process in a namespace of its own, each real server's address one
// more with a small HTTP responder in it, and the client in one more, every namespace
// with an eth0 on one bridge (NetnsLab). The master holds a real VIP on its eth0 and
// announces it by gratuitous ARP, so a takeover shows in the client's neighbour entry; a
// cut link is an nftables table of the drill's own in the two nodes' namespaces.
//
// The nodes run the drill's copy of the configuration's folder, rewritten from the
// loopback network to the namespaces' /24 (namespacedConfig): every 127.0.0.N becomes
// SUBNET.N, the interface lo becomes eth0 (`interface lo`, `dev lo`, `label lo:NAME`, a
// tracked lo), and a VIP's /32 becomes /24 (a bare one gets /24) so the client on the
// subnet reaches it on the link. A `signal` fence device (which kills a pid) becomes a
// `netns` one (which takes the node's links down): here a fence is a power-off, and a
// killed daemon's VIP stays on its eth0, answering, until its host goes dark, as on a
// real host. Text is enough: the drill runs the lab's own
// file, written for loopback, in which 127.0.0.N is only ever an address and `lo` only
// ever the interface; and rewriting the text keeps its definitions, @node lines and
// comments as they were, which no parse and print would. `data_plane userspace` goes
// into global_defs: the real servers share the client's subnet, so only the relay,
// which answers the client itself, serves them (LVS-NAT in the kernel would need their
// route back through the director).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/load';
import type { HadConfig } from '../config/model';
import { nftBatch, nftUnavailable } from '../common/nft';
import { nodeLog, signalPidFile } from '../lab/loopback-cluster';
import { shiftableClocks, shiftClockOf, type ShiftableClocks } from '../lab/faketime';
import { NetnsLab } from '../lab/netns';
import { ClientAgentTraffic, clientAgentScript } from './client-agent';
import type { DrillClients, DrillCluster, DrillTime, DrillTraffic, Endpoint } from './cluster';
import { requestTimeoutMs } from './traffic';

/** The namespaces' /24: no other test's (they use 10.213 to 10.216). */
export const drillSubnet = '10.217.0';

const bin = path.resolve(__dirname, '..', '..', '..', 'bin', 'hadirector');
const stopGraceMs = 5000;
/** How long a process sent SIGKILL may take to exit before stop() goes on without it. */
const reapMs = 2000;
const commandTimeoutMs = 2000;
const realReadyMs = 5000;
const clientHost = 'client';
const clientHostFirst = 50;
const drillTable = 'hadirector_drill';

/**
 * A real server for `node -e`, run in its address's namespace: HOST PORT NAME; answers
 * `real server NAME` on every path but /health (`ok`), and says `listening` once it is.
 */
const realResponder = `
const [host, port, name] = [process.argv[1], Number(process.argv[2]), process.argv[3]];
require('node:http')
  .createServer((q, s) => s.end(q.url === '/health' ? 'ok\\n' : 'real server ' + name + '\\n'))
  .listen(port, host, () => process.stdout.write('listening\\n'));
`;

const loopbackAddress = /\b127\.0\.0\.(\d{1,3})\b/g;
const loopbackInterface = /\b(interface|dev|lvs_sync_daemon_interface|lvs_sync_daemon)(\s+)lo(?![\w:.-])/g;
const loopbackLabel = /\blabel(\s+)lo:/g;
/** A line's own `@node` (or `@^node`) condition, kept in front of what it says. */
const condition = String.raw`^(\s*(?:@\^?\S+\s+)?)`;
const vipBlockOpens = new RegExp(`${condition}virtual_ipaddress(?:_excluded)?\\s*\\{\\s*$`);
const trackBlockOpens = new RegExp(`${condition}track_interface\\s*\\{\\s*$`);
const blockEntry = new RegExp(`${condition}(\\S+)(.*)$`);
const definition = /^\s*\$(\w+)\s*=\s*(\S*)/;
const signalAgentLine = /^(\s*(?:@\^?\S+\s+)?agent\s+)signal\b/;
const pidFileLine = /^(\s*(?:@\^?\S+\s+)?)pid_file\s+\S+/;

/** A VIP entry's address with /24 for /32 (or none); `defined` expands `$NAME` to tell IPv4 from IPv6. */
function widenedVip(line: string, defined: ReadonlyMap<string, string>): string {
  const m = blockEntry.exec(line);
  if (m === null) return line;
  const [, lead, address, rest] = m as unknown as [string, string, string, string];
  if (address.startsWith('#') || address.startsWith('!')) return line;
  if (address.endsWith('/32')) return `${lead}${address.slice(0, -3)}/24${rest}`;
  const expanded = address.replace(/\$\{(\w+)\}|\$(\w+)/g, (_all, a?: string, b?: string) => defined.get(a ?? b ?? '') ?? '');
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(expanded) ? `${lead}${address}/24${rest}` : line;
}

/**
 * The lab's configuration text for the namespaces on `subnet` whose names begin with
 * `prefix` (see the top of this file).
 */
export function namespacedConfig(text: string, subnet: string, prefix: string): string {
  const defined = new Map<string, string>();
  let block: 'vips' | 'tracked' | undefined;
  return text
    .split('\n')
    .map((original) => {
      let line = original.replace(loopbackAddress, (_all, n: string) => `${subnet}.${n}`).replace(loopbackInterface, '$1$2eth0').replace(loopbackLabel, 'label$1eth0:');
      line = line.replace(signalAgentLine, '$1netns').replace(pidFileLine, `$1namespace ${prefix}-%n`);
      const def = definition.exec(line);
      if (def !== null) defined.set(def[1] as string, def[2] as string);
      if (block !== undefined && /^\s*\}/.test(line)) block = undefined;
      else if (block === 'vips') line = widenedVip(line, defined);
      else if (block === 'tracked') line = line.replace(new RegExp(`${condition}lo(?=\\s|$)`), '$1eth0');
      else if (vipBlockOpens.test(line)) block = 'vips';
      else if (trackBlockOpens.test(line)) block = 'tracked';
      if (/^global_defs\s*\{/.test(line)) return `${line}\n    data_plane userspace`;
      return line;
    })
    .join('\n');
}

/** N of SUBNET.N, or undefined for an address off the subnet. */
function hostNumber(address: string, subnet: string): number | undefined {
  if (!address.startsWith(`${subnet}.`)) return undefined;
  const n = Number(address.slice(subnet.length + 1));
  return Number.isInteger(n) && n >= 1 && n <= 254 ? n : undefined;
}

type Problem = { readonly problem: string; readonly exitCode: number };

/** Where each part of the cluster lives: namespace (node, real server or the client) → SUBNET.N, and which namespace serves each real server. */
interface Layout {
  readonly hosts: ReadonlyMap<string, number>;
  readonly realHosts: ReadonlyMap<string, string>;
}

function layoutOf(config: HadConfig, nodes: readonly string[], reals: ReadonlyMap<string, Endpoint>, vip: Endpoint, subnet: string): Layout | string {
  const hosts = new Map<string, number>();
  const byNumber = new Map<number, string>();
  for (const node of nodes) {
    const address = config.cluster?.nodes.find((n) => n.name === node)?.addresses.find((a) => a.family === 4)?.address ?? '';
    const n = hostNumber(address, subnet);
    if (n === undefined) return `node ${node}'s address ${address} is not in ${subnet}.0/24 after the rewrite`;
    if (byNumber.has(n) || node === 'hub' || node === clientHost) return `node ${node}: two hosts on ${address}, or a name the drill uses itself`;
    hosts.set(node, n);
    byNumber.set(n, node);
  }
  const realHosts = new Map<string, string>();
  for (const [name, at] of reals) {
    const n = hostNumber(at.host, subnet);
    if (n === undefined) return `real server ${name} is not in ${subnet}.0/24 after the rewrite`;
    const host = byNumber.get(n) ?? `rs${n}`;
    if (!byNumber.has(n) && hosts.has(host)) return `real server ${name}: a node is named ${host}`;
    hosts.set(host, n);
    byNumber.set(n, host);
    realHosts.set(name, host);
  }
  if (hostNumber(vip.host, subnet) === undefined) return `the VIP ${vip.host} is not in ${subnet}.0/24 after the rewrite: the client could not reach it`;
  const taken = new Set([...byNumber.keys(), ...config.vrrpInstances.flatMap((vi) => vi.virtualIpAddresses.map((v) => hostNumber(v.address, subnet)))]);
  let client = clientHostFirst;
  while (taken.has(client) && client < 254) client++;
  if (taken.has(client)) return `no address left on ${subnet}.0/24 for the client`;
  hosts.set(clientHost, client);
  return { hosts, realHosts };
}

/** What `ip` printed; nothing when it failed (no such namespace yet, or no longer). */
function ipOutput(args: readonly string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile('ip', [...args], { timeout: commandTimeoutMs, encoding: 'utf8' }, (err, stdout) => resolve(err === null ? stdout : ''));
  });
}

const alive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

/** Resolves when `done` does, or after `ms` all the same. */
async function within(done: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Resolves once the child exited (at once if it has). */
function exited(child: ChildProcess): Promise<void> {
  return alive(child) ? new Promise((resolve) => child.once('exit', () => resolve())) : Promise.resolve();
}

export class NetnsDrillCluster implements DrillCluster {
  private readonly daemons = new Map<string, ChildProcess>();
  private readonly responders = new Map<string, ChildProcess>();
  private readonly clientProcesses = new Set<ChildProcess>();
  /** eth0's MAC → node, read once the namespaces exist. */
  private readonly macs = new Map<string, string>();
  /** The nodes whose namespace holds the drill's nftables table. */
  private readonly cut = new Set<string>();
  /** When the nodes' clocks can be shifted (clock-jump). */
  private clocks: ShiftableClocks | undefined;
  /** The client in its namespace speaks HTTP only: sessions and flows are drilled on loopback. */
  readonly clients: DrillClients = {
    traffic: (time: DrillTime, everyMs: number): DrillTraffic =>
      new ClientAgentTraffic(time, () => {
        const child = this.lab.spawn(clientHost, process.execPath, [clientAgentScript, this.vip.host, String(this.vip.port), String(everyMs), String(requestTimeoutMs)]);
        this.clientProcesses.add(child);
        return child;
      }),
  };
  /** If the process ends without stop(), the namespaces go with it all the same. */
  private readonly onExit = (): void => {
    for (const child of this.daemons.values()) if (alive(child)) child.kill('SIGKILL');
    this.lab.destroy();
  };

  private constructor(
    readonly dir: string,
    readonly configFile: string,
    readonly config: HadConfig,
    readonly nodes: readonly string[],
    readonly vip: Endpoint,
    readonly reals: ReadonlyMap<string, Endpoint>,
    private readonly layout: Layout,
    private readonly lab: NetnsLab,
  ) {}

  /**
   * The cluster of `file` in namespaces, not started, running a rewritten copy of the
   * file's folder; or why it cannot be (exit 2: nothing to drill or not for namespaces;
   * 1: errors in the rewritten file).
   */
  static of(file: string, clocks = false): NetnsDrillCluster | Problem {
    const original = path.resolve(file);
    const first = loadConfig(original, { node: 'lab' });
    if ((first.config.cluster?.nodes.length ?? 0) === 0) return { problem: `${file} has no cluster block: nothing to drill`, exitCode: 2 };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-drill-netns-'));
    const made = NetnsDrillCluster.inside(dir, original, first.config.files, new NetnsLab(drillSubnet));
    if (made instanceof NetnsDrillCluster && clocks) {
      const shiftable = shiftableClocks(dir);
      if (typeof shiftable === 'string') {
        fs.rmSync(dir, { recursive: true, force: true });
        return { problem: shiftable, exitCode: 2 };
      }
      made.clocks = shiftable;
    }
    if (!(made instanceof NetnsDrillCluster)) fs.rmSync(dir, { recursive: true, force: true });
    return made;
  }

  private static inside(dir: string, original: string, files: readonly string[], lab: NetnsLab): NetnsDrillCluster | Problem {
    const from = path.dirname(original);
    const folder = path.join(dir, 'config');
    fs.cpSync(from, folder, { recursive: true });
    for (const read of files) {
      const relative = path.relative(from, path.resolve(from, read));
      if (relative.startsWith('..') || path.isAbsolute(relative)) continue;
      const copy = path.join(folder, relative);
      fs.writeFileSync(copy, namespacedConfig(fs.readFileSync(copy, 'utf8'), drillSubnet, lab.prefix));
    }
    const configFile = path.join(folder, path.basename(original));
    const config = loadConfig(configFile, { node: 'lab' }).config;
    const nodes = config.cluster?.nodes.map((n) => n.name) ?? [];
    const reals = new Map<string, Endpoint>();
    let vip: Endpoint | undefined;
    for (const node of nodes) {
      const loaded = loadConfig(configFile, { node });
      if (loaded.errorCount > 0) return { problem: `${configFile} (rewritten for namespaces) has errors for node ${node}: run hadirector check-config -f ${configFile} --node ${node}`, exitCode: 1 };
      // The client in its namespace speaks HTTP: the TCP services are the ones drilled here.
      for (const vs of loaded.config.virtualServers.filter((v) => v.protocol === 'TCP')) {
        if (vs.key.kind === 'address') vip ??= { host: vs.key.address, port: vs.key.port };
        for (const rs of vs.realServers) {
          const port = rs.port ?? (vs.key.kind === 'address' ? vs.key.port : 80);
          reals.set(`${rs.address}:${port}`, { host: rs.address, port });
        }
      }
    }
    if (vip === undefined) return { problem: `${original} has no TCP virtual_server with an address to drill`, exitCode: 2 };
    const layout = layoutOf(config, nodes, reals, vip, drillSubnet);
    if (typeof layout === 'string') return { problem: `${original}: ${layout}`, exitCode: 2 };
    return new NetnsDrillCluster(dir, configFile, config, nodes, vip, reals, layout, lab);
  }

  /** What every namespace of this cluster's name begins with. */
  get namespacePrefix(): string {
    return this.lab.prefix;
  }

  socket(node: string): string {
    return path.join(this.dir, `${node}.sock`);
  }

  log(node: string): string {
    return nodeLog(this.dir, node);
  }

  /** The namespaces, then every real server, then every node. */
  async start(): Promise<void> {
    process.on('exit', this.onExit);
    this.lab.create(Object.fromEntries(this.layout.hosts));
    for (const node of this.nodes) this.macs.set(this.lab.mac(node), node);
    for (const name of this.reals.keys()) await this.startReal(name);
    for (const node of this.nodes) this.startNode(node);
  }

  startNode(node: string): void {
    if (this.running(node) || !this.nodes.includes(node)) return;
    const logFile = path.join(this.dir, `${node}.log`);
    const pidFile = signalPidFile(this.config, node) ?? path.join(this.dir, `${node}.pid`);
    fs.mkdirSync(path.dirname(pidFile), { recursive: true });
    const log = fs.openSync(logFile, 'a');
    // ip netns exec execs: the child's pid is the daemon's, which its signals reach.
    const args = ['netns', 'exec', this.lab.ns(node), process.execPath, bin, '--log-level', 'warn', 'run', '-f', this.configFile, '--node', node, '--control', this.socket(node), '--pid-file', pidFile, '--drain', '1'];
    try {
      // `ip netns exec` execs the daemon: what it is given here (libfaketime) reaches the daemon.
      const child = spawn('ip', args, { stdio: ['ignore', log, log], env: { ...process.env, ...this.clocks?.env(node) } });
      child.on('error', (err) => fs.appendFileSync(logFile, `drill: cannot start ${node}: ${err.message}\n`));
      this.daemons.set(node, child);
    } finally {
      fs.closeSync(log);
    }
  }

  shiftClock(node: string, offsetMs: number): Promise<string | undefined> {
    return shiftClockOf(this.clocks, node, offsetMs);
  }

  /**
   * A fence took the node's links down: its host is off. Switched on, it comes up as a
   * host does: whatever ran on it gone, no address but its own, its links up.
   */
  async powerOn(node: string): Promise<void> {
    const ns = this.lab.ns(node);
    const link = await ipOutput(['-n', ns, '-o', 'link', 'show', 'eth0']);
    if (/<[^>]*\bUP\b[^>]*>/.test(link)) return;
    await this.signal(node, 'SIGKILL');
    const own = this.lab.address(node);
    const shown = await ipOutput(['-n', ns, '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    for (const [, address] of shown.matchAll(/inet (\S+)/g)) {
      if (address !== undefined && !address.startsWith(`${own}/`)) await ipOutput(['-n', ns, 'addr', 'del', address, 'dev', 'eth0']);
    }
    await ipOutput(['-n', ns, 'link', 'set', 'eth0', 'up']);
  }

  running(node: string): boolean {
    const child = this.daemons.get(node);
    return child !== undefined && alive(child);
  }

  async signal(node: string, signal: NodeJS.Signals): Promise<void> {
    const child = this.daemons.get(node);
    if (child === undefined || !alive(child)) return;
    const gone = signal === 'SIGKILL' || signal === 'SIGTERM' ? exited(child) : Promise.resolve();
    child.kill(signal);
    await gone;
  }

  /** Starts a real server's responder in its address's namespace; resolves once it listens. */
  async startReal(name: string): Promise<void> {
    const at = this.reals.get(name);
    const host = this.layout.realHosts.get(name);
    const known = this.responders.get(name);
    if (at === undefined || host === undefined || (known !== undefined && alive(known))) return;
    const child = this.lab.spawn(host, process.execPath, ['-e', realResponder, at.host, String(at.port), name]);
    this.responders.set(name, child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(`did not listen within ${realReadyMs} ms`), realReadyMs);
      const listening = (d: Buffer): void => {
        if (!d.toString().includes('listening')) return;
        clearTimeout(timer);
        child.stdout?.off('data', listening);
        resolve();
      };
      function fail(why: string): void {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`real server ${name}: ${why}`));
      }
      child.stdout?.on('data', listening);
      child.once('exit', () => fail(`exited: ${this.lab.outputOf(child).trim()}`));
    });
  }

  /** Kills the responder: the kernel closes its connections, as a crash would. */
  async stopReal(name: string): Promise<void> {
    const child = this.responders.get(name);
    this.responders.delete(name);
    if (child === undefined || !alive(child)) return;
    const gone = exited(child);
    child.kill('SIGKILL');
    await gone;
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
      const problem = await nftBatch(`${batch.join('\n')}\n`, ['ip', 'netns', 'exec', this.lab.ns(self)]);
      if (problem !== undefined) return `${self}: ${problem}`;
    }
    return undefined;
  }

  async restoreLinks(): Promise<void> {
    const cut = [...this.cut];
    this.cut.clear();
    await Promise.all(cut.map((node) => nftBatch(`delete table inet ${drillTable}\n`, ['ip', 'netns', 'exec', this.lab.ns(node)])));
  }

  /** Every address a node is known by, so a cut drops its heartbeats on every link and its VRRP adverts. */
  private addressesOf(node: string): string[] {
    return this.config.cluster?.nodes.find((n) => n.name === node)?.addresses.map((a) => a.address) ?? [];
  }

  async vipHolders(): Promise<ReadonlySet<string>> {
    const held = await Promise.all(
      this.nodes.map(async (node) => {
        // `up`: nothing is shown of a link a fence took down, whose address no one reaches.
        const shown = await ipOutput(['-n', this.lab.ns(node), '-o', '-4', 'addr', 'show', 'dev', 'eth0', 'up']);
        return [...shown.matchAll(/inet ([0-9.]+)\//g)].some((m) => m[1] === this.vip.host) ? node : undefined;
      }),
    );
    return new Set(held.filter((n): n is string => n !== undefined));
  }

  async clientNeighbour(): Promise<string | undefined> {
    const shown = await ipOutput(['-n', this.lab.ns(clientHost), 'neigh', 'show', this.vip.host]);
    const mac = /lladdr ([0-9a-f:]{17})/.exec(shown)?.[1];
    return mac === undefined ? undefined : this.macs.get(mac);
  }



  /** Every node asked to stop (killed after a grace period), every other process killed, every namespace removed. */
  async stop(): Promise<void> {
    try {
      const daemons = [...this.daemons.values()].filter(alive);
      for (const child of daemons) {
        child.kill('SIGTERM');
        // A frozen one (SIGSTOP) would hold the SIGTERM until the grace period is over.
        child.kill('SIGCONT');
      }
      const killer = setTimeout(() => {
        for (const child of daemons) if (alive(child)) child.kill('SIGKILL');
      }, stopGraceMs);
      await within(Promise.all(daemons.map(exited)), stopGraceMs + reapMs);
      clearTimeout(killer);
      const rest = [...this.responders.values(), ...this.clientProcesses].filter(alive);
      for (const child of rest) child.kill('SIGKILL');
      await within(Promise.all(rest.map(exited)), reapMs);
    } finally {
      this.responders.clear();
      this.clientProcesses.clear();
      this.cut.clear();
      this.lab.destroy();
      process.off('exit', this.onExit);
    }
  }
}
