// The namespace half of `npm run bench -- failover` (root, keepalived installed): two
// directors, a client and a real server on a bridge of network namespaces, run with
// hadirector (linux VIP driver, two_node), with keepalived (its VRRP alone, a responder
// on each director), and mixed: keepalived master d1, hadirector backup d2 running the
// same keepalived.conf (no cluster block: VRRP on the wire), at advert 1 s, 100 ms and
// 10 ms. The master's host dies (link down, then kill -9) or it stops (SIGTERM); the
// client probes the VIP every 10 ms.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { collectTries, httpProber, httpResponder, NetnsLab, netnsUnavailable, pairConfig } from '../src/lab/netns';

const subnet = '10.214.0';
const vip = `${subnet}.100`;

export interface FailoverSetting {
  readonly advertMs: number;
  readonly heartbeatMs: number;
  readonly deadtimeMs: number;
}

type Implementation = 'hadirector' | 'keepalived' | 'mixed';
type Try = { ok: boolean; startedMs: number; endedMs: number };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, deadlineMs: number, context: () => string = () => ''): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (check()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}${context()}`);
}

const keepalivedPaths = ['/usr/sbin/keepalived', '/sbin/keepalived', '/usr/bin/keepalived'];

/** Why the comparison cannot run here, or undefined. */
export function netnsFailoverUnavailable(): string | undefined {
  return netnsUnavailable() ?? (keepalivedPaths.some((p) => fs.existsSync(p)) ? undefined : 'needs keepalived (apt-get install keepalived)');
}

function keepalivedConfig(s: FailoverSetting, node: 'd1' | 'd2'): string {
  return `
global_defs {
    router_id ${node}
    vrrp_version 3
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority ${node === 'd1' ? 150 : 100}
    advert_int ${s.advertMs / 1000}
    virtual_ipaddress {
        ${vip}/24 dev eth0
    }
}
`;
}

class Pair {
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-failover-netns-'));
  private readonly net = new NetnsLab(subnet);
  private readonly directors = new Map<string, ChildProcess>();
  readonly tries: Try[] = [];

  constructor(
    private readonly impl: Implementation,
    private readonly setting: FailoverSetting,
  ) {}

  async start(): Promise<void> {
    this.net.create({ d1: 1, d2: 2, cl: 3, rs: 4 });
    if (this.impl === 'hadirector') {
      fs.copyFileSync(path.join(__dirname, '..', '..', 'config', 'cluster.key'), path.join(this.dir, 'cluster.key'));
      fs.writeFileSync(path.join(this.dir, 'c.conf'), pairConfig({ clusterId: 'bench', subnet, virtualRouterId: 61, ...this.setting }));
      this.net.spawn('rs', process.execPath, ['-e', httpResponder, `${subnet}.4`, '8080']);
    } else {
      // keepalived (and hadirector with no virtual_server) moves only the address: whoever holds it answers.
      for (const node of ['d1', 'd2'] as const) {
        fs.writeFileSync(path.join(this.dir, `${node}.conf`), keepalivedConfig(this.setting, node));
        this.net.spawn(node, process.execPath, ['-e', httpResponder, '0.0.0.0', '80']);
      }
    }
    this.startDirector('d1');
    this.startDirector('d2');
    await until('d1 to hold the VIP', () => this.holds('d1') && !this.holds('d2'), 30_000);
    // A try whose SYN went to the dead master is lost until it times out: the timeout bounds how finely an outage is seen.
    const timeoutMs = Math.min(300, Math.max(50, 5 * this.setting.advertMs));
    collectTries(this.net.spawn('cl', process.execPath, ['-e', httpProber, vip, '80', '10', '1000000', String(timeoutMs)]), this.tries);
    await until('the client to be served', () => this.tries.filter((t) => t.ok).length >= 10, 10_000);
  }

  /** One outage, in ms: from the fault, or the first failed try after it, to the next success. */
  async outage(fault: 'kill-9' | 'sigterm'): Promise<number> {
    await sleep(1000);
    const at = Date.now();
    if (fault === 'kill-9') {
      this.net.link('d1', 'down');
      this.stopDirector('d1', 'SIGKILL');
    } else {
      this.stopDirector('d1', 'SIGTERM');
    }
    await until('the client to be served again', () => this.recoveredAfter(at) !== undefined, 30_000, () => this.outputs());
    const outage = this.recoveredAfter(at) as number;
    // d1 comes back and, with preempt, takes the VIP again before the next run.
    if (fault === 'kill-9') this.net.link('d1', 'up');
    await sleep(200);
    this.startDirector('d1');
    await until('d1 to hold the VIP again', () => this.holds('d1') && !this.holds('d2'), 60_000, () => this.outputs());
    await until('the client to be served by d1', () => this.tries.filter((t) => t.ok && t.startedMs > Date.now() - 200).length >= 3, 10_000);
    await sleep(Math.max(1000, 3 * this.setting.deadtimeMs));
    return outage;
  }

  /** What the directors last wrote, for an error message. */
  private outputs(): string {
    return [...this.directors].map(([node, child]) => `\n--- ${this.impl} ${node}:\n${this.net.outputOf(child).slice(-2000)}`).join('');
  }

  stop(): void {
    for (const node of [...this.directors.keys()]) this.stopDirector(node, 'SIGKILL');
    this.net.destroy();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private recoveredAfter(atMs: number): number | undefined {
    // A try in flight at the fault counts: the fault may be what it is waiting on.
    const after = this.tries.filter((t) => t.endedMs >= atMs);
    const firstFail = after.findIndex((t) => !t.ok);
    if (firstFail === -1) return after.length > 30 ? 0 : undefined;
    const back = after.slice(firstFail).find((t) => t.ok);
    return back === undefined ? undefined : back.endedMs - Math.max(atMs, (after[firstFail] as Try).startedMs);
  }

  private holds(node: string): boolean {
    return this.net.addresses(node).includes(`${vip}/24`);
  }

  private startDirector(node: string): void {
    // A host that died comes back with an empty /run: keepalived would take its dead run's pid files for a live daemon.
    for (const file of [`${node}.pid`, `${node}-vrrp.pid`]) fs.rmSync(path.join(this.dir, file), { force: true });
    const runsHadirector = this.impl === 'hadirector' || (this.impl === 'mixed' && node === 'd2');
    const file = this.impl === 'hadirector' ? 'c.conf' : `${node}.conf`;
    const args = runsHadirector
      ? [path.join(__dirname, '..', '..', 'bin', 'hadirector'), '--log-level', 'warn', 'run', '-f', path.join(this.dir, file), '--node', node, '--control', path.join(this.dir, `${node}.sock`), '--pid-file', path.join(this.dir, `${node}.pid`), '--drain', '0']
      : ['keepalived', '-n', '-l', '-P', '-f', path.join(this.dir, `${node}.conf`), '-p', path.join(this.dir, `${node}.pid`), '-r', path.join(this.dir, `${node}-vrrp.pid`)];
    this.directors.set(node, this.net.spawn(node, args[0] as string, args.slice(1)));
  }

  private stopDirector(node: string, signal: 'SIGKILL' | 'SIGTERM'): void {
    const child = this.directors.get(node);
    this.directors.delete(node);
    if (child?.pid === undefined || child.exitCode !== null) return;
    // kill -9 takes the whole group (keepalived's VRRP child too), as a dead host would.
    process.kill(signal === 'SIGKILL' ? -child.pid : child.pid, signal);
  }
}

const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;

/**
 * One line per setting and fault: hadirector's and keepalived's p50/max, and the ratio of
 * p50s. Each line is also passed to `progress` as soon as it is known; a pair that fails
 * is reported in its line and the others still run.
 */
export async function compareWithKeepalived(settings: readonly FailoverSetting[], runs: number, progress: (line: string) => void): Promise<string[]> {
  const why = netnsFailoverUnavailable();
  if (why !== undefined) return [`failover keepalived: not compared (${why})`];
  const lines: string[] = [];
  for (const s of settings) {
    const results = new Map<string, number[]>();
    for (const impl of ['hadirector', 'keepalived', 'mixed'] as const) {
      const pair = new Pair(impl, s);
      try {
        await pair.start();
        for (const fault of ['kill-9', 'sigterm'] as const) {
          const outages: number[] = [];
          for (let r = 0; r < runs; r++) outages.push(await pair.outage(fault));
          results.set(`${impl} ${fault}`, outages);
          progress(`failover netns advert=${s.advertMs}ms ${impl} ${fault} outages=${outages.join(',')}ms`);
        }
      } catch (err) {
        const line = `failover netns advert=${s.advertMs}ms ${impl} failed: ${(err as Error).message}`;
        progress(line);
        lines.push(line);
      } finally {
        pair.stop();
      }
    }
    for (const fault of ['kill-9', 'sigterm'] as const) {
      const theirs = results.get(`keepalived ${fault}`);
      for (const impl of ['hadirector', 'mixed'] as const) {
        const ours = results.get(`${impl} ${fault}`);
        if (ours === undefined || theirs === undefined) continue;
        const ratio = percentile(ours, 0.5) / Math.max(1, percentile(theirs, 0.5));
        const line =
          `failover netns advert=${s.advertMs}ms ${fault} runs=${runs} ${impl === 'mixed' ? 'mixed (keepalived master, hadirector backup)' : 'hadirector'} p50=${percentile(ours, 0.5)}ms max=${Math.max(...ours)}ms ` +
          `keepalived p50=${percentile(theirs, 0.5)}ms max=${Math.max(...theirs)}ms ratio=${ratio.toFixed(2)}`;
        progress(line);
        lines.push(line);
      }
    }
  }
  return lines;
}
