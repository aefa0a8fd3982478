// A cluster the drill did not start (`drill --attach`): its nodes already run on this
// host, each answering on its control socket (in the folder given, or the runtime
// folder), as `hadirector lab` runs them or directors in namespaces of one host do. The
// drill reads each node's pid and command line from its status and /proc, signals it,
// and starts a node it stopped again with the same command line, detached, logging to
// the drill's folder; it cuts links with nftables on this host. It owns neither the real
// servers nor the configuration file: scenarios that need them are refused.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pidAlive } from '../common/pid';
import { loadConfig } from '../config/load';
import type { HadConfig } from '../config/model';
import { controlRequest } from '../director/control-client';
import { defaultControlPath } from '../director/paths';
import { LoopbackLinkCuts } from '../lab/loopback-link-cuts';
import { nodeLog } from '../lab/loopback-cluster';
import { listenerOwners } from '../lab/socket-owners';
import type { DrillCluster, Endpoint } from './cluster';
import { LoopbackClients } from './loopback-clients';

const goneWithinMs = 10_000;
const answerWithinMs = 10_000;

interface Running {
  pid: number;
  readonly argv: readonly string[];
  readonly cwd: string;
}

async function commandLine(pid: number): Promise<{ argv: string[]; cwd: string } | undefined> {
  try {
    const raw = await fs.promises.readFile(`/proc/${pid}/cmdline`);
    const argv = raw.toString('utf8').split('\0').filter((a) => a.length > 0);
    return { argv, cwd: await fs.promises.readlink(`/proc/${pid}/cwd`) };
  } catch {
    return undefined;
  }
}

export class AttachedCluster implements DrillCluster {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-drill-attached-'));
  private readonly processes = new Map<string, Running>();
  private readonly cuts: LoopbackLinkCuts;
  readonly clients: LoopbackClients;

  private constructor(
    readonly configFile: string,
    readonly config: HadConfig,
    readonly nodes: readonly string[],
    readonly vip: Endpoint,
    readonly reals: ReadonlyMap<string, Endpoint>,
    private readonly sockets: string | undefined,
    udpVip: Endpoint | undefined,
  ) {
    this.clients = new LoopbackClients(vip, udpVip);
    this.cuts = new LoopbackLinkCuts(config);
  }

  /** The cluster of `file` whose nodes answer in `sockets` (the runtime folder when absent); or why not. */
  static of(file: string, sockets: string | undefined): AttachedCluster | { readonly problem: string; readonly exitCode: number } {
    const nodes = loadConfig(file, { node: 'drill' }).config.cluster?.nodes.map((n) => n.name) ?? [];
    if (nodes.length === 0) return { problem: `${file} has no cluster block: nothing to drill`, exitCode: 2 };
    // As a director reads it: its own node named.
    const { config, errorCount } = loadConfig(file, { node: nodes[0] as string });
    if (errorCount > 0) return { problem: `${file} has errors: run hadirector check-config -f ${file}`, exitCode: 1 };
    const vs = config.virtualServers.find((v) => v.key.kind === 'address' && v.protocol === 'TCP');
    if (vs === undefined || vs.key.kind !== 'address') return { problem: `${file} has no TCP virtual_server with an address to drill`, exitCode: 2 };
    const reals = new Map<string, Endpoint>();
    for (const rs of vs.realServers) reals.set(`${rs.address}:${rs.port ?? vs.key.port}`, { host: rs.address, port: rs.port ?? vs.key.port });
    const udp = config.virtualServers.find((v) => v.key.kind === 'address' && v.protocol === 'UDP');
    const udpVip = udp !== undefined && udp.key.kind === 'address' ? { host: udp.key.address, port: udp.key.port, udp: true } : undefined;
    return new AttachedCluster(file, config, nodes, { host: vs.key.address, port: vs.key.port }, reals, sockets, udpVip);
  }

  /** What the drill cannot do to a cluster it did not start. */
  cannot(scenario: string): string | undefined {
    if (scenario === 'realserver-kill') return 'needs real servers of the drill\'s own (a running cluster\'s are not its to close)';
    if (scenario === 'bad-reload' || scenario === 'host-red') return 'edits the configuration file, which a running cluster\'s is not the drill\'s to break';
    if (scenario === 'clock-jump') return 'needs nodes the drill started (under libfaketime)';
    return undefined;
  }

  socket(node: string): string {
    return this.sockets !== undefined ? path.join(this.sockets, `${node}.sock`) : defaultControlPath(node, process.env);
  }

  log(node: string): string {
    return nodeLog(this.dir, node);
  }

  /**
   * Every node must answer (a cluster just started is given a few seconds): its pid and
   * command line are what the drill signals and starts again.
   */
  async start(): Promise<void> {
    const until = Date.now() + answerWithinMs;
    let missing = [...this.nodes];
    while (missing.length > 0) {
      for (const node of missing) {
        const r = await controlRequest(this.socket(node), { op: 'status' }, 2000).catch(() => undefined);
        const pid = r?.ok === true ? (r.result as { pid?: unknown }).pid : undefined;
        const command = typeof pid === 'number' ? await commandLine(pid) : undefined;
        if (typeof pid === 'number' && command !== undefined) this.processes.set(node, { pid, ...command });
      }
      missing = this.nodes.filter((n) => !this.processes.has(n));
      if (missing.length === 0) return;
      if (Date.now() >= until) throw new Error(`not every node of the running cluster answers on this host within ${answerWithinMs / 1000} s: ${missing.map((n) => `${n} (${this.socket(n)})`).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** The cluster goes on running; only the drill's link cuts are undone. */
  async stop(): Promise<void> {
    await this.cuts.restore();
  }

  startNode(node: string): void {
    const p = this.processes.get(node);
    if (p === undefined || pidAlive(p.pid)) return;
    const log = fs.openSync(path.join(this.dir, `${node}.log`), 'a');
    const child = spawn(p.argv[0] as string, p.argv.slice(1), { cwd: p.cwd, stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    child.unref();
    if (child.pid !== undefined) p.pid = child.pid;
  }

  powerOn(): Promise<void> {
    return Promise.resolve();
  }

  running(node: string): boolean {
    const p = this.processes.get(node);
    return p !== undefined && pidAlive(p.pid);
  }

  async signal(node: string, signal: NodeJS.Signals): Promise<void> {
    const p = this.processes.get(node);
    if (p === undefined || !pidAlive(p.pid)) return;
    process.kill(p.pid, signal);
    if (signal !== 'SIGKILL' && signal !== 'SIGTERM') return;
    const until = Date.now() + goneWithinMs;
    while (pidAlive(p.pid) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  startReal(): Promise<void> {
    return Promise.reject(new Error('the real servers of a running cluster are not the drill\'s'));
  }

  stopReal(): Promise<void> {
    return Promise.reject(new Error('the real servers of a running cluster are not the drill\'s'));
  }

  cutLink(a: string, b: string): Promise<string | undefined> {
    return this.cuts.cut(a, b);
  }

  restoreLinks(): Promise<void> {
    return this.cuts.restore();
  }

  vipHolders(): Promise<ReadonlySet<string>> {
    return listenerOwners(this.vip, [...this.processes].flatMap(([node, p]) => (pidAlive(p.pid) ? [[node, p.pid] as const] : [])));
  }
}
