// The lab in network namespaces (root): namespaces of its own, each with an `eth0`
// on one bridge (in a hub namespace of its own), on a private /24. Nothing outside
// the namespaces is touched; destroy() removes them all.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

/**
 * A client for `node -e` inside a namespace: GET http://HOST:PORT/ every EVERY ms, at
 * most MAX times, each try given up after TIMEOUT ms (300 if not given), one line per
 * try: `ok|fail STARTED_MS ENDED_MS` (`ok` only for a 200).
 */
export const httpProber = `
const http = require('node:http');
const [host, port, every, max, timeout] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5] ?? 300)];
let n = 0;
const next = (started) => setTimeout(tick, Math.max(0, every - (Date.now() - started)));
function tick() {
  if (n++ >= max) return;
  const started = Date.now();
  const req = http.get({ host, port, path: '/', timeout, agent: false }, (res) => {
    res.resume();
    res.on('end', () => { process.stdout.write((res.statusCode === 200 ? 'ok ' : 'fail ') + started + ' ' + Date.now() + '\\n'); next(started); });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => { process.stdout.write('fail ' + started + ' ' + Date.now() + '\\n'); next(started); });
}
tick();
`;

/** Reads httpProber's lines from a child's stdout into `tries`. */
export function collectTries(child: ChildProcess, tries: Array<{ ok: boolean; startedMs: number; endedMs: number }>): void {
  let pending = '';
  child.stdout?.on('data', (d: Buffer) => {
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const [verdict, started, ended] = line.split(' ');
      tries.push({ ok: verdict === 'ok', startedMs: Number(started), endedMs: Number(ended) });
    }
  });
}

/** An HTTP server for `node -e`: answers 200 `rs` on ADDRESS:PORT. */
export const httpResponder = `require('node:http').createServer((q, s) => s.end('rs\\n')).listen(Number(process.argv[2]), process.argv[1]);`;

export interface PairSettings {
  readonly clusterId: string;
  readonly subnet: string;
  readonly virtualRouterId: number;
  readonly heartbeatMs: number;
  readonly deadtimeMs: number;
  readonly initdeadMs?: number;
  readonly advertMs: number;
  /** An IPv6 VIP (/64) beside the IPv4 one. */
  readonly vip6?: string;
}

/**
 * A director pair on the namespace bridge: d1 (SUBNET.1, priority 150) and d2 (SUBNET.2),
 * two_node, the linux VIP driver, VIP SUBNET.100/24 (and optionally an IPv6 one) on eth0
 * serving port 80 from the real server SUBNET.4:8080.
 */
export function pairConfig(s: PairSettings): string {
  return `
global_defs {
    # The real server shares the client's subnet: the relay answers the client itself.
    data_plane userspace
}
cluster {
    cluster_id ${s.clusterId}
    auth_key_file cluster.key
    heartbeat_interval ${s.heartbeatMs}ms
    deadtime ${s.deadtimeMs}ms
${s.initdeadMs !== undefined ? `    initdead ${s.initdeadMs}ms\n` : ''}    vip_driver linux
    quorum {
        two_node
    }
    fencing {
        mode self_release
    }
    node d1 {
        address ${s.subnet}.1
        priority 150
    }
    node d2 {
        address ${s.subnet}.2
    }
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id ${s.virtualRouterId}
    version 3
@d1 priority 150
@d2 priority 100
    advert_int ${s.advertMs / 1000}
    virtual_ipaddress {
        ${s.subnet}.100/24
${s.vip6 !== undefined ? `        ${s.vip6}/64
` : ''}    }
}
virtual_server ${s.subnet}.100 80 {
    protocol TCP
    lb_algo rr
    lb_kind NAT
    real_server ${s.subnet}.4 8080 {
        weight 1
    }
}
`;
}

const outputTailChars = 8192;
const ipPaths = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'];
const arpingPaths = ['/usr/sbin/arping', '/usr/bin/arping', '/sbin/arping', '/bin/arping'];
const ndptoolPaths = ['/usr/bin/ndptool', '/usr/sbin/ndptool'];

/** Why namespaces cannot be used here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (it creates network namespaces)';
  if (!ipPaths.some((p) => fs.existsSync(p))) return 'needs ip (apt-get install iproute2)';
  if (!arpingPaths.some((p) => fs.existsSync(p))) return 'needs arping (apt-get install iputils-arping)';
  if (!ndptoolPaths.some((p) => fs.existsSync(p))) return 'needs ndptool (apt-get install libndp-tools)';
  try {
    const probe = `hdprobe${process.pid}`;
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
  } catch (err) {
    return `cannot create a network namespace: ${(err as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

export class NetnsLab {
  /** What every namespace's name begins with: `PREFIX-HOST`. */
  readonly prefix = `hd${process.pid % 100_000}`;
  private readonly hosts = new Map<string, number>();
  private readonly children: ChildProcess[] = [];
  private readonly tails = new WeakMap<ChildProcess, string>();

  constructor(readonly subnet: string) {}

  /** The namespace's name on this machine. */
  ns(host: string): string {
    return `${this.prefix}-${host}`;
  }

  /** Every host the lab made (not its hub). */
  hostNames(): string[] {
    return [...this.hosts.keys()];
  }

  address(host: string): string {
    const n = this.hosts.get(host);
    if (n === undefined) throw new Error(`no host ${host}`);
    return `${this.subnet}.${n}`;
  }

  /** One namespace per host, `eth0` on the bridge with SUBNET.N/24, lo up. */
  create(hosts: Record<string, number>): void {
    const hub = this.ns('hub');
    ip('netns', 'add', hub);
    ip('-n', hub, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', hub, 'link', 'set', 'br0', 'up');
    for (const [host, n] of Object.entries(hosts)) {
      this.hosts.set(host, n);
      const ns = this.ns(host);
      ip('netns', 'add', ns);
      ip('-n', hub, 'link', 'add', `v${n}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('-n', hub, 'link', 'set', `v${n}`, 'master', 'br0', 'up');
      ip('-n', ns, 'addr', 'add', `${this.subnet}.${n}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
  }

  /** Starts a program in a host's namespace; its output is drained (a full pipe would stall it) and its tail kept. */
  spawn(host: string, program: string, args: readonly string[], options: { stdin?: boolean } = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns(host), program, ...args], { stdio: [options.stdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: true });
    this.children.push(child);
    const keep = (d: Buffer): void => {
      const tail = (this.tails.get(child) ?? '') + d.toString();
      this.tails.set(child, tail.length > outputTailChars ? tail.slice(-outputTailChars) : tail);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    return child;
  }

  /** The last few kilobytes a spawned program wrote. */
  outputOf(child: ChildProcess): string {
    return this.tails.get(child) ?? '';
  }

  mac(host: string): string {
    const m = /link\/ether ([0-9a-f:]{17})/.exec(ip('-n', this.ns(host), 'link', 'show', 'eth0'));
    if (m === null) throw new Error(`no MAC on ${host} eth0`);
    return m[1] as string;
  }

  /** The MAC a host's neighbour table holds for an address, if any. */
  neighbour(host: string, address: string): string | undefined {
    return /lladdr ([0-9a-f:]{17})/.exec(ip('-n', this.ns(host), 'neigh', 'show', address))?.[1];
  }

  /** The addresses on a host's interface (eth0 unless named), as ADDRESS/PREFIX; none when there is no such interface. */
  addresses(host: string, family: 4 | 6 = 4, dev = 'eth0'): string[] {
    const shown = spawnSync('ip', ['-n', this.ns(host), `-${family}`, '-o', 'addr', 'show', 'dev', dev], { encoding: 'utf8' });
    return shown.status === 0 ? [...shown.stdout.matchAll(/inet6? (\S+)/g)].map((m) => m[1] as string) : [];
  }

  /** Sets a host's neighbour entry by hand, as traffic to the address would have. */
  setNeighbour(host: string, address: string, mac: string): void {
    ip('-n', this.ns(host), 'neigh', 'replace', address, 'lladdr', mac, 'dev', 'eth0', 'nud', 'stale');
  }

  sysctl(host: string, key: string, value: string): void {
    execFileSync('ip', ['netns', 'exec', this.ns(host), 'sysctl', '-q', '-w', `${key}=${value}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  /** A host as an LVS director on one network with its clients and real servers: it forwards, and sends no ICMP redirects. */
  lvsDirector(host: string): void {
    this.sysctl(host, 'net.ipv4.ip_forward', '1');
    for (const dev of ['all', 'eth0']) this.sysctl(host, `net.ipv4.conf.${dev}.send_redirects`, '0');
  }

  /** A host as an LVS-DR real server: the VIPs on its lo, and no ARP answer for them. */
  drRealServer(host: string, vips: Iterable<string>): void {
    for (const vip of vips) ip('-n', this.ns(host), 'addr', 'add', `${vip}/32`, 'dev', 'lo');
    for (const dev of ['all', 'eth0']) {
      this.sysctl(host, `net.ipv4.conf.${dev}.arp_ignore`, '1');
      this.sysctl(host, `net.ipv4.conf.${dev}.arp_announce`, '2');
    }
  }

  link(host: string, state: 'up' | 'down'): void {
    ip('-n', this.ns(host), 'link', 'set', 'eth0', state);
  }

  destroy(): void {
    for (const child of this.children) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const host of [...this.hosts.keys(), 'hub']) {
      try {
        ip('netns', 'del', this.ns(host));
      } catch {
        // never created
      }
    }
  }
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
