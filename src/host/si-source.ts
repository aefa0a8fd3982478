// Host facts from systeminformation, asking it only for what a sample needs; what it
// lacks, or charges too much for, comes from Node's os module (the same calls si makes).
//
// What one sample runs (Linux): currentLoad (one synchronous `cat /proc/stat`), mem
// (reads /proc/meminfo), fsSize (a synchronous `cat /proc/mounts`, then `df`), and
// networkStats for the watched interfaces (one asynchronous shell each, for operstate).
// Not per sample:
//   - si.networkInterfaces runs a dozen synchronous commands per interface of the host
//     (120-200 ms of blocked event loop on a host with two), so it is asked only for
//     link speeds, at the first sample and when a watched link changes state. MACs and
//     addresses come from os.networkInterfaces(), which si reads too but keeps one
//     address per family of, while a VIP interface holds many.
//   - si.fsSize leaves out tmpfs, so a path on /run maps to the mount below it (`/`).
//   - si.time runs `date` and `ls` synchronously for the time zone; its uptime is os.uptime().
//   - si.currentLoad's avgLoad is the largest of the three load averages; the three are
//     os.loadavg() over the CPU count, which is what si divides by.
import os from 'node:os';
import path from 'node:path';
import si from 'systeminformation';
import type { FileSystemFact, HostFactSource, HostFacts, InterfaceFact, LinkState } from './facts';

/** What a sample asks of systeminformation; the module itself fits, a test passes a fake. */
export interface SiApi {
  currentLoad(): Promise<{ readonly currentLoad: number }>;
  mem(): Promise<{ readonly total: number; readonly available: number; readonly swaptotal: number; readonly swapused: number }>;
  fsSize(): Promise<ReadonlyArray<{ readonly mount: string; readonly use: number }>>;
  networkStats(ifaces: string): Promise<ReadonlyArray<{ readonly operstate: string }>>;
  networkInterfaces(rescan: boolean): Promise<ReadonlyArray<{ readonly iface: string; readonly speed: number | null }>>;
}

/** What a sample asks of the os module. */
export interface OsApi {
  loadavg(): number[];
  cpuCount(): number;
  uptime(): number;
  networkInterfaces(): NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

export const nodeOs: OsApi = {
  loadavg: () => os.loadavg(),
  cpuCount: () => os.cpus().length,
  uptime: () => os.uptime(),
  networkInterfaces: () => os.networkInterfaces(),
};

/** Watched paths and interfaces per sample; more are reported unread (one shell per interface). */
export const pathsSampledMax = 16;
export const interfacesSampledMax = 32;
/** A call slower than this leaves its facts unread in this sample. */
export const siCallTimeoutMs = 5000;

export class SiHostFactSource implements HostFactSource {
  private readonly cpuCount: number;
  /** Link speeds as of the last si.networkInterfaces, and the link states they were read at. */
  private speeds = new Map<string, number>();
  private speedsReadAt = new Map<string, LinkState>();
  /** si calls not yet settled, by name: at most one of each runs. */
  private readonly pending = new Set<string>();

  constructor(
    private readonly siApi: SiApi = si,
    private readonly osApi: OsApi = nodeOs,
    private readonly callTimeoutMs: number = siCallTimeoutMs,
  ) {
    this.cpuCount = Math.max(1, osApi.cpuCount());
  }

  async sample(paths: readonly string[], interfaces: readonly string[]): Promise<HostFacts> {
    const watchedPaths = paths.slice(0, pathsSampledMax);
    const watched = interfaces.slice(0, interfacesSampledMax);
    // One call at a time, with a turn of the event loop between: each runs part of its
    // work synchronously, and run together those parts would add up to one longer stall.
    const cpu = await this.call('currentLoad', () => this.siApi.currentLoad());
    const mem = await this.call('mem', () => this.siApi.mem());
    const mounts = watchedPaths.length > 0 ? await this.call('fsSize', () => this.siApi.fsSize()) : undefined;
    const stats = watched.length > 0 ? await this.call('networkStats', () => this.siApi.networkStats(watched.join(','))) : undefined;
    const links = watched.map((_, i): LinkState => linkState(stats?.[i]?.operstate));
    await this.refreshSpeeds(watched, links);
    const [load1, load5, load15] = this.osApi.loadavg().map((l) => l / this.cpuCount);
    const memory = mem !== undefined && mem.total > 0 ? mem : undefined;
    const addresses = interfaces.length > 0 ? this.osApi.networkInterfaces() : {};
    return {
      ...(load1 !== undefined ? { load1PerCpu: load1 } : {}),
      ...(load5 !== undefined ? { load5PerCpu: load5 } : {}),
      ...(load15 !== undefined ? { load15PerCpu: load15 } : {}),
      ...(cpu !== undefined && Number.isFinite(cpu.currentLoad) ? { cpuPercent: cpu.currentLoad } : {}),
      ...(memory !== undefined
        ? {
            memoryUsedPercent: (100 * (memory.total - memory.available)) / memory.total,
            swapUsedPercent: memory.swaptotal > 0 ? (100 * memory.swapused) / memory.swaptotal : 0,
          }
        : {}),
      fileSystems: paths.map((p, i) => (mounts !== undefined && i < pathsSampledMax ? fileSystemOf(p, mounts) : { path: p })),
      interfaces: interfaces.map((name, i) => this.interfaceFact(name, links[i] ?? 'unknown', addresses[name] ?? [])),
      uptimeS: this.osApi.uptime(),
    };
  }

  /** Re-reads link speeds only when a watched link is new or changed state since they were read. */
  private async refreshSpeeds(watched: readonly string[], links: readonly LinkState[]): Promise<void> {
    if (watched.every((name, i) => this.speedsReadAt.get(name) === links[i])) return;
    const all = (await this.call('networkInterfaces', () => this.siApi.networkInterfaces(true))) ?? [];
    this.speeds = new Map(all.filter((n) => n.speed !== null && n.speed > 0).map((n) => [n.iface, n.speed as number]));
    this.speedsReadAt = new Map(watched.map((name, i) => [name, links[i] ?? 'unknown']));
  }

  /**
   * One si call, after a turn of the event loop: its result, or undefined when it failed,
   * took longer than the call timeout, or is still running from an earlier sample (df
   * can hang on a dead NFS mount; one stuck df is enough, a pile of them is not).
   */
  private async call<T>(name: string, run: () => Promise<T>): Promise<T | undefined> {
    if (this.pending.has(name)) return undefined;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.pending.add(name);
    let timer: NodeJS.Timeout | undefined;
    const outcome = Promise.resolve()
      .then(run)
      .then(
        (value) => value,
        () => undefined,
      );
    void outcome.finally(() => this.pending.delete(name));
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.callTimeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([outcome, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private interfaceFact(name: string, link: LinkState, infos: readonly os.NetworkInterfaceInfo[]): InterfaceFact {
    const mac = infos.find((a) => a.mac !== '00:00:00:00:00:00')?.mac;
    const speedMbps = this.speeds.get(name);
    return {
      name,
      link,
      ...(speedMbps !== undefined ? { speedMbps } : {}),
      ...(mac !== undefined ? { mac } : {}),
      addresses: infos.map((a) => a.cidr ?? a.address),
    };
  }
}

/** The kernel's operstate as up, down or unknown; lo and tunnels say `unknown` while working. */
export function linkState(operstate: string | undefined): LinkState {
  switch (operstate) {
    case 'up':
      return 'up';
    case 'down':
    case 'lowerlayerdown':
    case 'notpresent':
      return 'down';
    default:
      return 'unknown';
  }
}

/** The mount holding `p`: the longest mount point that is `p` or one of its parent directories. */
export function mountOf(p: string, mounts: ReadonlyArray<{ readonly mount: string }>): string | undefined {
  const target = path.resolve(p);
  let best: string | undefined;
  for (const { mount } of mounts) {
    const inside = mount === '/' || target === mount || target.startsWith(mount.endsWith('/') ? mount : `${mount}/`);
    if (inside && (best === undefined || mount.length > best.length)) best = mount;
  }
  return best;
}

function fileSystemOf(p: string, mounts: ReadonlyArray<{ readonly mount: string; readonly use: number }>): FileSystemFact {
  const mount = mountOf(p, mounts);
  const use = mounts.find((m) => m.mount === mount)?.use;
  return { path: p, ...(mount !== undefined ? { mount } : {}), ...(use !== undefined && Number.isFinite(use) ? { usedPercent: use } : {}) };
}
