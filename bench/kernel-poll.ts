// `npm run bench -- kernel-poll [N]` (root, nft, conntrack): what one read of the kernel
// plane's sessions costs when the tables are full. In a namespace of its own, a DR
// service's flow map gets N flows and conntrack N NAT connections of a NAT service; the
// plane's poll (the director's, every second) reads both into the engine's table. It
// prints the wall time of a first poll (every entry new to the table) and of a second
// (every entry known, its timer set again), the longest the event loop waited during
// each, and the heap the table then holds.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { VirtualClock } from '../src/common/clock';
import { runConntrack } from '../src/common/conntrack';
import { nftBatch, nftJson, nftText, nftUnavailable } from '../src/common/nft';
import { SeededRng } from '../src/common/rng';
import { parseIpAddr, type IpAddr } from '../src/ipvs/address';
import { IpvsEngine } from '../src/ipvs/engine';
import { KernelPlane } from '../src/ipvs/dataplane/nftables/kernel-plane';
import { noSchedulerFlags } from '../src/ipvs/schedulers/scheduler';
import type { Benchmark, BenchOptions } from './registry';

const ns = 'hadirector-bench-poll';
const vip = '10.229.0.100';
const servers = ['10.229.0.11', '10.229.0.12', '10.229.0.13'];
const batchElements = 10_000;

/** The Nth client's address and port: 60 000 ports an address. */
function client(n: number): { address: string; port: number } {
  const a = Math.floor(n / 60_000);
  return { address: `198.18.${Math.floor(a / 250)}.${(a % 250) + 1}`, port: 1024 + (n % 60_000) };
}

async function measure(options: BenchOptions): Promise<string[]> {
  const why = nftUnavailable('the kernel plane is nftables rules');
  if (why !== undefined) return [`kernel-poll: skipped (${why})`];
  const n = options.smoke ? 1000 : Number(options.args?.[0] ?? 100_000);
  const wrap = ['ip', 'netns', 'exec', ns];
  execFileSync('ip', ['netns', 'add', ns]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-bench-poll-'));
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    const engine = new IpvsEngine({ clock: new VirtualClock(), rng: new SeededRng(1) });
    const ip = (text: string): IpAddr => parseIpAddr(text) as IpAddr;
    const service = (port: number, forward: 'route' | 'masq'): void => {
      const svc = engine.addService({ kind: 'address', protocol: 'tcp', address: ip(vip), port }, { scheduler: 'rr', flags: noSchedulerFlags, onePacket: false });
      for (const s of servers) engine.addDestination(svc, ip(s), forward === 'route' ? port : 8080, { forward, weight: 1, upperThreshold: 0, lowerThreshold: 0 });
    };
    service(80, 'route');
    service(8080, 'masq');
    const plane = new KernelPlane({
      engine,
      apply: (batch) => nftBatch(batch, wrap),
      listMap: (family, kind, name) => nftText(['list', kind, family, 'hadirector', name], wrap),
      conntrack: (args) => runConntrack(args, wrap),
      events: { warn: () => undefined, info: () => undefined },
      hashSeed: 1,
      shapeOf: (svc) => (svc.key.kind === 'address' && svc.key.port === 80 ? { method: 'dr', device: 'eth0' } : { method: 'nat' }),
    });
    const problems = await plane.reconcile();
    if (problems.length > 0) throw new Error(problems.join('; '));
    const listed = JSON.stringify(await nftJson(['list', 'table', 'netdev', 'hadirector'], wrap));
    const flowMap = /"name": ?"(d_v\d+_f900)"/.exec(listed)?.[1];
    if (flowMap === undefined) throw new Error('no flow map in the rendered table');
    // N DR flows, spread over the servers' marks (the newest server has mark 1).
    for (let i = 0; i < n; i += batchElements) {
      const elements = Array.from({ length: Math.min(batchElements, n - i) }, (_, k) => {
        const c = client(i + k);
        return `${c.address} . ${c.port} : 0x0000000${((i + k) % 3) + 1}`;
      });
      const refused = await nftBatch(`add element netdev hadirector ${flowMap} { ${elements.join(', ')} }\n`, wrap);
      if (refused !== undefined) throw new Error(refused.slice(0, 300));
    }
    // N NAT connections in conntrack, each DNATed to a server.
    const lines = Array.from({ length: n }, (_, k) => {
      const c = client(k);
      return `-I -p tcp -s ${c.address} -d ${vip} --sport ${c.port} --dport 8080 --state ESTABLISHED -u SEEN_REPLY,ASSURED -t 900 --dst-nat ${servers[k % 3]}:8080`;
    });
    const file = path.join(dir, 'batch');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const written = await runConntrack(['-R', file], wrap);
    if (written.code !== 0) throw new Error(`conntrack -R: ${written.stderr.trim().split('\n').at(-1)}`);
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    /** The wall time of a poll, and the longest the event loop (heartbeats, VRRP) waited meanwhile. */
    const timed = async (): Promise<{ ms: number; seen: number; blockedMs: number }> => {
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      const started = performance.now();
      const seen = await plane.pollSessions();
      delay.disable();
      return { ms: performance.now() - started, seen, blockedMs: delay.max / 1e6 };
    };
    const first = await timed();
    // The plane skips the polls due while it rests after a long one: ask until one runs.
    let second = await timed();
    for (let i = 0; second.seen === 0 && i < 1000; i++) second = await timed();
    global.gc?.();
    const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
    await plane.close(0);
    return [
      `kernel-poll flows=${n} nat=${n} first poll ${first.ms.toFixed(0)} ms (${first.seen} entries, ${((first.ms / (2 * n)) * 1000).toFixed(1)} us each, event loop blocked at most ${first.blockedMs.toFixed(0)} ms), ` +
        `second ${second.ms.toFixed(0)} ms (blocked at most ${second.blockedMs.toFixed(0)} ms); table ${engine.conns.size} entries, heap ${heapMiB >= 0 ? '+' : ''}${heapMiB.toFixed(1)} MiB`,
    ];
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const kernelPollBench: Benchmark = { name: 'kernel-poll', run: measure };
