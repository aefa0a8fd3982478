// The embedded lab: the whole cluster of a configuration on loopback, without root.
// Every cluster node runs as its own `hadirector run` process; the real servers of the
// virtual servers are small HTTP servers in this process; a client probes each VIP. It
// prints a status line per node and per VIP every second, and stops everything on
// Ctrl-C (or after --duration).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/load';
import type { HadConfig } from '../config/model';
import { pidFileFor } from '../fencing/agents/signal-agent';
import { controlRequest } from '../director/control-client';
import type { SyncStatus } from '../director/cluster-sync';
import { describeCopy } from '../sync/endpoint';

export interface LabOptions {
  readonly file: string;
  readonly cwd: string;
  /** Stop by itself after this long; run until interrupted when absent. */
  readonly durationS?: number;
  readonly out: (text: string) => void;
  /** Resolves when the operator asks to stop (Ctrl-C). */
  readonly interrupted: Promise<void>;
}

interface NodeStatus {
  cluster?: { view: { id: number; members: string[]; quorate: boolean; dc?: string }; deposed?: string };
  vrrp?: Array<{ instance: string; state: string; gate: { open: boolean; reason: string } }>;
  fencing?: { pending: string[]; fenced: string[] };
  connectionEntries?: number;
  sync?: SyncStatus;
}

const bin = path.resolve(__dirname, '..', '..', '..', 'bin', 'hadirector');

function get(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const started = Date.now();
    const req = http.get({ host, port, path: '/', agent: false, timeout: 500 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(`${body.trim()} (${Date.now() - started} ms)`));
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', (err) => resolve(`DOWN: ${err.message}`));
  });
}

async function nodeLine(name: string, socket: string): Promise<string> {
  try {
    const r = await controlRequest(socket, { op: 'status' }, 1000);
    if (!r.ok) return `${name}: ${r.error}`;
    const s = r.result as NodeStatus;
    const v = s.cluster?.view;
    const view = v === undefined ? 'no cluster' : `view ${v.id} [${v.members.join(',')}] ${v.quorate ? 'quorate' : 'NO QUORUM'}, DC ${v.dc ?? '-'}${s.cluster?.deposed !== undefined ? `, STANDING DOWN (${s.cluster.deposed})` : ''}`;
    const vrrp = (s.vrrp ?? []).map((i) => `${i.instance.split(' ')[0]} ${i.state.toUpperCase()}${i.state === 'backup' && !i.gate.open ? ` (gate: ${i.gate.reason})` : ''}`).join(', ');
    const f = s.fencing;
    const fencing = f === undefined || f.pending.length + f.fenced.length === 0 ? '' : ` | ${[...f.pending.map((n) => `fencing ${n}`), ...f.fenced.map((n) => `${n} fenced`)].join(', ')}`;
    const copies = (s.sync?.copies ?? []).map((c) => `copy of ${c.peer}: ${describeCopy(c)}`).join(', ');
    return `${name}: ${view}${vrrp !== '' ? ` | ${vrrp}` : ''}${fencing} | ${s.connectionEntries ?? 0} connection entries${copies !== '' ? ` | ${copies}` : ''}`;
  } catch {
    return `${name}: not answering`;
  }
}

/** Where a `signal` fence device looks for the node's pid: the lab writes it there, so fencing kills for real. */
function signalPidFile(config: HadConfig, node: string): string | undefined {
  const device = config.cluster?.fencing.devices.find((d) => d.agent === 'signal' && d.options['pid_file'] !== undefined && (d.hosts.length === 0 || d.hosts.includes(node)));
  const template = device?.options['pid_file'];
  return template === undefined ? undefined : pidFileFor(template, node);
}

export async function runLab(o: LabOptions): Promise<number> {
  const file = path.resolve(o.cwd, o.file);
  const first = loadConfig(file, { node: 'lab' });
  const nodes = first.config.cluster?.nodes.map((n) => n.name) ?? [];
  if (nodes.length === 0) {
    o.out(`hadirector lab: ${o.file} has no cluster block: nothing to run as a lab\n`);
    return 2;
  }
  const configs = nodes.map((n) => loadConfig(file, { node: n }));
  const broken = configs.find((c) => c.errorCount > 0);
  if (broken !== undefined) {
    o.out(`hadirector lab: ${o.file} has errors for node ${broken.config.node}: run hadirector check-config -f ${o.file}\n`);
    return 1;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-lab-'));
  const servers: http.Server[] = [];
  const children = new Map<string, ChildProcess>();
  const vips = new Map<string, { host: string; port: number }>();
  try {
    // The real servers, each once.
    const reals = new Map<string, { host: string; port: number }>();
    for (const c of configs) {
      for (const vs of c.config.virtualServers) {
        if (vs.key.kind === 'address') vips.set(`${vs.key.address}:${vs.key.port}`, { host: vs.key.address, port: vs.key.port });
        for (const rs of vs.realServers) {
          const port = rs.port ?? (vs.key.kind === 'address' ? vs.key.port : 80);
          reals.set(`${rs.address}:${port}`, { host: rs.address, port });
        }
      }
    }
    for (const [name, { host, port }] of reals) {
      const server = http.createServer((req, res) => res.end(req.url === '/health' ? 'ok\n' : `real server ${name}\n`));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      servers.push(server);
    }
    for (const node of nodes) {
      const log = fs.openSync(path.join(dir, `${node}.log`), 'a');
      const pidFile = signalPidFile(first.config, node) ?? path.join(dir, `${node}.pid`);
      fs.mkdirSync(path.dirname(pidFile), { recursive: true });
      const child = spawn(process.execPath, [bin, '--log-level', 'warn', 'run', '-f', file, '--node', node, '--control', path.join(dir, `${node}.sock`), '--pid-file', pidFile, '--drain', '1'], { stdio: ['ignore', log, log] });
      children.set(node, child);
    }
    o.out(`lab: ${nodes.length} nodes (${nodes.join(', ')}), ${reals.size} real servers, ${vips.size} virtual services; logs and control sockets in ${dir}; Ctrl-C stops\n`);
    const until = o.durationS === undefined ? Infinity : Date.now() + o.durationS * 1000;
    let stop = false;
    void o.interrupted.then(() => (stop = true));
    while (!stop && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const lines = await Promise.all(nodes.map((n) => nodeLine(n, path.join(dir, `${n}.sock`))));
      for (const [name, v] of vips) lines.push(`VIP ${name}: ${await get(v.host, v.port)}`);
      o.out(`--- ${new Date().toISOString()}\n${lines.join('\n')}\n`);
    }
    return 0;
  } finally {
    for (const child of children.values()) child.kill('SIGTERM');
    const killer = setTimeout(() => {
      for (const child of children.values()) if (child.exitCode === null) child.kill('SIGKILL');
    }, 5000);
    await Promise.all([...children.values()].map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((resolve) => c.once('exit', resolve)))));
    clearTimeout(killer);
    for (const s of servers) s.close();
    o.out(`lab: stopped; the nodes' logs stay in ${dir}\n`);
  }
}
