// The host a director runs on, as plain data: what one sample read. A source fills it
// (systeminformation on a real host, a script in tests); HostHealth judges it. A fact the
// source could not read is absent (undefined), never a made-up zero: the judge keeps the
// colour it had rather than turn a failed read into "healthy".

/** Link state as the kernel reports it (`operstate`); `unknown` is normal for lo and tunnels. */
export type LinkState = 'up' | 'down' | 'unknown';

export interface FileSystemFact {
  /** The path asked about: the config, state or log directory. */
  readonly path: string;
  /** The mount point holding it (the longest mount-point prefix), when one was found. */
  readonly mount?: string;
  /** Used space as a percentage of what is usable (df's Use%). */
  readonly usedPercent?: number;
}

export interface InterfaceFact {
  readonly name: string;
  readonly link: LinkState;
  /** Mbit/s, when the driver reports it. */
  readonly speedMbps?: number;
  readonly mac?: string;
  /** Every address on the interface, VIPs included, as `ADDRESS/PREFIX`. */
  readonly addresses: readonly string[];
}

export interface HostFacts {
  /** Load averages over 1, 5 and 15 minutes divided by the number of CPUs. */
  readonly load1PerCpu?: number;
  readonly load5PerCpu?: number;
  readonly load15PerCpu?: number;
  /** Busy share of all CPUs since the previous sample, 0..100. */
  readonly cpuPercent?: number;
  /** (total − available) / total: page cache the kernel can drop does not count as used. */
  readonly memoryUsedPercent?: number;
  /** 0 on a host without swap. */
  readonly swapUsedPercent?: number;
  readonly fileSystems: readonly FileSystemFact[];
  readonly interfaces: readonly InterfaceFact[];
  readonly uptimeS?: number;
}

export interface HostFactSource {
  /** One reading of the host; the file systems of `paths`, the links of `interfaces`. Never rejects. */
  sample(paths: readonly string[], interfaces: readonly string[]): Promise<HostFacts>;
}

/** The facts that thresholds judge, each one number (see `factValue`). */
export const hostFactNames = ['memory', 'swap', 'cpu', 'load', 'disk', 'interface_down'] as const;
export type HostFactName = (typeof hostFactNames)[number];

/**
 * How much of the `hysteresis` setting (in points) applies to a fact. Percentages take it
 * as it is; load is per CPU, where 1.0 is one CPU's worth, so 5 points are 0.05; a count
 * of interfaces down has no in-between values to smooth.
 */
export const hysteresisScale: Readonly<Record<HostFactName, number>> = {
  memory: 1,
  swap: 1,
  cpu: 1,
  load: 0.01,
  disk: 1,
  interface_down: 0,
};

/**
 * The number a fact is judged by, and what it stands for in words. `load` is the 5-minute
 * average: the 1-minute one jumps with a burst of checks, and `cpu` already sees the
 * moment. `disk` is the fullest watched path; `interface_down` counts watched links down.
 */
export function factValue(facts: HostFacts, name: HostFactName): { value?: number; detail?: string } {
  switch (name) {
    case 'memory':
      return { value: facts.memoryUsedPercent };
    case 'swap':
      return { value: facts.swapUsedPercent };
    case 'cpu':
      return { value: facts.cpuPercent };
    case 'load':
      return { value: facts.load5PerCpu };
    case 'disk': {
      let worst: FileSystemFact | undefined;
      for (const fs of facts.fileSystems) {
        if (fs.usedPercent !== undefined && (worst?.usedPercent === undefined || fs.usedPercent > worst.usedPercent)) worst = fs;
      }
      if (worst === undefined) return {};
      return { value: worst.usedPercent, detail: `${worst.path} on ${worst.mount ?? '?'}` };
    }
    case 'interface_down': {
      const down = facts.interfaces.filter((i) => i.link === 'down').map((i) => i.name);
      return { value: down.length, ...(down.length > 0 ? { detail: down.join(',') } : {}) };
    }
  }
}
