// The whole cluster of a configuration on loopback, without root, for the lab and the
// drills: the real servers of its virtual servers as small HTTP servers in this process
// (each answers `real server ADDRESS:PORT`), and every cluster node as its own
// `hadirector run` process, its log and control socket in a directory of its own, its
// pid where a `signal` fence device looks for it (so fencing kills for real).
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/load';
import type { HadConfig } from '../config/model';
import type { DrillCluster, Endpoint } from '../drill/cluster';
import { flowAnswer } from '../drill/flows';
import { LoopbackClients } from '../drill/loopback-clients';
import { pidFileFor } from '../fencing/agents/signal-agent';
import { shiftableClocks, shiftClockOf, type ShiftableClocks } from './faketime';
import { LoopbackLinkCuts } from './loopback-link-cuts';
import { listenerOwners } from './socket-owners';

const bin = path.resolve(__dirname, '..', '..', '..', 'bin', 'hadirector');
const stopGraceMs = 5000;

export type { Endpoint };

/** Where a `signal` fence device looks for the node's pid. */
export function signalPidFile(config: HadConfig, node: string): string | undefined {
  const device = config.cluster?.fencing.devices.find((d) => d.agent === 'signal' && d.options['pid_file'] !== undefined && (d.hosts.length === 0 || d.hosts.includes(node)));
  const template = device?.options['pid_file'];
  return template === undefined ? undefined : pidFileFor(template, node);
}

/** A node's log in a cluster's folder (DIR/NODE.log) so far. */
export function nodeLog(dir: string, node: string): string {
  try {
    return fs.readFileSync(path.join(dir, `${node}.log`), 'utf8');
  } catch {
    return '';
  }
}

export class LoopbackCluster implements DrillCluster {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-lab-'));
  private readonly children = new Map<string, ChildProcess>();
  private readonly servers = new Map<string, http.Server | dgram.Socket>();
  private readonly cuts: LoopbackLinkCuts;
  readonly clients: LoopbackClients;

  private constructor(
    readonly file: string,
    /** The configuration as the first node reads it (the cluster block is everyone's). */
    readonly config: HadConfig,
    readonly nodes: readonly string[],
    /** Each virtual service's address, by `ADDRESS:PORT`. */
    readonly vips: ReadonlyMap<string, Endpoint>,
    readonly reals: ReadonlyMap<string, Endpoint>,
  ) {
    this.configFile = file;
    this.cuts = new LoopbackLinkCuts(config);
    this.clients = new LoopbackClients(this.vip, this.udpVip);
  }

  /** The file the nodes run: the original, or the lab's copy of it. */
  configFile: string;
  /** When the nodes' clocks can be shifted. */
  private clocks: ShiftableClocks | undefined;

  shiftClock(node: string, offsetMs: number): Promise<string | undefined> {
    return shiftClockOf(this.clocks, node, offsetMs);
  }

  /**
   * The cluster of `file`, not started; or why it cannot be a lab (exit 2: no cluster; 1:
   * errors). With `copy`, the nodes run a copy of the file's folder in the lab's own
   * folder (`configFile`), which a drill may break and mend without touching the original.
   * With `clocks`, every node runs under libfaketime with a clock shiftClock() can move.
   */
  static of(file: string, copy = false, clocks = false): LoopbackCluster | { readonly problem: string; readonly exitCode: number } {
    const first = loadConfig(file, { node: 'lab' });
    const nodes = first.config.cluster?.nodes.map((n) => n.name) ?? [];
    if (nodes.length === 0) return { problem: `${file} has no cluster block: nothing to run as a lab`, exitCode: 2 };
    const configs = nodes.map((n) => loadConfig(file, { node: n }));
    const broken = configs.find((c) => c.errorCount > 0);
    if (broken !== undefined) return { problem: `${file} has errors for node ${broken.config.node}: run hadirector check-config -f ${file}`, exitCode: 1 };
    const vips = new Map<string, Endpoint>();
    const reals = new Map<string, Endpoint>();
    for (const c of configs) {
      for (const vs of c.config.virtualServers) {
        const udp = vs.protocol === 'UDP' ? { udp: true } : {};
        if (vs.key.kind === 'address') vips.set(`${vs.key.address}:${vs.key.port}`, { host: vs.key.address, port: vs.key.port, ...udp });
        for (const rs of vs.realServers) {
          const port = rs.port ?? (vs.key.kind === 'address' ? vs.key.port : 80);
          reals.set(`${rs.address}:${port}`, { host: rs.address, port, ...udp });
        }
      }
    }
    const cluster = new LoopbackCluster(file, first.config, nodes, vips, reals);
    if (clocks) {
      const made = shiftableClocks(cluster.dir);
      if (typeof made === 'string') return { problem: made, exitCode: 2 };
      cluster.clocks = made;
    }
    if (copy) {
      const folder = path.join(cluster.dir, 'config');
      fs.cpSync(path.dirname(file), folder, { recursive: true });
      cluster.configFile = path.join(folder, path.basename(file));
    }
    return cluster;
  }

  /** The first TCP virtual service (the drill refuses a configuration with none). */
  get vip(): Endpoint {
    return [...this.vips.values()].find((v) => v.udp !== true) as Endpoint;
  }

  /** The first UDP virtual service, if there is one. */
  get udpVip(): Endpoint | undefined {
    return [...this.vips.values()].find((v) => v.udp === true);
  }


  cutLink(a: string, b: string): Promise<string | undefined> {
    return this.cuts.cut(a, b);
  }

  /** On loopback a fence (the `signal` agent) ends the process and nothing else. */
  powerOn(): Promise<void> {
    return Promise.resolve();
  }

  restoreLinks(): Promise<void> {
    return this.cuts.restore();
  }

  /** The nodes whose process owns a listening socket on the VIP: a frozen one still does. */
  vipHolders(): Promise<ReadonlySet<string>> {
    return listenerOwners(this.vip, [...this.children].flatMap(([node, child]) => (child.pid !== undefined && this.running(node) ? [[node, child.pid] as const] : [])));
  }

  /** A node's log so far. */
  log(node: string): string {
    return nodeLog(this.dir, node);
  }

  socket(node: string): string {
    return path.join(this.dir, `${node}.sock`);
  }

  /** Every real server, then every node. */
  async start(): Promise<void> {
    for (const name of this.reals.keys()) await this.startReal(name);
    for (const node of this.nodes) this.startNode(node);
  }

  async startReal(name: string): Promise<void> {
    const at = this.reals.get(name);
    if (at === undefined || this.servers.has(name)) return;
    if (at.udp === true) {
      const socket = dgram.createSocket('udp4');
      socket.on('message', (msg, from) => socket.send(flowAnswer(name, msg.toString('utf8')), from.port, from.address));
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(at.port, at.host, () => resolve());
      });
      this.servers.set(name, socket);
      return;
    }
    const server = http.createServer((req, res) => res.end(req.url === '/health' ? 'ok\n' : `real server ${name}\n`));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host, () => resolve());
    });
    this.servers.set(name, server);
  }

  /** Closes a real server and drops its open connections, as a crashed one would. */
  async stopReal(name: string): Promise<void> {
    const server = this.servers.get(name);
    this.servers.delete(name);
    if (server === undefined) return;
    if (server instanceof dgram.Socket) return new Promise((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  startNode(node: string): void {
    if (this.running(node)) return;
    const log = fs.openSync(path.join(this.dir, `${node}.log`), 'a');
    const pidFile = signalPidFile(this.config, node) ?? path.join(this.dir, `${node}.pid`);
    fs.mkdirSync(path.dirname(pidFile), { recursive: true });
    const env = { ...process.env, ...this.clocks?.env(node) };
    const child = spawn(process.execPath, [bin, '--log-level', 'warn', 'run', '-f', this.configFile, '--node', node, '--control', this.socket(node), '--pid-file', pidFile, '--drain', '1'], { stdio: ['ignore', log, log], env });
    fs.closeSync(log);
    this.children.set(node, child);
  }

  running(node: string): boolean {
    const child = this.children.get(node);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Sends a signal to a node's process; resolves when it exited, for a signal that ends it. */
  async signal(node: string, signal: NodeJS.Signals): Promise<void> {
    const child = this.children.get(node);
    if (child === undefined || !this.running(node)) return;
    const ends = signal === 'SIGKILL' || signal === 'SIGTERM';
    const gone = ends ? new Promise((resolve) => child.once('exit', resolve)) : Promise.resolve();
    child.kill(signal);
    await gone;
  }

  /** Every node asked to stop (killed after a grace period), every real server closed. */
  async stop(): Promise<void> {
    const children = [...this.children.values()];
    for (const child of children) child.kill('SIGTERM');
    const killer = setTimeout(() => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    }, stopGraceMs);
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((resolve) => c.once('exit', resolve)))));
    clearTimeout(killer);
    await this.cuts.restore();
    for (const name of [...this.servers.keys()]) await this.stopReal(name);
  }
}
