// Connection sync in the IPVS plane is the kernel's own sync daemon, run as keepalived's
// `lvs_sync_daemon IF INSTANCE [id N]` runs it: the master daemon sends the connection
// table while the VRRP instance is MASTER; the backup daemon receives it in every other
// state (BACKUP, FAULT, and INIT before the first election). Like keepalived
// (ipvswrapper.c, ipvs_syncd_master/ipvs_syncd_backup) the other role's daemon is stopped
// before this role's is started. Pure: which daemons run goes in, ipvsadm commands come out.
import type { VrrpState } from '../../../vrrp/instance';
import { parseIpAddr } from '../../address';

export type DaemonRole = 'master' | 'backup';

/** ipvsadm --start-daemon's settings; what is absent is the kernel's default. */
export interface SyncDaemonSpec {
  readonly iface: string;
  readonly syncId: number;
  readonly maxLen?: number;
  readonly group?: string;
  readonly port?: number;
  readonly ttl?: number;
}

/** A daemon the kernel runs: as this plane started it, or as `ipvsadm -L --daemon` showed it. */
export interface RunningDaemon {
  readonly spec: SyncDaemonSpec;
  /** Shown by the kernel, which prints the maxlen it chose itself when none was asked. */
  readonly read: boolean;
}

export type RunningDaemons = ReadonlyMap<DaemonRole, RunningDaemon>;

export type DaemonCommand =
  | { readonly kind: 'stop'; readonly role: DaemonRole }
  | { readonly kind: 'start'; readonly role: DaemonRole; readonly spec: SyncDaemonSpec };

/** The kernel's defaults (ip_vs_sync.c), for comparing a daemon shown with one asked for. */
const defaultGroup = '224.0.0.81';
const defaultPort = 8848;
const defaultTtl = 1;

export function daemonRoleOf(state: VrrpState): DaemonRole {
  return state === 'master' ? 'master' : 'backup';
}

/** What to run so that, with the instance in `state`, exactly the right daemon runs as `spec` says. */
export function daemonCommands(running: RunningDaemons, state: VrrpState, spec: SyncDaemonSpec): DaemonCommand[] {
  const role = daemonRoleOf(state);
  const other: DaemonRole = role === 'master' ? 'backup' : 'master';
  const out: DaemonCommand[] = [];
  if (running.has(other)) out.push({ kind: 'stop', role: other });
  const now = running.get(role);
  if (now !== undefined && runsAs(now, spec)) return out;
  if (now !== undefined) out.push({ kind: 'stop', role });
  out.push({ kind: 'start', role, spec });
  return out;
}

/** Stops every daemon that runs, master first. */
export function stopCommands(running: RunningDaemons): DaemonCommand[] {
  return (['master', 'backup'] as const).filter((role) => running.has(role)).map((role) => ({ kind: 'stop', role }));
}

function runsAs(d: RunningDaemon, spec: SyncDaemonSpec): boolean {
  const r = d.spec;
  const maxLenSame = spec.maxLen === undefined ? d.read || r.maxLen === undefined : r.maxLen === spec.maxLen;
  return (
    r.iface === spec.iface &&
    r.syncId === spec.syncId &&
    maxLenSame &&
    canonical(r.group ?? defaultGroup) === canonical(spec.group ?? defaultGroup) &&
    (r.port ?? defaultPort) === (spec.port ?? defaultPort) &&
    (r.ttl ?? defaultTtl) === (spec.ttl ?? defaultTtl)
  );
}

/** The kernel prints a group as inet_ntop writes it. */
function canonical(address: string): string {
  return parseIpAddr(address)?.text ?? address;
}

/** The command's ipvsadm arguments. */
export function daemonArgs(c: DaemonCommand): string[] {
  if (c.kind === 'stop') return ['--stop-daemon', c.role];
  const s = c.spec;
  const args = ['--start-daemon', c.role, '--mcast-interface', s.iface, '--syncid', String(s.syncId)];
  // Written only when asked: ipvsadm before 1.29 knows none of these options.
  if (s.maxLen !== undefined) args.push('--sync-maxlen', String(s.maxLen));
  if (s.group !== undefined) args.push('--mcast-group', s.group);
  if (s.port !== undefined) args.push('--mcast-port', String(s.port));
  if (s.ttl !== undefined) args.push('--mcast-ttl', String(s.ttl));
  return args;
}

const daemonLine = /^(master|backup) sync daemon \(mcast=([^,)]*), syncid=(\d+)(.*)\)$/;

/** The daemons `ipvsadm -L --daemon` shows: `master sync daemon (mcast=eth0, syncid=3, maxlen=1472, …)`. */
export function parseDaemonList(text: string): Map<DaemonRole, RunningDaemon> {
  const out = new Map<DaemonRole, RunningDaemon>();
  for (const line of text.split('\n')) {
    const m = daemonLine.exec(line.trim());
    if (m === null) continue;
    const rest = m[4] as string;
    const field = (name: string): string | undefined => new RegExp(`, ${name}=([^,)]+)`).exec(rest)?.[1];
    const number = (name: string): number | undefined => {
      const v = field(name);
      return v === undefined ? undefined : Number(v);
    };
    const maxLen = number('maxlen');
    const group = field('group');
    const port = number('port');
    const ttl = number('ttl');
    const spec: SyncDaemonSpec = {
      iface: m[2] as string,
      syncId: Number(m[3]),
      ...(maxLen !== undefined ? { maxLen } : {}),
      ...(group !== undefined ? { group } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(ttl !== undefined ? { ttl } : {}),
    };
    out.set(m[1] as DaemonRole, { spec, read: true });
  }
  return out;
}
