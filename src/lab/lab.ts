// The embedded lab: the whole cluster of a configuration on loopback, without root
// (loopback-cluster.ts), and a client that probes each VIP. It prints a status line per
// node and per VIP every second, and stops everything on Ctrl-C (or after --duration).
// lab-netns.ts runs the same rounds over the cluster in network namespaces (root).
import path from 'node:path';
import { controlRequest } from '../director/control-client';
import type { SyncStatus } from '../director/cluster-sync';
import { describeCopy } from '../sync/endpoint';
import { LoopbackCluster } from './loopback-cluster';
import { httpAsk, udpAsk } from './vip-probe';

export interface LabOptions {
  readonly file: string;
  readonly cwd: string;
  /** Stop by itself after this long; run until interrupted when absent. */
  readonly durationS?: number;
  readonly out: (text: string) => void;
  /** Resolves when the operator asks to stop (Ctrl-C). */
  readonly interrupted: Promise<void>;
}

const roundEveryMs = 1000;

interface NodeStatus {
  dataPlane?: string;
  host?: { colour: string; fault: boolean; reasons: string[]; heldUntil?: string; facts: Array<{ fact: string; colour?: string; value?: number }> };
  cluster?: { view: { id: number; members: string[]; quorate: boolean; dc?: string }; deposed?: string };
  vrrp?: Array<{ instance: string; state: string; gate: { open: boolean; reason: string } }>;
  fencing?: { pending: string[]; fenced: string[] };
  connectionEntries?: number;
  sync?: SyncStatus;
}

/** A node's status line; with `plane`, the data plane a director forwards with. */
async function nodeLine(name: string, socket: string, plane: boolean): Promise<string> {
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
    // A witness forwards nothing, whatever plane it would have chosen.
    const dataPlane = plane && s.dataPlane !== undefined && (s.vrrp ?? []).length > 0 ? ` | ${s.dataPlane} plane` : '';
    return `${name}: ${view}${vrrp !== '' ? ` | ${vrrp}` : ''}${fencing}${dataPlane}${hostMark(s.host)} | ${s.connectionEntries ?? 0} connection entries${copies !== '' ? ` | ${copies}` : ''}`;
  } catch {
    return `${name}: not answering`;
  }
}

/** A host that is not green, or still held after being red: `| host RED (memory 95)`; nothing for a green one. */
export function hostMark(host: NodeStatus['host']): string {
  if (host === undefined || (host.colour === 'green' && host.heldUntil === undefined)) return '';
  const off = host.facts.filter((f) => f.colour !== undefined && f.colour !== 'green').map((f) => `${f.fact} ${f.colour}${f.value !== undefined ? ` ${Math.round(f.value)}` : ''}`);
  const held = host.heldUntil !== undefined ? `, held until ${host.heldUntil.slice(11, 19)}` : '';
  return ` | host ${host.colour.toUpperCase()}${off.length > 0 ? ` (${off.join(', ')})` : ''}${held}`;
}

/** What the status rounds show of a running lab: its nodes, and a line per virtual service. */
export interface LabRounds {
  readonly nodes: readonly string[];
  socket(node: string): string;
  /** Show each node's data plane. */
  readonly plane: boolean;
  /** Each virtual service asked once: `VIP NAME...: answer`. */
  vipLines(): Promise<string[]>;
}

/** Every second, until interrupted or past the duration: a line per node and per virtual service. */
export async function statusRounds(o: LabOptions, lab: LabRounds): Promise<void> {
  const until = o.durationS === undefined ? Infinity : Date.now() + o.durationS * 1000;
  let stop = false;
  void o.interrupted.then(() => (stop = true));
  while (!stop && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, roundEveryMs));
    // Ctrl-C reached the nodes too: a round now would only find them gone.
    if (stop) break;
    const lines = await Promise.all(lab.nodes.map((n) => nodeLine(n, lab.socket(n), lab.plane)));
    lines.push(...(await lab.vipLines()));
    o.out(`--- ${new Date().toISOString()}\n${lines.join('\n')}\n`);
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
    const vipLines = async (): Promise<string[]> => {
      const lines: string[] = [];
      for (const [name, v] of cluster.vips) lines.push(`VIP ${name}${v.udp === true ? ' UDP' : ''}: ${v.udp === true ? await udpAsk(v.host, v.port) : await httpAsk(v.host, v.port)}`);
      return lines;
    };
    await statusRounds(o, { nodes: cluster.nodes, socket: (n) => cluster.socket(n), plane: false, vipLines });
    return 0;
  } finally {
    await cluster.stop();
    o.out(`lab: stopped; the nodes' logs stay in ${cluster.dir}\n`);
  }
}
