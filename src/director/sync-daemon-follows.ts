// Which VRRP instance leads the kernel's IPVS sync daemon, as keepalived's lvs_sync_daemon
// has it: the master daemon runs while that instance is MASTER, the backup daemon
// otherwise, with the instance's VRID as sync id unless `id` says. Without `inst`, the
// first instance on the daemon's interface leads it (else the first instance). The old
// per-instance lvs_sync_daemon_interface makes its own instance lead, with its VRID.
import type { HadConfig } from '../config/model';
import type { SyncDaemonOptions } from '../ipvs/dataplane/ipvs/ipvs-plane';

export interface SyncDaemonFollow {
  readonly iface: string;
  readonly syncId: number;
  readonly options: SyncDaemonOptions;
}

/** By instance name: the daemon it leads; and why a configured daemon follows none. */
export function syncDaemonFollows(config: HadConfig): { follows: Map<string, SyncDaemonFollow>; problems: string[] } {
  const instances = config.vrrpInstances;
  const follows = new Map<string, SyncDaemonFollow>();
  const problems: string[] = [];
  const daemon = config.global.lvsSyncDaemon;
  if (daemon !== undefined) {
    const vi = daemon.instance !== undefined ? instances.find((i) => i.name === daemon.instance) : (instances.find((i) => i.interface === daemon.interface) ?? instances[0]);
    const at = `${daemon.where.file}:${daemon.where.line}:${daemon.where.col}`;
    if (vi === undefined) problems.push(`${at}: lvs_sync_daemon: no vrrp_instance ${daemon.instance ?? `on ${daemon.interface}`} to follow: no sync daemon runs`);
    else {
      const { maxLen, port, ttl, group } = daemon;
      const options: SyncDaemonOptions = { ...(maxLen !== undefined ? { maxLen } : {}), ...(port !== undefined ? { port } : {}), ...(ttl !== undefined ? { ttl } : {}), ...(group !== undefined ? { group } : {}) };
      follows.set(vi.name, { iface: daemon.interface, syncId: daemon.syncId ?? vi.virtualRouterId ?? 0, options });
    }
  }
  for (const vi of instances) {
    if (vi.lvsSyncDaemonInterface !== undefined && !follows.has(vi.name)) follows.set(vi.name, { iface: vi.lvsSyncDaemonInterface, syncId: vi.virtualRouterId ?? 0, options: {} });
  }
  return { follows, problems };
}
