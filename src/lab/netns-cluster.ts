// The whole cluster of a configuration in network namespaces (root), for the namespaced
// drill and the namespaced lab: each node of the configuration a `hadirector run`
// process in a namespace of its own, each real server's address one more with a small
// responder in it, and the client in one more, every namespace with an eth0 on one
// bridge (NetnsLab). The nodes run a copy of the configuration's folder rewritten for the
// namespaces (netns-config.ts).
//
// On the userspace plane (the drill) that is all. On the kernel plane (the lab) the hosts
// are set up as LVS wants them: the directors forward, without ICMP redirects (the
// clients and real servers share one network); each real server carries the DR VIPs on
// its lo and answers no ARP for them, and routes the NAT clients' replies through the
// gateway address the master holds; the client asks NAT services from addresses of its
// own which those routes name, and DR ones from its first, which they do not, so DR's
// replies go to it straight.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/load';
import type { HadConfig } from '../config/model';
import type { ForwardingMethod } from '../ipvs/config';
import type { Endpoint } from '../drill/cluster';
import { nodeLog, signalPidFile } from './loopback-cluster';
import { NetnsLab } from './netns';
import { namespacedConfig, withKernelServices, type KernelServices } from './netns-config';
import { clientHost, layoutOf, type Layout, type LayoutOptions } from './netns-layout';

const bin = path.resolve(__dirname, '..', '..', '..', 'bin', 'hadirector');
const stopGraceMs = 5000;
/** How long a process sent SIGKILL may take to exit before stop() goes on without it. */
const reapMs = 2000;
const realReadyMs = 5000;
const commandTimeoutMs = 2000;

/**
 * A real server for `node -e`, run in its address's namespace: BIND PORT NAME tcp|udp. Over
 * HTTP it answers `real server NAME` on every path but /health (`ok`); over UDP each
 * datagram with `real server NAME DATAGRAM`. It says `listening` once it is.
 */
const realResponder = `
const [host, port, name, proto] = [process.argv[1], Number(process.argv[2]), process.argv[3], process.argv[4]];
const listening = () => process.stdout.write('listening\\n');
if (proto === 'udp') {
  const socket = require('node:dgram').createSocket('udp4');
  socket.on('message', (m, from) => socket.send('real server ' + name + ' ' + m, from.port, from.address));
  socket.bind(port, host, listening);
} else {
  require('node:http')
    .createServer((q, s) => s.end(q.url === '/health' ? 'ok\\n' : 'real server ' + name + '\\n'))
    .listen(port, host, listening);
}
`;

export interface NetnsClusterOptions extends LayoutOptions {
  /** Serve the UDP virtual services too (a responder per UDP real server). */
  readonly udp: boolean;
}

/** A virtual service by address, with how it forwards. */
export interface Service extends Endpoint {
  readonly method: ForwardingMethod;
}

export type Problem = { readonly problem: string; readonly exitCode: number };

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

const doing = (o: NetnsClusterOptions): string => (o.user === 'drill' ? 'drill' : 'run as a lab');

/** Runs a command in a namespace (`ip netns exec`); throws with its complaint. */
function inNamespace(ns: string, ...argv: string[]): void {
  execFileSync('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], timeout: commandTimeoutMs });
}

export class NetnsCluster {
  private readonly daemons = new Map<string, ChildProcess>();
  private readonly responders = new Map<string, ChildProcess>();
  private readonly clientProcesses = new Set<ChildProcess>();
  /** What a node's environment gets besides this process's (e.g. libfaketime). */
  nodeEnv: ((node: string) => Record<string, string>) | undefined;
  /** If the process ends without stop(), the namespaces go with it all the same. */
  private readonly onExit = (): void => {
    for (const child of this.daemons.values()) if (alive(child)) child.kill('SIGKILL');
    this.lab.destroy();
  };

  private constructor(
    readonly dir: string,
    readonly configFile: string,
    /** The configuration as the node `lab` reads it (the cluster block is everyone's). */
    readonly config: HadConfig,
    readonly nodes: readonly string[],
    /** The virtual services the client asks, by `ADDRESS:PORT`, in the file's order. */
    readonly services: ReadonlyMap<string, Service>,
    /** The real servers, by `ADDRESS:PORT`. */
    readonly reals: ReadonlyMap<string, Endpoint>,
    private readonly layout: Layout,
    readonly lab: NetnsLab,
    readonly options: NetnsClusterOptions,
    /** On the kernel plane: what the file was given for it. */
    readonly kernel: KernelServices | undefined,
  ) {}

  /**
   * The cluster of `file` in namespaces, not started, running a rewritten copy of the
   * file's folder in a folder of its own; or why it cannot be (exit 2: nothing to run or
   * not for namespaces; 1: errors in the rewritten file).
   */
  static of(file: string, o: NetnsClusterOptions): NetnsCluster | Problem {
    const original = path.resolve(file);
    const first = loadConfig(original, { node: 'lab' });
    if ((first.config.cluster?.nodes.length ?? 0) === 0) return { problem: `${file} has no cluster block: nothing to ${doing(o)}`, exitCode: 2 };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `hadirector-${o.user}-netns-`));
    const made = NetnsCluster.inside(dir, original, first.config.files, new NetnsLab(o.subnet), o);
    if (!(made instanceof NetnsCluster)) fs.rmSync(dir, { recursive: true, force: true });
    return made;
  }

  private static inside(dir: string, original: string, files: readonly string[], lab: NetnsLab, o: NetnsClusterOptions): NetnsCluster | Problem {
    const from = path.dirname(original);
    const folder = path.join(dir, 'config');
    fs.cpSync(from, folder, { recursive: true });
    for (const read of files) {
      const relative = path.relative(from, path.resolve(from, read));
      if (relative.startsWith('..') || path.isAbsolute(relative)) continue;
      const copy = path.join(folder, relative);
      fs.writeFileSync(copy, namespacedConfig(fs.readFileSync(copy, 'utf8'), o.subnet, lab.prefix, o.plane));
    }
    const configFile = path.join(folder, path.basename(original));
    let kernel: KernelServices | undefined;
    if (o.plane === 'kernel') {
      const added = withKernelServices(configFile, 'lab', o.subnet);
      if (typeof added === 'string') return { problem: `${original}: ${added}`, exitCode: 2 };
      kernel = added;
    }
    const config = loadConfig(configFile, { node: 'lab' }).config;
    const nodes = config.cluster?.nodes.map((n) => n.name) ?? [];
    const services = new Map<string, Service>();
    const reals = new Map<string, Endpoint>();
    for (const node of nodes) {
      const loaded = loadConfig(configFile, { node });
      if (loaded.errorCount > 0) return { problem: `${configFile} (rewritten for namespaces) has errors for node ${node}: run hadirector check-config -f ${configFile} --node ${node}`, exitCode: 1 };
      for (const vs of loaded.config.virtualServers) {
        const udp = vs.protocol === 'UDP';
        if (!(vs.protocol === 'TCP' || (udp && o.udp))) continue;
        const flag = udp ? { udp: true } : {};
        if (vs.key.kind === 'address') {
          const name = `${vs.key.address}:${vs.key.port}`;
          if (!services.has(name)) services.set(name, { host: vs.key.address, port: vs.key.port, method: vs.method, ...flag });
        }
        for (const rs of vs.realServers) {
          const port = rs.port ?? (vs.key.kind === 'address' ? vs.key.port : 80);
          reals.set(`${rs.address}:${port}`, { host: rs.address, port, ...flag });
        }
      }
    }
    if (![...services.values()].some((s) => s.udp !== true)) return { problem: `${original} has no TCP virtual_server with an address to ${doing(o)}`, exitCode: 2 };
    const layout = layoutOf(config, nodes, reals, [...services.values()], o);
    if (typeof layout === 'string') return { problem: `${original}: ${layout}`, exitCode: 2 };
    return new NetnsCluster(dir, configFile, config, nodes, services, reals, layout, lab, o, kernel);
  }

  /** The first TCP virtual service: the one the drill's client uses. */
  get vip(): Service {
    return [...this.services.values()].find((s) => s.udp !== true) as Service;
  }

  /** The client's addresses for NAT services (kernel plane; none on the userspace plane). */
  get natSources(): string[] {
    return this.layout.natSources.map((n) => `${this.options.subnet}.${n}`);
  }

  /** The hosts the real servers run on, each a namespace of its own. */
  get realServerHosts(): string[] {
    return [...new Set(this.layout.realHosts.values())];
  }

  /** The client's own address, from which it asks all but NAT services. */
  get clientAddress(): string {
    return `${this.options.subnet}.${this.layout.hosts.get(clientHost) ?? 0}`;
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

  /** The namespaces (set up for the plane), then every real server, then every node. */
  async start(): Promise<void> {
    process.on('exit', this.onExit);
    this.lab.create(Object.fromEntries(this.layout.hosts));
    if (this.options.plane === 'kernel') this.prepareKernelHosts();
    for (const name of this.reals.keys()) await this.startReal(name);
    for (const node of this.nodes) this.startNode(node);
  }

  /** The hosts as LVS-NAT and LVS-DR on one network want them (see the top of this file). */
  private prepareKernelHosts(): void {
    const gateway = this.kernel?.gateway ?? '';
    for (const node of this.config.cluster?.nodes.filter((n) => !n.witness) ?? []) this.lab.lvsDirector(node.name);
    // A takeover's gratuitous ARP within a second of the last update would be ignored
    // (the neighbour locktime): the client's entry for the VIP and the real servers' for
    // the gateway would lag the master until the next burst.
    this.lab.sysctl(clientHost, 'net.ipv4.neigh.eth0.locktime', '0');
    for (const source of this.natSources) inNamespace(this.lab.ns(clientHost), 'ip', 'addr', 'add', `${source}/24`, 'dev', 'eth0');
    const drVips = new Set([...this.services.values()].filter((s) => s.method === 'DR').map((s) => s.host));
    for (const host of new Set(this.layout.realHosts.values())) {
      this.lab.sysctl(host, 'net.ipv4.neigh.eth0.locktime', '0');
      this.lab.drRealServer(host, drVips);
      for (const source of this.natSources) inNamespace(this.lab.ns(host), 'ip', 'route', 'add', `${source}/32`, 'via', gateway);
    }
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
      const child = spawn('ip', args, { stdio: ['ignore', log, log], env: { ...process.env, ...this.nodeEnv?.(node) } });
      child.on('error', (err) => fs.appendFileSync(logFile, `${this.options.user}: cannot start ${node}: ${err.message}\n`));
      this.daemons.set(node, child);
    } finally {
      fs.closeSync(log);
    }
  }

  running(node: string): boolean {
    const child = this.daemons.get(node);
    return child !== undefined && alive(child);
  }

  /** Sends a signal to a node's process; resolves when it exited, for a signal that ends it. */
  async signal(node: string, signal: NodeJS.Signals): Promise<void> {
    const child = this.daemons.get(node);
    if (child === undefined || !alive(child)) return;
    const gone = signal === 'SIGKILL' || signal === 'SIGTERM' ? exited(child) : Promise.resolve();
    child.kill(signal);
    await gone;
  }

  /**
   * Starts a real server's responder in its address's namespace; resolves once it
   * listens. On the kernel plane a TCP one listens on every address: DR brings it the
   * VIP's packets.
   */
  async startReal(name: string): Promise<void> {
    const at = this.reals.get(name);
    const host = this.layout.realHosts.get(name);
    const known = this.responders.get(name);
    if (at === undefined || host === undefined || (known !== undefined && alive(known))) return;
    const bind = this.options.plane === 'kernel' && at.udp !== true ? '0.0.0.0' : at.host;
    const child = this.lab.spawn(host, process.execPath, ['-e', realResponder, bind, String(at.port), name, at.udp === true ? 'udp' : 'tcp']);
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

  /** Starts a program in the client's namespace; stop() kills it if it has not ended. */
  spawnInClient(program: string, args: readonly string[], options: { stdin?: boolean } = {}): ChildProcess {
    const child = this.lab.spawn(clientHost, program, args, options);
    this.clientProcesses.add(child);
    return child;
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
      this.lab.destroy();
      process.off('exit', this.onExit);
    }
  }
}
