// The kernel half of `npm run bench -- dataplane` (root, namespaces, nft, wrk, haproxy,
// nginx): a director, two nginx real servers and clients in namespaces of their own. wrk
// runs through the director four ways in one run, short runs alternating: hadirector's
// LVS-NAT and LVS-DR rules (rendered by the kernel plane's own code), raw nftables rules
// of the same shape written by hand (`dnat to numgen` for NAT; for DR, `fwd` by a jhash of
// the flow, stateless, without the flow map, marks and counters hadirector adds), and
// haproxy (tcp mode) on the director. The ratio hadirector/raw is what its rules cost.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VirtualClock } from '../src/common/clock';
import { nftUnavailable } from '../src/common/nft';
import { SeededRng } from '../src/common/rng';
import { parseIpAddr, type IpAddr } from '../src/ipvs/address';
import { IpvsEngine } from '../src/ipvs/engine';
import { DestinationMarks } from '../src/ipvs/dataplane/nftables/marks';
import { renderRuleset } from '../src/ipvs/dataplane/nftables/ruleset';
import { noSchedulerFlags } from '../src/ipvs/schedulers/scheduler';
import { DataplaneNetns } from '../src/lab/dataplane-netns';
import { netnsUnavailable } from '../src/lab/netns';
import { haproxyConf, median, nginxConf, which, wrk, type WrkResult } from './dataplane';
import type { BenchOptions } from './registry';

const subnet = '10.224.0';
/** hadirector's services and the raw rules' and haproxy's, each on a port of the VIP of its own. */
const ports = { hadirectorNat: 8080, rawNat: 8081, haproxy: 8090, hadirectorDr: 80, rawDr: 81 };


/** The raw rules: the same shapes, nothing else. */
const rawRules = (vip: string, servers: readonly string[]): string => `
table ip raw_nat {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr ${vip} tcp dport ${ports.rawNat} dnat to numgen inc mod ${servers.length} map { ${servers.map((s, i) => `${i} : ${s} . 8080`).join(', ')} }
  }
}
table netdev raw_dr {
  chain ingress {
    type filter hook ingress device "eth0" priority 0; policy accept;
    ip daddr ${vip} tcp dport ${ports.rawDr} fwd ip to jhash ip saddr . tcp sport mod ${servers.length} map { ${servers.map((s, i) => `${i} : ${s}`).join(', ')} } device "eth0"
  }
}
`;

function unavailable(): string | undefined {
  const missing = ['wrk', 'haproxy', 'nginx'].filter((t) => which(t) === undefined);
  if (missing.length > 0) return `${missing.join(', ')} not installed`;
  return netnsUnavailable() ?? nftUnavailable('the kernel plane is nftables rules');
}

export async function measureKernelPlane(options: BenchOptions): Promise<string[]> {
  const why = unavailable();
  if (why !== undefined) return [`dataplane kernel skipped: ${why}`];
  const world = new DataplaneNetns(subnet);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-bench-kernel-'));
  const children: ChildProcess[] = [];
  try {
    world.start({ realServers: 2, responders: false });
    const servers = world.realServerNames.map((rs) => world.lab.address(rs));
    for (const rs of world.realServerNames) {
      const own = path.join(dir, rs);
      fs.mkdirSync(own);
      fs.writeFileSync(path.join(own, 'nginx.conf'), nginxConf(own, [`server { listen 80; listen 81; listen 8080; location / { return 200 "${rs}\\n"; } }`]));
      children.push(world.lab.spawn(rs, which('nginx') as string, ['-p', own, '-c', path.join(own, 'nginx.conf'), '-g', 'daemon off;']));
    }
    fs.writeFileSync(path.join(dir, 'haproxy.cfg'), haproxyConf(`${world.vip}:${ports.haproxy}`, servers.map((s) => `${s}:8080`)));
    children.push(world.lab.spawn('director', which('haproxy') as string, ['-db', '-f', path.join(dir, 'haproxy.cfg')]));
    const applied = await world.apply(`${hadirectorRules(world.vip, servers)}${rawRules(world.vip, servers)}`);
    if (applied !== undefined) throw new Error(`nft refused the bench's rules: ${applied}`);
    await world.realServersReady(10_000);
    const seconds = options.smoke ? 1 : 3;
    const pairs = options.smoke ? 1 : 8;
    const connections = options.smoke ? 4 : 50;
    const url = (port: number): string => `http://${world.vip}:${port}/`;
    const inNs = (client: string): string[] => ['ip', 'netns', 'exec', world.lab.ns(client)];
    const lines: string[] = [];
    for (const closeEach of [false, true]) {
      const mode = closeEach ? 'new-connection' : 'keep-alive';
      const runs = {
        nat: { client: 'natclient', ours: ports.hadirectorNat, raw: ports.rawNat },
        dr: { client: 'drclient', ours: ports.hadirectorDr, raw: ports.rawDr },
      };
      const results = { natOurs: [] as WrkResult[], natRaw: [] as WrkResult[], drOurs: [] as WrkResult[], drRaw: [] as WrkResult[], haproxy: [] as WrkResult[] };
      for (const r of Object.values(runs)) for (const port of [r.ours, r.raw]) wrk(url(port), 1, connections, closeEach, inNs(r.client));
      // Pairs alternate which half runs first, so a drift in the machine's speed falls on both alike.
      const pair = (first: () => void, second: () => void, i: number): void => (i % 2 === 0 ? (first(), second()) : (second(), first()));
      for (let i = 0; i < pairs; i++) {
        pair(() => results.natOurs.push(wrk(url(runs.nat.ours), seconds, connections, closeEach, inNs('natclient'))), () => results.natRaw.push(wrk(url(runs.nat.raw), seconds, connections, closeEach, inNs('natclient'))), i);
        pair(() => results.drOurs.push(wrk(url(runs.dr.ours), seconds, connections, closeEach, inNs('drclient'))), () => results.drRaw.push(wrk(url(runs.dr.raw), seconds, connections, closeEach, inNs('drclient'))), i);
        results.haproxy.push(wrk(url(ports.haproxy), seconds, connections, closeEach, inNs('natclient')));
      }
      const rps = (xs: WrkResult[]): string => `${median(xs.map((r) => r.rps)).toFixed(0)} req/s p99=${median(xs.map((r) => r.p99Ms)).toFixed(2)}ms`;
      const ratio = (a: WrkResult[], b: WrkResult[]): string => {
        const each = a.map((r, k) => r.rps / (b[k] as WrkResult).rps);
        return `${median(each).toFixed(2)} (pairs ${each.map((x) => x.toFixed(2)).join(' ')})`;
      };
      lines.push(
        `dataplane kernel ${mode} connections=${connections} runs=${pairs}x${seconds}s ` +
          `NAT hadirector=${rps(results.natOurs)} raw=${rps(results.natRaw)} ratio=${ratio(results.natOurs, results.natRaw)}; ` +
          `DR hadirector=${rps(results.drOurs)} raw=${rps(results.drRaw)} ratio=${ratio(results.drOurs, results.drRaw)}; ` +
          `haproxy=${rps(results.haproxy)} NAT/haproxy=${ratio(results.natOurs, results.haproxy)}`,
      );
    }
    return lines;
  } finally {
    for (const c of children) if (c.pid !== undefined && c.exitCode === null) process.kill(-c.pid, 'SIGKILL');
    world.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** hadirector's NAT and DR services over the two servers, rendered as the kernel plane renders them. */
function hadirectorRules(vip: string, servers: readonly string[]): string {
  const engine = new IpvsEngine({ clock: new VirtualClock(), rng: new SeededRng(1) });
  const ip = (text: string): IpAddr => parseIpAddr(text) as IpAddr;
  const marks = new DestinationMarks();
  const service = (port: number, method: 'nat' | 'dr', name: string) => {
    const svc = engine.addService({ kind: 'address', protocol: 'tcp', address: ip(vip), port }, { scheduler: 'rr', flags: noSchedulerFlags, onePacket: false });
    for (const s of servers) engine.addDestination(svc, ip(s), method === 'nat' ? 8080 : port, { forward: method === 'nat' ? 'masq' : 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
    return { svc, method, name, ...(method === 'dr' ? { device: 'eth0' } : {}) };
  };
  return renderRuleset({
    services: [service(ports.hadirectorNat, 'nat', 'nat'), service(ports.hadirectorDr, 'dr', 'dr')],
    markOf: (d) => marks.of(d),
    hashSeed: 1,
    flowTimeoutS: { tcp: 900, udp: 300, sctp: 900 },
  }).batch;
}
