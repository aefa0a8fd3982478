// The nodes of a cluster as `hadirector run` processes, for the integration tests and
// the benchmarks: one configuration in a temporary directory with the sample cluster
// key, each node in its own process group (optionally under a wrapper such as faketime
// or `ip netns exec`), its output kept, its status read over the control API.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClusterStatus } from '../cluster/node';
import { controlRequest } from '../director/control-client';
import type { SyncStatus } from '../director/cluster-sync';
import type { FenceRecord } from '../fencing/coordinator';

const repo = path.resolve(__dirname, '..', '..', '..');
const bin = path.join(repo, 'bin', 'hadirector');

export interface ClusterLabOptions {
  /** winston's level for the nodes' logs (the default: info). */
  readonly logLevel?: string;
  /** `--drain` seconds on SIGTERM (the default: the daemon's). */
  readonly drainS?: number;
}

export class ClusterLab {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-cluster-'));
  private readonly procs = new Map<string, ChildProcess>();
  private readonly output = new Map<string, string>();

  constructor(
    config: string,
    private readonly options: ClusterLabOptions = {},
  ) {
    fs.copyFileSync(path.join(repo, 'config', 'cluster.key'), path.join(this.dir, 'cluster.key'));
    fs.writeFileSync(path.join(this.dir, 'c.conf'), config);
  }

  /** Starts a node; `wrap` runs it under another program (e.g. faketime). */
  start(name: string, wrap: string[] = []): void {
    this.output.set(name, '');
    const args = [
      ...(this.options.logLevel !== undefined ? ['--log-level', this.options.logLevel] : []),
      'run', '-f', path.join(this.dir, 'c.conf'), '--node', name, '--control', this.socket(name), '--pid-file', path.join(this.dir, `${name}.pid`),
      ...(this.options.drainS !== undefined ? ['--drain', String(this.options.drainS)] : []),
    ];
    const [program, ...rest] = wrap.length > 0 ? [...wrap, bin, ...args] : [bin, ...args];
    // Its own process group, so a wrapper's children die with it.
    const child = spawn(program as string, rest, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const append = (d: Buffer): void => {
      this.output.set(name, (this.output.get(name) ?? '') + d.toString());
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.procs.set(name, child);
  }

  async kill9(name: string): Promise<void> {
    const child = this.procs.get(name);
    this.procs.delete(name);
    if (child === undefined || child.exitCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    await gone;
  }

  /** Resolves with a node's exit code once it exits by itself. */
  exited(name: string): Promise<number | null> {
    const child = this.procs.get(name);
    if (child === undefined || child.exitCode !== null) return Promise.resolve(child?.exitCode ?? null);
    return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** SIGTERM, and wait for it to exit. */
  async term(name: string): Promise<number | null> {
    const child = this.procs.get(name);
    this.procs.delete(name);
    if (child === undefined || child.exitCode !== null) return child?.exitCode ?? null;
    const gone = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    return gone;
  }

  log(name: string): string {
    return this.output.get(name) ?? '';
  }

  socket(name: string): string {
    return path.join(this.dir, `${name}.sock`);
  }

  async status(name: string): Promise<ClusterStatus | undefined> {
    try {
      const r = await controlRequest(this.socket(name), { op: 'status' }, 2000);
      return r.ok ? (r.result as { cluster: ClusterStatus }).cluster : undefined;
    } catch {
      return undefined;
    }
  }

  /** Each VRRP instance's one-line description (`VI_1 master priority=150 …`), by instance name. */
  async instances(name: string): Promise<Map<string, string> | undefined> {
    try {
      const r = await controlRequest(this.socket(name), { op: 'status' }, 2000);
      if (!r.ok) return undefined;
      const vrrp = (r.result as { vrrp: Array<{ instance: string }> }).vrrp;
      return new Map(vrrp.map((v) => [v.instance.split(' ')[0] ?? '', v.instance]));
    } catch {
      return undefined;
    }
  }

  /** A director's connection-table sync: its stream and its copies of the others' tables. */
  async syncStatus(name: string): Promise<SyncStatus | undefined> {
    try {
      const r = await controlRequest(this.socket(name), { op: 'status' }, 2000);
      return r.ok ? (r.result as { sync?: SyncStatus }).sync : undefined;
    } catch {
      return undefined;
    }
  }

  /** The fencing history a node keeps (the DC's is the one that fenced). */
  async fenceHistory(name: string): Promise<FenceRecord[]> {
    const r = await controlRequest(this.socket(name), { op: 'fence', action: 'history' }, 2000);
    if (!r.ok) throw new Error(r.error);
    return r.result as FenceRecord[];
  }

  async viewOf(name: string): Promise<string | undefined> {
    const s = await this.status(name);
    return s === undefined ? undefined : `[${s.view.members.join(',')}] ${s.view.quorate ? 'quorate' : 'no-quorum'} dc=${s.view.dc ?? '-'}`;
  }

  /** A probe for waitFor: true when every node named shows the expected view. */
  agree(who: readonly string[], expected: string): () => Promise<true | undefined> {
    return async () => ((await Promise.all(who.map((n) => this.viewOf(n)))).every((v) => v === expected) ? true : undefined);
  }

  async stop(): Promise<void> {
    for (const name of [...this.procs.keys()]) await this.kill9(name);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
