// Makes and unmakes the VMACs of use_vmac on the host, with iproute2 and the interfaces'
// sysctls, as keepalived does: a VMAC left by an earlier run (same base, same MAC) is
// taken over rather than made again; an interface of that name that is something else
// stops the start. The base interfaces' ARP settings are put back at stop.
import fs from 'node:fs';
import type { CommandRunner } from './linux-driver';
import { baseSysctls, vmacAddArgs, vmacSysctls, type VmacDevice } from './vmac';

/** An interface's sysctl files (/proc/sys/net/...), behind a seam for tests. */
export interface Sysctls {
  read(path: string): string | undefined;
  /** The error, if any. */
  write(path: string, value: string): string | undefined;
}

export const procSysctls: Sysctls = {
  read: (path) => {
    try {
      return fs.readFileSync(path, 'utf8').trim();
    } catch {
      return undefined;
    }
  },
  write: (path, value) => {
    try {
      fs.writeFileSync(path, value);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  },
};

const ipv4Conf = (iface: string, key: string): string => `/proc/sys/net/ipv4/conf/${iface}/${key}`;

interface LinkFacts {
  readonly link?: string;
  readonly address?: string;
  readonly linkinfo?: { readonly info_kind?: string; readonly info_data?: { readonly mode?: string } };
}

export class VmacDevices {
  /** The VMACs this run made or took over: deleted at stop. */
  private readonly ours: VmacDevice[] = [];
  /** Each base interface's ARP settings before the first VMAC on it. */
  private readonly baseBefore = new Map<string, Record<string, string>>();

  constructor(
    readonly devices: readonly VmacDevice[],
    private readonly runner: CommandRunner,
    private readonly sysctls: Sysctls = procSysctls,
  ) {}

  /** Every VMAC up; `linkLocal` gives an IPv6 VMAC the address its adverts leave from. Resolves with what went wrong. */
  async create(linkLocal: (d: VmacDevice) => string | undefined): Promise<string[]> {
    const problems: string[] = [];
    for (const d of this.devices) {
      const made = await this.make(d);
      if (made !== undefined) {
        problems.push(`${d.instance}: use_vmac: ${made}`);
        continue;
      }
      this.ours.push(d);
      problems.push(...this.tune(d).map((p) => `${d.instance}: use_vmac: ${p}`));
      for (const args of [['link', 'set', 'dev', d.name, 'up'], ...this.linkLocalArgs(d, linkLocal(d))]) {
        const r = await this.runner.run('ip', args);
        if (r.code !== 0 && !/File exists/.test(r.stderr)) problems.push(`${d.instance}: use_vmac: ip ${args.join(' ')}: ${r.stderr.trim()}`);
      }
    }
    return problems;
  }

  /** Deletes the VMACs (and the VIPs on them) and puts the base interfaces' settings back. */
  async remove(): Promise<string[]> {
    const problems: string[] = [];
    for (const d of this.ours.splice(0)) {
      const r = await this.runner.run('ip', ['link', 'del', 'dev', d.name]);
      if (r.code !== 0 && !/Cannot find device/.test(r.stderr)) problems.push(`${d.instance}: ip link del dev ${d.name}: ${r.stderr.trim()}`);
    }
    for (const [base, before] of this.baseBefore) {
      for (const [key, value] of Object.entries(before)) this.sysctls.write(ipv4Conf(base, key), value);
    }
    this.baseBefore.clear();
    return problems;
  }

  /** Makes the macvlan, or finds it made; the reason when neither. */
  private async make(d: VmacDevice): Promise<string | undefined> {
    const shown = await this.runner.run('ip', ['-d', '-j', 'link', 'show', 'dev', d.name]);
    if (shown.code === 0) {
      const facts = parseLinkFacts(shown.stdout ?? '');
      const matches = facts?.linkinfo?.info_kind === 'macvlan' && facts.linkinfo.info_data?.mode === 'private' && facts.link === d.base && facts.address?.toLowerCase() === d.mac;
      return matches ? undefined : `interface ${d.name} exists and is not this instance's VMAC (a private macvlan on ${d.base} with MAC ${d.mac}): delete it, or name another in use_vmac`;
    }
    const args = vmacAddArgs(d);
    const added = await this.runner.run('ip', args);
    if (added.code !== 0) return `ip ${args.join(' ')}: ${added.stderr.trim()}`;
    // No link-local address of its own (RFC 5798 §7.4): an IPv6 VMAC gets the source of the adverts.
    const gen = await this.runner.run('ip', ['link', 'set', 'dev', d.name, 'addrgenmode', 'none']);
    return gen.code === 0 ? undefined : `ip link set dev ${d.name} addrgenmode none: ${gen.stderr.trim()}`;
  }

  private tune(d: VmacDevice): string[] {
    const problems: string[] = [];
    if (!this.baseBefore.has(d.base)) {
      const before: Record<string, string> = {};
      for (const key of Object.keys(baseSysctls)) {
        const value = this.sysctls.read(ipv4Conf(d.base, key));
        if (value !== undefined) before[key] = value;
      }
      this.baseBefore.set(d.base, before);
    }
    const writes: Array<[string, string]> = [
      ...Object.entries(vmacSysctls).map(([key, value]): [string, string] => [ipv4Conf(d.name, key), value]),
      ...Object.entries(baseSysctls).map(([key, value]): [string, string] => [ipv4Conf(d.base, key), value]),
    ];
    for (const [path, value] of writes) {
      const error = this.sysctls.write(path, value);
      if (error !== undefined) problems.push(`${path} = ${value}: ${error}`);
    }
    // An IPv4 VMAC runs no IPv6 (keepalived's choice): no link-local address, no router solicitations.
    if (d.family === 4) this.sysctls.write(`/proc/sys/net/ipv6/conf/${d.name}/disable_ipv6`, '1');
    return problems;
  }

  private linkLocalArgs(d: VmacDevice, address: string | undefined): string[][] {
    if (d.family !== 6 || d.xmitBase || address === undefined) return [];
    return [['-6', 'addr', 'add', `${address}/64`, 'dev', d.name, 'nodad']];
  }
}

function parseLinkFacts(json: string): LinkFacts | undefined {
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) && typeof parsed[0] === 'object' && parsed[0] !== null ? (parsed[0] as LinkFacts) : undefined;
  } catch {
    return undefined;
  }
}
