// `npm run bench -- dataplane`: requests per second and p99 latency through hadirector's
// userspace data plane and through haproxy (tcp mode, Debian's) to the same two nginx
// real servers, in one run: with keep-alive, and with a new connection per request.
// Both balancers get one thread (Node's event loop is one); wrk and nginx share the rest.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { measureKernelPlane } from './dataplane-netns';
import type { BenchOptions, Benchmark } from './registry';

const tools = ['wrk', 'haproxy', 'nginx'] as const;
const base = '127.0.88';
const nginxPorts = [18101, 18102];
const haproxyPort = 18110;
const hadirectorPort = 18120;

export function which(tool: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/bin', '/usr/local/sbin']) {
    const file = path.join(dir, tool);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

export function missingTools(): string[] {
  return tools.filter((t) => which(t) === undefined);
}

function waitPort(host: string, port: number, deadlineMs = 10_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const s = net.connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > until) reject(new Error(`nothing listens on ${host}:${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

function start(program: string, args: string[], log: string): ChildProcess {
  const out = fs.openSync(log, 'a');
  return spawn(program, args, { stdio: ['ignore', out, out] });
}

export interface WrkResult {
  readonly rps: number;
  readonly p99Ms: number;
}

function latencyMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (m === null) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

/** wrk for SECONDS with CONNECTIONS (each request on a new connection with closeEach), run under `wrap` (e.g. ip netns exec NS). */
export function wrk(url: string, seconds: number, connections: number, closeEach: boolean, wrap: readonly string[] = []): WrkResult {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...(closeEach ? ['-H', 'Connection: close'] : []), url];
  const argv = [...wrap, which('wrk') as string, ...args];
  const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  const p99 = /^\s+99%\s+(\S+)/m.exec(r.stdout);
  if (rps === null || p99 === null) throw new Error(`wrk ${args.join(' ')}: unexpected output:\n${r.stdout}${r.stderr}`);
  return { rps: Number(rps[1]), p99Ms: latencyMs(p99[1] as string) };
}

/** One nginx worker with its files in `dir`, serving the given `server { }` blocks. */
export const nginxConf = (dir: string, servers: readonly string[]): string => `
worker_processes 1;
error_log ${dir}/nginx-error.log;
pid ${dir}/nginx.pid;
${process.getuid?.() === 0 ? 'user root;' : ''}
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${servers.map((server) => `  ${server}`).join('\n')}
}
`;

/** haproxy in tcp mode, one thread, round robin from `bind` (ADDRESS:PORT) over the servers (ADDRESS:PORT each). */
export const haproxyConf = (bind: string, servers: readonly string[]): string => `
global
  nbthread 1
  maxconn 8000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend vip
  bind ${bind}
  default_backend web
backend web
  balance roundrobin
${servers.map((server, i) => `  server rs${i + 1} ${server}`).join('\n')}
`;

const hadirectorConf = (): string => `
virtual_server ${base}.10 ${hadirectorPort} {
    lb_algo rr
    lb_kind NAT
    protocol TCP
${nginxPorts.map((p, i) => `    real_server ${base}.${i + 1} ${p} {\n        weight 1\n    }`).join('\n')}
}
`;

async function measure(options: BenchOptions): Promise<string[]> {
  const missing = missingTools();
  if (missing.length > 0) return [`dataplane skipped: ${missing.join(', ')} not installed (apt-get install ${missing.join(' ')})`];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-bench-'));
  fs.chmodSync(dir, 0o755);
  const log = path.join(dir, 'bench.log');
  const children: ChildProcess[] = [];
  try {
    const servers = nginxPorts.map((p, i) => `server { listen ${base}.${i + 1}:${p}; location / { return 200 "real server ${i + 1}\\n"; } }`);
    fs.writeFileSync(path.join(dir, 'nginx.conf'), nginxConf(dir, servers));
    fs.writeFileSync(path.join(dir, 'haproxy.cfg'), haproxyConf(`${base}.10:${haproxyPort}`, nginxPorts.map((p, i) => `${base}.${i + 1}:${p}`)));
    fs.writeFileSync(path.join(dir, 'hadirector.conf'), hadirectorConf());
    children.push(start(which('nginx') as string, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], log));
    children.push(start(which('haproxy') as string, ['-db', '-f', path.join(dir, 'haproxy.cfg')], log));
    const bin = path.join(__dirname, '..', '..', 'bin', 'hadirector');
    children.push(start(bin, ['--log-level', 'warn', 'run', '-f', path.join(dir, 'hadirector.conf'), '--node', 'bench', '--control', path.join(dir, 'control.sock'), '--pid-file', path.join(dir, 'pid'), '--drain', '0'], log));
    for (const [i, p] of nginxPorts.entries()) await waitPort(`${base}.${i + 1}`, p);
    await waitPort(`${base}.10`, haproxyPort);
    await waitPort(`${base}.10`, hadirectorPort);
    // The balancers share two cores with wrk and nginx, and neighbours on the host come
    // and go: short runs alternate, and each figure is a median over the pairs.
    const seconds = options.smoke ? 1 : 4;
    const pairs = options.smoke ? 1 : 5;
    const connections = options.smoke ? 4 : 50;
    const lines: string[] = [];
    for (const closeEach of [false, true]) {
      const mode = closeEach ? 'new-connection' : 'keep-alive';
      wrk(`http://${base}.10:${haproxyPort}/`, 1, connections, closeEach);
      wrk(`http://${base}.10:${hadirectorPort}/`, 1, connections, closeEach);
      const haproxy: WrkResult[] = [];
      const ours: WrkResult[] = [];
      for (let i = 0; i < pairs; i++) {
        haproxy.push(wrk(`http://${base}.10:${haproxyPort}/`, seconds, connections, closeEach));
        ours.push(wrk(`http://${base}.10:${hadirectorPort}/`, seconds, connections, closeEach));
      }
      const ratios = ours.map((r, i) => r.rps / (haproxy[i] as WrkResult).rps);
      lines.push(
        `dataplane ${mode} connections=${connections} runs=${pairs}x${seconds}s haproxy=${median(haproxy.map((r) => r.rps)).toFixed(0)} req/s p99=${median(haproxy.map((r) => r.p99Ms)).toFixed(2)}ms ` +
          `hadirector=${median(ours.map((r) => r.rps)).toFixed(0)} req/s p99=${median(ours.map((r) => r.p99Ms)).toFixed(2)}ms ` +
          `ratio=${median(ratios).toFixed(2)} (pairs ${ratios.map((r) => r.toFixed(2)).join(' ')})`,
      );
    }
    return lines;
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

export const dataplaneBench: Benchmark = {
  name: 'dataplane',
  // The userspace relay beside haproxy on loopback, then (as root) the kernel plane in namespaces.
  run: async (options) => [...(await measure(options)), ...(await measureKernelPlane(options))],
};
