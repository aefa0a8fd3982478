// `hadirector status` for a terminal: the director, its cluster view (members, quorum,
// DC), whether it stands down, each peer's state, round trip, clock offset and links, the
// datagrams dropped, the NTP checks, fencing (is it the DC, whom it fences or fenced),
// connection-table sync (each peer's lag, each copy), the host (its colour, each fact, the
// last sample), each VRRP instance (why it is in FAULT; its wire statistics when it runs
// VRRP on the wire), and each virtual service's quorum. `--json` prints the answer as it is.
import type { SyncStatus } from '../director/cluster-sync';
import type { HostStatus } from '../director/host-monitor';
import { describeCopy } from '../sync/endpoint';

interface LinkLike {
  link: string;
  up: boolean;
  lossRate: number;
}

interface PeerLike {
  peer: string;
  state: string;
  rttMs?: number;
  offsetMs?: number;
  skew: string;
  lastHeardAgoMs?: number;
  links: LinkLike[];
}

interface StatusLike {
  node?: string;
  pid?: number;
  uptimeS?: number;
  configFile?: string;
  connectionEntries?: number;
  vips?: string;
  cluster?: {
    view: { id: number; members: string[]; votes: number; expectedVotes: number; quorum: number; quorate: boolean; waitingForAll: boolean; dc?: string };
    settled: boolean;
    deposed?: string;
    peers: PeerLike[];
    dropped: Record<string, number>;
    accepted: number;
    ntp?: Array<{ server: string; offsetMs?: number; delayMs?: number; skew?: string; error?: string }>;
  };
  fencing?: { mode: string; leading: boolean; pending: string[]; marks: Array<{ node: string; epoch: number; state: string }> };
  sync?: SyncStatus;
  host?: HostStatus;
  vrrp?: Array<{ instance: string; faults?: string[]; stats?: Record<string, number> }>;
  vrrpSockets?: Array<{ socket: string; drops: Record<string, number> }>;
  services?: Array<{ service: string; quorum: { held: boolean; liveWeight: number; needed: number }; realServers: Array<{ server: string; up: boolean }> }>;
}

const signed = (ms: number): string => `${ms >= 0 ? '+' : ''}${ms.toFixed(0)} ms`;

function duration(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return [d > 0 ? `${d}d` : '', h > 0 ? `${h}h` : '', m > 0 ? `${m}m` : '', `${s % 60}s`].filter((x) => x !== '').join(' ');
}

export function formatStatus(value: unknown): string {
  const s = value as StatusLike;
  const lines: string[] = [];
  lines.push(`node ${s.node ?? '?'} (pid ${s.pid ?? '?'}), up ${duration(s.uptimeS ?? 0)}, ${s.connectionEntries ?? 0} connection entries${s.configFile !== undefined ? `, ${s.configFile}` : ''}`);
  const c = s.cluster;
  if (c !== undefined) {
    const v = c.view;
    const quorum = v.quorate ? 'quorate' : v.waitingForAll ? 'waiting for all nodes' : c.settled ? 'WITHOUT QUORUM' : 'starting';
    lines.push(`view ${v.id}: [${v.members.join(', ')}] ${quorum}, ${v.votes}/${v.expectedVotes} votes (quorum ${v.quorum}), DC ${v.dc ?? 'none'}`);
    if (c.deposed !== undefined) lines.push(`  STANDING DOWN: ${c.deposed} (no VIP, no fencing; hadirector fence clear, docs/fencing.md)`);
    for (const p of c.peers) {
      const parts = [p.state];
      if (p.lastHeardAgoMs !== undefined) parts.push(`heard ${p.lastHeardAgoMs.toFixed(0)} ms ago`);
      if (p.rttMs !== undefined) parts.push(`rtt ${p.rttMs.toFixed(1)} ms`);
      if (p.offsetMs !== undefined) parts.push(`clock ${signed(p.offsetMs)}${p.skew !== 'ok' ? ` (${p.skew.toUpperCase()})` : ''}`);
      const links = p.links.map((l) => `${l.link} ${l.up ? 'up' : 'DOWN'} loss ${(l.lossRate * 100).toFixed(0)}%`).join(', ');
      lines.push(`  peer ${p.peer}: ${parts.join(', ')}; ${links}`);
    }
    if (s.vips !== undefined) lines.push(`  VIPs: ${{ 'may-hold': 'may be held', 'keep-only': 'kept, none taken (no quorum, freeze)', release: 'released (no quorum, or a witness)' }[s.vips] ?? s.vips}`);
    const drops = Object.entries(c.dropped).filter(([, n]) => n > 0);
    lines.push(`  datagrams: ${c.accepted} accepted${drops.length > 0 ? `, dropped ${drops.map(([r, n]) => `${r} ${n}`).join(', ')}` : ', none dropped'}`);
    for (const n of c.ntp ?? []) {
      lines.push(n.error !== undefined ? `  ntp ${n.server}: ${n.error}` : `  ntp ${n.server}: this host ${signed(-(n.offsetMs ?? 0))}, delay ${(n.delayMs ?? 0).toFixed(1)} ms (${n.skew ?? 'ok'})`);
    }
  }
  const f = s.fencing;
  if (f !== undefined && (f.leading || f.marks.length > 0)) {
    const marks = f.marks.map((m) => `${m.node} ${m.state}`).join(', ');
    lines.push(`fencing (mode ${f.mode}): ${f.leading ? 'this node is the DC: it fences' : 'not the DC'}${marks.length > 0 ? `; ${marks}` : ''}`);
  }
  if (s.sync !== undefined) lines.push(...syncLines(s.sync));
  if (s.host !== undefined) lines.push(...hostLines(s.host));
  for (const v of s.vrrp ?? []) {
    lines.push(`vrrp ${v.instance}`);
    if (v.faults !== undefined && v.faults.length > 0) lines.push(`  FAULT: ${v.faults.join('; ')}`);
    if (v.stats !== undefined) lines.push(`  ${wireLine(v.stats)}`);
  }
  for (const sock of s.vrrpSockets ?? []) {
    const drops = Object.entries(sock.drops).filter(([, n]) => n > 0);
    if (drops.length > 0) lines.push(`vrrp socket ${sock.socket}: dropped ${drops.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  }
  for (const svc of s.services ?? []) {
    const up = svc.realServers.filter((r) => r.up).length;
    lines.push(`service ${svc.service}: ${up}/${svc.realServers.length} real servers up, live weight ${svc.quorum.liveWeight} (quorum ${svc.quorum.needed}${svc.quorum.held ? '' : ', SORRY SERVER'})`);
  }
  return `${lines.join('\n')}\n`;
}

/** keepalived's per-instance statistics, as its own names, on one line. */
const adverts = new Set(['advert_sent', 'advert_rcvd', 'become_master', 'release_master', 'pri_zero_sent', 'pri_zero_rcvd']);

function wireLine(stats: Record<string, number>): string {
  const drops = Object.entries(stats).filter(([k, n]) => !adverts.has(k) && n > 0);
  const n = (k: string) => stats[k] ?? 0;
  return `adverts sent ${n('advert_sent')}, heard ${n('advert_rcvd')}; priority 0 sent ${n('pri_zero_sent')}, heard ${n('pri_zero_rcvd')}; became master ${n('become_master')}, released ${n('release_master')}; ${drops.length > 0 ? `dropped ${drops.map(([r, c]) => `${r} ${c}`).join(', ')}` : 'none dropped'}`;
}

function syncLines(y: SyncStatus): string[] {
  const sent = `${y.sent.resent} resent, ${y.sent.snapshots} snapshot${y.sent.snapshots === 1 ? '' : 's'} served`;
  const lines = [`sync: ${y.lastSeq} batches sent (${sent}), ${y.pendingChanges} changes waiting`];
  for (const p of y.peers) lines.push(`  to ${p.peer}: ${p.batches} batches behind (${p.changes} changes, ${p.ms.toFixed(0)} ms)`);
  for (const c of y.copies) lines.push(`  copy of ${c.peer}: ${describeCopy(c)}${c.refused > 0 ? `, ${c.refused} refused at max_entries` : ''}`);
  return lines;
}

const factUnit: Record<string, string> = { memory: '%', swap: '%', cpu: '%', disk: '%', load: ' per CPU', interface_down: ' down' };

/** The host: its colour and what it does to the instances, each fact, and the last sample's cost and readings. */
function hostLines(h: HostStatus): string[] {
  const acts = h.fault ? 'instances in FAULT' : h.priorityDelta !== 0 ? `priority ${h.priorityDelta}` : 'fit';
  const lines = [`host ${h.colour.toUpperCase()} since ${h.since}, strategy ${h.strategy}: ${acts}${h.reasons.length > 0 ? ` (${h.reasons.join('; ')})` : ''}`];
  if (h.heldUntil !== undefined) lines.push(`  held until ${h.heldUntil} (hold ${h.holdMs / 1000} s)`);
  for (const f of h.facts) {
    const value = f.value === undefined ? 'unread' : `${f.value}${factUnit[f.fact] ?? ''}${f.detail !== undefined ? ` (${f.detail})` : ''}`;
    lines.push(`  ${f.fact} ${value}: ${f.colour === undefined ? 'not judged' : `${f.colour} since ${f.since ?? '?'}`}`);
  }
  const last = h.lastSample;
  if (last === undefined) {
    lines.push(`  no sample yet (every ${h.intervalMs / 1000} s)`);
    return lines;
  }
  const load = last.loadPerCpu === undefined ? '' : `; load per CPU ${last.loadPerCpu.join(' ')}`;
  const up = last.uptimeS === undefined ? '' : `; host up ${duration(last.uptimeS)}`;
  const misses = h.skipped + h.failed > 0 ? `, ${h.skipped} skipped (still sampling), ${h.failed} failed` : '';
  lines.push(`  sampled ${last.at} in ${last.durationMs} ms, heap ${last.heapDeltaBytes >= 0 ? '+' : ''}${(last.heapDeltaBytes / 1024).toFixed(1)} KiB; ${h.samples} samples every ${h.intervalMs / 1000} s${misses}${load}${up}`);
  for (const fs of last.fileSystems) lines.push(`  file system of ${fs.path}: ${fs.mount ?? '?'} ${fs.usedPercent === undefined ? 'unread' : `${fs.usedPercent}% used`}`);
  for (const i of last.interfaces) {
    const parts = [i.link, ...(i.speedMbps !== undefined ? [`${i.speedMbps} Mb/s`] : []), ...(i.mac !== undefined ? [i.mac] : []), ...(i.addresses.length > 0 ? [i.addresses.join(' ')] : [])];
    lines.push(`  link ${i.name}: ${parts.join(', ')}`);
  }
  return lines;
}
