// The embedded lab: the whole cluster of a configuration on loopback, without root
// (loopback-cluster.ts), and a client that probes each VIP. It prints a status line per
// node and per VIP every second, and stops everything on Ctrl-C (or after --duration).
import dgram from 'node:dgram';
import http from 'node:http';
import path from 'node:path';
import { controlRequest } from '../director/control-client';
import type { SyncStatus } from '../director/cluster-sync';
import { describeCopy } from '../sync/endpoint';
import { LoopbackCluster } from './loopback-cluster';

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

/** One datagram to a UDP VIP: the real server's answer, or why none came. */
function udpAsk(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = dgram.createSocket('udp4');
    const done = (text: string): void => {
      clearTimeout(timer);
      socket.close();
      resolve(text);
    };
    const timer = setTimeout(() => done('DOWN: no answer'), 500);
    socket.on('message', (msg) => done(`${msg.toString('utf8').replace(/ #\d+$/, '')} (${Date.now() - started} ms)`));
    socket.on('error', (err) => done(`DOWN: ${err.message}`));
    socket.send('#1', port, host);
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

export async function runLab(o: LabOptions): Promise<number> {
  const cluster = LoopbackCluster.of(path.resolve(o.cwd, o.file));
  if (!(cluster instanceof LoopbackCluster)) {
    o.out(`hadirector lab: ${cluster.problem}\n`);
    return cluster.exitCode;
  }
  try {
    await cluster.start();
    o.out(`lab: ${cluster.nodes.length} nodes (${cluster.nodes.join(', ')}), ${cluster.reals.size} real servers, ${cluster.vips.size} virtual services; logs and control sockets in ${cluster.dir}; Ctrl-C stops\n`);
    const until = o.durationS === undefined ? Infinity : Date.now() + o.durationS * 1000;
    let stop = false;
    void o.interrupted.then(() => (stop = true));
    while (!stop && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      // Ctrl-C reached the nodes too: a round now would only find them gone.
      if (stop) break;
      const lines = await Promise.all(cluster.nodes.map((n) => nodeLine(n, cluster.socket(n))));
      for (const [name, v] of cluster.vips) lines.push(`VIP ${name}${v.udp === true ? ' UDP' : ''}: ${v.udp === true ? await udpAsk(v.host, v.port) : await get(v.host, v.port)}`);
      o.out(`--- ${new Date().toISOString()}\n${lines.join('\n')}\n`);
    }
    return 0;
  } finally {
    await cluster.stop();
    o.out(`lab: stopped; the nodes' logs stay in ${cluster.dir}\n`);
  }
}
